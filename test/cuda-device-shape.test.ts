// The data-moving exports (copyBox, gatherRows, scatterAddRows: native/binding/addon.cc) on
// device storage (their CUDA dispatch in native/binding/device_math.cc, over the launchers of
// native/cuda/permute.h and native/cuda/embedding.h): the same call on typed arrays (the CPU
// kernels) and on device handles must give the same result. Box copies and gathers move bits,
// so they must agree exactly, the rest of the destination untouched; the scatter-add sums
// repeated ids with atomics on the device, so it is compared within float32 rounding.
// The addon is the one GRADFORGE_ADDON names (npm run test:cuda: the emulated CUDA build);
// without a usable device the tests are skipped. Also: argument errors are the CPU's, a call
// mixing device and CPU arrays is a TypeError.
import type { Binding } from '../binding';
import { addon as loaded, deviceArrays, hasDevice, rng, expectError, close } from './util/cuda-addon';

const addon = loaded;
const d = hasDevice ? describe : describe.skip;

d('copyBox, gatherRows and scatterAddRows on CUDA device storage agree with the CPU kernels', () => {
  // (a skipped describe still runs this body: nothing here may touch the addon before a test)
  const { up, down, downIndex } = deviceArrays();
  const b = (): Binding => addon as Binding;
  const r = rng(7);
  const prod = (s: number[]): number => s.reduce((p, v) => p * v, 1);
  const randArray = (n: number): Float32Array => Float32Array.from({ length: n }, () => r(3));

  test('copyBox: slices, pads and concat-like boxes of ranks 0 to 5, float32 and int32, exactly', () => {
    const cases: [number[], number[], number[], number[], number[]][] = [
      // srcShape, srcStart, dstShape, dstStart, size
      [[], [], [], [], []],
      [[7], [2], [5], [1], [3]],
      [[5, 7], [1, 2], [3, 4], [0, 0], [3, 4]],      // a slice
      [[3, 4], [0, 0], [5, 8], [1, 2], [3, 4]],      // a pad
      [[2, 3, 5], [0, 0, 0], [2, 7, 5], [0, 4, 0], [2, 3, 5]],  // concat along axis 1
      [[4, 3, 5], [0, 0, 0], [9, 3, 5], [5, 0, 0], [4, 3, 5]],  // concat along axis 0: one run
      [[2, 3, 4, 5, 3], [1, 0, 1, 2, 0], [3, 3, 5, 4, 3], [0, 0, 2, 1, 0], [1, 3, 3, 3, 3]],
      [[12, 4, 3], [0, 3, 0], [12, 1, 3], [0, 0, 0], [12, 1, 3]],  // an LSTM's last step
    ];
    for (const [ss, s0, ds, d0, size] of cases) {
      for (const ints of [false, true]) {
        const src = ints ? Int32Array.from({ length: prod(ss) }, (_, i) => i * 31 - 500) : randArray(prod(ss));
        const init = ints ? Int32Array.from({ length: prod(ds) }, (_, i) => -i - 1) : randArray(prod(ds));
        const want = init.slice();
        b().copyBox(src, ss, s0, want, ds, d0, size);
        const dst = up(init);
        b().copyBox(up(src) as unknown as Float32Array, ss, s0, dst as unknown as Float32Array, ds, d0, size);
        const got = ints ? downIndex(dst, want.length) : down(dst, want.length);
        expect(Array.from(got)).toEqual(Array.from(want));
      }
    }
  });

  test('gatherRows: repeated and unordered ids, float32 and int32 tables, exactly', () => {
    for (const [rows, len, ids] of [[5, 3, [4, 0, 4, 2, 1, 4]], [1, 7, [0, 0]], [9, 1, [8, 3]], [4, 5, []]] as [number, number, number[]][]) {
      const idx = Int32Array.from(ids);
      const x = randArray(rows * len);
      const want = new Float32Array(ids.length * len);
      b().gatherRows(x, rows, len, idx, want);
      const out = up(new Float32Array(ids.length * len).fill(NaN));
      b().gatherRows(up(x) as unknown as Float32Array, rows, len, up(idx) as unknown as Int32Array, out as unknown as Float32Array);
      expect(Array.from(down(out, want.length))).toEqual(Array.from(want));
    }
    const xi = Int32Array.from({ length: 12 }, (_, i) => i * 1000003);
    const wantI = new Int32Array(6);
    b().gatherRows(xi, 4, 3, Int32Array.from([3, 1]), wantI);
    const outI = up(new Int32Array(6));
    b().gatherRows(up(xi) as unknown as Int32Array, 4, 3, up(Int32Array.from([3, 1])) as unknown as Int32Array, outI as unknown as Int32Array);
    expect(Array.from(downIndex(outI, 6))).toEqual(Array.from(wantI));
  });

  test('scatterAddRows adds into what is there, repeated ids summed (within float32 rounding)', () => {
    const rows = 6, len = 5;
    const ids = Int32Array.from([5, 0, 5, 2, 5, 1, 0]);
    const g = randArray(ids.length * len);
    const init = randArray(rows * len);
    const want = init.slice();
    b().scatterAddRows(g, ids, rows, len, want);
    const out = up(init);
    b().scatterAddRows(up(g) as unknown as Float32Array, up(ids) as unknown as Int32Array, rows, len, out as unknown as Float32Array);
    close('scatterAddRows', down(out, want.length), want, 1e-6);
  });

  test('errors: the CPU checks before the device runs, mixed arrays, float64 device storage', () => {
    const x = up(new Float32Array(12)) as unknown as Float32Array;
    expectError(() => b().copyBox(x, [3, 4], [1, 0], up(new Float32Array(12)) as unknown as Float32Array, [3, 4], [0, 0], [3, 4]),
      'RangeError', /copyBox: the box \[3, 4\] at srcStart \[1, 0\]/);
    expectError(() => b().copyBox(x, [3, 4], [0, 0], new Float32Array(12), [3, 4], [0, 0], [3, 4]), 'TypeError', /copyBox/);
    expectError(() => b().gatherRows(x, 4, 3, Int32Array.from([1]), up(new Float32Array(3)) as unknown as Float32Array), 'TypeError', /gatherRows/);
    expectError(() => b().gatherRows(x, 4, 3, up(Int32Array.from([1])) as unknown as Int32Array, up(new Float32Array(2)) as unknown as Float32Array),
      'RangeError', /gatherRows: out has 2 elements but ids.length\*rowLength needs 3/);
    const x64 = up(new Float64Array(4)) as unknown as Float64Array;
    expectError(() => b().copyBox(x64, [4], [0], up(new Float64Array(4)) as unknown as Float64Array, [4], [0], [4]), 'TypeError', /float64 device storage/);
  });
});
