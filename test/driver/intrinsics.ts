/**
 * Resolves the CloudFormation intrinsic functions templates hold, against a small fake state.
 */

export interface ResolveContext {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  readonly stackId: string;
  readonly stackName: string;
  /** What `Ref` of a resource or parameter gives; undefined when unknown. */
  ref(logicalId: string): unknown;
  /** What `Fn::GetAtt` gives; undefined when unknown. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** What `Fn::ImportValue` gives. */
  importValue?(name: string): unknown;
}

/** Marks a value CloudFormation drops from the template (AWS::NoValue). */
const NO_VALUE = Symbol('AWS::NoValue');

export class UnresolvableError extends Error {}

export function resolve(value: unknown, ctx: ResolveContext): unknown {
  const out = resolveInner(value, ctx);
  return out === NO_VALUE ? undefined : out;
}

function resolveInner(value: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolveInner(v, ctx)).filter((v) => v !== NO_VALUE);
  }
  if (!value || typeof value !== 'object') {
    return value;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    switch (key) {
      case 'Ref':
        return ref(arg as string, ctx);
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
        const got = ctx.getAtt(id as string, resolveInner(attr, ctx) as string);
        if (got === undefined) {
          throw new UnresolvableError(`cannot resolve Fn::GetAtt ${id}.${attr}`);
        }
        return got;
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown];
        const list = resolveInner(parts, ctx) as unknown[];
        return list.map((p) => (Array.isArray(p) ? p.join(sep) : String(p))).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolveInner(list, ctx) as unknown[])[Number(resolveInner(index, ctx))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return String(resolveInner(text, ctx)).split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        const resolvedVars = resolveInner(vars, ctx) as Record<string, unknown>;
        return String(text).replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
          if (name.startsWith('!')) {
            return `\${${name.slice(1)}}`;
          }
          if (name in resolvedVars) {
            return String(resolvedVars[name]);
          }
          const [id, attr] = name.split(/\.(.*)/);
          const got = attr ? ctx.getAtt(id, attr) : ref(id, ctx);
          if (got === undefined) {
            throw new UnresolvableError(`cannot resolve ${whole} in Fn::Sub`);
          }
          return String(got);
        });
      }
      case 'Fn::ImportValue': {
        const name = String(resolveInner(arg, ctx));
        const got = ctx.importValue?.(name);
        if (got === undefined) {
          throw new UnresolvableError(`no export named ${name}`);
        }
        return got;
      }
      case 'Fn::Base64':
        return Buffer.from(String(resolveInner(arg, ctx))).toString('base64');
      default:
        if (key.startsWith('Fn::')) {
          throw new UnresolvableError(`${key} is not supported by the local resolver`);
        }
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const r = resolveInner(v, ctx);
    if (r !== NO_VALUE) {
      out[k] = r;
    }
  }
  return out;
}

function ref(name: string, ctx: ResolveContext): unknown {
  switch (name) {
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::Partition':
      return ctx.partition;
    case 'AWS::StackId':
      return ctx.stackId;
    case 'AWS::StackName':
      return ctx.stackName;
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::NoValue':
      return NO_VALUE;
  }
  const got = ctx.ref(name);
  if (got === undefined) {
    throw new UnresolvableError(`cannot resolve Ref ${name}`);
  }
  return got;
}
