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
 * - Input transformers and PutTargets' checks of them: `eventbridge-input.ts`; event patterns and
 *   the stack status event: `eventbridge-events.ts`.
 *
 * This file holds the rules and delivery with the facts they model, written out above: it runs past
 * 300 lines for them.
 */
import { matchesPattern } from './eventbridge-events';
import { targetInput, validateTarget } from './eventbridge-input';
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
