/**
 * An EventBridge stand-in for the default event bus: the rules deployed (AWS::Events::Rule), the
 * events AWS services put on the bus, each matched against the rules that exist when it is sent,
 * its input transformed per target, and handed to Lambda targets as asynchronous invocations, at
 * least once and sometimes late.
 *
 * Facts (docs/cloudformation.md and docs/eventbridge.md, "Stack status events", and the EventBridge User Guide):
 * - CloudFormation sends a `CloudFormation Stack Status Change` event (`source` `aws.cloudformation`)
 *   at every stack status change; `detail` holds `stack-id` and `status-details` (`status`,
 *   `status-reason`); `resources` holds the stack id. Delivery is durable and at least once: the
 *   same event (same `id`) may come twice, and late. The documentation calls `detail.stack-id` "the
 *   unique stack ID" without pinning its form: the full stack ARN by default here, or (to show what
 *   depends on it) the ARN without the trailing unique id, or the bare stack name; `resources`
 *   keeps the full stack id.
 * - The rule must exist when the event is sent: matching happens then, on the rules of that
 *   moment; a rule created by an update that rolls back is gone by UPDATE_ROLLBACK_COMPLETE.
 * - A new or changed rule may not match events at once (API reference, PutRule): here a rule put
 *   (its pattern, state and targets) takes effect `ruleChangeDelayMs` after the put; until then
 *   events are matched against the version before (a new rule matches nothing). DescribeRule
 *   (`rule`) shows the new version at once. A deleted rule stops matching at once.
 * - A Lambda target is invoked asynchronously: once Lambda has accepted the event, Lambda's own
 *   retries apply (lambda.ts). EventBridge needs the function's resource-based policy to allow
 *   `events.amazonaws.com` for the rule.
 * - Retries and the dead-letter queue (User Guide, "Using dead-letter queues to process undelivered
 *   events"): a target that cannot be reached for a retriable reason is retried, by default for
 *   24 hours and up to 185 times; an event that cannot be delivered because a permission is missing
 *   or the target no longer exists is not retried and goes straight to the target's dead-letter
 *   queue, if it has one (else it is dropped). Errors of the function itself, after Lambda accepted
 *   the event, never reach this queue: they are Lambda's (its own retries, then the function's
 *   DeadLetterConfig). The Lambda stand-in never throttles an Invoke, so the retry policy has
 *   nothing to retry here.
 * - Input transformation (User Guide, "Amazon EventBridge input transformation"; API reference,
 *   InputTransformer): InputPathsMap names values of the event by JSON path (dot notation, dashes,
 *   array indices); InputTemplate replaces each `<name>`. In a JSON template a placeholder outside
 *   quotes takes the value as JSON (a string comes quoted); inside quotes, the text of the value,
 *   escaped for the JSON string. Every `<name>` that InputPathsMap defines or that is reserved is
 *   filled in wherever it stands (a path's `/promo<id>.html` too); any other `<...>` stays as written.
 *   Reserved: `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
 *   `aws.events.event` and `aws.events.event.json`.
 * - PutTargets (API reference, InputTransformer and PutTargets) refuses a target whose InputTemplate
 *   is longer than 8192 characters, whose InputPathsMap has more than 100 entries, or defines a
 *   reserved name (keys may not start with `aws.`); the error names the target. CloudFormation
 *   applies AWS::Events::Rule with PutRule and PutTargets, so the rule resource fails then. Here a
 *   refused `putRule` throws a ValidationException and changes nothing.
 * - `<` and `>` cannot be escaped: every `<name>` is a placeholder. PutTargets fills a JSON template
 *   (one starting with `{` or `[`) in and refuses it unless the result is JSON: a stray `"`, a
 *   backslash that makes a bad escape, a raw control character in a string, an undefined `<name>`
 *   outside quotes, a placeholder as an object key. A plain-text template is taken as it is.
 */
import type { LambdaEmulator } from './lambda';

/** An event as it travels on the bus. */
export interface BusEvent {
  readonly 'version': string;
  readonly 'id': string;
  readonly 'detail-type': string;
  readonly 'source': string;
  readonly 'account': string;
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': readonly string[];
  readonly 'detail': Record<string, unknown>;
}

