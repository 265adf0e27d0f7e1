// The device seam (lib/backend/devices, Tensor.device): every tensor lives on a device, CPU
// tensors hold their typed array, and anything on a device this build or machine cannot run
// gives a DeviceError that says why, never a crash or garbage.
import * as gf from '../lib';
import { sameDevice, backendFor } from '../lib/backend';
import { recordDeviceStorage, retain, withScope } from '../lib/memory';

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

describe('gf.tidy and gf.memory', () => {
  test('tidy disposes the device storage its scope made, except what the result holds (at any depth)', () => {
    const made: ReturnType<typeof fakeCudaStorage>[] = [];
    const make = (n: number) => {
      const s = fakeCudaStorage(n);
      recordDeviceStorage(s);
      made.push(s);
      return new gf.Tensor(s, [n]);
    };
    const result = gf.tidy(() => {
      make(2);
      const kept = make(3);
      const nested = make(4);
      const inner = gf.tidy(() => [make(5), make(6)][1]);  // the inner result passes to this scope
      return { kept, deep: [[nested]], inner };
    });
    expect(made.map((s) => s.disposed)).toEqual([1, 0, 0, 1, 0]);
    expect(result.kept.size).toBe(3);
    // the outer scope took the inner result, and kept it because it is in its result too
    expect(result.inner.size).toBe(6);
  });

  test('training scopes (withScope) dispose device storage too; retain takes it out', () => {
    const a = fakeCudaStorage(2), b = fakeCudaStorage(3), c = fakeCudaStorage(4);
    withScope(() => {
      recordDeviceStorage(a);
      recordDeviceStorage(b);
      recordDeviceStorage(c);
      retain(new gf.Tensor(b, [3]));
      return new gf.Tensor(c, [4]);
    }, (t) => [t]);
    expect([a.disposed, b.disposed, c.disposed]).toEqual([1, 0, 0]);
  });

  test('tidy never recycles CPU memory: a CPU tensor made inside and kept elsewhere stays intact', () => {
    let stash: gf.Tensor | null = null;
    gf.tidy(() => {
      stash = gf.full([50000], 3);  // large enough to be pooled by a training scope
      return null;
    });
    withScope(() => gf.zeros([50000]).add(1));
    withScope(() => gf.zeros([50000]).add(2));
    expect(stash!.data.every((v) => v === 3)).toBe(true);
    expect(() => gf.tidy(5 as unknown as () => void)).toThrow(gf.ValueError);
  });

  test('memory() reports the CPU, and null for cuda where tensors cannot live there', () => {
    const m = gf.memory();
    expect(m.cpu.arrayBufferBytes).toBeGreaterThan(0);
    expect(m.cpu.pooledBytes).toBeGreaterThanOrEqual(0);
    if (!gf.cuda.isAvailable()) expect(m.cuda).toBeNull();
    else expect(m.cuda!.bytes).toBeGreaterThanOrEqual(0);
  });
});
