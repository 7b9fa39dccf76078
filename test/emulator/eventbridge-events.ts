/**
 * The events on the bus and how rules match them: the `CloudFormation Stack Status Change` event
 * CloudFormation sends (docs/cloudformation.md and docs/eventbridge.md, "Stack status events"), the
 * forms its `detail.stack-id` may take, and EventBridge's event patterns.
 */
import type { BusEvent } from './eventbridge';

/**
 * The forms `detail.stack-id` of a stack status event may take: the full stack ARN
 * (`arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UNIQUE-ID`), that ARN without its unique id,
 * or the stack's name.
 */
export type StackIdForm = 'arn' | 'arn-without-id' | 'name';

/** A full stack id in one of the forms `detail.stack-id` may take. */
export function stackIdInForm(stackId: string, form: StackIdForm): string {
  const parts = /^(arn:[\w-]+:cloudformation:[^:]*:\d*:stack\/([^/]+))\/[^/]+$/.exec(stackId);
  if (!parts) {
    throw new Error(`${stackId} is not a full stack id (arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID)`);
  }
  return form === 'arn' ? stackId : form === 'arn-without-id' ? parts[1] : parts[2];
}

/**
 * The `CloudFormation Stack Status Change` event CloudFormation sends the default bus when a stack
 * reaches a status (docs/cloudformation.md, "Stack status events").
 */
export function stackStatusChangeEvent(options: {
  readonly id: string;
  /** The full stack id (ARN with its unique id). */
  readonly stackId: string;
  readonly status: string;
  readonly reason?: string;
  readonly time: Date;
  /** The form of `detail.stack-id`; `resources` always holds the full stack id. @default 'arn' */
  readonly stackIdForm?: StackIdForm;
}): BusEvent {
  const [, , , region, account] = options.stackId.split(':');
  return {
    'version': '0',
    'id': options.id,
    'detail-type': 'CloudFormation Stack Status Change',
    'source': 'aws.cloudformation',
    account,
    // EventBridge's times are whole seconds.
    'time': options.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    'resources': [options.stackId],
    'detail': {
      'stack-id': stackIdInForm(options.stackId, options.stackIdForm ?? 'arn'),
      'status-details': { 'status': options.status, 'status-reason': options.reason ?? '' },
    },
  };
}

/**
 * Whether an event matches a pattern: every field the pattern names must match; an array lists the
 * accepted values (exact, or a `prefix`, `suffix`, `anything-but`, `exists` or `equals-ignore-case`
 * matcher), and an event array matches when any of its items does; an object matches the nested
 * object field by field; `$or` lists patterns, at least two, of which one must match at that level.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([key, accepted]) => {
    if (key === '$or') {
      if (!Array.isArray(accepted) || accepted.length < 2 || !accepted.every((a) => a && typeof a === 'object' && !Array.isArray(a))) {
        throw new Error('invalid event pattern: $or must list at least two patterns');
      }
      return accepted.some((alternative: Record<string, unknown>) => matchesPattern(alternative, event));
    }
    const value = event && typeof event === 'object' ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(accepted)) {
      return matchesAny(accepted, value);
    }
    if (accepted && typeof accepted === 'object') {
      return value !== null && typeof value === 'object' && !Array.isArray(value) && matchesPattern(accepted as Record<string, unknown>, value);
    }
    throw new Error(`invalid event pattern: ${key} must be an array or an object`);
  });
}

function matchesAny(accepted: readonly unknown[], value: unknown): boolean {
  const existence = accepted.find((a): a is { exists: boolean } => !!a && typeof a === 'object' && 'exists' in a);
  if (existence) {
    return existence.exists === (value !== undefined);
  }
  if (value === undefined) {
    return false;
  }
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => accepted.some((a) => matchesOne(a, v)));
}

function matchesOne(accepted: unknown, value: unknown): boolean {
  if (accepted === null || typeof accepted !== 'object') {
    return accepted === value;
  }
  const [kind, arg] = Object.entries(accepted as Record<string, unknown>)[0] ?? [];
  switch (kind) {
    case 'prefix':
      return typeof value === 'string' && value.startsWith(String(arg));
    case 'suffix':
      return typeof value === 'string' && value.endsWith(String(arg));
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
    case 'anything-but': {
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.some((x) => (x && typeof x === 'object' ? matchesOne(x, value) : x === value));
    }
    default:
      throw new Error(`event pattern matcher ${kind} is not emulated`);
  }
}