/** A target of a rule, as AWS::Events::Rule's `Targets` holds it (resolved). */
export interface RuleTarget {
  readonly Id: string;
  readonly Arn: string;
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
  readonly RetryPolicy?: { readonly MaximumRetryAttempts?: number; readonly MaximumEventAgeInSeconds?: number };
  readonly DeadLetterConfig?: { readonly Arn?: string };
}

/** A rule on the default bus. */
export interface Rule {
  readonly arn: string;
  readonly name: string;
  readonly eventPattern: Record<string, unknown>;
  /** `ENABLED` unless said otherwise. */
  readonly state?: string;
  readonly targets: readonly RuleTarget[];
}

/** How one event is delivered: the at-least-once behaviours the tests ask for. */
export interface DeliveryOptions {
  /** Delivers each matching target the same event twice (same `id`). */
  readonly twice?: boolean;
  /**
   * Delivers late: after this many milliseconds, or only once the next step has begun (the
   * lifecycle driver releases held deliveries then, see `releaseHeld`).
   */
  readonly late?: number | 'next-step';
}

export type DeliveryOutcome =
  /** Lambda accepted the event (its own retries may still follow). */
  | 'invoked'
  /** Not delivered (no permission, or the function is gone) and kept in the target's dead-letter queue. */
  | 'dead-lettered'
  /** Not delivered, and nowhere to keep it. */
  | 'dropped';

/** One delivery of one event to one target. */
export interface DeliveryRecord {
  readonly eventId: string;
  readonly detailType: string;
  /** `detail.status-details.status` of a stack status event. */
  readonly status?: string;
  /** The stack's full id (from `resources`, whatever form `detail.stack-id` takes). */
  readonly stackId?: string;
  readonly ruleArn: string;
  readonly targetId: string;
  readonly targetArn: string;
  /**
   * The input the target got (or would have got), as transformed when the event was sent: the very
   * object the Lambda stand-in records as the invocation's payload.
   */
  readonly payload: unknown;
  /** 1 for the first delivery of this event to this target, 2 for a duplicate. */
  readonly copy: number;
  readonly late: boolean;
  /** When the event was sent and when it was delivered, in the sequence shared with the other stand-ins. */
  readonly sentAt: number;
  readonly deliveredAt: number;
  readonly outcome: DeliveryOutcome;
  readonly reason?: string;
}

/** What a dead-letter queue received: the event and why it was not delivered. */
export interface DeadLetter {
  readonly queueArn: string;
  readonly ruleArn: string;
  readonly targetId: string;
  readonly event: BusEvent;
  readonly reason: string;
}

export interface EventBridgeEmulatorOptions {
  readonly lambda: LambdaEmulator;
  /** The next place in the sequence shared with the other stand-ins. */
  readonly tick: () => number;
  /**
   * Whether the queue exists and its policy lets EventBridge send messages to it for this rule (an
   * AWS::SQS::QueuePolicy). @default - always
   */
  readonly queueAccepts?: (queueArn: string, ruleArn: string) => boolean;
  /** How long a put rule (new or changed, its targets included) takes to match events. @default 0 */
  readonly ruleChangeDelayMs?: number;
  /** The clock that delay is measured on, in milliseconds. @default Date.now */
  readonly now?: () => number;
}

/** A version of a rule, and when it takes effect. */
interface RuleVersion {
  readonly rule: Rule;
  readonly from: number;
}

interface Pending {
  readonly event: BusEvent;
  readonly rule: Rule;
  readonly target: RuleTarget;
  readonly payload: unknown;
  readonly copy: number;
  readonly late: boolean;
  readonly sentAt: number;
}

