/**
 * softmax and logSoftmax over an axis (the last by default), numerically stable (the native
 * kernel subtracts the row maximum), with their gradients.
 *
 * @example
 * const probs = logits.softmax();
 * const logp = logits.logSoftmax();   // use this for cross-entropy: no log(0)
 */
import { backendOf } from '../backend';
import { record, isGradEnabled } from '../autograd';
import { Tensor, FloatDType } from '../tensor';
import { requireFloatStorage, floatStorage, mul, sub, exp } from './elementwise';
import { sum, normalizeAxes } from './reduce';
import { transpose } from './shape';

function softmaxLast(x: Tensor, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  const xd = requireFloatStorage(op, x);
  const cols = x.rank === 0 ? 1 : x.shape[x.rank - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const be = backendOf(op, [x]);
  const out = be.allocateOutput(x.dtype as FloatDType, x.size);
  be.kernels.softmax(xd, rows, cols, out, log);
  const y = new Tensor(out, x.shape);
  return record(op, [x], y, (gy) => {
    if (isGradEnabled()) {
      // createGraph: the same formulas from differentiable ops
      return log ? [sub(gy, mul(exp(y), sum(gy, -1, true)))] : [mul(y, sub(gy, sum(mul(gy, y), -1, true)))];
    }
    const bb = backendOf(`${op} backward`, [y, gy]);
    const dx = bb.allocateOutput(x.dtype as FloatDType, x.size);
    bb.kernels.softmaxBackward(floatStorage(y), floatStorage(gy), rows, cols, dx, log);
    return [new Tensor(dx, x.shape)];
  });
}

function alongAxis(x: Tensor, axis: number, log: boolean): Tensor {
  const [ax] = normalizeAxes(log ? 'logSoftmax' : 'softmax', x.shape, axis);
  if (x.rank === 0 || ax === x.rank - 1) return softmaxLast(x, log);
  // move the axis last, apply, move it back (a swap is its own inverse)
  const perm = x.shape.map((_, i) => i);
  perm[ax] = x.rank - 1;
  perm[x.rank - 1] = ax;
  return transpose(softmaxLast(transpose(x, perm), log), perm);
}

/** exp(x) / sum(exp(x)) along an axis. */
export const softmax = (x: Tensor, axis = -1): Tensor => alongAxis(x, axis, false);
/** x - logsumexp(x) along an axis. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => alongAxis(x, axis, true);
