// The CUDA backend. In a build with CUDA (npm run build:cuda, npx gradforge build --cuda) the
// addon has `cuda` (native/binding/device_storage.h): device memory behind handles, and its
// kernels take a handle wherever they take a typed array. This backend wraps each handle in a
// CudaStorage (a tensor's storage), hands the handles to those same kernels, and frees device
// memory at the end of the scope that made it (fit's step, evaluate's and predict's batches,
// gf.tidy), by dispose(), or, last, when the garbage collector finds the handle unreachable.
// Without CUDA compiled in or without a device, every move to 'cuda' or allocation throws
// DeviceError saying why. Device tensors are float32 or int32: the CUDA kernels compute in
// float32, so a float64 tensor stays on the CPU.
import type { CudaBinding, CudaDType, CudaHandle, CudaMemory } from '../../binding';
import type { Backend, DeviceStatus, KernelName, Kernels, Storage } from './backend';
import type { DeviceStorage, DType, FloatDType, TypedArray } from '../tensor';
import { DeviceError } from '../errors';
import { dtypeOfArray, recordDeviceStorage, takeLasting } from '../memory';
import { native } from './native';

export function cudaStatus(): DeviceStatus {
  const info = native.backendInfo().cuda;
  if (!info.compiled) return { available: false, reason: info.reason };
  if (!info.available) return { available: false, reason: `no usable CUDA device: ${info.reason}` };
  if (native.cuda === undefined) return { available: false, reason: 'the addon reports CUDA but exports no device memory calls' };
  return { available: true, reason: '' };
}

function unavailable(what: string): never {
  throw new DeviceError(`cuda: ${what}: not available (${cudaStatus().reason}); tensors stay on 'cpu'`);
}

let checked: CudaBinding | null = null;

/** The addon's device calls, once cudaStatus() says a device is usable. */
function device(what: string): CudaBinding {
  if (checked !== null) return checked;
  const status = cudaStatus();
  if (!status.available) unavailable(what);
  checked = native.cuda!;
  return checked;
}

/** A tensor's storage in CUDA device memory. */
export class CudaStorage implements DeviceStorage {
  readonly device = 'cuda' as const;
  constructor(readonly handle: CudaHandle, readonly dtype: DType, readonly length: number) {}
  dispose(): void {
    device('dispose').dispose(this.handle);
  }
}

function isCudaStorage(s: unknown): s is CudaStorage {
  return s instanceof CudaStorage;
}

function deviceDType(what: string, dtype: DType): CudaDType {
  if (dtype === 'float64') {
    throw new DeviceError(`cuda: ${what}: float64 tensors stay on the CPU (the CUDA kernels compute in float32); cast with .cast('float32') first or keep the tensor on 'cpu'`);
  }
  return dtype;
}

/** The addon's CUDA error (code GF_CUDA_ERROR) as DeviceError; anything else as it is. */
function asDeviceError(e: unknown): unknown {
  const err = e as { code?: unknown; message?: unknown } | null;
  if (err !== null && typeof err === 'object' && err.code === 'GF_CUDA_ERROR') return new DeviceError(`cuda: ${String(err.message)}`);
  return e;
}

function alloc(what: string, dtype: DType, size: number, zero: boolean, scoped: boolean): CudaStorage {
  const cuda = device(what);
  let h: CudaHandle;
  try {
    h = cuda.alloc(deviceDType(what, dtype), size, zero);
  } catch (e) {
    throw asDeviceError(e);
  }
  const s = new CudaStorage(h, dtype, size);
  if (scoped) recordDeviceStorage(s);
  return s;
}

// One kernel of the binding over device storage: each CudaStorage argument becomes its handle.
// A CPU typed array here is an op's bug (it read a device tensor's data, or made an output on
// the CPU): refused, naming the kernel, rather than mixing devices in one call.
function deviceKernel(name: KernelName): (...args: unknown[]) => unknown {
  if (name.startsWith('plan')) {
    return () => { throw new DeviceError(`cuda: ${name}: execution plans record CPU kernels only (a model on 'cuda' runs op by op)`); };
  }
  const fn = native[name] as unknown as (...args: unknown[]) => unknown;
  return (...args: unknown[]) => {
    let uploaded: CudaHandle[] | null = null;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (isCudaStorage(a)) {
        args[i] = a.handle;
      } else if (a instanceof Uint8Array) {
        // a byte mask (the recurrent kernels'), made on the CPU: copied over for this call
        const h = device(name).upload(a);
        (uploaded ??= []).push(h);
        args[i] = h;
      } else if (ArrayBuffer.isView(a) && a.byteLength === 0 && !(a instanceof Int32Array)) {
        // an empty float array stands for an absent slot (sgd without momentum)
        args[i] = emptyHandle(a instanceof Float64Array ? 'float64' : 'float32');
      } else if (ArrayBuffer.isView(a)) {
        throw new DeviceError(`cuda: ${name}: argument ${i} is a CPU ${a.constructor.name}, not device storage`);
      }
    }
    try {
      return fn(...args);
    } catch (e) {
      throw asDeviceError(e);
    } finally {
      if (uploaded !== null) for (const h of uploaded) checked!.dispose(h);  // freed in stream order, after the kernel
    }
  };
}

