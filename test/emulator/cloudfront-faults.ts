/**
 * The faults the CloudFront stand-in injects: random ones, at a seeded rate, and scripted ones for
 * the next requests of an operation. Which fault does what is `CloudFrontEmulator`'s.
 */
import { Prng } from './prng';

/** The invalidation API's operations. */
export type Operation = 'CreateInvalidation' | 'GetInvalidation' | 'ListInvalidations';

/** Every fault the emulator can inject: the list that defines `FaultKind`. */
export const FAULT_KINDS = ['Throttling', 'ServiceUnavailable', 'TooManyInvalidationsInProgress', 'Slow', 'LostResponse', 'Malformed'] as const;
/** A fault the emulator can inject. */
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The faults picked from when `FaultOptions.kinds` is not given: all but Malformed. */
export const DEFAULT_FAULT_KINDS: readonly FaultKind[] = FAULT_KINDS.filter((k) => k !== 'Malformed');

/** Random faults: how often, from which generator, of which kinds, on which operations. */
export interface FaultOptions {
  /** Share of requests that get a fault, 0 to 1. */
  readonly rate: number;
  /** Seed of the generator that picks which requests and which fault. */
  readonly seed: number;
  /**
   * Faults to pick from. LostResponse creates the invalidation, then answers 503; Malformed answers
   * 200 with a body that is not XML. @default all but Malformed
   */
  readonly kinds?: readonly FaultKind[];
  /** Operations that may get faults. @default all */
  readonly operations?: readonly Operation[];
  /** How long a Slow answer takes. @default 1500 */
  readonly slowMs?: number;
}

/** Picks the fault of each request: a scripted one first, else a random one, if any. */
export class FaultPicker {
  /** The random faults in force, if any. */
  public options: FaultOptions | undefined;
  private prng: Prng | undefined;
  private scripted: Array<{ operation: Operation; kind: FaultKind }> = [];

  /** Random faults from now on (undefined: none). */
  public set(faults: FaultOptions | undefined): void {
    this.options = faults;
    this.prng = faults ? new Prng(faults.seed) : undefined;
  }

  /** Faults for the next matching requests, in order, on top of the random ones. */
  public failNext(operation: Operation, kinds: readonly FaultKind[]): void {
    this.scripted.push(...kinds.map((kind) => ({ operation, kind })));
  }

  /** The fault of a request of the operation, if it gets one. */
  public pick(operation: Operation): FaultKind | undefined {
    const i = this.scripted.findIndex((s) => s.operation === operation);
    if (i !== -1) {
      return this.scripted.splice(i, 1)[0].kind;
    }
    const f = this.options;
    if (!f || !this.prng || (f.operations && !f.operations.includes(operation))) {
      return undefined;
    }
    if (this.prng.next() >= f.rate) {
      return undefined;
    }
    const kinds = (f.kinds ?? DEFAULT_FAULT_KINDS)
      .filter((k) => operation === 'CreateInvalidation' || (k !== 'TooManyInvalidationsInProgress' && k !== 'LostResponse'));
    return kinds.length === 0 ? undefined : kinds[Math.floor(this.prng.next() * kinds.length)];
  }
}
