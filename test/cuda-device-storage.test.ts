// The device-memory exports (exports.cuda: native/binding/device_storage.cc) on their own: what
// they copy, how views share memory, what memory() counts, and a clear TypeError/RangeError for
// every bad argument, never a crash. Run with GRADFORGE_ADDON naming a CUDA build (npm run
// test:cuda uses the emulated one); skipped without a device.
import type { CudaBinding, CudaHandle } from '../binding';
import { addon, hasDevice, expectError } from './util/cuda-addon';

const d = hasDevice ? describe : describe.skip;

d('device storage exports', () => {
  // (a skipped describe still runs this body: nothing here may touch the addon before a test)
  const cuda = (): CudaBinding => addon!.cuda!;

  test('upload, write, download, copy and view move exactly the elements asked', async () => {
    const c = cuda();
    const a = Float32Array.from({ length: 11 }, (_, i) => i * 1.5 - 3);
    const h = c.upload(a);
    const out = new Float32Array(11);
    c.download(h, out);
    expect(Array.from(out)).toEqual(Array.from(a));
    const v = c.view(h, 3, 4);  // shares h's memory
    c.write(v, new Float32Array([10, 20, 30, 40]));
    c.download(h, out);
    expect(Array.from(out.subarray(3, 7))).toEqual([10, 20, 30, 40]);
    expect(out[2]).toBe(a[2]);
    expect(out[7]).toBe(a[7]);
    const dst = c.alloc('float32', 11, true);
    c.copy(dst, h);
    const back = new Float32Array(11);
    await c.downloadAsync(dst, back);
    expect(Array.from(back)).toEqual(Array.from(out));
    const zeros = new Int32Array(5).fill(7);
    c.download(c.alloc('int32', 5, true), zeros);
    expect(Array.from(zeros)).toEqual([0, 0, 0, 0, 0]);
    const bytes = new Uint8Array([1, 0, 255]);
    const bh = c.upload(bytes);
    const bout = new Uint8Array(3);
    c.download(bh, bout);
    expect(Array.from(bout)).toEqual([1, 0, 255]);
    // a view outlives its parent's dispose: the memory is freed with the last handle
    c.dispose(h);
    const vout = new Float32Array(4);
    c.download(v, vout);
    expect(Array.from(vout)).toEqual([10, 20, 30, 40]);
    for (const x of [v, dst, bh]) c.dispose(x);
    c.synchronize();
  });

  test('memory() counts live allocations and their bytes', () => {
    const c = cuda();
    const before = c.memory();
    const h = c.alloc('float32', 1000, false);
    const v = c.view(h, 10, 10);  // no new allocation
    const during = c.memory();
    expect(during.bytes - before.bytes).toBeGreaterThanOrEqual(4000);
    expect(during.poolUsed).toBeGreaterThanOrEqual(4000);
    expect(during.poolReserved).toBeGreaterThanOrEqual(during.poolUsed);
    c.dispose(h);
    c.dispose(v);
    expect(c.memory().bytes).toBeLessThanOrEqual(before.bytes);
  });

  test('bad arguments are TypeErrors or RangeErrors naming the call and the argument', () => {
    const c = cuda();
    const h = c.alloc('float32', 4, true);
    const raw = c as unknown as Record<string, (...args: unknown[]) => unknown>;
    expectError(() => raw.alloc('float16', 4, false), 'RangeError', /cuda\.alloc: dtype must be/);
    expectError(() => raw.alloc('float32', -1, false), 'RangeError', /cuda\.alloc: .*length/);
    expectError(() => raw.alloc('float32', 1.5, false), 'RangeError', /length/);
    expectError(() => raw.alloc('float32', 4), 'TypeError', /expects 3 arguments/);
    expectError(() => raw.upload([1, 2, 3]), 'TypeError', /cuda\.upload: argument 'array' must be a Float32Array/);
    expectError(() => raw.upload(new Uint16Array(2)), 'TypeError', /must be a Float32Array/);
    expectError(() => c.write(h, new Float32Array(3)), 'RangeError', /holds 4 float32 elements but the array has 3/);
    expectError(() => c.write(h, new Int32Array(4)), 'RangeError', /4 float32 elements but the array has 4 int32/);
    expectError(() => c.download(h, new Float32Array(5)), 'RangeError', /holds 4/);
    expectError(() => raw.download({}, new Float32Array(4)), 'TypeError', /must be a cuda storage handle, got object/);
    expectError(() => raw.download(new Float32Array(4), new Float32Array(4)), 'TypeError', /cuda storage handle/);
    expectError(() => c.copy(h, c.alloc('float32', 5, false)), 'RangeError', /holds 4/);
    expectError(() => c.view(h, 3, 2), 'RangeError', /offset 3 \+ length 2 is past the storage's 4 elements/);
    expectError(() => c.view(h, 2 ** 53, 1), 'RangeError', /offset/);
    expectError(() => raw.dispose(7), 'TypeError', /cuda storage handle, got number 7/);
    c.dispose(h);
    c.dispose(h);  // a second dispose does nothing
    expectError(() => c.download(h, new Float32Array(4)), 'TypeError', /disposed/);
    expectError(() => c.view(h, 0, 1), 'TypeError', /disposed/);
    expectError(() => c.downloadAsync(h, new Float32Array(4)), 'TypeError', /disposed/);  // at the call, not later
    // an allocation the device cannot hold is an Error with code GF_CUDA_ERROR, and the device
    // stays usable
    let oom: unknown = null;
    try { c.alloc('float32', 2 ** 40, false); } catch (e) { oom = e; }
    expect((oom as { code?: string }).code).toBe('GF_CUDA_ERROR');
    expect((oom as Error).message).toMatch(/cuda\.alloc: .*out of memory/);
    const ok: CudaHandle = c.upload(new Float32Array([1]));
    const one = new Float32Array(1);
    c.download(ok, one);
    expect(one[0]).toBe(1);
  });
});
