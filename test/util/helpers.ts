// Shared test helpers: gradcheck assertions and approximate comparisons.
import { Tensor, gradcheck, GradcheckOptions, randn, RandomOptions } from '../../lib';

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