const empties = new Map<CudaDType, CudaHandle>();
function emptyHandle(dtype: CudaDType): CudaHandle {
  let h = empties.get(dtype);
  if (h === undefined) {
    h = device('allocate').alloc(dtype, 0, false);
    empties.set(dtype, h);
  }
  return h;
}

const NOT_KERNELS = new Set(['backendInfo', 'setNumThreads', 'setGemmKernel', 'fmaPeak', 'cuda']);
let kernelTable: Kernels | null = null;

function kernels(): Kernels {
  if (kernelTable !== null) return kernelTable;
  device('kernels');
  const table: Record<string, unknown> = {};
  for (const name of Object.keys(native)) {
    if (!NOT_KERNELS.has(name)) table[name] = deviceKernel(name as KernelName);
  }
  kernelTable = table as unknown as Kernels;
  return kernelTable;
}

function handleOf(what: string, s: Storage): CudaStorage {
  if (!isCudaStorage(s)) throw new DeviceError(`cuda backend: ${what} got storage that is not on 'cuda'`);
  return s;
}

/** Device memory the addon holds now, or null when tensors cannot live on 'cuda' here. */
export function cudaMemory(): CudaMemory | null {
  return cudaStatus().available ? native.cuda!.memory() : null;
}

function allocateOutput(dtype: FloatDType, size: number, op?: string): CudaStorage;
function allocateOutput(dtype: DType, size: number, op?: string): CudaStorage;
function allocateOutput(dtype: DType, size: number, op?: string): CudaStorage {
  return alloc(op ?? 'allocate', dtype, size, false, true);
}

function allocate(dtype: FloatDType, size: number, op?: string): CudaStorage;
function allocate(dtype: DType, size: number, op?: string): CudaStorage;
function allocate(dtype: DType, size: number, op?: string): CudaStorage {
  return alloc(op ?? 'allocate', dtype, size, true, true);
}

export const cudaBackend: Backend = {
  device: 'cuda',
  status: cudaStatus,
  get kernels(): Kernels { return kernels(); },
  allocateOutput,
  allocate,
  allocateLasting(dtype: FloatDType, size: number, op?: string): CudaStorage {
    return alloc(op ?? 'allocate', dtype, size, true, false);
  },
  scratch(dtype: FloatDType, size: number, op?: string): CudaStorage {
    return alloc(op ?? 'scratch', dtype, size, false, false);
  },
  release(storage: Storage): void {
    handleOf('release', storage).dispose();
  },
  write(storage: Storage, data: TypedArray): void {
    const s = handleOf('write', storage);
    try {
      device('write').write(s.handle, data);
    } catch (e) {
      throw asDeviceError(e);
    }
  },
  assign(dst: Storage, src: Storage): void {
    const d = handleOf('assign', dst), s = handleOf('assign', src);
    try {
      device('assign').copy(d.handle, s.handle);
    } catch (e) {
      throw asDeviceError(e);
    }
  },
  copy<S extends Storage>(storage: S): S {
    const s = handleOf('copy', storage);
    const out = alloc('copy', s.dtype, s.length, false, true);
    device('copy').copy(out.handle, s.handle);
    return out as unknown as S;
  },
  view<S extends Storage>(storage: S, offset: number, length: number): S {
    const s = handleOf('view', storage);
    return new CudaStorage(device('view').view(s.handle, offset, length), s.dtype, length) as unknown as S;
  },
  fromHost<T extends TypedArray>(data: T): DeviceStorage {
    return cudaBackend.upload(data);
  },
  upload(data: TypedArray): DeviceStorage {
    const dtype = dtypeOfArray(data);
    deviceDType('upload', dtype);
    let h: CudaHandle;
    try {
      h = device('upload').upload(data);
    } catch (e) {
      throw asDeviceError(e);
    }
    const s = new CudaStorage(h, dtype, data.length);
    recordDeviceStorage(s);
    return s;
  },
  download(storage: DeviceStorage): TypedArray {
    const s = handleOf('download', storage);
    const out = takeLasting(s.dtype, s.length, 'download');
    try {
      device('download').download(s.handle, out);
    } catch (e) {
      throw asDeviceError(e);
    }
    return out;
  },
  async downloadAsync(storage: DeviceStorage): Promise<TypedArray> {
    const s = handleOf('downloadAsync', storage);
    const out = takeLasting(s.dtype, s.length, 'download');
    try {
      await device('downloadAsync').downloadAsync(s.handle, out);
    } catch (e) {
      throw asDeviceError(e);
    }
    return out;
  },
};
