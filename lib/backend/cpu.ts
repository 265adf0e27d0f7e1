// The CPU backend: storage is the tensor's own typed array (freed by the garbage collector),
// the kernels are the native addon's (lib/backend/index.ts `kernels`).
import type { Backend, DeviceStatus } from './backend';
import type { DeviceStorage, TypedArray } from '../tensor';
import { DeviceError } from '../errors';

function notCpu(what: string, storage: DeviceStorage): never {
  throw new DeviceError(`cpu backend: ${what} got storage on '${storage.device}'`);
}

export const cpuBackend: Backend = {
  device: 'cpu',
  status(): DeviceStatus { return { available: true, reason: '' }; },
  // a CPU tensor holds its array directly: the moves to and from 'cpu' never reach here
  upload(data: TypedArray): DeviceStorage {
    void data;
    throw new DeviceError('cpu backend: CPU arrays are not uploaded (a CPU tensor holds its typed array)');
  },
  download(storage: DeviceStorage): TypedArray { return notCpu('download', storage); },
  downloadAsync(storage: DeviceStorage): Promise<TypedArray> { return Promise.reject(new DeviceError(`cpu backend: downloadAsync got storage on '${storage.device}'`)); },
};
