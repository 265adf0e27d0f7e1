/**
 * Elementwise ops: unary maps and binary ops with NumPy broadcasting, each with its gradient.
 * Gradients run as one fused native kernel in ordinary training; when a caller asks for a
 * graph of the backward pass (createGraph, for gradients of gradients) they are built from
 * differentiable ops instead.
 *
 * @example
 * gf.add(gf.ones([2, 3]), gf.tensor([1, 2, 3]));   // broadcasts the row
 * x.relu().sigmoid();
 */
import { backendOf, UnaryOp, BinaryOp, FloatStorage } from '../backend';
import { record, isGradEnabled } from '../autograd';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor, TensorLike, DType, FloatArray, FloatDType, allocate, allocateOutput, scalar, shapeSize, checkDType } from '../tensor';
import { sum } from './reduce';
import { reshape } from './shape';

/** The native kernels index at most this many dimensions. */
export const MAX_RANK = 8;

const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

// ----- dtype and shape helpers shared by the ops -----

/** Throws DTypeError unless t is a float tensor. */
export function checkFloat(op: string, t: Tensor): void {
  if (t.dtype === 'int32') throw new DTypeError(`${op}: needs a float tensor, got int32 of shape ${fmtShape(t.shape)} (use .cast('float32'))`);
}

/** The values of a float CPU tensor, for ops computed in JavaScript (DTypeError for int32). */
export function requireFloat(op: string, t: Tensor): FloatArray {
  checkFloat(op, t);
  return t.data as FloatArray;
}

/** The storage of a float tensor on its device, for that device's kernels (DTypeError for int32). */
export function requireFloatStorage(op: string, t: Tensor): FloatStorage {
  checkFloat(op, t);
  return t.storage as FloatStorage;
}

/** The storage of a float tensor that an op has already checked (the kernels' operands). */
export function floatStorage(t: Tensor): FloatStorage {
  return t.storage as FloatStorage;
}

// A number beside a tensor is a scalar of its dtype on its device.
function toTensor(b: TensorLike, like: Tensor): Tensor {
  if (typeof b !== 'number') return b;
  const s = scalar(b, like.dtype === 'int32' ? 'float32' : like.dtype);
  return like.device === 'cpu' ? s : s.to(like.device);
}

/** The NumPy broadcast of two shapes, or a ShapeError naming the op and both shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = new Array(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
  }
  const s = axes.length > 0 ? sum(g, axes, true) : g;
  return reshape(s, shape);
}

// ----- unary -----

function unary(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const xd = requireFloatStorage(op, x);
  const be = backendOf(op, [x]);
  const out = be.allocateOutput(x.dtype as FloatDType, x.size);
  be.kernels.unary(op, xd, out, alpha, beta);
  const y = new Tensor(out, x.shape);
  return record(op, [x], y, (gy) => [unaryGrad(op, x, y, gy, alpha, beta)]);
}

function unaryGrad(op: UnaryOp, x: Tensor, y: Tensor, gy: Tensor, alpha: number, beta: number): Tensor {
  if (!isGradEnabled()) {
    const be = backendOf(`${op} backward`, [x, gy]);
    const dx = be.allocateOutput(x.dtype as FloatDType, x.size);
    be.kernels.unaryBackward(op, floatStorage(x), floatStorage(y), floatStorage(gy), dx, alpha, beta);
    return new Tensor(dx, x.shape);
  }
  // createGraph: the same derivative from differentiable ops
  switch (op) {
    case 'neg': return neg(gy);
    case 'exp': return mul(gy, y);
    case 'log': return div(gy, x);
    case 'sqrt': return div(gy, mul(y, 2));
    case 'abs': return mul(gy, sign(x));
    case 'square': return mul(gy, mul(x, 2));
    case 'reciprocal': return neg(mul(gy, mul(y, y)));
    case 'sign': return mul(gy, 0);
    case 'relu': return mul(gy, greater(x, 0));
    case 'leakyRelu': return mul(gy, add(mul(greater(x, 0), 1 - alpha), alpha));
    case 'elu': {
      const pos = greater(x, 0);
      return mul(gy, add(pos, mul(sub(1, pos), add(y, alpha))));
    }
    case 'selu': {
      const pos = greater(x, 0);
      return mul(gy, mul(add(pos, mul(sub(1, pos), mul(exp(x), SELU_ALPHA))), SELU_SCALE));
    }
    case 'sigmoid': return mul(gy, mul(y, sub(1, y)));
    case 'tanh': return mul(gy, sub(1, mul(y, y)));
    case 'softplus': return mul(gy, sigmoid(x));
    case 'clip': return mul(gy, mul(greaterEqual(x, alpha), lessEqual(x, beta)));
    case 'powScalar': return mul(gy, mul(powScalar(x, alpha - 1), alpha));
    case 'scale': return mul(gy, alpha);
    case 'log1p': return div(gy, add(x, 1));
    case 'logSigmoid': return mul(gy, sigmoid(neg(x)));
  }
}

// Outputs of ops that apply relu inside their kernel (conv2d, linear), and gradients that an op
// consuming such an output has already multiplied by relu's derivative (keyed by the gradient,
// valued by the relu output it was masked for). Weak: tensors of a step are dropped with it.
const reluOutputs = new WeakSet<Tensor>();
const reluMasked = new WeakMap<Tensor, Tensor>();

/** Marks y as the output of a relu applied inside a kernel (so consumers may fold its mask in). */
export function markReluOutput(y: Tensor): Tensor {
  reluOutputs.add(y);
  return y;
}

