// Shared test helpers: gradcheck assertions and approximate comparisons.
import { Tensor, gradcheck, GradcheckOptions, randn, RandomOptions, tensor } from '../../lib';

/** Asserts that autograd agrees with central differences in float64. */
export function expectGradOk(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const r = gradcheck(fn, inputs, opts);
  if (!r.ok) throw new Error(`gradcheck failed: ${r.message}`);
  expect(r.ok).toBe(true);
}

/** A float64 tensor of normal samples (gradcheck inputs). */
export function rand64(shape: number[], seed: number, opts: RandomOptions = {}): Tensor {
  return randn(shape, { ...opts, seed, dtype: 'float64' });
}

/** Asserts two flat number arrays agree within atol + rtol*|expected|. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e)) && !(Number.isNaN(a) && Number.isNaN(e))) {
      throw new Error(`element ${i}: got ${a}, expected ${e}`);
    }
  }
}

/**
 * n sequences of T steps [n, T, 1] that rise (label 1, even i) or fall (label 0), from varied
 * starts with a little wiggle: what the recurrent layers' learning tests train on.
 */
export function risingAndFalling(n: number, T: number): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(n * T), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const up = i % 2 === 0, start = (i * 37 % 11) / 11;
    for (let t = 0; t < T; t++) xs[i * T + t] = start + (up ? 1 : -1) * 0.1 * t + 0.02 * Math.sin(i * 5 + t);
    ys[i] = up ? 1 : 0;
  }
  return { x: tensor(xs, [n, T, 1]), y: tensor(ys, [n, 1]) };
}

/** Same shape and the same bits in every element (NaN equals NaN, +0 differs from -0). */
export function expectBitIdentical(a: Tensor, b: Tensor): void {
  expect(b.shape).toEqual(a.shape);
  let differ = 0;
  for (let i = 0; i < a.size; i++) if (!Object.is(a.data[i], b.data[i])) differ++;
  expect(differ).toBe(0);
}
