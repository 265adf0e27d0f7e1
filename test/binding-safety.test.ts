// The native boundary against a hostile caller (issue 10, part 4): each case below crashed,
// hung, wrote out of bounds or silently computed garbage before the binding learnt to
// (a) re-check every array after reading values that can run user code (shape getters,
// geometry getters), (b) refuse outputs that overlap inputs or each other, except exact
// in-place aliasing where the kernel handles it, (c) return before a kernel whose work is
// empty, (d) refuse NUL characters in names, and the pool kernels to bounds-check each
// argmax index they read. The random version of all this is test/fuzz.
import * as path from 'path';
import type { Binding } from '../binding';

const root = path.join(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const b = (require('node-gyp-build') as (dir: string) => unknown)(root) as Binding;

/** The addon's errors come from Node's main realm, so match by name, not instanceof. */
function expectError(fn: () => unknown, kind: 'TypeError' | 'RangeError', fragment: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  const e = err as Error;
  expect(e.name).toBe(kind);
  expect(e.message).toMatch(fragment);
}

/** ES2024's resizable ArrayBuffer (Node 20 has it; this TypeScript's lib does not). */
const ResizableArrayBuffer = ArrayBuffer as unknown as
  new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };

/** A transfer detaches the ArrayBuffer behind `arr` (its length becomes 0). */
function detach(arr: Float32Array): void {
  const buf = arr.buffer as ArrayBuffer;
  structuredClone(buf, { transfer: [buf] });
}

/** An array whose element `k` runs `sideEffect` when the binding reads it. */
function shapeWithGetter(dims: number[], k: number, sideEffect: () => void): number[] {
  const a = dims.slice();
  Object.defineProperty(a, k, { get: () => { sideEffect(); return dims[k]; }, enumerable: true });
  return a;
}

const geometry = { N: 1, H: 4, W: 4, C: 2, KH: 2, KW: 2, OH: 2, OW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 };

describe('arrays changed by user code while the call reads its arguments', () => {
  test('binary: a shape getter that detaches an input already taken is refused', () => {
    const a = new Float32Array(1 << 16).fill(1);
    const bb = new Float32Array(1 << 16).fill(2);
    const out = new Float32Array(1 << 16);
    const bShape = shapeWithGetter([1 << 16], 0, () => detach(a));
    expectError(() => b.binary('add', a, [1 << 16], bb, bShape, out, [1 << 16]), 'RangeError',
      /binary: argument 'a' was detached or resized/);
    expect(a.length).toBe(0);  // it really was detached
  });

  test('permute: a perm getter that shrinks a resizable buffer is refused', () => {
    const buf = new ResizableArrayBuffer(4 * 64 * 64, { maxByteLength: 4 * 64 * 64 });
    const x = new Float32Array(buf);  // length-tracking
    const out = new Float32Array(64 * 64);
    const perm = shapeWithGetter([1, 0], 1, () => buf.resize(4));
    expectError(() => b.permute(x, [64, 64], perm, out), 'RangeError',
      /permute: argument 'x' was detached or resized/);
  });

  test('permute: a shape getter that detaches the input taken just before it is refused', () => {
    const x = new Float32Array(16);
    const out = new Float32Array(16);
    const shape = shapeWithGetter([4, 4], 0, () => detach(x));
    expectError(() => b.permute(x, shape, [1, 0], out), 'RangeError', /argument 'x' was detached/);
  });

  test('a getter that throws propagates its error and the call does nothing', () => {
    const a = new Float32Array([1, 2]);
    const out = new Float32Array(2);
    const bShape = shapeWithGetter([2], 0, () => { throw new Error('from the getter'); });
    expect(() => b.binary('add', a, [2], a, bShape, out, [2])).toThrow('from the getter');
    expect(Array.from(out)).toEqual([0, 0]);
  });

  test('a geometry getter that detaches nothing taken yet is harmless; the call still works', () => {
    const x = new Float32Array(32).map((_, i) => i);
    const y = new Float32Array(8);
    const am = new Int32Array(8);
    let reads = 0;
    const g = { ...geometry };
    Object.defineProperty(g, 'C', { get: () => { reads++; return 2; }, enumerable: true });
    b.maxPool2dForward(g, x, y, am);
    expect(reads).toBe(1);  // read once
    expect(Array.from(y)).toEqual([10, 11, 14, 15, 26, 27, 30, 31]);
  });

  test('arrays left alone by a getter pass the re-check (no false alarms)', () => {
    const a = new Float32Array([1, 2, 3]);
    const out = new Float32Array(3);
    const bShape = shapeWithGetter([1], 0, () => undefined);
    b.binary('mul', a, [3], new Float32Array([2]), bShape, out, [3]);
    expect(Array.from(out)).toEqual([2, 4, 6]);
  });
});

