// The CPU backend: storage is the tensor's own typed array (freed by the garbage collector,
// recycled by the training scopes of lib/memory.ts), the kernels are the native addon's.
import type { Backend, DeviceStatus, Kernels, Storage } from './backend';
import type { DeviceStorage, DType, FloatArray, FloatDType, TypedArray } from '../tensor';
import { DeviceError } from '../errors';
import { take, takeLasting, takeScratch, giveBack } from '../memory';
import { native } from './native';

function notCpu(what: string, storage: DeviceStorage): never {
  throw new DeviceError(`cpu backend: ${what} got storage on '${storage.device}'`);
}

function isHost(s: Storage): s is TypedArray {
  return ArrayBuffer.isView(s);
}

function allocateOutput(dtype: FloatDType, size: number, op?: string, shape?: readonly number[]): FloatArray;
function allocateOutput(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray;
function allocateOutput(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray {
  return take(dtype, size, false, op, shape);
}

function allocate(dtype: FloatDType, size: number, op?: string, shape?: readonly number[]): FloatArray;
function allocate(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray;
function allocate(dtype: DType, size: number, op?: string, shape?: readonly number[]): TypedArray {
  return take(dtype, size, true, op, shape);
}

export const cpuBackend: Backend = {
  device: 'cpu',
  status(): DeviceStatus { return { available: true, reason: '' }; },
  // The binding's own functions, called with typed arrays: backendFor hands this backend only
  // to ops whose tensors are all on the CPU (sameDevice), and a CPU tensor's storage is its
  // typed array, so the device half of each Storage type never reaches them (and the
  // binding's checks would reject it with a TypeError if it did).
  kernels: native as unknown as Kernels,
  allocateOutput,
  allocate,
  allocateLasting(dtype: FloatDType, size: number, op?: string): FloatArray {
    return takeLasting(dtype, size, op) as FloatArray;
  },
  scratch(dtype: FloatDType, size: number, op?: string): FloatArray {
    return takeScratch(dtype, size, op) as FloatArray;
  },
  release(storage: Storage): void {
    if (!isHost(storage)) return notCpu('release', storage as DeviceStorage);
    giveBack(storage);
  },
  write(storage: Storage, data: TypedArray): void {
    if (!isHost(storage)) return notCpu('write', storage as DeviceStorage);
    storage.set(data);
  },
  assign(dst: Storage, src: Storage): void {
    if (!isHost(dst)) return notCpu('assign', dst as DeviceStorage);
    if (!isHost(src)) return notCpu('assign', src as DeviceStorage);
    dst.set(src);
  },
  copy<S extends Storage>(storage: S): S {
    if (!isHost(storage)) return notCpu('copy', storage as DeviceStorage);
    return storage.slice() as S;
  },
  view<S extends Storage>(storage: S, offset: number, length: number): S {
    if (!isHost(storage)) return notCpu('view', storage as DeviceStorage);
    return storage.subarray(offset, offset + length) as S;
  },
  fromHost<T extends TypedArray>(data: T): T { return data; },
  // a CPU tensor holds its array directly: the moves to and from 'cpu' never reach here
  upload(data: TypedArray): DeviceStorage {
    void data;
    throw new DeviceError('cpu backend: CPU arrays are not uploaded (a CPU tensor holds its typed array)');
  },
  download(storage: DeviceStorage): TypedArray { return notCpu('download', storage); },
  downloadAsync(storage: DeviceStorage): Promise<TypedArray> { return Promise.reject(new DeviceError(`cpu backend: downloadAsync got storage on '${storage.device}'`)); },
};
