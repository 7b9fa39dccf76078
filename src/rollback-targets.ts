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
 * `TOKEN_LENGTH_ESTIMATE`), the longest path lists become `['/*']` until it fits.
 *
 * @throws when even with every path list at `['/*']` the input would be too long.
 */
export function fitRollbackTargets(stack: Stack, invalidations: readonly RollbackPurgeTarget[]): RollbackPurgeTarget[] {
  let targets = unique(stack, invalidations.map((t) => ({ ...t, Paths: Token.isUnresolved(t.Paths) ? ['/*'] : t.Paths })));
  let length = estimateInputLength(targets);
  while (length > MAX_INPUT_TEMPLATE_LENGTH) {
    const longest = targets
      .map((t, index) => ({ index, length: estimateLength(t.Paths), wildcard: isWholeDistribution(t.Paths) }))
      .filter((t) => !t.wildcard)
      .sort((a, b) => b.length - a.length || a.index - b.index)[0];
    if (!longest) {
      throw new Error(`Stack ${stack.node.path}: the rule that purges caches after a rollback must list the ${invalidations.length} `
        + `Invalidations of the stack (${targets.length} distinct distributions and tenants), which takes about ${length} characters `
        + `even with every path list reduced to ['/*']; EventBridge allows ${MAX_INPUT_TEMPLATE_LENGTH}. `
        + 'Spread the Invalidations over more stacks.');
    }
    targets = unique(stack, targets.map((t, i) => (i === longest.index ? { ...t, Paths: ['/*'] } : t)));
    length = estimateInputLength(targets);
  }
  return targets;
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

function isWholeDistribution(paths: readonly string[]): boolean {
  return paths.length === 1 && paths[0] === '/*';
}

/** Equal entries (as CloudFormation would see them) once, first one kept; no `DistributionTenantId` key when there is none. */
function unique(stack: Stack, targets: readonly RollbackPurgeTarget[]): RollbackPurgeTarget[] {
  const seen = new Set<string>();
  const out: RollbackPurgeTarget[] = [];
  for (const t of targets) {
    const target: RollbackPurgeTarget = t.DistributionTenantId === undefined
      ? { DistributionId: t.DistributionId, Paths: t.Paths }
      : { DistributionId: t.DistributionId, DistributionTenantId: t.DistributionTenantId, Paths: t.Paths };
    const key = JSON.stringify(stack.resolve(target));
    if (!seen.has(key)) {
      seen.add(key);
      out.push(target);
    }
  }
  return out;
}
