/**
 * The handler's one backoff loop: try; while what went wrong may pass, pause and try again, each
 * pause twice the one before up to a longest (budgets.ts, `FIRST_BACKOFF_MS` and `MAX_BACKOFF_MS`
 * unless told otherwise); stop at success, at an error that waiting cannot mend, at the deadline or
 * when this invocation must stop. What differs from loop to loop is given: the try, which errors
 * are worth another, how to pause, and what to log.
 */
import { FIRST_BACKOFF_MS, MAX_BACKOFF_MS } from './budgets';
import type { Invocation, PhaseOutcome } from './runtime';
import { pause } from './runtime';

/** What a try returns when nothing failed but it is not done yet (no room yet, not completed yet): pause, then try again. */
export const NOT_YET: unique symbol = Symbol('not yet');

/** How a loop waits between tries. */
export interface Pacing {
  /** Pauses about `ms`, unless the loop must end first: then `timeout` or `handoff` (runtime.ts, `pause`). */
  pause(ms: number): Promise<PhaseOutcome>;
  /** Whether the loop must end at once when a try fails, before the error is judged: this invocation is being stopped. */
  stopped(): boolean;
}

/** What a loop is given besides the try. */
export interface RetryOptions {
  readonly pacing: Pacing;
  /** Whether waiting and trying again may mend the error; asked once for each error, in order (so it may keep count). */
  readonly retryable: (error: unknown) => boolean;
  /** The first pause, in milliseconds. @default FIRST_BACKOFF_MS */
  readonly firstDelayMs?: number;
  /** The longest pause, in milliseconds; the first pause for a loop that never backs off. @default MAX_BACKOFF_MS */
  readonly maxDelayMs?: number;
  /** Told of every error, before it is judged. */
  readonly failed?: (error: unknown) => void;
  /** Told of an error that is to be tried again, before the pause. */
  readonly retrying?: (error: unknown) => void;
}

/** How a loop ended: the try's value, or why it stopped, with what the last try threw if it threw. */
export type Retried<T> =
  | { readonly kind: 'ok'; readonly value: T }
  | { readonly kind: Exclude<PhaseOutcome['kind'], 'ok'>; readonly error?: unknown };

/** Tries `attempt` until it returns a value (not `NOT_YET`), backing off between tries (see the file's comment). */
export async function retry<T>(attempt: () => Promise<T | typeof NOT_YET>, options: RetryOptions): Promise<Retried<T>> {
  let delay = options.firstDelayMs ?? FIRST_BACKOFF_MS;
  for (;;) {
    let error: unknown;
    try {
      const value = await attempt();
      if (value !== NOT_YET) {
        return { kind: 'ok', value: value as T };
      }
    } catch (e) {
      options.failed?.(e);
      if (options.pacing.stopped()) {
        return { kind: 'handoff', error: e };
      }
      if (!options.retryable(e)) {
        return { kind: 'fail', error: e };
      }
      options.retrying?.(e);
      error = e;
    }
    const paused = await options.pacing.pause(delay);
    if (paused.kind !== 'ok') {
      return { kind: paused.kind, error };
    }
    delay = Math.min(delay * 2, options.maxDelayMs ?? MAX_BACKOFF_MS);
  }
}

/** Pacing within `deadline` and this invocation's working time, with jitter (runtime.ts, `pause`). */
export function within(invocation: Invocation, deadline: number): Pacing {
  return {
    pause: (ms) => pause(invocation, ms, deadline),
    stopped: () => invocation.rt.signal.aborted,
  };
}
