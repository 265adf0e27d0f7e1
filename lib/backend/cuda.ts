// The CUDA backend's place in the seam. The native CUDA kernels (native/cuda) build with
// `npm run build:cuda` and are tested from C++; JavaScript tensors in device memory are not
// wired to them yet (issue 14 continues), so this backend reports itself unavailable and
// every move to 'cuda', allocation or kernel throws DeviceError saying why: no CUDA in this
// build, no device here, or not wired.
import type { Backend, DeviceStatus, Kernels, Storage } from './backend';
import type { DeviceStorage, TypedArray } from '../tensor';
import { DeviceError } from '../errors';
import { native } from './native';

export function cudaStatus(): DeviceStatus {
  const info = native.backendInfo().cuda;
  if (!info.compiled) return { available: false, reason: info.reason };
  if (!info.available) return { available: false, reason: `no usable CUDA device: ${info.reason}` };
  return { available: false, reason: `the addon has CUDA kernels and ${info.devices} device(s), but tensors in device memory are not wired to them in this version` };
}

function unavailable(what: string): never {
  throw new DeviceError(`cuda: ${what}: not available (${cudaStatus().reason}); tensors stay on 'cpu'`);
}

export const cudaBackend: Backend = {
  device: 'cuda',
  status: cudaStatus,
  get kernels(): Kernels { return unavailable('kernels'); },
  allocateOutput(): never { return unavailable('allocate'); },
  allocate(): never { return unavailable('allocate'); },
  allocateLasting(): never { return unavailable('allocate'); },
  scratch(): never { return unavailable('allocate'); },
  release(storage: Storage): void { void storage; unavailable('release'); },
  write(storage: Storage, data: TypedArray): void { void storage; void data; unavailable('write'); },
  copy<S extends Storage>(storage: S): S { void storage; return unavailable('copy'); },
  view<S extends Storage>(storage: S): S { void storage; return unavailable('view'); },
  upload(data: TypedArray): DeviceStorage { void data; return unavailable('upload'); },
  download(storage: DeviceStorage): TypedArray { void storage; return unavailable('download'); },
  downloadAsync(storage: DeviceStorage): Promise<TypedArray> {
    void storage;
    return new Promise(() => unavailable('download'));
  },
};