export class EventBridgeEmulator {
  /** Every event put on the bus, in order. */
  public readonly events: Array<{ readonly event: BusEvent; readonly at: number }> = [];
  /** Every delivery made (held ones once released), in order. */
  public readonly deliveries: DeliveryRecord[] = [];
  /** What dead-letter queues received. */
  public readonly deadLetters: DeadLetter[] = [];
  /**
   * How long a put rule (new or changed, its targets included) takes to match events; may be
   * changed at any time, for the rules put after.
   */
  public ruleChangeDelayMs: number;
  /** The versions of each rule: the one in effect first, then those still to take effect, in the order put. */
  private readonly rules = new Map<string, RuleVersion[]>();
  private held: Pending[] = [];
  private timers = 0;
  private idleWaiters: Array<() => void> = [];

  public constructor(private readonly options: EventBridgeEmulatorOptions) {
    this.ruleChangeDelayMs = options.ruleChangeDelayMs ?? 0;
  }

  /**
   * PutRule and PutTargets: creates or replaces a rule, which matches events once
   * `ruleChangeDelayMs` has passed. Throws a ValidationException, and changes nothing, when
   * PutTargets would refuse a target (see `validateTarget`).
   */
  public putRule(rule: Rule): void {
    rule.targets.forEach((t) => validateTarget(t, rule));
    const versions = this.rules.get(rule.arn) ?? [];
    versions.push({ rule, from: this.now() + this.ruleChangeDelayMs });
    this.rules.set(rule.arn, versions);
  }

  /**
   * DeleteRule: the rule stops matching at once. Events already matched to it are still delivered:
   * matching happened when they were sent.
   */
  public deleteRule(arn: string): void {
    this.rules.delete(arn);
  }

  /** DescribeRule: the rule as last put, whether or not it matches events yet. */
  public rule(arn: string): Rule | undefined {
    const versions = this.rules.get(arn);
    return versions?.[versions.length - 1].rule;
  }

  /** Deliveries held for the next step. */
  public get heldCount(): number {
    return this.held.length;
  }

  /**
   * Puts an event on the bus: matches it against the rules in effect now, transforms each
   * matching target's input, and delivers it as the options say.
   */
  public putEvent(event: BusEvent, options: DeliveryOptions = {}): void {
    const sentAt = this.options.tick();
    this.events.push({ event, at: sentAt });
    for (const rule of this.rulesInEffect()) {
      if ((rule.state ?? 'ENABLED') !== 'ENABLED' || !matchesPattern(rule.eventPattern, event)) {
        continue;
      }
      for (const target of rule.targets) {
        const payload = targetInput(target, event, rule);
        for (let copy = 1; copy <= (options.twice ? 2 : 1); copy++) {
          const pending: Pending = { event, rule, target, payload, copy, late: options.late !== undefined, sentAt };
          if (options.late === 'next-step') {
            this.held.push(pending);
          } else if (typeof options.late === 'number') {
            this.timers++;
            setTimeout(() => {
              this.deliver(pending);
              this.timerDone();
            }, options.late);
          } else {
            this.deliver(pending);
          }
        }
      }
    }
  }

