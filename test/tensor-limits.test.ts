// The per-tensor storage limit (issue 10 C): every result is refused above it with a ShapeError
// naming the op, the shape, the dtype, the bytes and the limit, instead of a raw RangeError from
// V8 or a silent 10 GB allocation; the limit is set by gf.setMaxTensorBytes or
// GRADFORGE_MAX_TENSOR_BYTES.
import * as gf from '../lib';
import { DEFAULT_MAX_TENSOR_BYTES, parseMaxTensorBytes } from '../lib/memory';

const GiB = 2 ** 30;

afterEach(() => {
  gf.setMaxTensorBytes(DEFAULT_MAX_TENSOR_BYTES);
});

describe('the default limit (4 GiB per tensor)', () => {
  test('is 4 GiB', () => {
    expect(gf.getMaxTensorBytes()).toBe(4 * GiB);
  });

  test('gf.zeros([1e5, 1e5]) throws a ShapeError naming the op, shape, dtype, bytes, limit and how to raise it', () => {
    let err: unknown;
    try {
      gf.zeros([1e5, 1e5]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(gf.ShapeError);
    expect((err as Error).message).toBe(
      'zeros: a result of [100000, 100000] float32 (10000000000 elements) needs 40000000000 bytes (37.3 GiB), '
      + 'above the per-tensor limit of 4294967296 bytes (4.0 GiB); raise the limit with gf.setMaxTensorBytes(bytes) '
      + 'or the environment variable GRADFORGE_MAX_TENSOR_BYTES (e.g. 16GiB) if the machine has the memory');
  });

  test.each([
    ['ones', () => gf.ones([2 ** 31])],
    ['full', () => gf.full([3, 2 ** 30], 7)],
    ['randn', () => gf.randn([1e5, 1e5], { seed: 1 })],
    ['randUniform', () => gf.randUniform([65536, 65536], { seed: 1 })],
    ['arange', () => gf.arange(0, 2e9)],
  ])('%s over the limit throws a ShapeError naming it', (op, make) => {
    expect(make).toThrow(gf.ShapeError);
    expect(make).toThrow(new RegExp(`^${op}: a result of \\[[\\d, ]+\\] float32 .* above the per-tensor limit of 4294967296 bytes`));
  });

  test('float64 counts 8 bytes an element: [2^29 + 1] float64 is refused', () => {
    expect(() => gf.zeros([2 ** 29 + 1], { dtype: 'float64' })).toThrow(/\[536870913\] float64 \(536870913 elements\) needs 4294967304 bytes/);
  });

  test('matmul with K = 0 and a huge result is refused before allocating 10 GB', () => {
    const a = gf.zeros([5e4, 0]);
    const b = gf.zeros([0, 5e4]);
    expect(() => gf.matmul(a, b)).toThrow(gf.ShapeError);
    expect(() => gf.matmul(a, b)).toThrow(/^matmul: a result of \[50000, 50000\] float32 \(2500000000 elements\) needs 10000000000 bytes \(9\.3 GiB\), above the per-tensor limit/);
    // and a small one is an ordinary zero matrix
    const y = gf.matmul(gf.zeros([3, 0]), gf.zeros([0, 4]));
    expect(y.shape).toEqual([3, 4]);
    expect(Array.from(y.data)).toEqual(new Array(12).fill(0));
  });

  test('a broadcast, a pad, a concat, a gather and an upsampling name themselves', () => {
    const [r, c] = [gf.zeros([1, 300]), gf.zeros([300, 1])];
    const row = gf.zeros([1, 200]);
    const images = gf.zeros([1, 4, 4, 4]);
    gf.setMaxTensorBytes(1024);
    expect(() => gf.add(r, c)).toThrow(/^add: a result of \[300, 300\] float32 \(90000 elements\) needs 360000 bytes \(352 KiB\), above the per-tensor limit of 1024 bytes \(1\.0 KiB\)/);
    expect(() => gf.pad(gf.zeros([2, 2]), [[0, 300], [0, 0]])).toThrow(/^pad: a result of \[302, 2\]/);
    expect(() => gf.concat([row, row], 0)).toThrow(/^concat: a result of \[2, 200\]/);
    expect(() => gf.gather(row, [0, 0])).toThrow(/^gather: a result of \[2, 200\]/);
    expect(() => gf.upSampling2d(images, { size: 4 })).toThrow(/^upSampling2d: a result of \[1, 16, 16, 4\]/);
  });

  test('a 27000 x 19800 float32 weight (2.1 GB) is allowed', () => {
    const w = gf.zeros([27000, 19800]);
    expect(w.size).toBe(534600000);
    expect(w.data.byteLength).toBe(2138400000);
  });
});

describe('gf.setMaxTensorBytes', () => {
  test('returns the previous limit; results at the limit pass, one element more is refused', () => {
    expect(gf.setMaxTensorBytes(1024)).toBe(4 * GiB);
    expect(gf.getMaxTensorBytes()).toBe(1024);
    expect(gf.zeros([256]).size).toBe(256);
    expect(() => gf.zeros([257])).toThrow(/\[257\] float32 \(257 elements\) needs 1028 bytes \(1\.0 KiB\), above the per-tensor limit of 1024 bytes \(1\.0 KiB\)/);
    expect(gf.zeros([128], { dtype: 'float64' }).size).toBe(128);
    expect(() => gf.zeros([129], { dtype: 'float64' })).toThrow(gf.ShapeError);
    expect(() => gf.matmul(gf.ones([16, 8]), gf.ones([8, 17]))).toThrow(/^matmul: a result of \[16, 17\]/);
    expect(gf.setMaxTensorBytes(Infinity)).toBe(1024);
    expect(gf.setMaxTensorBytes(4 * GiB)).toBe(Infinity);
  });

  test.each([0, -1, 1.5, NaN, -Infinity, '8GiB', 2 ** 60])('rejects %p with a ValueError', (v) => {
    expect(() => gf.setMaxTensorBytes(v as number)).toThrow(gf.ValueError);
    expect(() => gf.setMaxTensorBytes(v as number)).toThrow(/setMaxTensorBytes: the limit must be a positive integer number of bytes or Infinity/);
    expect(gf.getMaxTensorBytes()).toBe(4 * GiB);
  });

  test('V8\'s own RangeError (beyond 2^32 elements) becomes the same typed ShapeError', () => {
    gf.setMaxTensorBytes(Infinity);
    expect(() => gf.zeros([2 ** 32 + 1])).toThrow(gf.ShapeError);
    expect(() => gf.zeros([2 ** 32 + 1])).toThrow(/^zeros: a result of \[4294967297\] float32 .* could not allocate \(Invalid typed array length: 4294967297\): Node .* allows at most 2\^32 elements per typed array/);
    expect(() => gf.ones([1e5, 1e5])).toThrow(gf.ShapeError);
  });

  test('normal-sized ops and training are unaffected', async () => {
    const a = gf.tensor([[1, 2], [3, 4]]);
    expect(a.matmul(a).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(gf.zeros([0]).size).toBe(0);
    expect(a.argmax(-1).toArray()).toEqual([1, 1]);
    gf.setSeed(1);
    const m = gf.sequential([gf.layers.dense({ units: 2, activation: 'softmax', inputShape: [3] })]);
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    const h = await m.fit(gf.randn([16, 3], { seed: 1 }), gf.toCategorical([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 2), { epochs: 1, verbose: 0 });
    expect(Number.isFinite(h.history.loss[0])).toBe(true);
  });
});

describe('GRADFORGE_MAX_TENSOR_BYTES', () => {
  test.each([
    ['8589934592', 8 * GiB], ['8GiB', 8 * GiB], ['8g', 8 * GiB], ['8G', 8 * GiB], ['512MiB', 512 * 2 ** 20],
    ['8GB', 8e9], ['1.5GiB', 1.5 * GiB], [' 16GiB ', 16 * GiB], ['8e9', 8e9], ['64 KiB', 65536], ['Infinity', Infinity], ['1', 1],
  ])('parses %p as %p', (text, bytes) => {
    expect(parseMaxTensorBytes(text)).toBe(bytes);
  });

  test.each(['abc', '-1', '0', '1.5', '8 parsecs', '0x10', '', 'GiB', '8GiB!', '1e30'])('rejects %p, naming the variable and the forms it takes', (text) => {
    expect(() => parseMaxTensorBytes(text)).toThrow(gf.ValueError);
    expect(() => parseMaxTensorBytes(text)).toThrow(`GRADFORGE_MAX_TENSOR_BYTES='${text}' is not a byte count: use a positive integer of bytes ('8589934592'), a size with a unit ('8GiB', '512MiB', '8GB') or 'Infinity'`);
  });

  function loadWith(value: string | undefined): { limit?: number; error?: Error } {
    const old = process.env.GRADFORGE_MAX_TENSOR_BYTES;
    if (value === undefined) delete process.env.GRADFORGE_MAX_TENSOR_BYTES;
    else process.env.GRADFORGE_MAX_TENSOR_BYTES = value;
    try {
      let out: { limit?: number; error?: Error } = {};
      jest.isolateModules(() => {
        try {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const fresh = require('../lib/memory') as typeof import('../lib/memory');
          out = { limit: fresh.getMaxTensorBytes() };
        } catch (e) {
          out = { error: e as Error };
        }
      });
      return out;
    } finally {
      if (old === undefined) delete process.env.GRADFORGE_MAX_TENSOR_BYTES;
      else process.env.GRADFORGE_MAX_TENSOR_BYTES = old;
    }
  }

  test('sets the limit when the library loads; unset or empty means the default', () => {
    expect(loadWith('1KiB').limit).toBe(1024);
    expect(loadWith('16GiB').limit).toBe(16 * GiB);
    expect(loadWith(undefined).limit).toBe(4 * GiB);
    expect(loadWith('').limit).toBe(4 * GiB);
  });

  test('a bad value stops the load with a clear ValueError', () => {
    const { error } = loadWith('lots');
    expect(error?.name).toBe('ValueError');
    expect(error?.message).toMatch(/^GRADFORGE_MAX_TENSOR_BYTES='lots' is not a byte count/);
  });
});
