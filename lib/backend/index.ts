// The backend: the one place that knows which device runs the kernels. Today that is the CPU
// addon; a CUDA backend will plug in here without ops or layers changing.
import type { BackendInfo, FloatArray, UnaryOp, BinaryOp, ReduceOp } from '../../binding';
import { native } from './native';
import { ValueError } from '../errors';

export type { BackendInfo, FloatArray, UnaryOp, BinaryOp, ReduceOp };

/** The kernels ops call. */
export const kernels = native;

/** What runs the kernels: thread count, GEMM micro-kernel, CPU features. */
export function backendInfo(): BackendInfo {
  return native.backendInfo();
}

/**
 * Sets the number of native threads (like GRADFORGE_NUM_THREADS).
 * @example gf.setNumThreads(1);
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new ValueError(`setNumThreads: n must be an integer >= 1, got ${n}`);
  native.setNumThreads(n);
  threads = native.backendInfo().numThreads;
}

let threads = native.backendInfo().numThreads;

/** The native pool's thread count (as backendInfo().numThreads, without building the object). */
export function numThreads(): number {
  return threads;
}
