/**
 * Ops that move data without arithmetic: reshape, transpose/permute, slice, concat, stack,
 * gather rows (for batching), expandDims/squeeze and broadcastTo, with their gradients.
 *
 * @example
 * x.reshape([-1, 784]);
 * gf.concat([a, b], 1);
 * x.slice([0, 2], [-1, 3]);         // all rows, columns 2..4
 * x.gather([3, 1, 4]);              // rows 3, 1, 4 (a minibatch)
 */
import { backendFor, backendOf } from '../backend';
import { record } from '../autograd';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor, FloatDType, shapeSize } from '../tensor';
import { sumToShape, broadcastShapes, checkFloat, floatStorage, MAX_RANK } from './elementwise';

/** Same data, new shape; one dimension may be -1 (inferred). Shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = [...shape];
  const infer = target.indexOf(-1);
  if (infer !== target.lastIndexOf(-1)) throw new ShapeError(`reshape: at most one -1 allowed, got ${fmtShape(shape)}`);
  for (const d of target) {
    if (!Number.isInteger(d) || d < -1) throw new ShapeError(`reshape: bad target shape ${fmtShape(shape)}`);
  }
  if (infer >= 0) {
    const known = shapeSize(target.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    target[infer] = x.size / known;
  }
  if (shapeSize(target) !== x.size) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)} (${shapeSize(target)} elements)`);
  }
  if (target.length === x.rank && target.every((d, i) => d === x.shape[i])) return x;
  const y = new Tensor(x.storage, target);
  return record('reshape', [x], y, (gy) => [reshape(gy, x.shape)]);
}

/** Permutes dimensions (reverses them by default, as numpy's transpose). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new ShapeError(`transpose: perm ${fmtShape(p)} is not a permutation of the ${x.rank} axes of ${fmtShape(x.shape)}`);
  }
  if (p.every((v, i) => v === i)) return x;
  if (x.rank > MAX_RANK) throw new ShapeError(`transpose: rank ${x.rank} of ${fmtShape(x.shape)} is above the supported ${MAX_RANK}`);
  const shape = p.map((i) => x.shape[i]);
  const be = backendOf('transpose', [x]);
  const out = be.allocateOutput(x.dtype, x.size);
  be.kernels.permute(x.storage, x.shape as number[], p, out);
  const y = new Tensor(out, shape);
  const inverse = new Array<number>(p.length);
  p.forEach((v, i) => { inverse[v] = i; });
  return record('transpose', [x], y, (gy) => [transpose(gy, inverse)]);
}

/**
 * A box of x: `begin` per axis and `size` per axis (-1 = to the end; omitted = to the end).
 * @example x.slice([1, 0], [2, -1])
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  if (begin.length !== x.rank || (size !== undefined && size.length !== x.rank)) {
    throw new ShapeError(`slice: begin ${fmtShape(begin)}${size ? ` and size ${fmtShape(size)}` : ''} must have one entry per axis of ${fmtShape(x.shape)}`);
  }
  const sz = x.shape.map((d, i) => {
    const s = size === undefined || size[i] === -1 ? d - begin[i] : size[i];
    if (!Number.isInteger(begin[i]) || !Number.isInteger(s) || begin[i] < 0 || s < 0 || begin[i] + s > d) {
      throw new ShapeError(`slice: begin ${fmtShape(begin)} size ${fmtShape(size ?? [])} is outside shape ${fmtShape(x.shape)} at axis ${i}`);
    }
    return s;
  });
  const be = backendOf('slice', [x]);
  const out = be.allocateOutput(x.dtype, shapeSize(sz), 'slice', sz);
  be.kernels.copyBox(x.storage, [...x.shape], [...begin], out, sz, sz.map(() => 0), sz);
  const y = new Tensor(out, sz);
  return record('slice', [x], y, (gy) => [padInto(gy, x.shape, begin)]);
}

/** gy placed at `begin` in zeros of `shape` (the gradient of slice), differentiable. */
function padInto(gy: Tensor, shape: readonly number[], begin: readonly number[]): Tensor {
  return pad(gy, shape.map((d, i) => [begin[i], d - begin[i] - gy.shape[i]] as [number, number]));
}

/**
 * Pads with a constant: paddings[i] = [before, after] for axis i.
 * @example gf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])   // one pixel of zeros around NHWC images
 */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  if (paddings.length !== x.rank || paddings.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ShapeError(`pad: paddings ${JSON.stringify(paddings)} must be ${x.rank} pairs [before, after] of integers >= 0 for shape ${fmtShape(x.shape)}`);
  }
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const begin = paddings.map((p) => p[0]);
  const be = backendOf('pad', [x]);
  const out = be.allocateOutput(x.dtype, shapeSize(shape), 'pad', shape);
  be.kernels.copyBox(x.storage, [...x.shape], x.shape.map(() => 0), out, shape, [...begin], [...x.shape], value);
  const y = new Tensor(out, shape);
  return record('pad', [x], y, (gy) => [slice(gy, begin, x.shape)]);
}

