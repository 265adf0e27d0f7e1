// The device seam (lib/backend/devices, Tensor.device): every tensor lives on a device, CPU
// tensors hold their typed array, and anything on a device this build or machine cannot run
// gives a DeviceError that says why, never a crash or garbage.
import * as gf from '../lib';
import { sameDevice, backendFor } from '../lib/backend';

/** Storage as a device backend would hand it out, to test what the tensor does with one. */
function fakeCudaStorage(length: number) {
  return { device: 'cuda' as const, dtype: 'float32' as const, length, disposed: 0, dispose() { this.disposed++; } };
}

describe('tensors on the CPU', () => {
  test('are on cpu; to/cpu return them; dataAsync gives their array; dispose does nothing', async () => {
    const t = gf.tensor([1, 2, 3]);
    expect(t.device).toBe('cpu');
    expect(t.deviceStorage).toBeNull();
    expect(t.to('cpu')).toBe(t);
    expect(t.cpu()).toBe(t);
    expect(await t.dataAsync()).toBe(t.data);
    t.dispose();
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
  });

  test('moving to a device that is not available throws DeviceError with the reason', () => {
    const t = gf.ones([2, 2]);
    const status = gf.cuda.status();
    expect(gf.cuda.isAvailable()).toBe(false);
    expect(status.available).toBe(false);
    expect(status.reason.length).toBeGreaterThan(10);
    expect(() => t.to('cuda')).toThrow(gf.DeviceError);
    expect(() => t.to('cuda')).toThrow(status.reason);
    expect(() => t.to('tpu' as never)).toThrow(/unknown device "tpu" \(use 'cpu' or 'cuda'\)/);
  });

  test('backendInfo().cuda says what was compiled and found', () => {
    const c = gf.backendInfo().cuda;
    expect(typeof c.compiled).toBe('boolean');
    expect(c.available).toBe(c.devices > 0);
    if (!c.compiled) expect(c.reason).toMatch(/GRADFORGE_CUDA=ON/);
    if (!c.available) expect(c.reason).not.toBe('');
  });
});

describe('a tensor whose storage is on another device', () => {
  test('has its device, dtype and size; .data throws DeviceError naming .cpu() and dataAsync', async () => {
    const storage = fakeCudaStorage(6);
    const t = new gf.Tensor(storage, [2, 3]);
    expect(t.device).toBe('cuda');
    expect(t.dtype).toBe('float32');
    expect(t.size).toBe(6);
    expect(t.deviceStorage).toBe(storage);
    expect(() => t.data).toThrow(gf.DeviceError);
    expect(() => t.data).toThrow(/lives on 'cuda'.*\.cpu\(\).*dataAsync/);
    // ops read .data: a typed error, not a crash
    expect(() => t.add(1)).toThrow(gf.DeviceError);
    expect(() => gf.matmul(t, gf.ones([3, 2]))).toThrow(gf.DeviceError);
    // moving it back needs the CUDA backend, which says it is not available
    expect(() => t.cpu()).toThrow(gf.DeviceError);
    await expect(t.dataAsync()).rejects.toThrow(gf.DeviceError);
    expect(t.detach().deviceStorage).toBe(storage);
    t.dispose();
    expect(storage.disposed).toBe(1);
    expect(() => new gf.Tensor(fakeCudaStorage(5), [2, 3])).toThrow(/data has 5 elements but shape \[2, 3\] needs 6/);
  });

  test('mixing devices in one op is a DeviceError naming the shapes and devices', () => {
    const a = gf.ones([2]);
    const b = new gf.Tensor(fakeCudaStorage(3), [3]);
    expect(sameDevice('add', [a, a])).toBe('cpu');
    expect(() => sameDevice('add', [a, b])).toThrow(/add: tensors on different devices \(\[2\] on 'cpu', \[3\] on 'cuda'\)/);
  });

  test('backendFor is the one dispatch point', () => {
    expect(backendFor('cpu').device).toBe('cpu');
    expect(backendFor('cuda').device).toBe('cuda');
    expect(backendFor('cpu').status().available).toBe(true);
    expect(() => backendFor('cuda').upload(new Float32Array(2))).toThrow(gf.DeviceError);
  });
});

describe('models', () => {
  test("model.to('cpu') is a no-op; to('cuda') throws DeviceError and leaves the weights", () => {
    const model = gf.sequential({ layers: [gf.layers.dense({ units: 2, inputShape: [3] })] });
    model.build([null, 3]);
    const before = model.weights.map((v) => v.value);
    expect(model.to('cpu')).toBe(model);
    expect(() => model.to('cuda')).toThrow(gf.DeviceError);
    expect(() => model.to('cuda')).toThrow(/\.to\('cuda'\): /);
    expect(model.weights.map((v) => v.value)).toEqual(before);
    expect(model.weights.every((v) => v.value.device === 'cpu')).toBe(true);
  });
});
