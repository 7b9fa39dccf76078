/**
 * IAM as the lifecycle driver applies it: the identity policies deployed (IAM policies, customer
 * managed policies attached by their Roles, roles' inline policies), each change reaching the
 * handlers' authorizer only `iamPropagationMs` after it was applied, as IAM is eventually consistent.
 */
import { authorizer } from './iam';

/** The statements of a policy, with the names of the roles they attach to. */
export interface AppliedPolicy {
  readonly roles: string[];
  readonly statements: unknown[];
}

/** The identity policies deployed, by policy resource, and the roles the invalidation handlers run as. */
export class AppliedPolicies {
  /** Names of the roles invalidation handlers run as. */
  public readonly handlerRoles = new Set<string>();
  /**
   * Applied policies by policy resource: each version (none once deleted) with the time it reaches
   * the authorizer, oldest first.
   */
  private readonly versions = new Map<string, Array<{ from: number; policy?: AppliedPolicy }>>();

  /** @param propagationMs how long a change takes to reach the authorizer */
  public constructor(private readonly propagationMs: number) {}

  /** A policy applied (or deleted, when undefined): the authorizer sees the change `propagationMs` later. */
  public set(key: string, policy: AppliedPolicy | undefined): void {
    const now = Date.now();
    const versions = this.versions.get(key) ?? [];
    // The versions superseded by one already in effect are gone for good.
    const current = versions.reduce((last, v, i) => (v.from <= now ? i : last), 0);
    this.versions.set(key, [...versions.slice(current), { from: now + this.propagationMs, policy }]);
  }

  /** IAM as the handlers see it now: the statements of the policies in effect attached to their roles. */
  public authorize(action: string, arn: string): boolean {
    const now = Date.now();
    const statements = [...this.versions.values()]
      .map((versions) => versions.filter((v) => v.from <= now).pop()?.policy)
      .filter((p): p is AppliedPolicy => p !== undefined && p.roles.some((r) => this.handlerRoles.has(r)))
      .flatMap((p) => p.statements) as Parameters<typeof authorizer>[0];
    return authorizer(statements)(action, arn);
  }
}
