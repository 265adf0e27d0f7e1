// The interface every device backend implements. lib/backend/devices.ts's backendFor(device)
// is the one dispatch point: an op asks it (through backendOf) for the backend of its tensors'
// device, takes its output storage from that backend and runs that backend's kernels on the
// tensors' storages. A CPU storage is the tensor's typed array, so the CPU path passes the
// same arrays to the same native calls as before the seam.
import type { Binding } from '../../binding';
import type { DeviceStorage, TypedArray, FloatArray, Device, DType, FloatDType } from '../tensor';

export interface DeviceStatus {
  /** Whether tensors can live on this device now. */
  available: boolean;
  /** Why not, when they cannot ('' when they can). */
  reason: string;
}

/** A tensor's storage: a CPU tensor's typed array, or device memory behind a handle. */
export type Storage = TypedArray | DeviceStorage;
/** The storage of a float tensor. */
export type FloatStorage = FloatArray | DeviceStorage;
/** The storage of an int32 tensor (indices, argmax). */
export type IntStorage = Int32Array | DeviceStorage;

// A binding parameter that takes a typed array takes that array or device storage.
type OnDevice<T> = T extends ArrayBufferView ? T | DeviceStorage : T;
type OverStorages<F> = F extends (...args: infer P) => infer R
  ? (...args: { [I in keyof P]: OnDevice<P[I]> }) => R
  : never;

/** The binding's members that compute (the rest configure the CPU addon or report on it). */
export type KernelName = Exclude<keyof Binding, 'backendInfo' | 'setNumThreads' | 'setGemmKernel' | 'fmaPeak' | 'cuda'>;

/**
 * The kernels a backend runs: the native binding's calls, each typed-array argument a storage
 * of the backend's device. Sizes, geometries and options are as in binding.d.ts. The plan
 * calls (plan*) record and replay CPU kernel sequences; a backend without plans throws there.
 */
export type Kernels = { readonly [K in KernelName]: OverStorages<Binding[K]> };

export interface Backend {
  readonly device: Device;
  status(): DeviceStatus;
  /** The kernels that compute on this device's storages. */
  readonly kernels: Kernels;
  /**
   * Storage for `size` elements whose contents are unspecified (recycled memory is not
   * cleared): only for outputs a kernel overwrites completely. op and shape name the tensor
   * in the error when the size is over the per-tensor limit.
   */
  allocateOutput(dtype: FloatDType, size: number, op?: string, shape?: readonly number[]): FloatStorage;
  allocateOutput(dtype: DType, size: number, op?: string, shape?: readonly number[]): Storage;
  /** Storage for `size` elements, all zero. */
  allocate(dtype: FloatDType, size: number, op?: string, shape?: readonly number[]): FloatStorage;
  allocate(dtype: DType, size: number, op?: string, shape?: readonly number[]): Storage;
  /**
   * Zeroed storage that outlives every scope of lib/memory.ts (optimizer slots): the
   * training scopes never recycle it.
   */
  allocateLasting(dtype: FloatDType, size: number, op?: string): FloatStorage;
  /**
   * Workspace for a kernel (contents unspecified), outside every scope: hand it back with
   * release() once nothing reads it, and the backend reuses it.
   */
  scratch(dtype: FloatDType, size: number, op?: string): FloatStorage;
  /** Takes back storage from scratch() (the caller keeps no reference to it). */
  release(storage: Storage): void;
  /** Copies a CPU array into existing storage of the same length and dtype. */
  write(storage: Storage, data: TypedArray): void;
  /** Copies `src` into existing storage `dst` of the same length and dtype on this device. */
  assign(dst: Storage, src: Storage): void;
  /** A copy of `storage` in new storage on the same device. */
  copy<S extends Storage>(storage: S): S;
  /** `length` elements of `storage` from `offset`, sharing its memory (no copy). */
  view<S extends Storage>(storage: S, offset: number, length: number): S;
  /**
   * A CPU array as a kernel operand on this device: the array itself on the CPU, a copy in
   * device memory (freed with the open scope) elsewhere. For inputs made on the CPU, such as
   * gather indices.
   */
  fromHost<T extends TypedArray>(data: T): T | DeviceStorage;
  /** A copy of a CPU array in this device's memory. */
  upload(data: TypedArray): DeviceStorage;
  /** A copy of device storage in a CPU array (waits for the device). */
  download(storage: DeviceStorage): TypedArray;
  /** The same, without blocking the event loop while the device finishes. */
  downloadAsync(storage: DeviceStorage): Promise<TypedArray>;
}
