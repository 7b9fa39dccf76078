/**
 * The input that the stack's purge rule hands the handler: every Invalidation's distribution,
 * tenant and paths, written so that EventBridge accepts it for any value a user can give, and
 * fitted to EventBridge's limit with a guarantee rather than an estimate (docs/eventbridge.md,
 * "Input transformers"):
 *
 * - `<name>` in an InputTemplate is a placeholder that cannot be escaped, and the template must be
 *   JSON once the placeholders are substituted. Literal text is written as JSON with `<` and `>`
 *   as `\u003c` and `\u003e`; literal paths go encoded, as the handler would send them.
 * - A path known only at deploy time can hold anything and be of any length: the target purges
 *   the distribution (or tenant) whole instead, `/*`.
 * - A distribution or tenant id known only at deploy time is escaped by CloudFormation itself
 *   (Fn::Split and Fn::Join replace `\`, `"`, `<`, `>`, line feeds, carriage returns and tabs),
 *   and counted as `MAX_ID_LENGTH` characters: a CloudFront id is far shorter and holds none of
 *   these, and a value that is not an id (longer, or with another control character) fails the
 *   deploy anyway, at the forward purge.
 */
import { Fn, Token } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';
import type { RollbackPurgeTarget } from './shared/contract';
import { normalizePaths } from './shared/paths';

/** Longest input template EventBridge accepts for a rule target, in characters. */
export const MAX_INPUT_TEMPLATE_LENGTH = 8192;

/** What a distribution or tenant id known only at deploy time is counted as, escaped, in characters. */
export const MAX_ID_LENGTH = 128;

/** The event fields the input takes, by placeholder name, as EventBridge's InputPathsMap. */
export const ROLLBACK_PURGE_PATHS = {
  id: '$.id',
  stackId: '$.detail.stack-id',
  status: '$.detail.status-details.status',
  time: '$.time',
};

/**
 * A piece of the template: its text (which may hold tokens CloudFormation resolves) and its length
 * once resolved, at most.
 */
interface Text {
  readonly text: string;
  readonly length: number;
}

/** The input template's parts around the list of targets. */
const HEAD = '{"rollbackPurge":{"eventId":<id>,"stackId":<stackId>,"status":<status>,"time":<time>,"targets":[';
const TAIL = ']}}';

/** The InputTemplate for these targets, and its length once CloudFormation has resolved it (at most). */
export function rollbackPurgeTemplate(targets: readonly RollbackPurgeTarget[]): Text {
  const entries = targets.map(targetText);
  return join([literal(HEAD, false), join(entries, ','), literal(TAIL, false)], '');
}

/**
 * The targets of a stack's purge rule: every Invalidation's distribution, tenant and paths, equal
 * entries once, in the order the Invalidations were defined; a path list with a value known only
 * at deploy time becomes `['/*']`. When the template would exceed `MAX_INPUT_TEMPLATE_LENGTH`
 * characters, the longest path lists become `['/*']` until it fits; a list whose distribution
 * (and tenant) is purged whole already goes.
 *
 * @throws when even with every path list at `['/*']` the template would be too long.
 */