/** Whether x is a relu output marked by markReluOutput. */
export function isReluOutput(x: Tensor): boolean {
  return reluOutputs.has(x);
}

/** Records that gradient g (with respect to relu output y) already includes relu's mask. */
export function markReluMasked(g: Tensor, y: Tensor): Tensor {
  reluMasked.set(g, y);
  return g;
}

/**
 * The gradient through a relu, from its output y (y > 0 exactly where the input was): for ops
 * that apply relu inside their kernel (linear, conv2d). One native pass, or differentiable ops
 * while a graph of the gradient is being recorded (the mask itself is a constant).
 */
export function reluGradFromOutput(gy: Tensor, y: Tensor): Tensor {
  // Already masked by the op that consumed y (a max-pool masks its 4x smaller gradient instead:
  // see markReluOutput)
  if (reluMasked.get(gy) === y) return gy;
  if (isGradEnabled()) return mul(gy, greater(y.detach(), 0));
  const be = backendOf('relu backward', [y, gy]);
  const dx = be.allocateOutput(y.dtype as FloatDType, y.size);
  be.kernels.unaryBackward('relu', floatStorage(y), floatStorage(y), floatStorage(gy), dx, 0, 0);
  return new Tensor(dx, y.shape);
}

/** -x */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** e^x */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary('log', x);
/** log(1 + x), accurate for small x. */
export const log1p = (x: Tensor): Tensor => unary('log1p', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** -1, 0 or 1 (gradient zero). */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** x > 0 ? x : alpha * x (Keras default alpha 0.3). */
export const leakyRelu = (x: Tensor, alpha = 0.3): Tensor => unary('leakyRelu', x, alpha);
/** x > 0 ? x : alpha * (e^x - 1) */
export const elu = (x: Tensor, alpha = 1): Tensor => unary('elu', x, alpha);
/** Scaled ELU with the constants of Klambauer et al. (as Keras). */
export const selu = (x: Tensor): Tensor => unary('selu', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** log(sigmoid(x)), stable for large |x|. */
export const logSigmoid = (x: Tensor): Tensor => unary('logSigmoid', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** log(1 + e^x), stable for large |x|. */
export const softplus = (x: Tensor): Tensor => unary('softplus', x);
/** x ** p for a number p. */
export const powScalar = (x: Tensor, p: number): Tensor => unary('powScalar', x, p);

/** Limits values to [min, max]; the gradient passes where min <= x <= max. */
export function clip(x: Tensor, min: number, max: number): Tensor {
  if (Number.isNaN(min) || Number.isNaN(max) || min > max) {
    throw new ValueError(`clip: need min <= max, got min=${min}, max=${max}`);
  }
  return unary('clip', x, min, max);
}

// ----- binary -----

function binary(op: BinaryOp, aIn: TensorLike, bIn: TensorLike): { a: Tensor; b: Tensor; y: Tensor } {
  const a = typeof aIn === 'number' ? toTensor(aIn, bIn as Tensor) : aIn;
  const b = toTensor(bIn, a);
  const ad = requireFloatStorage(op, a);
  const bd = requireFloatStorage(op, b);
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: dtypes differ: ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  }
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (shape.length > MAX_RANK) throw new ShapeError(`${op}: rank ${shape.length} of ${fmtShape(a.shape)} (op) ${fmtShape(b.shape)} is above the supported ${MAX_RANK}`);
  const be = backendOf(op, [a, b]);
  const out = be.allocateOutput(a.dtype as FloatDType, shapeSize(shape), op, shape);
  be.kernels.binary(op, ad, a.shape as number[], bd, b.shape as number[], out, shape);
  return { a, b, y: new Tensor(out, shape) };
}

/**
 * a + b with broadcasting.
 * @example gf.add(x, 1); x.add(bias)
 */
export function add(aIn: TensorLike, bIn: TensorLike): Tensor {
  const { a, b, y } = binary('add', aIn, bIn);
  return record('add', [a, b], y, (gy) => [sumToShape(gy, a.shape), sumToShape(gy, b.shape)]);
}

export function sub(aIn: TensorLike, bIn: TensorLike): Tensor {
  const { a, b, y } = binary('sub', aIn, bIn);
  return record('sub', [a, b], y, (gy) => [sumToShape(gy, a.shape), b.requiresGrad ? sumToShape(neg(gy), b.shape) : null]);
}

export function mul(aIn: TensorLike, bIn: TensorLike): Tensor {
  const { a, b, y } = binary('mul', aIn, bIn);
  return record('mul', [a, b], y, (gy) => [
    a.requiresGrad ? sumToShape(mul(gy, b), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(gy, a), b.shape) : null,
  ]);
}

export function div(aIn: TensorLike, bIn: TensorLike): Tensor {
  const { a, b, y } = binary('div', aIn, bIn);
  return record('div', [a, b], y, (gy) => [
    a.requiresGrad ? sumToShape(div(gy, b), a.shape) : null,
    b.requiresGrad ? sumToShape(neg(div(mul(gy, y), b)), b.shape) : null,
  ]);
}

/** a ** b elementwise; the gradient to b needs a > 0. */
export function pow(aIn: TensorLike, bIn: TensorLike): Tensor {
  if (typeof bIn === 'number' && aIn instanceof Tensor) return powScalar(aIn, bIn);
  const { a, b, y } = binary('pow', aIn, bIn);
  return record('pow', [a, b], y, (gy) => [
    a.requiresGrad ? sumToShape(mul(gy, mul(b, pow(a, sub(b, 1)))), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(gy, mul(y, log(a))), b.shape) : null,
  ]);
}

/** Elementwise maximum; on ties the gradient goes to a. */
export function maximum(aIn: TensorLike, bIn: TensorLike): Tensor {
  const { a, b, y } = binary('maximum', aIn, bIn);
  return record('maximum', [a, b], y, (gy) => [
    a.requiresGrad ? sumToShape(mul(gy, greaterEqual(a, b)), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(gy, less(a, b)), b.shape) : null,
  ]);
}

/** Elementwise minimum; on ties the gradient goes to a. */
export function minimum(aIn: TensorLike, bIn: TensorLike): Tensor {
  const { a, b, y } = binary('minimum', aIn, bIn);
  return record('minimum', [a, b], y, (gy) => [
    a.requiresGrad ? sumToShape(mul(gy, lessEqual(a, b)), a.shape) : null,
    b.requiresGrad ? sumToShape(mul(gy, greater(a, b)), b.shape) : null,
  ]);
}

// Comparisons give 1 or 0 in the inputs' float dtype and carry no gradient.
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('greater', a, b).y;
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('greaterEqual', a, b).y;
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('less', a, b).y;
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('lessEqual', a, b).y;
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('equal', a, b).y;

/** Converts dtype; differentiable between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkDType('cast', dtype);
  if (dtype === x.dtype) return x;
  if (x.device !== 'cpu') {
    // no device kernel converts: through the CPU and back (a copy each way, waits for the
    // device). Only int32 <-> float32 reaches here (float64 stays on the CPU), and a cast
    // to or from int32 carries no gradient.
    return cast(x.cpu(), dtype).to(x.device);
  }
  const out = allocate(dtype, x.size, 'cast', x.shape);
  if (dtype === 'int32') {
    for (let i = 0; i < x.size; i++) out[i] = Math.trunc(x.data[i]);
  } else {
    out.set(x.data);
  }
  const y = new Tensor(out, x.shape);
  if (dtype === 'int32' || x.dtype === 'int32') return y;
  return record('cast', [x], y, (gy) => [cast(gy, x.dtype)]);
}
