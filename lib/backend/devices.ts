// backendFor(device): the single dispatch point from a device name to its backend.
import type { Backend } from './backend';
import type { Device } from '../tensor';
import { DeviceError } from '../errors';
import { cpuBackend } from './cpu';
import { cudaBackend } from './cuda';

const DEVICES: readonly Device[] = ['cpu', 'cuda'];

/** Throws DeviceError unless `device` is a device name ('cpu' or 'cuda'). */
export function checkDevice(op: string, device: unknown): Device {
  if (typeof device !== 'string' || !(DEVICES as readonly string[]).includes(device)) {
    throw new DeviceError(`${op}: unknown device ${JSON.stringify(device)} (use 'cpu' or 'cuda')`);
  }
  return device as Device;
}

export function backendFor(device: Device): Backend {
  switch (device) {
    case 'cpu': return cpuBackend;
    case 'cuda': return cudaBackend;
    default: throw new DeviceError(`unknown device ${JSON.stringify(device)} (use 'cpu' or 'cuda')`);
  }
}

/**
 * The backend of an op's tensors: they must all live on one device (nulls, for absent
 * optional operands such as a bias, are skipped). Throws the mixed-devices DeviceError.
 */
export function backendOf(op: string, tensors: readonly ({ device: Device; shape: readonly number[] } | null)[]): Backend {
  let device: Device | null = null;
  for (const t of tensors) {
    if (t === null) continue;
    if (device === null) device = t.device;
    else if (t.device !== device) sameDevice(op, tensors.filter((u) => u !== null) as { device: Device; shape: readonly number[] }[]);
  }
  return backendFor(device ?? 'cpu');
}

/** Throws DeviceError unless every tensor lives on the same device, naming the op and the devices. */
export function sameDevice(op: string, tensors: readonly { device: Device; shape: readonly number[] }[]): Device {
  const first = tensors[0]?.device ?? 'cpu';
  for (const t of tensors) {
    if (t.device !== first) {
      throw new DeviceError(`${op}: tensors on different devices (${tensors.map((u) => `[${u.shape.join(', ')}] on '${u.device}'`).join(', ')}); move them with .to() first`);
    }
  }
  return first;
}
