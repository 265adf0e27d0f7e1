// The backend: the one place that knows which device runs the kernels. Ops reach the kernels
// of their tensors' device through backendOf/backendFor (lib/backend/devices.ts); this module
// also configures the CPU addon (threads) and reports on it and on CUDA.
import type { BackendInfo, FloatArray, UnaryOp, BinaryOp, ReduceOp } from '../../binding';
import { native } from './native';
import { ValueError } from '../errors';
import { cudaStatus, cudaMemory } from './cuda';
import { pooledBufferBytes } from '../memory';
import type { CudaMemory } from '../../binding';
import type { DeviceStatus } from './backend';

export type { BackendInfo, FloatArray, UnaryOp, BinaryOp, ReduceOp, DeviceStatus, CudaMemory };
export { backendFor, backendOf, sameDevice, checkDevice } from './devices';
export type { Backend, Kernels, Storage, FloatStorage, IntStorage } from './backend';


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

/**
 * CUDA from JavaScript: whether tensors can move to 'cuda' here, and why not. The native facts
 * (kernels compiled in, devices found) are in `gf.backendInfo().cuda`.
 * @example if (gf.cuda.isAvailable()) model.to('cuda');
 */
export const cuda = {
  isAvailable(): boolean { return cudaStatus().available; },
  status(): DeviceStatus { return cudaStatus(); },
};

/** What gf.memory() reports. */
export interface MemoryInfo {
  cpu: {
    /** Bytes of all ArrayBuffers in this process (tensors' storage among them; process.memoryUsage().arrayBuffers). */
    arrayBufferBytes: number;
    /** Bytes of free buffers the training scopes keep for reuse. */
    pooledBytes: number;
  };
  /** Device memory of tensors on 'cuda' (null where tensors cannot live there). */
  cuda: CudaMemory | null;
}

/**
 * Memory per device: on 'cuda', the bytes and buffers of every live device allocation
 * (`buffers` counts allocations: views share their parent's) and the caching pool's reserved
 * and used bytes; on the CPU, what V8 reports for ArrayBuffers and what the buffer pool holds.
 * @example const before = gf.memory().cuda?.bytes;
 */
export function memory(): MemoryInfo {
  return {
    cpu: { arrayBufferBytes: process.memoryUsage().arrayBuffers, pooledBytes: pooledBufferBytes() },
    cuda: cudaMemory(),
  };
}
