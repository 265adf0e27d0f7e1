/**
 * Recycling of tensor storage on the training hot path. A fresh large typed array costs page
 * faults (measured here: 2.0 ms to allocate and fill a 5.5 MB conv activation, 0.4 ms to
 * refill a reused one), and a CNN training step allocates dozens. Inside a
 * scope, large allocations are recorded; when the scope ends, every recorded buffer not held
 * by a kept tensor goes back to a size-bucketed pool that later allocations draw from.
 *
 * Only code that knows which tensors outlive it opens scopes: the fit loop around one training
 * step, evaluate and predict around one batch. Storage that must outlive a scope (a layer's
 * new weights) is taken out of it with retain().
 *
 * GRADFORGE_BUFFER_POOL=0 turns recycling off (for debugging and for comparisons).
 *
 * take() is also the one place tensor storage is allocated, so it is where the per-tensor size
 * limit is enforced (see setMaxTensorBytes): every creation function and every op's result
 * comes through here.
 */
import type { Tensor, TypedArray, DType, DeviceStorage } from './tensor';
import { ShapeError, ValueError, fmtShape } from './errors';

/** Arrays smaller than this many bytes are cheap to allocate; they are never pooled. */
const MIN_POOLED_BYTES = 64 * 1024;
/** The pool keeps at most this many bytes of free buffers. */
const MAX_POOL_BYTES = 512 * 1024 * 1024;

let enabled = process.env.GRADFORGE_BUFFER_POOL !== '0';
const free = new Map<string, TypedArray[]>();
let pooledBytes = 0;
/**
 * An open scope: the CPU arrays it recycles at its end (null: it recycles none, as gf.tidy),
 * and the device storage it disposes then.
 */
interface Scope {
  host: Set<TypedArray> | null;
  device: Set<DeviceStorage>;
}
const scopes: Scope[] = [];

function key(dtype: DType, size: number): string {
  return `${dtype}:${size}`;
}

// ----- the per-tensor size limit -----

/** The default per-tensor limit: 4 GiB (a float32 weight of 1e9 elements). */
export const DEFAULT_MAX_TENSOR_BYTES = 4 * 1024 ** 3;

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/**
 * Parses a byte count as GRADFORGE_MAX_TENSOR_BYTES takes it: an integer ('8589934592',
 * '8e9'), optionally with a unit ('8GiB', '8G' and '8gib' are 8 * 2^30; '8GB' is 8e9; KiB,
 * MiB, TiB, KB, MB, TB likewise), or 'Infinity' (no limit but V8's own). Throws a ValueError
 * naming `source` for anything else.
 */
export function parseMaxTensorBytes(text: string, source = 'GRADFORGE_MAX_TENSOR_BYTES'): number {
  const t = text.trim();
  if (/^(inf|infinity)$/i.test(t)) return Infinity;
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)$/i.exec(t);
  const unit = m === null ? undefined : UNITS[m[2].toLowerCase()];
  const n = m === null || unit === undefined ? NaN : Number(m[1]) * unit;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ValueError(`${source}='${text}' is not a byte count: use a positive integer of bytes ('8589934592'), a size with a unit ('8GiB', '512MiB', '8GB') or 'Infinity'`);
  }
  return n;
}

function limitFromEnv(): number {
  const v = process.env.GRADFORGE_MAX_TENSOR_BYTES;
  return v === undefined || v === '' ? DEFAULT_MAX_TENSOR_BYTES : parseMaxTensorBytes(v);
}

let maxTensorBytes = limitFromEnv();

/**
 * Sets the largest storage one tensor may have, in bytes (default 4 GiB, or
 * GRADFORGE_MAX_TENSOR_BYTES); returns the previous limit. Infinity leaves only V8's own limit
 * (Node 20: 2^32 elements per typed array, and the memory the machine has).
 * @example const old = gf.setMaxTensorBytes(16 * 2 ** 30); ... gf.setMaxTensorBytes(old);
 */
export function setMaxTensorBytes(n: number): number {
  if (typeof n !== 'number' || !(n === Infinity || (Number.isSafeInteger(n) && n >= 1))) {
    throw new ValueError(`setMaxTensorBytes: the limit must be a positive integer number of bytes or Infinity, got ${String(n)}`);
  }
  const old = maxTensorBytes;
  maxTensorBytes = n;
  return old;
}

/** The per-tensor storage limit in bytes (see setMaxTensorBytes). */
export function getMaxTensorBytes(): number {
  return maxTensorBytes;
}