  /** The version of each rule that matches events now: the last put whose time has come. */
  private rulesInEffect(): Rule[] {
    const now = this.now();
    const out: Rule[] = [];
    for (const versions of this.rules.values()) {
      let i = versions.length - 1;
      while (i >= 0 && versions[i].from > now) {
        i--;
      }
      if (i >= 0) {
        // Older versions will never match again.
        versions.splice(0, i);
        out.push(versions[0].rule);
      }
    }
    return out;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Delivers what was held for the next step. */
  public releaseHeld(): void {
    const held = this.held;
    this.held = [];
    held.forEach((p) => this.deliver(p));
  }

  /** Deliveries waiting for their time (late by a delay). */
  public get dueCount(): number {
    return this.timers;
  }

  /** Resolves once no timed (late) delivery is waiting; held ones do not count. */
  public idle(): Promise<void> {
    return this.timers === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private timerDone(): void {
    if (--this.timers === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private deliver(p: Pending): void {
    const lambda = this.options.lambda;
    let outcome: DeliveryOutcome = 'invoked';
    let reason: string | undefined;
    if (!/^arn:aws[\w-]*:lambda:/.test(p.target.Arn)) {
      reason = `target ${p.target.Arn} is not a Lambda function, which this stand-in does not deliver to`;
    } else if (!lambda.has(p.target.Arn)) {
      reason = `Function not found: ${p.target.Arn}`;
    } else if (!lambda.permits('events.amazonaws.com', p.target.Arn, p.rule.arn)) {
      reason = `events.amazonaws.com is not allowed to invoke ${p.target.Arn} for ${p.rule.arn}`;
    } else if (p.payload === undefined) {
      reason = 'the target input could not be made from the event';
    }
    // Each delivery hands Lambda its own copy: an invocation's payload identifies its delivery.
    const payload = structuredClone(p.payload);
    if (reason === undefined) {
      lambda.invokeAsync(p.target.Arn, payload);
    } else {
      // Missing permissions and missing targets are not retried: straight to the dead-letter queue.
      const queueArn = p.target.DeadLetterConfig?.Arn;
      const kept = queueArn !== undefined && (this.options.queueAccepts?.(queueArn, p.rule.arn) ?? true);
      outcome = kept ? 'dead-lettered' : 'dropped';
      if (kept) {
        this.deadLetters.push({ queueArn: queueArn!, ruleArn: p.rule.arn, targetId: p.target.Id, event: p.event, reason });
      }
    }
    const detail = p.event.detail as { 'stack-id'?: string; 'status-details'?: { status?: string } };
    this.deliveries.push({
      eventId: p.event.id,
      detailType: p.event['detail-type'],
      status: detail['status-details']?.status,
      stackId: detail['stack-id'] === undefined ? undefined : p.event.resources[0] ?? detail['stack-id'],
      ruleArn: p.rule.arn,
      targetId: p.target.Id,
      targetArn: p.target.Arn,
      payload,
      copy: p.copy,
      late: p.late,
      sentAt: p.sentAt,
      deliveredAt: this.options.tick(),
      outcome,
      reason,
    });
  }
}

/** The error EventBridge answers a request it refuses with. */
export class ValidationException extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ValidationException';
  }
}

/** The longest InputTemplate PutTargets takes (API reference, InputTransformer). */
export const MAX_INPUT_TEMPLATE_LENGTH = 8192;
/** The most entries an InputPathsMap may have (API reference, InputTransformer). */
export const MAX_INPUT_PATHS = 100;
/** The predefined variables, which an InputPathsMap may not define (User Guide, "Predefined variables"). */
export const RESERVED_INPUT_NAMES: readonly string[] = [
  'aws.events.rule-arn', 'aws.events.rule-name', 'aws.events.event.ingestion-time', 'aws.events.event', 'aws.events.event.json',
];

/**
 * What PutTargets checks of a target before it takes it: throws a ValidationException naming the
 * target and what is wrong with it.
 */
export function validateTarget(target: RuleTarget, rule: Pick<Rule, 'name'>): void {
  const refuse = (problem: string): never => {
    throw new ValidationException(`PutTargets on rule ${rule.name} failed for target ${target.Id}: ${problem}`);
  };
  const transformer = target.InputTransformer;
  if (!transformer) {
    return;
  }
  const { InputPathsMap = {}, InputTemplate } = transformer;
  if (typeof InputTemplate !== 'string' || InputTemplate.length < 1) {
    refuse('InputTemplate must be a string of at least 1 character');
  }
  if (InputTemplate.length > MAX_INPUT_TEMPLATE_LENGTH) {
    refuse(`InputTemplate is ${InputTemplate.length} characters long, more than the ${MAX_INPUT_TEMPLATE_LENGTH} allowed`);
  }
  const names = Object.keys(InputPathsMap);
  if (names.length > MAX_INPUT_PATHS) {
    refuse(`InputPathsMap has ${names.length} entries, more than the ${MAX_INPUT_PATHS} allowed`);
  }
  const reserved = names.filter((n) => RESERVED_INPUT_NAMES.includes(n) || /^aws\./i.test(n));
  if (reserved.length > 0) {
    refuse(`InputPathsMap may not define the reserved name(s) ${reserved.join(', ')}`);
  }
  // EventBridge fills the placeholders in and parses the result: one that names a value of the
  // event stands for any value (null here: it may not be an object key), the whole event for an
  // object; an undefined `<...>` stays as written.
  const { json, text } = fillTemplate(InputTemplate, (name) => (
    name === 'aws.events.event' || name === 'aws.events.event.json' ? { raw: '{"source":"sample"}' }
      : names.includes(name) || RESERVED_INPUT_NAMES.includes(name) ? { value: null } : undefined));
  if (json) {
    try {
      JSON.parse(text);
    } catch (e) {
      refuse(`InputTemplate is not valid JSON once its placeholders are filled in (${(e as Error).message})`);
    }
  }
}

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

/** The value at a JSON path of the simple form EventBridge takes: `$`, `$.a.b-c`, `$.a[0]`. */
export function valueAtPath(event: unknown, jsonPath: string): unknown {
  if (!jsonPath.startsWith('$')) {
    throw new Error(`invalid JSON path ${jsonPath}`);
  }
  let node: unknown = event;
  for (const [, key, index] of jsonPath.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (node === null || typeof node !== 'object') {
      return undefined;
    }
    node = key !== undefined ? (node as Record<string, unknown>)[key] : (node as unknown[])[Number(index)];
  }
  return node;
}

/**
 * The input a target gets for an event: the event itself, a part of it (InputPath), a constant
 * (Input), or the InputTransformer's template filled in. Undefined when a JSON template does not
 * come out as JSON.
 */
export function targetInput(target: RuleTarget, event: BusEvent, rule: Pick<Rule, 'arn' | 'name'>): unknown {
  if (target.Input !== undefined) {
    return JSON.parse(target.Input);
  }
  if (target.InputPath !== undefined) {
    return valueAtPath(event, target.InputPath);
  }
  if (!target.InputTransformer) {
    return event;
  }
  const { InputPathsMap = {}, InputTemplate } = target.InputTransformer;
  const values = new Map<string, unknown>(Object.entries(InputPathsMap).map(([name, p]) => [name, valueAtPath(event, p)]));
  const { detail, ...withoutDetail } = event;
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event.ingestion-time', event.time);
  const raw = new Map<string, string>([
    ['aws.events.event', JSON.stringify(withoutDetail)],
    ['aws.events.event.json', JSON.stringify({ ...withoutDetail, detail })],
  ]);
  const { json, text } = fillTemplate(InputTemplate, (name) => (
    raw.has(name) ? { raw: raw.get(name)! } : values.has(name) ? { value: values.get(name) } : undefined));
  if (!json) {
    return text;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What a placeholder stands for: a value, or text put in as it is (the whole event). */
type Filling = { readonly value: unknown } | { readonly raw: string };

/**
 * Fills in an InputTemplate: each `<name>` that `fill` knows is replaced, any other `<...>` is left
 * as written (`<` and `>` cannot be escaped). In a JSON template (one that starts with `{` or `[`)
 * a value outside quotes goes in as JSON (a path the event lacks gives null); inside quotes, and in
 * a plain-text template, the value's text, escaped for the JSON string it is in.
 */
export function fillTemplate(template: string, fill: (name: string) => Filling | undefined): { readonly json: boolean; readonly text: string } {
  const json = /^\s*[{[]/.test(template);
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    const filling = placeholder ? fill(placeholder[1]) : undefined;
    if (placeholder && filling) {
      if ('raw' in filling) {
        out += filling.raw;
      } else if (json && !inString) {
        // Outside quotes: the value as JSON; a path the event lacks gives null.
        out += filling.value === undefined ? 'null' : JSON.stringify(filling.value);
      } else {
        // Inside quotes (or a plain-text template): the value's text, escaped for the string it is in.
        const value = filling.value;
        const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
        out += json ? JSON.stringify(text).slice(1, -1) : text;
      }
      i += placeholder[0].length - 1;
      continue;
    }
    if (json && c === '"') {
      inString = !inString;
    } else if (json && c === '\\' && inString) {
      out += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    out += c;
  }
  return { json, text: out };
}