export function fitRollbackTargets(stack: Stack, invalidations: readonly RollbackPurgeTarget[]): RollbackPurgeTarget[] {
  // Each distinct target once, first one kept; keys resolved once, so that fitting stays linear.
  const entries: Entry[] = [];
  const keys = new Set<string>();
  for (const invalidation of invalidations) {
    const target = withPaths(invalidation, literalPaths(invalidation.Paths));
    const distributionAndTenant = JSON.stringify(stack.resolve({ ...target, Paths: undefined }));
    const key = `${distributionAndTenant}\n${JSON.stringify(target.Paths)}`;
    if (!keys.has(key)) {
      keys.add(key);
      entries.push({ target, distributionAndTenant, whole: isWhole(target.Paths), length: targetText(target).length });
    }
  }
  let length = rollbackPurgeTemplate([]).length + entries.reduce((sum, e) => sum + e.length, 0) + Math.max(0, entries.length - 1);
  if (length > MAX_INPUT_TEMPLATE_LENGTH) {
    const purgedWhole = new Set(entries.filter((e) => e.whole).map((e) => e.distributionAndTenant));
    const longestFirst = entries.filter((e) => !e.whole).sort((a, b) => b.length - a.length);
    for (const entry of longestFirst) {
      if (length <= MAX_INPUT_TEMPLATE_LENGTH) {
        break;
      }
      if (purgedWhole.has(entry.distributionAndTenant)) {
        // The same distribution is purged whole already: this entry goes.
        entry.dropped = true;
        length -= entry.length + 1;
      } else {
        purgedWhole.add(entry.distributionAndTenant);
        entry.target = withPaths(entry.target, [...WHOLE]);
        const shorter = targetText(entry.target).length;
        length -= entry.length - shorter;
        entry.length = shorter;
      }
    }
  }
  const fitted = entries.filter((e) => !e.dropped).map((e) => e.target);
  if (length > MAX_INPUT_TEMPLATE_LENGTH) {
    throw new Error(`Stack ${stack.node.path}: the rule that purges caches after a failed deploy must list the ${invalidations.length} `
      + `Invalidations of the stack (${fitted.length} distinct distributions and tenants), which takes up to ${length} characters `
      + `even with every path list reduced to ['/*']; EventBridge allows ${MAX_INPUT_TEMPLATE_LENGTH}. `
      + 'Spread the Invalidations over more stacks.');
  }
  return fitted;
}

const WHOLE = ['/*'];

interface Entry {
  target: RollbackPurgeTarget;
  /** The distribution and tenant, resolved, as JSON. */
  readonly distributionAndTenant: string;
  readonly whole: boolean;
  length: number;
  dropped?: boolean;
}

/** The paths as the handler would send them, or `['/*']` when any is known only at deploy time (or invalid). */
function literalPaths(paths: readonly string[]): string[] {
  if (Token.isUnresolved(paths) || paths.some((p) => Token.isUnresolved(p))) {
    return [...WHOLE];
  }
  try {
    return normalizePaths(paths);
  } catch {
    return [...WHOLE];
  }
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

function targetText(target: RollbackPurgeTarget): Text {
  const fields = [join([literal('"DistributionId":', false), stringText(target.DistributionId)], '')];
  if (target.DistributionTenantId !== undefined) {
    fields.push(join([literal('"DistributionTenantId":', false), stringText(target.DistributionTenantId)], ''));
  }
  fields.push(join([literal('"Paths":[', false), join(target.Paths.map(stringText), ','), literal(']', false)], ''));
  return join([literal('{', false), join(fields, ','), literal('}', false)], '');
}

/** A string as a JSON string literal: escaped now when known, by CloudFormation when known only at deploy time. */
function stringText(value: string): Text {
  if (!Token.isUnresolved(value)) {
    return literal(value, true);
  }
  let escaped = value;
  for (const [from, to] of ESCAPES) {
    escaped = Fn.join(to, Fn.split(from, escaped));
  }
  return { text: `"${escaped}"`, length: MAX_ID_LENGTH + 2 };
}

/** What CloudFormation replaces in a deploy-time value, in this order, to make it a JSON string's content without placeholders. */
const ESCAPES = [['\\', '\\\\'], ['"', '\\"'], ['<', '\\u003c'], ['>', '\\u003e'], ['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t']];

/** Literal text; as a JSON string (with `<` and `>` escaped, so that EventBridge sees no placeholder) when `quoted`. */
function literal(value: string, quoted: boolean): Text {
  const text = quoted ? JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e') : value;
  return { text, length: text.length };
}

function join(parts: readonly Text[], separator: string): Text {
  return {
    text: parts.map((p) => p.text).join(separator),
    length: parts.reduce((sum, p) => sum + p.length, 0) + separator.length * Math.max(0, parts.length - 1),
  };
}
