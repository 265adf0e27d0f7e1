// The interface every device backend implements. lib/backend/devices.ts's backendFor(device)
// is the one dispatch point: a tensor's ops and moves go to the backend of its device.
import type { DeviceStorage, TypedArray, Device } from '../tensor';

export interface DeviceStatus {
  /** Whether tensors can live on this device now. */
  available: boolean;
  /** Why not, when they cannot ('' when they can). */
  reason: string;
}

export interface Backend {
  readonly device: Device;
  status(): DeviceStatus;
  /** A copy of a CPU array in this device's memory. */
  upload(data: TypedArray): DeviceStorage;
  /** A copy of device storage in a CPU array (waits for the device). */
  download(storage: DeviceStorage): TypedArray;
  /** The same, without blocking the event loop while the device finishes. */
  downloadAsync(storage: DeviceStorage): Promise<TypedArray>;
}
