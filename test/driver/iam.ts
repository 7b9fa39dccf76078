/**
 * Evaluates the identity policies a template gives a role, so the local services can refuse what
 * the synthesized IAM does not allow.
 */
import type { ResolveContext } from './intrinsics';
import { resolve } from './intrinsics';

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
}

export type Authorizer = (action: string, resourceArn: string) => boolean;

/** The statements of every policy attached to the role, resolved. */
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export function roleStatements(template: { Resources: Resources }, roleLogicalId: string, ctx: ResolveContext): Statement[] {
  const statements: Statement[] = [];
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = (resource.Properties?.Roles ?? []) as Array<{ Ref?: string }>;
      if (roles.some((r) => r.Ref === roleLogicalId)) {
        const doc = resolve(resource.Properties?.PolicyDocument, ctx) as { Statement: Statement[] };
        statements.push(...doc.Statement);
      }
    }
  }
  const role = template.Resources[roleLogicalId];
  for (const p of ((role?.Properties?.Policies ?? []) as Array<{ PolicyDocument: unknown }>)) {
    statements.push(...(resolve(p.PolicyDocument, ctx) as { Statement: Statement[] }).Statement);
  }
  return statements;
}

/** Allowed when an Allow statement matches and no Deny does. */
export function authorizer(statements: readonly Statement[]): Authorizer {
  const matches = (s: Statement, action: string, arn: string) =>
    list(s.Action).some((a) => glob(a, true).test(action)) && list(s.Resource).some((r) => glob(r, false).test(arn));
  return (action, arn) => !statements.some((s) => s.Effect === 'Deny' && matches(s, action, arn)) && statements.some((s) => s.Effect === 'Allow' && matches(s, action, arn));
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function glob(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}
