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
 */
import type { Tensor, TypedArray, DType } from './tensor';

/** Arrays smaller than this many bytes are cheap to allocate; they are never pooled. */
const MIN_POOLED_BYTES = 64 * 1024;
/** The pool keeps at most this many bytes of free buffers. */
const MAX_POOL_BYTES = 512 * 1024 * 1024;

let enabled = process.env.GRADFORGE_BUFFER_POOL !== '0';
const free = new Map<string, TypedArray[]>();
let pooledBytes = 0;
const scopes: Set<TypedArray>[] = [];

function key(dtype: DType, size: number): string {
  return `${dtype}:${size}`;
}

function create(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
  }
}

/**
 * An array from the pool when a scope is open and one of this size is free, else a new one.
 * Zero-filled unless `zero` is false: native kernels that overwrite their whole output skip
 * the fill.
 */
export function take(dtype: DType, size: number, zero = true): TypedArray {
  const scope = scopes[scopes.length - 1];
  if (!enabled || scope === undefined || size * 4 < MIN_POOLED_BYTES) return create(dtype, size);
  const list = free.get(key(dtype, size));
  let a = list?.pop();
  if (a !== undefined) {
    pooledBytes -= a.byteLength;
    if (zero) a.fill(0);
  } else {
    a = create(dtype, size);
  }
  scope.add(a);
  return a;
}

/** Takes t's storage out of the open scope so that it survives the scope's end. */
export function retain(t: Tensor): void {
  for (const s of scopes) s.delete(t.data);
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

function dtypeOfArray(a: TypedArray): DType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * Runs fn in a scope: storage allocated inside and not reachable from the returned tensors
 * (`keep` picks them from the result) is recycled when fn returns. Everything else fn
 * produced must be dead by then: callers use this only where they know it is.
 */
export function withScope<T>(fn: () => T, keep: (result: T) => readonly Tensor[] = () => []): T {
  if (!enabled) return fn();
  const scope = new Set<TypedArray>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set(keep(result).map((t) => t.data));
  const outer = scopes[scopes.length - 1];
  for (const a of scope) {
    if (kept.has(a)) outer?.add(a); // still owned: the enclosing scope decides
    else release(a, dtypeOfArray(a));
  }
  return result;
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
