/**
 * Reductions over axes (sum, mean, max, min) with their gradients, and argmax/argmin.
 * The native kernel reduces the middle axis of an (outer, n, inner) view, so reducing several
 * axes is a sequence of single-axis reductions, highest axis first.
 *
 * @example
 * x.sum();              // all elements -> shape []
 * x.mean(0, true);      // per column, keeping the axis -> [1, cols]
 * logits.argmax(-1);    // int32 class indices
 */
import { backendOf, ReduceOp, IntStorage } from '../backend';
import { record } from '../autograd';
import { ShapeError, fmtShape } from '../errors';
import { Tensor, FloatDType, shapeSize } from '../tensor';
import { requireFloatStorage, mul, div, equal } from './elementwise';
import { reshape, broadcastTo } from './shape';

/** Normalizes axis arguments (negative counts from the end) into sorted unique axes. */
export function normalizeAxes(op: string, shape: readonly number[], axis?: number | number[]): number[] {
  const rank = shape.length;
  if (axis === undefined) return shape.map((_, i) => i);
  const list = Array.isArray(axis) ? axis : [axis];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new ShapeError(`${op}: axis ${a} is out of range for shape ${fmtShape(shape)}`);
    }
    out.add(a < 0 ? a + rank : a);
  }
  return [...out].sort((p, q) => p - q);
}

function keptShape(shape: readonly number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reduceRaw(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  let data = requireFloatStorage(op, x);
  let shape = [...x.shape];
  const be = backendOf(op, [x]);
  for (let k = axes.length - 1; k >= 0; k--) {
    const ax = axes[k];
    const outer = shapeSize(shape.slice(0, ax));
    const n = shape[ax];
    const inner = shapeSize(shape.slice(ax + 1));
    const out = be.allocateOutput(x.dtype as FloatDType, outer * inner);
    be.kernels.reduce(op, data, outer, n, inner, out);
    data = out;
    shape[ax] = 1;
  }
  return new Tensor(data, shape);
}

function finish(x: Tensor, kept: Tensor, axes: number[], keepDims: boolean): Tensor {
  if (keepDims) return kept;
  return new Tensor(kept.storage, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Sum over the given axes (all by default). */
export function sum(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  const axes = normalizeAxes('sum', x.shape, axis);
  const y = finish(x, reduceRaw('sum', x, axes), axes, keepDims);
  return record('sum', [x], y, (gy) => [broadcastTo(reshape(gy, keptShape(x.shape, axes)), x.shape)]);
}

/** Mean over the given axes (all by default). */
export function mean(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  const axes = normalizeAxes('mean', x.shape, axis);
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  const y = finish(x, reduceRaw('mean', x, axes), axes, keepDims);
  return record('mean', [x], y, (gy) => [div(broadcastTo(reshape(gy, keptShape(x.shape, axes)), x.shape), count)]);
}

function extreme(op: 'max' | 'min', x: Tensor, axis: number | number[] | undefined, keepDims: boolean): Tensor {
  const axes = normalizeAxes(op, x.shape, axis);
  if (axes.some((a) => x.shape[a] === 0)) throw new ShapeError(`${op}: cannot reduce an empty axis of shape ${fmtShape(x.shape)}`);
  const kept = reduceRaw(op, x, axes);
  const y = finish(x, kept, axes, keepDims);
  return record(op, [x], y, (gy) => {
    // the gradient is shared evenly between tied extremes, as PyTorch's amax/amin do
    const mask = equal(x, broadcastTo(kept.detach(), x.shape));
    const ties = sum(mask, axes, true);
    return [mul(mask, broadcastTo(div(reshape(gy, keptShape(x.shape, axes)), ties), x.shape))];
  });
}

/** Maximum over the given axes (all by default). */
export const max = (x: Tensor, axis?: number | number[], keepDims = false): Tensor => extreme('max', x, axis, keepDims);
/** Minimum over the given axes (all by default). */
export const min = (x: Tensor, axis?: number | number[], keepDims = false): Tensor => extreme('min', x, axis, keepDims);

function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number): Tensor {
  const [ax] = normalizeAxes(op, x.shape, axis);
  if (x.shape[ax] === 0) throw new ShapeError(`${op}: axis ${axis} of shape ${fmtShape(x.shape)} is empty`);
  const outer = shapeSize(x.shape.slice(0, ax));
  const inner = shapeSize(x.shape.slice(ax + 1));
  const be = backendOf(op, [x]);
  const out = be.allocateOutput('int32', outer * inner, op, x.shape.filter((_, i) => i !== ax)) as IntStorage;
  be.kernels.argReduce(op, requireFloatStorage(op, x), outer, x.shape[ax], inner, out);
  return new Tensor(out, x.shape.filter((_, i) => i !== ax));
}

/** Index of the largest value along an axis (int32; first on ties). */
export const argmax = (x: Tensor, axis = -1): Tensor => argReduce('argmax', x, axis);
/** Index of the smallest value along an axis (int32; first on ties). */
export const argmin = (x: Tensor, axis = -1): Tensor => argReduce('argmin', x, axis);
