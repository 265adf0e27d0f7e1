/**
 * Tensor: an n-dimensional array with a shape, a dtype and contiguous row-major storage, plus
 * what autograd needs (requiresGrad, grad, the node that produced it). Ops never modify their
 * inputs; they return new tensors. Optimizers are the one exception: they update parameter
 * storage in place.
 *
 * @example
 * const a = gf.tensor([[1, 2], [3, 4]]);
 * const b = a.mul(2).add(1);        // [[3, 5], [7, 9]]
 * b.toArray();                      // nested arrays
 */
import { runBackward, BackwardOptions, GradNode } from './autograd';
import { DeviceError, DTypeError, ShapeError, ValueError, fmtShape } from './errors';
import { backendFor, checkDevice } from './backend/devices';
import type { Storage } from './backend/backend';
import { rngFor } from './random';
import { take } from './memory';
import * as ew from './ops/elementwise';
import * as red from './ops/reduce';
import * as sm from './ops/softmax';
import * as mm from './ops/matmul';
import * as sh from './ops/shape';

export type DType = 'float32' | 'float64' | 'int32';
export type FloatDType = 'float32' | 'float64';
export type TypedArray = Float32Array | Float64Array | Int32Array;
export type FloatArray = Float32Array | Float64Array;
/** Nested arrays of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];
/** A tensor or a plain number (broadcast as a scalar of the tensor's dtype). */
export type TensorLike = Tensor | number;

/** Where a tensor's storage lives and its ops run. */
export type Device = 'cpu' | 'cuda';

/**
 * Storage that a device backend owns (device memory behind a native handle). A CPU tensor's
 * storage is its typed array, freed by the garbage collector.
 */
export interface DeviceStorage {
  readonly device: Exclude<Device, 'cpu'>;
  readonly dtype: DType;
  readonly length: number;
  /** Frees the device memory now; the tensor cannot be read afterwards. */
  dispose(): void;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Elements: the product of the shape. */
  readonly size: number;
  /** The device that holds the storage and runs this tensor's ops ('cpu' unless moved with to()). */
  readonly device: Device;
  /** The storage of a tensor on another device than the CPU; null on the CPU. */
  readonly deviceStorage: DeviceStorage | null;
  /** Whether gradients flow to (and accumulate in) this tensor. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after backward(); null before. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when autograd recorded it. */
  gradFn: GradNode | null = null;
  private readonly host: TypedArray | null;