function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}

function fmtBytes(n: number): string {
  if (n === Infinity) return 'Infinity';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} bytes` : `${n} bytes (${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]})`;
}

function what(dtype: DType, size: number, op: string | undefined, shape: readonly number[] | undefined): string {
  const of = shape === undefined ? `${size} ${dtype} elements` : `${fmtShape(shape)} ${dtype} (${size} elements)`;
  return `${op ?? 'tensor storage'}: a result of ${of} needs ${fmtBytes(size * bytesPerElement(dtype))}`;
}

const HOW_TO_RAISE = 'raise the limit with gf.setMaxTensorBytes(bytes) or the environment variable GRADFORGE_MAX_TENSOR_BYTES (e.g. 16GiB) if the machine has the memory';

/** The slow path of the limit check: size * 8 already exceeds the limit. */
function checkLimit(dtype: DType, size: number, op?: string, shape?: readonly number[]): void {
  if (size * bytesPerElement(dtype) > maxTensorBytes) {
    throw new ShapeError(`${what(dtype, size, op, shape)}, above the per-tensor limit of ${fmtBytes(maxTensorBytes)}; ${HOW_TO_RAISE}`);
  }
}

function create(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray {
  try {
    switch (dtype) {
      case 'float32': return new Float32Array(size);
      case 'float64': return new Float64Array(size);
      case 'int32': return new Int32Array(size);
    }
  } catch (e) {
    // V8's own refusals ('Invalid typed array length: n' above 2^32 elements in Node 20,
    // 'Array buffer allocation failed' when the memory is not there) as the typed error
    if (e instanceof RangeError) {
      const why = size > 2 ** 32 ? `: Node ${process.versions.node} allows at most 2^32 elements per typed array`
        : size >= 0 ? ': the process could not get that much memory' : '';
      throw new ShapeError(`${what(dtype, size, op, shape)}, which the JavaScript engine could not allocate (${e.message})${why}`);
    }
    throw e;
  }
}

/**
 * An array from the pool when a scope is open and one of this size is free, else a new one.
 * Zero-filled unless `zero` is false: native kernels that overwrite their whole output skip
 * the fill. `op` and `shape`, when the caller knows them, go into the error for a size above
 * the limit.
 */
export function take(dtype: DType, size: number, zero = true, op?: string, shape?: readonly number[]): TypedArray {
  // the hot path pays one multiply and one comparison: only sizes within 8x of the limit
  // reach the exact check
  if (size * 8 > maxTensorBytes) checkLimit(dtype, size, op, shape);
  const scope = scopes[scopes.length - 1]?.host;
  if (!enabled || scope == null || size * 4 < MIN_POOLED_BYTES) return create(dtype, size, op, shape);
  if (reuseSuspended > 0) {
    const a = create(dtype, size, op, shape);
    scope.add(a);
    return a;
  }
  const list = free.get(key(dtype, size));
  let a = list?.pop();
  if (a !== undefined) {
    pooledBytes -= a.byteLength;
    if (zero) a.fill(0);
  } else {
    a = create(dtype, size, op, shape);
  }
  scope.add(a);
  return a;
}

/**
 * Zeroed storage that no scope recycles (optimizer slots, which live as long as their
 * optimizer; a device tensor's copy on the CPU): always a new array, with the per-tensor size limit.
 */
export function takeLasting(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray {
  if (size * 8 > maxTensorBytes) checkLimit(dtype, size, op, shape);
  return create(dtype, size, op, shape);
}

/**
 * Storage for an op's own scratch that outlives the call but is never a tensor's (the
 * recurrent op's workspace, kept from its forward to its backward): drawn from the pool
 * whether or not a scope is open, recorded in none, not zeroed. Hand it back with giveBack
 * when nothing will read it again, or drop it and the garbage collector has it.
 */
export function takeScratch(dtype: DType, size: number, op?: string): TypedArray {
  if (size * 8 > maxTensorBytes) checkLimit(dtype, size, op);
  if (enabled && size * 4 >= MIN_POOLED_BYTES && reuseSuspended === 0) {
    const a = free.get(key(dtype, size))?.pop();
    if (a !== undefined) {
      pooledBytes -= a.byteLength;
      return a;
    }
  }
  return create(dtype, size, op);
}

/** Returns scratch from takeScratch to the pool for later allocations (the caller keeps no reference). */
export function giveBack(a: TypedArray): void {
  if (enabled && a.byteLength >= MIN_POOLED_BYTES) release(a, dtypeOfArray(a));
}

/** Takes t's storage out of the open scope so that it survives the scope's end. */
export function retain(t: Tensor): void {
  const storage = t.storage;
  for (const s of scopes) {
    if (ArrayBuffer.isView(storage)) s.host?.delete(storage);
    else s.device.delete(storage);
  }
}

/** Records device storage in the open scope (if any), which disposes it at its end unless kept. */
export function recordDeviceStorage(storage: DeviceStorage): void {
  scopes[scopes.length - 1]?.device.add(storage);
}

function release(a: TypedArray, dtype: DType): void {
  if (pooledBytes + a.byteLength > MAX_POOL_BYTES) return;
  const k = key(dtype, a.length);
  let list = free.get(k);
  if (list === undefined) {
    list = [];
    free.set(k, list);
  }
  list.push(a);
  pooledBytes += a.byteLength;
}

export function dtypeOfArray(a: TypedArray): DType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * Runs fn in a scope: storage allocated inside and not reachable from the returned tensors
 * (`keep` picks them from the result) is recycled when fn returns. Everything else fn
 * produced must be dead by then: callers use this only where they know it is.
 */
export function withScope<T>(fn: () => T, keep: (result: T) => readonly Tensor[] = () => []): T {
  return inScope({ host: enabled ? new Set() : null, device: new Set() }, fn, keep);
}

function inScope<T>(scope: Scope, fn: () => T, keep: (result: T) => readonly Tensor[]): T {
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<unknown>(keep(result).map((t) => t.storage));
  const outer = scopes[scopes.length - 1];
  if (scope.host !== null) {
    for (const a of scope.host) {
      if (kept.has(a)) outer?.host?.add(a); // still owned: the enclosing scope decides
      else release(a, dtypeOfArray(a));
    }
  }
  for (const d of scope.device) {
    if (kept.has(d)) outer?.device.add(d);
    else d.dispose();
  }
  return result;
}

/** The tensors in a value: itself, or those in its arrays and plain objects, at any depth. */
function tensorsIn(value: unknown, out: Tensor[], seen: Set<unknown>): Tensor[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (isTensor(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) tensorsIn(v, out, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) tensorsIn(v, out, seen);
  return out;
}

function isTensor(v: object): v is Tensor {
  return 'storage' in v && 'shape' in v && 'dtype' in v && 'device' in v;
}

/**
 * Runs fn and then frees the device memory of every tensor it made (on 'cuda') that fn's
 * result does not hold: the returned tensor(s), in arrays or plain objects. A tensor made
 * inside and kept elsewhere is freed too; reading it later throws. CPU tensors are left to
 * the garbage collector (tidy never recycles CPU memory, so no CPU tensor is ever reused
 * while something still holds it).
 * @example const loss = gf.tidy(() => model.predict(x).sub(y).square().mean());
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new ValueError(`tidy: expected a function, got ${typeof fn}`);
  return inScope({ host: null, device: new Set() }, fn, (result) => tensorsIn(result, [], new Set()));
}

/** Turns recycling on or off (tests and benchmarks compare the two); returns the old setting. */
export function setBufferPoolEnabled(on: boolean): boolean {
  const old = enabled;
  enabled = on;
  if (!on) {
    free.clear();
    pooledBytes = 0;
  }
  return old;
}

/** Bytes of free buffers held by the pool (for tests and benchmarks). */
export function pooledBufferBytes(): number {
  return pooledBytes;
}

// Every in-place write of a weight by the library (optimizer steps, batch norm's moving
// statistics in training, assign/setWeights, a GAN's frozen-state restore) counts here.
// predictAsync reads weights on another thread: while this count stands still, its snapshot
// of the weights equals the live ones (see lib/models/plans).
let weightWrites = 0;

/** @internal Notes that the library is about to write some weight in place. */
export function noteWeightWrite(): void {
  weightWrites++;
}

/** @internal How many weight writes noteWeightWrite has counted. */
export function weightWriteCount(): number {
  return weightWrites;
}

// While an execution plan records a forward pass, no buffer is handed out twice: a recycled
// buffer is zero-filled (or filled) by JavaScript, which the recording cannot see, and its
// address would pass that off as the output of the kernel that wrote it before.
let reuseSuspended = 0;

/** @internal Runs fn with no recycled buffer handed out (buffers still return to the pool). */
export function withoutReuse<T>(fn: () => T): T {
  reuseSuspended++;
  try {
    return fn();
  } finally {
    reuseSuspended--;
  }
}
