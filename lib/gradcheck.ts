/**
 * gradcheck: compares autograd's gradients with central finite differences, in float64.
 * Inputs are copied to float64 leaves; the function's output is projected on a fixed random
 * tensor so that non-scalar outputs check every output element's gradient at once.
 *
 * @example
 * const r = gf.gradcheck((a, b) => a.mul(b).sum(), [gf.randn([3, 4]), gf.randn([4])]);
 * if (!r.ok) console.log(r.message);
 */
import { Tensor, FloatArray } from './tensor';
import { noGrad } from './autograd';
import { Rng } from './random';
import { ValueError } from './errors';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Relative tolerance (default 1e-4). */
  rtol?: number;
  /** Seed of the random projection of the output (default 0). */
  seed?: number;
  /** Indices of inputs that are not differentiated (labels, masks). */
  constants?: number[];
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  /** What failed, e.g. 'input 1 element 5: analytic 0.25, numeric 0.5'. Empty when ok. */
  message: string;
}

export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[],
                          opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-4;
  const constants = new Set(opts.constants ?? []);
  const xs = inputs.map((t, i) => {
    if (constants.has(i) || t.dtype === 'int32') return t;
    const x = new Tensor(Float64Array.from(t.data), t.shape);
    return x.setRequiresGrad(true);
  });
  const y0 = fn(...xs);
  if (y0.dtype !== 'float64') throw new ValueError(`gradcheck: the function returned ${y0.dtype}; it must compute in the inputs' float64`);
  const rng = new Rng(opts.seed ?? 0);
  const proj = new Float64Array(y0.size);
  for (let i = 0; i < proj.length; i++) proj[i] = rng.uniform() + 0.5; // avoid near-zero weights
  const projT = new Tensor(proj, y0.shape);
  const objective = (): number => {
    const y = fn(...xs);
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * proj[i];
    return s;
  };
  y0.mul(projT).sum().backward();

  let maxAbsError = 0;
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k];
    if (!x.requiresGrad) continue;
    const data = x.data as FloatArray;
    const analytic = x.grad?.data ?? new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const orig = data[i];
      data[i] = orig + eps;
      const fp = noGrad(objective);
      data[i] = orig - eps;
      const fm = noGrad(objective);
      data[i] = orig;
      const numeric = (fp - fm) / (2 * eps);
      const a = analytic[i];
      const err = Math.abs(a - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      if (!(err <= atol + rtol * Math.abs(numeric))) {
        return { ok: false, maxAbsError: err, message: `input ${k} element ${i}: analytic ${a}, numeric ${numeric}` };
      }
    }
  }
  return { ok: true, maxAbsError, message: '' };
}