  constructor(data: TypedArray | DeviceStorage, shape: readonly number[], requiresGrad = false) {
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new ShapeError(`Tensor: data has ${data.length} elements but shape ${fmtShape(shape)} needs ${size}`);
    }
    this.shape = Object.freeze([...shape]);
    this.size = size;
    if (ArrayBuffer.isView(data)) {
      this.host = data;
      this.deviceStorage = null;
      this.device = 'cpu';
      this.dtype = dtypeOf(data);
    } else {
      this.host = null;
      this.deviceStorage = data;
      this.device = data.device;
      this.dtype = data.dtype;
    }
    if (requiresGrad) this.setRequiresGrad(true);
  }

  /**
   * The storage on this tensor's device, for the device's kernels: the typed array of a CPU
   * tensor, the device handle elsewhere (ops pass it to `backendOf(...).kernels`).
   */
  get storage(): Storage {
    return this.host ?? this.deviceStorage!;
  }

  /**
   * Contiguous row-major storage of a CPU tensor (shared, not copied); its length is `size`.
   * A tensor on another device throws DeviceError: read it with `.cpu()` or `await t.dataAsync()`.
   */
  get data(): TypedArray {
    const h = this.host;
    if (h === null) {
      throw new DeviceError(`tensor ${fmtShape(this.shape)} lives on '${this.device}': its data is not in JavaScript memory; copy it with .cpu() or read it with await .dataAsync()`);
    }
    return h;
  }

  /**
   * This tensor on `device`: itself if it is there already, else a copy (not recorded by
   * autograd). Throws DeviceError when that device is not available, saying why.
   * @example const g = x.to('cuda'); const back = g.cpu();
   */
  to(device: Device): Tensor {
    checkDevice('to', device);
    if (device === this.device) return this;
    if (device === 'cpu') return new Tensor(backendFor(this.device).download(this.deviceStorage!), this.shape);
    return new Tensor(backendFor(device).upload(this.data), this.shape);
  }

  /** This tensor on the CPU (itself when it is there). */
  cpu(): Tensor {
    return this.to('cpu');
  }

  /** The storage as a typed array on the CPU (a copy for other devices, which read it asynchronously). */
  async dataAsync(): Promise<TypedArray> {
    if (this.host !== null) return this.host;
    return backendFor(this.device).downloadAsync(this.deviceStorage!);
  }

  /**
   * Frees device memory now. CPU storage needs no dispose (the garbage collector frees it): on
   * the CPU this does nothing.
   */
  dispose(): void {
    this.deviceStorage?.dispose();
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Marks this tensor as a leaf that collects gradients (float tensors only). */
  setRequiresGrad(on = true): this {
    if (on && this.dtype === 'int32') throw new DTypeError('requiresGrad: int32 tensors have no gradient');
    this.requiresGrad = on;
    return this;
  }

  /**
   * Back-propagates from this tensor. With no argument the tensor must hold one element
   * (a loss); otherwise `grad` is the gradient of some scalar with respect to this tensor.
   */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    if (grad === undefined) {
      if (this.size !== 1) {
        throw new ShapeError(`backward: implicit gradient needs a tensor of one element, got shape ${fmtShape(this.shape)}; pass a gradient`);
      }
      grad = full(this.shape, 1, this.dtype);
      if (this.device !== 'cpu') grad = grad.to(this.device);
    }
    runBackward(this, grad, opts);
  }

  /** Clears the accumulated gradient. */
  zeroGrad(): void {
    this.grad = null;
  }

  /** The same storage, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.host ?? this.deviceStorage!, this.shape);
  }

  /** A deep copy (new storage on the same device), not recorded by autograd. */
  clone(): Tensor {
    return new Tensor(this.host !== null ? this.host.slice() : backendFor(this.device).copy(this.deviceStorage!), this.shape);
  }

  /** The single value of a one-element tensor (waiting for its device, as PyTorch's item()). */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item: tensor has shape ${fmtShape(this.shape)}, not one element`);
    return this.host !== null ? this.host[0] : this.cpu().data[0];
  }

  /** The storage on the CPU: shared, not copied, for a CPU tensor; a copy from another device. */
  dataSync(): TypedArray {
    return this.host ?? this.cpu().data;
  }

  /** Nested JavaScript arrays (a number for a scalar); a tensor on a device is copied back first. */
  toArray(): NestedArray {
    const values = this.dataSync();
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return values[offset];
      const n = this.shape[dim];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})\n${formatValues(this)}`;
  }

  /** Converts to another dtype (float -> int32 truncates toward zero). */
  cast(dtype: DType): Tensor {
    return ew.cast(this, dtype);
  }

  // ----- elementwise (lib/ops/elementwise.ts) -----
  add(b: TensorLike): Tensor { return ew.add(this, b); }
  sub(b: TensorLike): Tensor { return ew.sub(this, b); }
  mul(b: TensorLike): Tensor { return ew.mul(this, b); }
  div(b: TensorLike): Tensor { return ew.div(this, b); }
  pow(b: TensorLike): Tensor { return ew.pow(this, b); }
  maximum(b: TensorLike): Tensor { return ew.maximum(this, b); }
  minimum(b: TensorLike): Tensor { return ew.minimum(this, b); }
  greater(b: TensorLike): Tensor { return ew.greater(this, b); }
  less(b: TensorLike): Tensor { return ew.less(this, b); }
  equal(b: TensorLike): Tensor { return ew.equal(this, b); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  square(): Tensor { return ew.square(this); }
  abs(): Tensor { return ew.abs(this); }
  sign(): Tensor { return ew.sign(this); }
  clip(min: number, max: number): Tensor { return ew.clip(this, min, max); }
  relu(): Tensor { return ew.relu(this); }
  leakyRelu(alpha = 0.3): Tensor { return ew.leakyRelu(this, alpha); }
  elu(alpha = 1): Tensor { return ew.elu(this, alpha); }
  selu(): Tensor { return ew.selu(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  tanh(): Tensor { return ew.tanh(this); }
  softplus(): Tensor { return ew.softplus(this); }

  // ----- reductions (lib/ops/reduce.ts) -----
  sum(axis?: number | number[], keepDims = false): Tensor { return red.sum(this, axis, keepDims); }
  mean(axis?: number | number[], keepDims = false): Tensor { return red.mean(this, axis, keepDims); }
  max(axis?: number | number[], keepDims = false): Tensor { return red.max(this, axis, keepDims); }
  min(axis?: number | number[], keepDims = false): Tensor { return red.min(this, axis, keepDims); }
  argmax(axis = -1): Tensor { return red.argmax(this, axis); }
  argmin(axis = -1): Tensor { return red.argmin(this, axis); }

  // ----- softmax (lib/ops/softmax.ts) -----
  softmax(axis = -1): Tensor { return sm.softmax(this, axis); }
  logSoftmax(axis = -1): Tensor { return sm.logSoftmax(this, axis); }

  // ----- matmul (lib/ops/matmul.ts) -----
  matmul(b: Tensor, transposeA = false, transposeB = false): Tensor { return mm.matmul(this, b, transposeA, transposeB); }

  // ----- shape (lib/ops/shape.ts) -----
  reshape(shape: readonly number[]): Tensor { return sh.reshape(this, shape); }
  flatten(): Tensor { return sh.reshape(this, [this.size]); }
  transpose(perm?: readonly number[]): Tensor { return sh.transpose(this, perm); }
  permute(perm: readonly number[]): Tensor { return sh.transpose(this, perm); }
  slice(begin: readonly number[], size?: readonly number[]): Tensor { return sh.slice(this, begin, size); }
  gather(indices: Tensor | readonly number[] | Int32Array): Tensor { return sh.gatherRows(this, indices); }
  expandDims(axis = 0): Tensor { return sh.expandDims(this, axis); }
  squeeze(axis?: number[]): Tensor { return sh.squeeze(this, axis); }
  broadcastTo(shape: readonly number[]): Tensor { return sh.broadcastTo(this, shape); }
}

// ----- helpers shared by ops -----

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  throw new DTypeError('Tensor: storage must be a Float32Array, Float64Array or Int32Array');
}

/**
 * Zero-filled storage for a new tensor (recycled inside a memory scope; see lib/memory.ts).
 * Sizes above the per-tensor limit (gf.setMaxTensorBytes) throw a ShapeError naming `op` and
 * `shape` when given.
 */
export function allocate(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray {
  return take(dtype, size, true, op, shape);
}

/**
 * Storage whose contents are unspecified (recycled memory is not cleared): only for outputs
 * that a native kernel overwrites completely. The same limit as allocate.
 */
export function allocateOutput(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray {
  return take(dtype, size, false, op, shape);
}

function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: bad shape ${fmtShape(shape)}: sizes must be integers >= 0`);
  }
}

export function checkDType(op: string, dtype: string): asserts dtype is DType {
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int32') {
    throw new DTypeError(`${op}: unknown dtype '${dtype}' (use float32, float64 or int32)`);
  }
}

function formatValues(t: Tensor): string {
  const fmt = (v: number): string => (t.dtype === 'int32' ? String(v) : Number.isInteger(v) ? `${v}.` : v.toPrecision(4));
  const edge = 3;
  const rec = (dim: number, offset: number, indent: string): string => {
    if (dim === t.shape.length) return fmt(t.data[offset]);
    const n = t.shape[dim];
    const stride = shapeSize(t.shape.slice(dim + 1));
    const idx: (number | null)[] = [];
    if (n > 2 * edge + 1) {
      for (let i = 0; i < edge; i++) idx.push(i);
      idx.push(null);
      for (let i = n - edge; i < n; i++) idx.push(i);
    } else {
      for (let i = 0; i < n; i++) idx.push(i);
    }
    const parts = idx.map((i) => (i === null ? '...' : rec(dim + 1, offset + i * stride, indent + ' ')));
    const sep = dim === t.shape.length - 1 ? ', ' : `,\n${indent} `;
    return `[${parts.join(sep)}]`;
  };
  return rec(0, 0, '');
}

// ----- creation -----

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Seed a private generator (reproducible without touching the global seed). */
  seed?: number;
}

/**
 * A tensor from nested arrays, a flat array or a typed array (with a shape).
 * @example gf.tensor([[1, 2], [3, 4]]); gf.tensor(new Float32Array(6), [2, 3]);
 */
export function tensor(values: NestedArray | TypedArray | readonly number[], shape?: readonly number[],
                       opts: CreateOptions = {}): Tensor {
  let flat: ArrayLike<number>;
  let inferred: number[];
  if (ArrayBuffer.isView(values)) {
    flat = values;
    inferred = [values.length];
  } else {
    inferred = inferShape(values as NestedArray);
    flat = flattenNested(values as NestedArray, inferred);
  }
  const finalShape = shape ?? inferred;
  checkShape('tensor', finalShape);
  if (shapeSize(finalShape) !== flat.length) {
    throw new ShapeError(`tensor: ${flat.length} values do not fill shape ${fmtShape(finalShape)} (${shapeSize(finalShape)} elements)`);
  }
  let dtype: DType = opts.dtype ?? (ArrayBuffer.isView(values) ? dtypeOf(values as TypedArray) : 'float32');
  checkDType('tensor', dtype);
  let data: TypedArray;
  if (ArrayBuffer.isView(values) && dtypeOf(values as TypedArray) === dtype) {
    data = values as TypedArray; // shared, as tf.tensor does with a typed array
  } else {
    data = allocate(dtype, flat.length, 'tensor', finalShape);
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== 'number') throw new ValueError(`tensor: element ${i} is ${typeof v}, not a number`);
      data[i] = v;
    }
  }
  dtype = dtypeOf(data);
  return new Tensor(data, finalShape, opts.requiresGrad ?? false);
}

/** A one-element tensor of shape []. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  checkDType('scalar', dtype);
  const data = allocate(dtype, 1);
  data[0] = value;
  return new Tensor(data, []);
}

function inferShape(v: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

function flattenNested(v: NestedArray, shape: number[]): number[] {
  const out: number[] = [];
  const rec = (x: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(x)) throw new ShapeError(`tensor: ragged nested array at ${path || 'top'}: expected a number`);
      out.push(x);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new ShapeError(`tensor: ragged nested array at ${path || 'top'}: expected ${shape[dim]} elements like the first row (shape ${fmtShape(shape)})`);
    }
    x.forEach((e, i) => rec(e, dim + 1, `${path}[${i}]`));
  };
  rec(v, 0, '');
  return out;
}

function filled(op: string, shape: readonly number[], value: number, dtype: DType, requiresGrad: boolean): Tensor {
  checkShape(op, shape);
  checkDType(op, dtype);
  const data = allocate(dtype, shapeSize(shape), op, shape);
  if (value !== 0) data.fill(value);
  return new Tensor(data, shape, requiresGrad);
}

/**
 * A tensor filled with one value. Like every creation function and op, it refuses a result
 * above the per-tensor limit (gf.setMaxTensorBytes, default 4 GiB) with a ShapeError.
 */
export function full(shape: readonly number[], value: number, dtype: DType = 'float32', requiresGrad = false): Tensor {
  return filled('full', shape, value, dtype, requiresGrad);
}

/** @example gf.zeros([2, 3]) */
export function zeros(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return filled('zeros', shape, 0, opts.dtype ?? 'float32', opts.requiresGrad ?? false);
}

/** @example gf.ones([2, 3]) */
export function ones(shape: readonly number[], opts: CreateOptions = {}): Tensor {
  return filled('ones', shape, 1, opts.dtype ?? 'float32', opts.requiresGrad ?? false);
}

export function zerosLike(t: Tensor): Tensor {
  return filled('zerosLike', t.shape, 0, t.dtype, false);
}

export function onesLike(t: Tensor): Tensor {
  return filled('onesLike', t.shape, 1, t.dtype, false);
}

/**
 * Standard normal samples scaled by stddev and shifted by mean.
 * @example gf.randn([784, 10], {requiresGrad: true, seed: 1})
 */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; stddev?: number } = {}): Tensor {
  checkShape('randn', shape);
  const dtype = opts.dtype ?? 'float32';
  if (dtype === 'int32') throw new DTypeError('randn: dtype must be float32 or float64');
  const rng = rngFor(opts.seed);
  const mean = opts.mean ?? 0;
  const std = opts.stddev ?? 1;
  const data = allocate(dtype, shapeSize(shape), 'randn', shape);
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/**
 * Uniform samples in [minval, maxval) (integers for int32).
 * @example gf.randUniform([3], {minval: -1, maxval: 1, seed: 3})
 */
export function randUniform(shape: readonly number[], opts: RandomOptions & { minval?: number; maxval?: number } = {}): Tensor {
  checkShape('randUniform', shape);
  const dtype = opts.dtype ?? 'float32';
  const lo = opts.minval ?? 0;
  const hi = opts.maxval ?? 1;
  if (!(hi > lo)) throw new ValueError(`randUniform: maxval (${hi}) must be greater than minval (${lo})`);
  const rng = rngFor(opts.seed);
  const data = allocate(dtype, shapeSize(shape), 'randUniform', shape);
  for (let i = 0; i < data.length; i++) {
    const u = lo + (hi - lo) * rng.uniform();
    data[i] = dtype === 'int32' ? Math.floor(u) : u;
  }
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/**
 * Evenly spaced values in [start, stop).
 * @example gf.arange(0, 5)        // [0, 1, 2, 3, 4]
 */
export function arange(start: number, stop?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  checkDType('arange', dtype);
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate(dtype, n, 'arange', [n]);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}
