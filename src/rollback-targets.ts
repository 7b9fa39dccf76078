/**
 * The list of Invalidations that the stack's rollback rule hands the handler, kept within what
 * EventBridge carries.
 */
import { StringConcat, Token, Tokenization } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';
import type { RollbackPurgeTarget } from './contract';

/** Longest input template EventBridge accepts for a rule target, in characters. */
export const MAX_INPUT_TEMPLATE_LENGTH = 8192;

/** What an unresolved token is taken to cost in the input template, in characters. */
export const TOKEN_LENGTH_ESTIMATE = 64;

/**
 * The rule target's input with `targets` left out: the fields taken from the event stand as their
 * JSON paths, a little longer than the placeholders EventBridge sees.
 */
export const ROLLBACK_PURGE_SKELETON = {
  eventId: '$.id',
  stackId: '$.detail.stack-id',
  status: '$.detail.status-details.status',
  time: '$.time',
};

/**
 * The targets of a stack's rollback rule: every Invalidation's distribution, tenant and paths,
 * equal entries once, in the order the Invalidations were defined. A path list known only at
 * deploy time (a list token) becomes `['/*']`. When the input template would exceed
 * `MAX_INPUT_TEMPLATE_LENGTH` characters (counting each unresolved token as
 * `TOKEN_LENGTH_ESTIMATE`), the longest path lists become `['/*']` until it fits; a list whose
 * distribution (and tenant) is purged whole already goes.
 *
 * @throws when even with every path list at `['/*']` the input would be too long.
 */
export function fitRollbackTargets(stack: Stack, invalidations: readonly RollbackPurgeTarget[]): RollbackPurgeTarget[] {
  // Each distinct target once, first one kept; keys resolved once, so that fitting stays linear.
  const entries: Entry[] = [];
  const keys = new Set<string>();
  for (const invalidation of invalidations) {
    const target = withPaths(invalidation, Token.isUnresolved(invalidation.Paths) ? [...WHOLE] : invalidation.Paths);
    const where = JSON.stringify(stack.resolve({ ...target, Paths: undefined }));
    const key = `${where}\n${JSON.stringify(stack.resolve(target.Paths))}`;
    if (!keys.has(key)) {
      keys.add(key);
      entries.push({ target, where, whole: isWhole(target.Paths), length: estimateLength(target), pathsLength: estimateLength(target.Paths) });
    }
  }
  let length = estimateInputLength([]) + entries.reduce((sum, e) => sum + e.length, 0) + Math.max(0, entries.length - 1);
  if (length > MAX_INPUT_TEMPLATE_LENGTH) {
    const wholeWhere = new Set(entries.filter((e) => e.whole).map((e) => e.where));
    const longestFirst = entries.filter((e) => !e.whole).sort((a, b) => b.pathsLength - a.pathsLength);
    for (const entry of longestFirst) {
      if (length <= MAX_INPUT_TEMPLATE_LENGTH) {
        break;
      }
      if (wholeWhere.has(entry.where)) {
        // The same distribution is purged whole already: this entry goes.
        entry.dropped = true;
        length -= entry.length + 1;
      } else {
        wholeWhere.add(entry.where);
        entry.target = withPaths(entry.target, [...WHOLE]);
        length += WHOLE_LENGTH - entry.pathsLength;
      }
    }
  }
  const fitted = entries.filter((e) => !e.dropped).map((e) => e.target);
  if (length > MAX_INPUT_TEMPLATE_LENGTH) {
    throw new Error(`Stack ${stack.node.path}: the rule that purges caches after a rollback must list the ${invalidations.length} `
      + `Invalidations of the stack (${fitted.length} distinct distributions and tenants), which takes about ${length} characters `
      + `even with every path list reduced to ['/*']; EventBridge allows ${MAX_INPUT_TEMPLATE_LENGTH}. `
      + 'Spread the Invalidations over more stacks.');
  }
  return fitted;
}

/** About how long the input template with these targets is once CloudFormation has resolved it. */
export function estimateInputLength(targets: readonly RollbackPurgeTarget[]): number {
  return estimateLength({ rollbackPurge: { ...ROLLBACK_PURGE_SKELETON, targets } });
}

/** The length of a value as JSON, counting each unresolved token in a string as `TOKEN_LENGTH_ESTIMATE` characters. */
export function estimateLength(value: unknown): number {
  if (typeof value === 'string') {
    if (!Token.isUnresolved(value)) {
      return JSON.stringify(value).length;
    }
    const fragments = Tokenization.reverseString(value);
    const literal = fragments.mapTokens({ mapToken: () => '' }).join(new StringConcat()) as string;
    return JSON.stringify(literal).length + fragments.tokens.length * TOKEN_LENGTH_ESTIMATE;
  }
  if (Array.isArray(value)) {
    return 2 + Math.max(0, value.length - 1) + value.reduce((sum: number, v) => sum + estimateLength(v), 0);
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return 2 + Math.max(0, entries.length - 1) + entries.reduce((sum, [k, v]) => sum + JSON.stringify(k).length + 1 + estimateLength(v), 0);
  }
  return JSON.stringify(value ?? null).length;
}

const WHOLE = ['/*'];
const WHOLE_LENGTH = estimateLength(WHOLE);

interface Entry {
  target: RollbackPurgeTarget;
  /** The distribution and tenant, resolved. */
  readonly where: string;
  readonly whole: boolean;
  readonly length: number;
  readonly pathsLength: number;
  dropped?: boolean;
}

function isWhole(paths: readonly string[]): boolean {
  return paths.length === 1 && paths[0] === '/*';
}

/** The target with other paths; no `DistributionTenantId` key when there is none. */
function withPaths(target: RollbackPurgeTarget, paths: string[]): RollbackPurgeTarget {
  return target.DistributionTenantId === undefined
    ? { DistributionId: target.DistributionId, Paths: paths }
    : { DistributionId: target.DistributionId, DistributionTenantId: target.DistributionTenantId, Paths: paths };
}