describe('index arrays are never trusted by the kernels', () => {
  test('maxPool2dBackward still checks argmax up front', () => {
    const am = new Int32Array(8).fill(0);
    am[5] = 16;  // H*W = 16: one past the image
    expectError(() => b.maxPool2dBackward(geometry, new Float32Array(8), am, new Float32Array(32)),
      'RangeError', /argmax\[5\] = 16 is not a position in \[0, 16\)/);
  });

  // The race itself (a worker rewriting a SharedArrayBuffer between the check and the kernel)
  // is provoked by test/fuzz; native/tests/test_pool.cc shows the kernels skip bad indices.
  test('argmax in a SharedArrayBuffer is accepted and gives the right gradient', () => {
    const x = new Float32Array(32).map((_, i) => (i * 7) % 11);
    const y = new Float32Array(8);
    const am = new Int32Array(new SharedArrayBuffer(8 * 4));
    b.maxPool2dForward(geometry, x, y, am);
    const dx = new Float32Array(32);
    b.maxPool2dBackward(geometry, new Float32Array(8).fill(1), am, dx);
    expect(dx.reduce((s, v) => s + v, 0)).toBe(8);
    for (let i = 0; i < 8; i++) expect(dx[am[i] * 2 + (i % 2)]).toBe(1);
  });
});