/**
 * Joins tensors along an axis; all other dimensions must agree.
 * @example gf.concat([a, b], -1)
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('concat: needs at least one tensor');
  const first = tensors[0];
  const ax = axis < 0 ? axis + first.rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= first.rank) {
    throw new ShapeError(`concat: axis ${axis} is out of range for shape ${fmtShape(first.shape)}`);
  }
  for (const t of tensors) {
    if (t.dtype !== first.dtype) throw new DTypeError(`concat: dtypes differ: ${first.dtype} and ${t.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new ShapeError(`concat: shapes ${tensors.map((s) => fmtShape(s.shape)).join(', ')} differ outside axis ${ax}`);
    }
  }
  const shape = [...first.shape];
  shape[ax] = tensors.reduce((n, t) => n + t.shape[ax], 0);
  const be = backendOf('concat', tensors);
  const out = be.allocateOutput(first.dtype, shapeSize(shape), 'concat', shape);
  const starts: number[] = [];
  let offset = 0;
  for (const [k, t] of tensors.entries()) {
    const start = shape.map(() => 0);
    start[ax] = offset;
    starts.push(offset);
    // the first piece writes all of out (zeros around it), so the later ones only update it
    be.kernels.copyBox(t.storage, [...t.shape], t.shape.map(() => 0), out, shape, start, [...t.shape], k === 0 ? 0 : undefined);
    offset += t.shape[ax];
  }
  const y = new Tensor(out, shape);
  return record('concat', tensors, y, (gy) => tensors.map((t, k) => {
    if (!t.requiresGrad) return null;
    const begin = shape.map(() => 0);
    begin[ax] = starts[k];
    return slice(gy, begin, t.shape);
  }));
}

/** Stacks equally shaped tensors along a new axis. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ValueError('stack: needs at least one tensor');
  return concat(tensors.map((t) => expandDims(t, axis)), axis);
}

/** Rows of x (along axis 0) at the given indices, e.g. a shuffled minibatch. */
export function gatherRows(x: Tensor, indices: Tensor | readonly number[] | Int32Array): Tensor {
  if (x.rank === 0) throw new ShapeError('gather: cannot gather rows of a scalar');
  // a private copy: the caller's index buffer (e.g. fit's shuffled order) may change later,
  // and the backward pass needs these indices; indices on a device are read back once here
  const src = indices instanceof Tensor ? indices.dataSync() : indices;
  const n = x.shape[0];
  const idx = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const r = src[i];
    if (!Number.isInteger(r) || r < 0 || r >= n) {
      throw new ShapeError(`gather: index ${r} (position ${i}) is out of range for ${n} rows of shape ${fmtShape(x.shape)}`);
    }
    idx[i] = r;
  }
  const row = n === 0 ? 0 : x.size / n;
  const shape = [idx.length, ...x.shape.slice(1)];
  const be = backendOf('gather', [x]);
  const out = be.allocateOutput(x.dtype, idx.length * row, 'gather', shape);
  be.kernels.gatherRows(x.storage, n, row, be.fromHost(idx) as Int32Array, out);
  const y = new Tensor(out, shape);
  return record('gather', [x], y, (gy) => [scatterAddRows(gy, idx, x.shape)]);
}

/** Zeros of `shape` with row i of g added into row idx[i] (the gradient of gatherRows). */
function scatterAddRows(g: Tensor, idx: Int32Array, shape: readonly number[]): Tensor {
  const be = backendOf('scatterAdd', [g]);
  const rows = shape[0];
  const row = rows === 0 ? 0 : shapeSize(shape) / rows;
  checkFloat('scatterAdd', g);
  const out = be.allocate(g.dtype as FloatDType, shapeSize(shape), 'scatterAdd', shape);
  be.kernels.scatterAddRows(floatStorage(g), be.fromHost(idx) as Int32Array, rows, row, out);
  return record('scatterAdd', [g], new Tensor(out, shape), (gy) => [gatherRows(gy, idx)]);
}

/**
 * Rows [start, end) of x as a view that shares x's storage (no copy): the contiguous batches
 * of evaluate and predict.
 */
export function sliceRows(x: Tensor, start: number, end: number): Tensor {
  if (x.rank === 0 || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > x.shape[0]) {
    throw new ShapeError(`sliceRows: rows [${start}, ${end}) are outside shape ${fmtShape(x.shape)}`);
  }
  if (start === 0 && end === x.shape[0]) return x;
  const row = x.shape[0] === 0 ? 0 : x.size / x.shape[0];
  const y = new Tensor(backendFor(x.device).view(x.storage, start * row, (end - start) * row), [end - start, ...x.shape.slice(1)]);
  const begin = x.shape.map((_, i) => (i === 0 ? start : 0));
  return record('sliceRows', [x], y, (gy) => [padInto(gy, x.shape, begin)]);
}

/** Inserts a dimension of size 1 at `axis`. */
export function expandDims(x: Tensor, axis = 0): Tensor {
  const ax = axis < 0 ? axis + x.rank + 1 : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax > x.rank) throw new ShapeError(`expandDims: axis ${axis} is out of range for shape ${fmtShape(x.shape)}`);
  const shape = [...x.shape];
  shape.splice(ax, 0, 1);
  return reshape(x, shape);
}

/** Removes dimensions of size 1 (the given ones, or all). */
export function squeeze(x: Tensor, axis?: number[]): Tensor {
  const axes = (axis ?? x.shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((a) => (a < 0 ? a + x.rank : a));
  for (const a of axes) {
    if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of shape ${fmtShape(x.shape)} is not 1`);
  }
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Repeats x along broadcast dimensions to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const target = broadcastShapes('broadcastTo', x.shape, shape);
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  if (x.rank === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  checkFloat('broadcastTo', x);
  if (shape.length > MAX_RANK) throw new ShapeError(`broadcastTo: rank ${shape.length} of ${fmtShape(shape)} is above the supported ${MAX_RANK}`);
  const be = backendOf('broadcastTo', [x]);
  const out = be.allocate(x.dtype as FloatDType, shapeSize(shape), 'broadcastTo', shape);
  be.kernels.binary('add', out, shape as number[], floatStorage(x), x.shape as number[], out, shape as number[]);
  return record('broadcastTo', [x], new Tensor(out, shape), (gy) => [sumToShape(gy, x.shape)]);
}
