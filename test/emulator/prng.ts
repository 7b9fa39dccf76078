import { unsafeUniformIntDistribution, xoroshiro128plus } from 'pure-rand';
import type { RandomGenerator } from 'pure-rand';

/** A seeded generator: the same seed gives the same sequence on every machine. */
export class Prng {
  private readonly rng: RandomGenerator;

  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  /** A number in [0, 1). */
  public next(): number {
    return unsafeUniformIntDistribution(0, 2 ** 30 - 1, this.rng) / 2 ** 30;
  }

  /** `length` characters from A-Z and 0-9. */
  public alphanumeric(length: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let out = '';
    for (let i = 0; i < length; i++) {
      out += alphabet[unsafeUniformIntDistribution(0, alphabet.length - 1, this.rng)];
    }
    return out;
  }
}