describe('empty work returns at once, whatever the other sizes', () => {
  const empty = new Float32Array(0);
  const noIdx = new Int32Array(0);
  const hugeWindow = { N: 0, H: 1, W: 4, C: 2 ** 40, KH: 2 ** 40, KW: 2, OH: 1, OW: 1, strideH: 2, strideW: 2, padTop: 1, padLeft: 1 };
  test.each([
    ['globalPool2dForward max', () => b.globalPool2dForward('max', 2 ** 53 - 1, 4, 0, empty, empty, noIdx)],
    ['globalPool2dForward avg', () => b.globalPool2dForward('avg', 2 ** 53 - 1, 4, 0, empty, empty, null)],
    ['globalPool2dBackward max', () => b.globalPool2dBackward('max', 2 ** 53 - 1, 4, 0, empty, noIdx, empty)],
    ['globalPool2dForward C huge', () => b.globalPool2dForward('avg', 0, 4, 2 ** 53 - 1, empty, empty, null)],
    ['reduce outer huge', () => b.reduce('sum', empty, 2 ** 53 - 1, 3, 0, empty)],
    ['reduce n huge', () => b.reduce('max', empty, 0, 2 ** 53 - 1, 1, empty)],
    ['argReduce', () => b.argReduce('argmax', empty, 2 ** 53 - 1, 1, 0, noIdx)],
    ['softmax', () => b.softmax(empty, 2 ** 53 - 1, 0, empty, false)],
    ['softmaxBackward', () => b.softmaxBackward(empty, empty, 0, 2 ** 53 - 1, empty, true)],
    ['binary', () => b.binary('add', empty, [2 ** 40, 0], empty, [2 ** 40, 0], empty, [2 ** 40, 0])],
    ['permute', () => b.permute(empty, [2 ** 30, 0, 2 ** 20], [2, 0, 1], empty)],
    ['batchNormTrain', () => b.batchNormTrain(2 ** 53 - 1, 0, empty, null, null, 1e-3, 0.99, empty, empty, empty, null, null)],
    ['batchNormInference', () => b.batchNormInference(2 ** 53 - 1, 0, empty, null, null, empty, empty, 1e-3, empty)],
    ['batchNormBackward', () => b.batchNormBackward(2 ** 53 - 1, 0, empty, empty, null, empty, empty, empty, null, null)],
    ['batchNormBackwardInference', () => b.batchNormBackwardInference(2 ** 53 - 1, 0, empty, empty, null, empty, empty, 1e-3, empty, null, null)],
    ['gemm', () => b.gemm(false, false, 0, 0, 2 ** 53 - 1, 1, empty, 2 ** 53 - 1, empty, 0, 0, empty, 0)],
    // a window far larger than its image overflowed the kernels' work estimate (UBSan, found
    // by the fuzzer)
    ['maxPool2dForward N=0', () => b.maxPool2dForward(hugeWindow, empty, empty, noIdx)],
    ['avgPool2dForward N=0', () => b.avgPool2dForward(hugeWindow, empty, empty)],
    ['avgPool2dBackward N=0', () => b.avgPool2dBackward(hugeWindow, empty, empty)],
    // N = 0 let W*C overflow inside the kernel (UBSan, found by the fuzzer): refused now
    ['upSampling2dForward', () => expect(() => b.upSampling2dForward('nearest', 0, 1, 2 ** 31, 2 ** 53 - 1, 3, 1, empty, empty)).toThrow(/overflows/)],
    ['upSampling2dBackward', () => b.upSampling2dBackward('nearest', 0, 2 ** 20, 1, 1, 2 ** 20, 1, empty, empty)],
  ])('%s', (_name, call) => {
    const t0 = process.hrtime.bigint();
    call();
    // A loop over 2^53 iterations would take days; "at once" is generous here.
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(1000);
  });

  test('reduce with n = 0 still writes its identity', () => {
    const out = new Float32Array(3).fill(7);
    b.reduce('sum', new Float32Array(0), 3, 0, 1, out);
    expect(Array.from(out)).toEqual([0, 0, 0]);
  });
});

