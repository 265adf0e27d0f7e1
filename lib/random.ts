/**
 * The one seedable random source. Every random init, shuffle and dropout mask draws from it,
 * so a run that calls `setSeed(n)` first is reproducible. Functions that take a `seed` option
 * use a private generator seeded with it and leave the global one untouched.
 *
 * @example
 * gf.setSeed(42);
 * const w = gf.randn([3, 3]);   // the same numbers on every run
 */

import { ValueError } from './errors';

/** xoshiro128** with a splitmix32 seeder: fast, 32-bit, good statistical quality. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 0x9e3779b9) {
    this.seed(seed);
  }

  seed(seed: number): void {
    let x = (Math.floor(seed) >>> 0) ^ 0xdeadbeef;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    this.spareNormal = null;
  }

  /**
   * The generator's state ([s0, s1, s2, s3] and the cached normal, if any), for checkpoints
   * that must resume the same random sequence.
   */
  getState(): number[] {
    const st = [this.s0, this.s1, this.s2, this.s3];
    if (this.spareNormal !== null) st.push(this.spareNormal);
    return st;
  }

  /** Restores a state from getState. */
  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5)
        || state.slice(0, 4).some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)
        || state.slice(0, 4).every((v) => v === 0) || (state.length === 5 && !Number.isFinite(state[4]))) {
      throw new ValueError(`Rng.setState: expected 4 uint32 words (not all 0) and an optional cached normal, got ${JSON.stringify(state)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((v, i) => (i < 4 ? v >>> 0 : v));
    this.spareNormal = state.length === 5 ? state[4] : null;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher-Yates shuffle of an index array in place. */
  shuffle(a: Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const globalRng = new Rng();

/** Seeds the global random source. */
export function setSeed(seed: number): void {
  globalRng.seed(seed);
}

/** The generator to draw from: a private one for an explicit seed, else the global one. */
export function rngFor(seed?: number): Rng {
  return seed === undefined ? globalRng : new Rng(seed);
}