describe('outputs that overlap inputs or each other', () => {
  test('permute into its own input is refused', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    expectError(() => b.permute(x, [2, 3], [1, 0], x), 'RangeError',
      /permute: argument 'out' overlaps argument 'x' in memory/);
    expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test('softmax: in place is fine, a shifted overlap is refused', () => {
    const x = new Float32Array([1, 2, 3, 1, 1, 1]);
    const want = new Float32Array(6);
    b.softmax(x, 2, 3, want, false);
    const inPlace = x.slice();
    b.softmax(inPlace, 2, 3, inPlace, false);
    expect(Array.from(inPlace)).toEqual(Array.from(want));
    const buf = new Float32Array(7);
    buf.set(x);
    expectError(() => b.softmax(buf.subarray(0, 6), 2, 3, buf.subarray(1, 7), false), 'RangeError',
      /softmax: argument 'out' overlaps argument 'x'.*partially/);
  });

  test('binary: in place into a full-size operand works, into a broadcast operand is refused', () => {
    const a = new Float32Array([1, 2, 3, 4]);
    const bias = new Float32Array([10, 20]);
    b.binary('add', a, [2, 2], bias, [2], a, [2, 2]);
    expect(Array.from(a)).toEqual([11, 22, 13, 24]);
    const big = new Float32Array(4);
    const small = big.subarray(0, 2);
    expectError(() => b.binary('add', new Float32Array(4), [2, 2], small, [2], big, [2, 2]), 'RangeError',
      /binary: argument 'out' overlaps argument 'b'/);
  });

  test('two outputs sharing one buffer are refused even with different types', () => {
    const buf = new ArrayBuffer(8 * 4);
    expectError(() => b.maxPool2dForward(geometry, new Float32Array(32), new Float32Array(buf), new Int32Array(buf)),
      'RangeError', /maxPool2dForward: argument 'argmax' overlaps argument 'y'.*outputs must not overlap/);
  });

  test('upSampling2d into a window of its input is refused', () => {
    const buf = new Float32Array(4 + 16);
    expectError(() => b.upSampling2dForward('nearest', 1, 2, 2, 1, 2, 2, buf.subarray(0, 4), buf.subarray(2, 18)),
      'RangeError', /upSampling2dForward: argument 'y' overlaps argument 'x'/);
  });

  test('gemm: C may not overlap A', () => {
    const A = new Float32Array(4).fill(1);
    expectError(() => b.gemm(false, false, 2, 2, 2, 1, A, 2, new Float32Array(4), 2, 0, A, 2), 'RangeError',
      /gemm: argument 'C' overlaps argument 'A'/);
  });

  test('optimizer state arrays must be distinct; the gradient may be anything apart', () => {
    const p = new Float32Array(4).fill(1);
    const g = new Float32Array(4).fill(0.5);
    expectError(() => b.adamStep(p, g, p, new Float32Array(4), 0.1, 0.9, 0.999, 1e-7, 1), 'RangeError',
      /adamStep: argument 'm' overlaps argument 'p'.*outputs must not overlap/);
    b.adamStep(p, g, new Float32Array(4), new Float32Array(4), 0.1, 0.9, 0.999, 1e-7, 1);
    expect(p[0]).toBeCloseTo(0.9, 5);
  });

  test('sgdStep with nesterov: the gradient may be the velocity array itself (read first)', () => {
    const p1 = new Float32Array([0]), gv = new Float32Array([1]);
    b.sgdStep(p1, gv, gv, 0.1, 0.9, true);
    const p2 = new Float32Array([0]);
    b.sgdStep(p2, new Float32Array([1]), new Float32Array([1]), 0.1, 0.9, true);
    expect(p1[0]).toBe(p2[0]);  // 0.62, not 0.64
  });

  test('conv2dBackwardFilter with N = 0 still zeroes dw and dbias (no early return there)', () => {
    const g = { N: 0, H: 3, W: 3, C: 2, KH: 2, KW: 2, O: 3, OH: 2, OW: 2, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
    const dw = new Float32Array(24).fill(7), dbias = new Float32Array(3).fill(7);
    b.conv2dBackwardFilter(g, new Float32Array(0), new Float32Array(0), dw, dbias);
    expect(Array.from(dw).every((v) => v === 0) && Array.from(dbias).every((v) => v === 0)).toBe(true);
  });

  test('conv geometry whose index arithmetic would overflow is refused', () => {
    const D = 2 ** 53 - 1;
    expectError(() => b.conv2dForward({ N: 1, H: 1, W: 1, C: 1, KH: 1024, KW: 1, O: 1, OH: 1025, OW: 1, strideH: D, strideW: 1,
      dilationH: D, dilationW: 1, padTop: 0, padLeft: 0 }, new Float32Array([2]), new Float32Array(1024), null, new Float32Array(1025)),
    'RangeError', /above 2\^60/);
  });

  test('batchNormTrain: mean and invStd in one array are refused', () => {
    const stats = new Float32Array(2);
    expectError(() => b.batchNormTrain(2, 2, new Float32Array(4), null, null, 1e-3, 0.99, new Float32Array(4), stats, stats, null, null),
      'RangeError', /argument 'invStd' overlaps argument 'mean'/);
  });
});

describe('names with an embedded NUL', () => {
  test.each([
    ['unary', () => b.unary('relu\0junk' as 'relu', new Float32Array(1), new Float32Array(1), 0, 0)],
    ['binary', () => b.binary('add\0' as 'add', new Float32Array(1), [1], new Float32Array(1), [1], new Float32Array(1), [1])],
    ['reduce', () => b.reduce('sum\0x' as 'sum', new Float32Array(1), 1, 1, 1, new Float32Array(1))],
    ['globalPool2dForward', () => b.globalPool2dForward('avg\0' as 'avg', 1, 1, 1, new Float32Array(1), new Float32Array(1), null)],
    ['upSampling2dForward', () => b.upSampling2dForward('nearest\0' as 'nearest', 1, 1, 1, 1, 1, 1, new Float32Array(1), new Float32Array(1))],
    ['setGemmKernel', () => b.setGemmKernel('auto\0avx2')],
  ])('%s refuses it', (name, call) => {
    expectError(call, 'RangeError', new RegExp(`^${name}: argument '\\w+' must not contain a NUL character`));
  });
});

describe('recurrent exports against a hostile caller', () => {
  type Cfg = Parameters<Binding['rnnForward']>[0];
  const cfg: Cfg = {
    cell: 'lstm', N: 2, T: 3, In: 2, U: 2, activation: 'tanh', recurrentActivation: 'sigmoid',
    resetAfter: true, goBackwards: false, zeroOutputForMask: false,
  };
  const lit = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const raw = b as unknown as Record<string, (...args: unknown[]) => unknown>;
  const arrays = () => ({
    x: new Float32Array(12).fill(0.5), W: new Float32Array(16).fill(0.1), R: new Float32Array(16).fill(0.1),
    y: new Float32Array(12), ws: new Float32Array(b.rnnWorkspaceSize(cfg)),
  });

  test('a cfg getter that detaches x (or y) is refused, and nothing is written after the detach', () => {
    for (const victim of ['x', 'y'] as const) {
      const a = arrays();
      let clone: ArrayBuffer | null = null;
      const hostile = { ...cfg };
      Object.defineProperty(hostile, 'U', {
        get: () => { const buf = a[victim].buffer as ArrayBuffer; clone = structuredClone(buf, { transfer: [buf] }); return 2; },
      });
      expectError(() => b.rnnForward(hostile, a.x, a.W, a.R, null, null, null, null, a.y, null, null, a.ws), 'RangeError',
        new RegExp(`^rnnForward: ${victim} has 0 elements`));
      const before = victim === 'x' ? 0.5 : 0;
      expect(new Float32Array(clone!).every((v) => v === before)).toBe(true);
    }
    // a Proxy config whose getter throws: the error passes through, nothing runs
    const a = arrays();
    const proxy = new Proxy({ ...cfg }, { get: (t, k) => { if (k === 'T') throw new Error('boom'); return Reflect.get(t, k); } });
    expect(() => b.rnnForward(proxy, a.x, a.W, a.R, null, null, null, null, a.y, null, null, a.ws)).toThrow('boom');
  });

  test('outputs may not overlap each other or an input: y inside the workspace, the workspace on x, dW on dR', () => {
    const a = arrays();
    const big = new Float32Array(a.ws.length + 12);
    expectError(() => b.rnnForward(cfg, a.x, a.W, a.R, null, null, null, null, big.subarray(0, 12), null, null, big.subarray(6)),
      'RangeError', lit("argument 'workspace' overlaps argument 'y'"));
    const ws2 = new Float32Array(a.ws.length + 12);
    const x2 = ws2.subarray(a.ws.length);
    expectError(() => b.rnnForward(cfg, x2, a.W, a.R, null, null, null, null, a.y, null, null, ws2),
      'RangeError', lit("argument 'workspace' overlaps argument 'x'"));
    const mask = new Uint8Array(a.y.buffer, 0, 6); // a mask on y's bytes
    expectError(() => b.rnnForward(cfg, a.x, a.W, a.R, null, null, null, mask, a.y, null, null, a.ws),
      'RangeError', lit("argument 'y' overlaps argument 'mask'"));
    const dWR = new Float32Array(31);
    expectError(() => b.rnnBackward(cfg, a.x, a.W, a.R, null, null, null, null, a.ws, null, null, null,
      dWR.subarray(0, 16), dWR.subarray(15), null), 'RangeError', lit("argument 'dR' overlaps argument 'dW'"));
    expectError(() => b.rnnBackward(cfg, a.x, a.W, a.R, null, a.y, null, null, a.ws, a.y, null, null,
      new Float32Array(16), new Float32Array(16), null), 'RangeError', lit("argument 'dx' overlaps argument 'dy'"));
  });

  test('a short workspace, c0 for a GRU, NUL in names and huge-times-zero sizes are refused', () => {
    const a = arrays();
    expectError(() => b.rnnForward(cfg, a.x, a.W, a.R, null, null, null, null, a.y, null, null, a.ws.subarray(1)),
      'RangeError', lit(`workspace has ${a.ws.length - 1} elements but rnnWorkspaceSize for lstm N=2, T=3, In=2, U=2 needs ${a.ws.length}`));
    expectError(() => b.rnnBackward(cfg, a.x, a.W, a.R, null, null, null, null, a.ws.subarray(1), null, null, null,
      new Float32Array(16), new Float32Array(16), null), 'RangeError', lit('workspace has'));
    const gru: Cfg = { ...cfg, cell: 'gru' };
    const gws = new Float32Array(b.rnnWorkspaceSize(gru));
    expectError(() => b.rnnForward(gru, a.x, new Float32Array(12), new Float32Array(12), null, null, new Float32Array(4), null, a.y, null, null, gws),
      'TypeError', lit("argument 'c0' must be null for a gru (only an LSTM has a cell state)"));
    expectError(() => b.rnnBackward(gru, a.x, new Float32Array(12), new Float32Array(12), null, null, null, null, gws, null, null,
      new Float32Array(4), new Float32Array(12), new Float32Array(12), null), 'TypeError', lit("argument 'dc0' must be null for a gru"));
    expectError(() => raw.rnnWorkspaceSize({ ...cfg, cell: 'lstm\0junk' }), 'RangeError', lit('cfg.cell must not contain a NUL character'));
    expectError(() => raw.rnnWorkspaceSize({ ...cfg, activation: 'tanh\0' }), 'RangeError', lit('cfg.activation must not contain a NUL'));
    // huge times zero: a product of the non-zero sizes that overflows is refused even with N = 0
    expectError(() => b.rnnWorkspaceSize({ ...cfg, N: 0, T: 2 ** 53 - 1, U: 2 ** 20 }), 'RangeError', lit('overflows'));
    expectError(() => b.rnnForward({ ...cfg, N: 0, T: 2 ** 40, In: 2 ** 40 }, a.x, a.W, a.R, null, null, null, null, a.y, null, null, a.ws),
      'RangeError', lit('N*T*In'));
    // ... and one that fits but has no work returns at once (U = 0, T = 2^40: no 2^40-step loop)
    const t0 = Date.now();
    const u0: Cfg = { ...cfg, N: 1, T: 2 ** 40, In: 0, U: 0 };
    const e = new Float32Array(0);
    b.rnnForward(u0, e, e, e, null, null, null, null, e, null, null, e);
    b.rnnBackward(u0, e, e, e, null, null, null, null, e, e, null, null, e, e, null);
    b.rnnForward({ ...u0, N: 0, U: 1 }, e, e, new Float32Array(4), null, null, null, null, e, null, null, e);
    b.rnnBackward({ ...u0, N: 0, U: 1 }, e, e, new Float32Array(4), null, null, null, null, e, null, null, null, e, new Float32Array(4), null);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('a workspace of NaN, Inf and huge values in backward gives numbers, never a crash', () => {
    const a = arrays();
    for (const cell of ['simpleRNN', 'lstm', 'gru'] as const) {
      for (const resetAfter of [false, true]) {
        const c: Cfg = { ...cfg, cell, resetAfter };
        const GU = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * 2;
        const ws = new Float32Array(b.rnnWorkspaceSize(c)).map((_, i) => [NaN, Infinity, -3e38, 1e30, -0][i % 5]);
        const dW = new Float32Array(2 * GU), dR = new Float32Array(2 * GU);
        b.rnnBackward(c, a.x, new Float32Array(2 * GU), new Float32Array(2 * GU), new Uint8Array([1, 0, 1, 1, 0, 1]), a.y, null, null, ws,
          new Float32Array(12), new Float32Array(4), null, dW, dR, new Float32Array(resetAfter && cell === 'gru' ? 2 * GU : GU));
      }
    }
  });
});
