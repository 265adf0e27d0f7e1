// The native boundary: (a) the addon exports exactly the methods of `Binding` in binding.d.ts
// (read with the TypeScript compiler API, so either side changing alone fails here); (b) each
// export computes a small, hand-checked result; (c) bad input throws a TypeError/RangeError that
// names the function and the problem, and the process carries on.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import type { Binding } from '../binding';

const root = path.join(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
const addon = nodeGypBuild(root) as Record<string, unknown>;
const b = addon as unknown as Binding;

/** Names of the members of `interface Binding` in binding.d.ts. */
function bindingInterfaceMembers(): string[] {
  const file = path.join(root, 'binding.d.ts');
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const names: string[] = [];
  let found = false;
  src.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === 'Binding') {
      found = true;
      for (const m of node.members) {
        // an optional member (cuda?) is present only in some builds; its test is below
        if (m.questionToken) continue;
        if (m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name))) names.push(m.name.text);
      }
    }
  });
  if (!found) throw new Error('binding.d.ts has no interface Binding');
  return names.sort();
}

/**
 * Asserts that fn throws an error of the given kind (and message fragment). The addon's errors
 * are created in Node's main realm, not in jest's sandbox, so `toThrow(TypeError)` and
 * `instanceof` cannot tell them apart; the error's name can.
 */
function expectError(fn: () => unknown, kind: 'TypeError' | 'RangeError', fragment?: string | RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new Error(`expected a ${kind}, but nothing was thrown`);
  const e = error as Error;
  expect(e.name).toBe(kind);
  if (typeof fragment === 'string') expect(e.message).toContain(fragment);
  else if (fragment) expect(e.message).toMatch(fragment);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      throw new Error(`element ${i}: got ${a}, expected ${e}`);
    }
  }
}

describe('exports', () => {
  test('the addon exports exactly the methods of Binding in binding.d.ts', () => {
    const declared = bindingInterfaceMembers();
    expect(declared.length).toBeGreaterThan(10);
    const cudaBuild = b.backendInfo().cuda.compiled;
    expect(Object.keys(addon).filter((k) => k !== 'cuda').sort()).toEqual(declared);
    for (const name of declared) expect(typeof addon[name]).toBe('function');
    // exports.cuda exactly when the build has CUDA (binding.d.ts: cuda?: CudaBinding)
    expect('cuda' in addon).toBe(cudaBuild);
  });
});

describe('smoke: each function computes a small known result', () => {
  test('backendInfo, setNumThreads, setGemmKernel', () => {
    const info = b.backendInfo();
    expect(info.numThreads).toBeGreaterThanOrEqual(1);
    expect(info.availableGemmKernels).toContain('ref');
    expect(info.availableGemmKernels).toContain(info.gemmKernel);
    expect(Array.isArray(info.cpuFeatures)).toBe(true);
    // the CPU build: no CUDA kernels, no devices, and why
    expect(info.cuda).toEqual({ compiled: false, available: false, devices: 0, reason: expect.stringMatching(/GRADFORGE_CUDA=ON/) });
    expect(typeof info.build).toBe('string');

    const before = info.numThreads;
    b.setNumThreads(1);
    expect(b.backendInfo().numThreads).toBe(1);
    b.setNumThreads(before);
    expect(b.backendInfo().numThreads).toBe(before);

    b.setGemmKernel('ref');
    expect(b.backendInfo().gemmKernel).toBe('ref');
    b.setGemmKernel('auto');
    expect(b.backendInfo().gemmKernel).toBe(info.availableGemmKernels[0]);
  });

  test('gemm: every kernel, both float types, transposes, alpha/beta, beta=0 over NaN', () => {
    // A (2x3) = [1 2 3; 4 5 6], B (3x2) = [7 8; 9 10; 11 12]  ->  AB = [58 64; 139 154]
    for (const kernel of b.backendInfo().availableGemmKernels) {
      b.setGemmKernel(kernel);
      for (const F of [Float32Array, Float64Array]) {
        const A = new F([1, 2, 3, 4, 5, 6]);
        const B = new F([7, 8, 9, 10, 11, 12]);
        const C = new F([NaN, NaN, NaN, NaN]);
        b.gemm(false, false, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2);
        expectClose(C, [58, 64, 139, 154]);
        // Transposed storage of the same matrices: At (3x2), Bt (2x3).
        const At = new F([1, 4, 2, 5, 3, 6]);
        const Bt = new F([7, 9, 11, 8, 10, 12]);
        const C2 = new F([1, 1, 1, 1]);
        b.gemm(true, true, 2, 2, 3, 2, At, 2, Bt, 3, -1, C2, 2);
        expectClose(C2, [115, 127, 277, 307]);
        // Leading dimension larger than the row: only the first 3 of every 4 are used.
        const Apad = new F([1, 2, 3, 99, 4, 5, 6, 99]);
        const C3 = new F(4);
        b.gemm(false, false, 2, 2, 3, 1, Apad, 4, B, 2, 0, C3, 2);
        expectClose(C3, [58, 64, 139, 154]);
      }
    }
    b.setGemmKernel('auto');
  });

  test('fmaPeak: a positive GFLOP/s for the baseline and for every SIMD kernel this CPU runs', () => {
    expect(b.fmaPeak('sse2', 1, 0.01)).toBeGreaterThan(0);
    for (const kernel of b.backendInfo().availableGemmKernels) {
      if (kernel === 'ref') continue;
      expect(b.fmaPeak(kernel, 1, 0.01)).toBeGreaterThan(0);
    }
  });

  test('unary and unaryBackward', () => {
    const x = new Float32Array([-2, -0.5, 0, 1.5]);
    const out = new Float32Array(4);
    b.unary('relu', x, out, 0, 0);
    expectClose(out, [0, 0, 0, 1.5]);
    b.unary('leakyRelu', x, out, 0.1, 0);
    expectClose(out, [-0.2, -0.05, 0, 1.5]);
    b.unary('clip', x, out, -1, 1);
    expectClose(out, [-1, -0.5, 0, 1]);
    b.unary('scale', x, out, 2, 1);
    expectClose(out, [-3, 0, 1, 4]);
    const big = new Float64Array([-1000, 0, 1000]);
    const y = new Float64Array(3);
    b.unary('sigmoid', big, y, 0, 0);
    expectClose(y, [0, 0.5, 1]);
    b.unary('softplus', big, y, 0, 0);
    expectClose(y, [0, Math.log(2), 1000]);
    b.unary('selu', new Float64Array([-1]), y.subarray(0, 1), 0, 0);
    expect(y[0]).toBeCloseTo(1.0507009873554805 * 1.6732632423543772 * (Math.exp(-1) - 1), 12);

    // d/dx x^2 = 2x; tanh' = 1 - y^2
    const dx = new Float64Array(3);
    const xs = new Float64Array([-1, 0.5, 2]);
    const ys = new Float64Array(3);
    b.unary('square', xs, ys, 0, 0);
    b.unaryBackward('square', xs, ys, new Float64Array([1, 1, 3]), dx, 0, 0);
    expectClose(dx, [-2, 1, 12]);
    b.unary('tanh', xs, ys, 0, 0);
    b.unaryBackward('tanh', xs, ys, new Float64Array([1, 1, 1]), dx, 0, 0);
    expectClose(dx, Array.from(xs, (v) => 1 - Math.tanh(v) ** 2));
    // in place
    const inplace = new Float32Array([1, 4, 9]);
    b.unary('sqrt', inplace, inplace, 0, 0);
    expectClose(inplace, [1, 2, 3]);
  });

  test('binary with broadcasting', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]); // [2, 3]
    const out = new Float32Array(6);
    b.binary('add', a, [2, 3], new Float32Array([10, 20, 30]), [3], out, [2, 3]);
    expectClose(out, [11, 22, 33, 14, 25, 36]);
    b.binary('mul', a, [2, 3], new Float32Array([2, -1]), [2, 1], out, [2, 3]);
    expectClose(out, [2, 4, 6, -4, -5, -6]);
    b.binary('greater', a, [2, 3], new Float32Array([3]), [], out, [2, 3]);
    expectClose(out, [0, 0, 0, 1, 1, 1]);
    const outer = new Float64Array(6);
    b.binary('sub', new Float64Array([1, 2]), [2, 1], new Float64Array([10, 20, 30]), [1, 3], outer, [2, 3]);
    expectClose(outer, [-9, -19, -29, -8, -18, -28]);
  });

  test('reduce and argReduce', () => {
    // x viewed as (outer=2, n=3, inner=2)
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const out = new Float32Array(4);
    b.reduce('sum', x, 2, 3, 2, out);
    expectClose(out, [9, 12, 27, 30]);
    b.reduce('mean', x, 2, 3, 2, out);
    expectClose(out, [3, 4, 9, 10]);
    b.reduce('max', x, 2, 3, 2, out);
    expectClose(out, [5, 6, 11, 12]);
    b.reduce('min', x, 1, 0, 2, out.subarray(0, 2));
    expect(Array.from(out.subarray(0, 2))).toEqual([Infinity, Infinity]);
    const idx = new Int32Array(2);
    b.argReduce('argmax', new Float64Array([3, 9, 9, 1, 0, 2]), 2, 3, 1, idx);
    expect(Array.from(idx)).toEqual([1, 2]);
    b.argReduce('argmin', new Float64Array([3, 9, 9, 1, 0, 2]), 2, 3, 1, idx);
    expect(Array.from(idx)).toEqual([0, 1]);
  });

  test('copyBox (with and without fill), gatherRows, scatterAddRows', () => {
    // a 2x3 box of a 3x4 source into a 4x5 destination at (1, 2)
    const src = Float32Array.from({ length: 12 }, (_, i) => i);
    const dst = new Float32Array(20).fill(-1);
    b.copyBox(src, [3, 4], [1, 1], dst, [4, 5], [1, 2], [2, 3]);
    expect(Array.from(dst)).toEqual([-1, -1, -1, -1, -1, -1, -1, 5, 6, 7, -1, -1, 9, 10, 11, -1, -1, -1, -1, -1]);
    const padded = new Int32Array(8).fill(99);
    b.copyBox(Int32Array.from([1, 2]), [2], [0], padded, [8], [3], [2], 7);
    expect(Array.from(padded)).toEqual([7, 7, 7, 1, 2, 7, 7, 7]);
    expectError(() => b.copyBox(src, [3, 4], [2, 0], dst, [4, 5], [0, 0], [2, 4]), 'RangeError', 'is outside srcShape [3, 4]');
    expectError(() => b.copyBox(Int32Array.from([1]), [1], [0], new Int32Array(2), [2], [0], [1], 0.5), 'RangeError', "'fill' must be an int32 value");
    expectError(() => b.copyBox(src, [3, 4], [0, 0], new Float64Array(12), [3, 4], [0, 0], [3, 4]), 'TypeError', "'dst' is a Float64Array but 'src' is a Float32Array");

    const table = Float64Array.from({ length: 8 }, (_, i) => i * 10);  // 4 rows of 2
    const rows = new Float64Array(6);
    b.gatherRows(table, 4, 2, Int32Array.from([3, 0, 3]), rows);
    expect(Array.from(rows)).toEqual([60, 70, 0, 10, 60, 70]);
    expectError(() => b.gatherRows(table, 4, 2, Int32Array.from([0, 4]), rows), 'RangeError', 'ids[1] = 4 is outside [0, 4)');
    const grad = new Float64Array(8).fill(0.5);
    b.scatterAddRows(Float64Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([3, 0, 3]), 4, 2, grad);
    expect(Array.from(grad)).toEqual([3.5, 4.5, 0.5, 0.5, 0.5, 0.5, 6.5, 8.5]);
    expectError(() => b.scatterAddRows(new Float64Array(2), Int32Array.from([-1]), 4, 2, grad), 'RangeError', 'ids[0] = -1');
  });

  test('softmax and softmaxBackward', () => {
    const x = new Float64Array([1, 2, 3, 1000, 1000, 1000]);
    const y = new Float64Array(6);
    b.softmax(x, 2, 3, y, false);
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0] + e[1] + e[2];
    expectClose(y, [e[0] / s, e[1] / s, e[2] / s, 1 / 3, 1 / 3, 1 / 3]);
    const ly = new Float64Array(6);
    b.softmax(x, 2, 3, ly, true);
    expectClose(ly, Array.from(y, Math.log));
    const dy = new Float64Array([1, 0, 0, 0, 1, 0]);
    const dx = new Float64Array(6);
    b.softmaxBackward(y, dy, 2, 3, dx, false);
    // dx = y * (dy - sum(dy*y))
    const expected = Array.from(y, (yv, i) => {
      const r = Math.floor(i / 3);
      const dot = dy[r * 3] * y[r * 3] + dy[r * 3 + 1] * y[r * 3 + 1] + dy[r * 3 + 2] * y[r * 3 + 2];
      return yv * (dy[i] - dot);
    });
    expectClose(dx, expected);
    b.softmaxBackward(ly, dy, 2, 3, dx, true);
    // dx = dy - exp(y) * sum(dy) ; sum(dy) = 1 per row
    expectClose(dx, Array.from(ly, (v, i) => dy[i] - Math.exp(v)));
  });

  test('permute for float32, float64 and int32', () => {
    const x = new Int32Array([1, 2, 3, 4, 5, 6]); // [2, 3]
    const out = new Int32Array(6);
    b.permute(x, [2, 3], [1, 0], out);
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
    const f = new Float32Array(24).map((_, i) => i); // [2, 3, 4]
    const fo = new Float32Array(24);
    b.permute(f, [2, 3, 4], [2, 0, 1], fo); // out shape [4, 2, 3]
    // out[k, i, j] = f[i, j, k]
    expect(fo[0 * 6 + 1 * 3 + 2]).toBe(f[1 * 12 + 2 * 4 + 0]);
    expect(fo[3 * 6 + 0 * 3 + 1]).toBe(f[0 * 12 + 1 * 4 + 3]);
    const d = new Float64Array([1, 2, 3, 4]);
    const dout = new Float64Array(4);
    b.permute(d, [2, 2], [1, 0], dout);
    expect(Array.from(dout)).toEqual([1, 3, 2, 4]);
  });

  test('optimizer steps match the documented formulas', () => {
    const p = new Float32Array([1]);
    b.sgdStep(p, new Float32Array([0.5]), new Float32Array(0), 0.1, 0, false);
    expectClose(p, [0.95]);
    const p2 = new Float64Array([1]);
    const v = new Float64Array([0.2]);
    b.sgdStep(p2, new Float64Array([0.5]), v, 0.1, 0.9, true);
    expectClose(v, [0.13]);
    expectClose(p2, [1 + 0.9 * 0.13 - 0.05]);

    const pa = new Float64Array([1]);
    const m = new Float64Array([0]);
    const va = new Float64Array([0]);
    b.adamStep(pa, new Float64Array([0.5]), m, va, 0.1, 0.9, 0.999, 1e-7, 1);
    const lrT = (0.1 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    expectClose(m, [0.05]);
    expectClose(va, [0.00025]);
    expectClose(pa, [1 - (lrT * 0.05) / (Math.sqrt(0.00025) + 1e-7)]);

    const pr = new Float64Array([1]);
    const ms = new Float64Array([0]);
    b.rmspropStep(pr, new Float64Array([0.5]), ms, 0.1, 0.9, 1e-7);
    expectClose(ms, [0.025]);
    expectClose(pr, [1 - 0.05 / Math.sqrt(0.025 + 1e-7)]);

    const pg = new Float64Array([1]);
    const acc = new Float64Array([0.1]);
    b.adagradStep(pg, new Float64Array([0.5]), acc, 0.1, 1e-7);
    expectClose(acc, [0.35]);
    expectClose(pg, [1 - 0.05 / Math.sqrt(0.35 + 1e-7)]);
  });
});

describe('bad input throws and never crashes', () => {
  const f32 = (n: number) => new Float32Array(n);
  const f64 = (n: number) => new Float64Array(n);
  // Calls with deliberately wrong argument types go through an untyped view of the addon.
  const raw = addon as Record<string, (...args: unknown[]) => unknown>;

  test('fmaPeak argument checks', () => {
    expect(() => raw.fmaPeak('avx2', 1)).toThrow('fmaPeak: expects 3 arguments, got 2');
    expect(() => b.fmaPeak('neon', 1, 0.01)).toThrow("fmaPeak: isa must be 'avx512', 'avx2' or 'sse2', got 'neon'");
    expectError(() => b.fmaPeak('sse2', 0, 0.01), 'RangeError', 'threads must be in [1, 256]');
    expectError(() => b.fmaPeak('sse2', 1, 11), 'RangeError', 'seconds must be in (0, 10]');
    expectError(() => raw.fmaPeak(1, 1, 0.01), 'TypeError');
  });

  test('gemm argument checks', () => {
    expect(() => b.gemm(false, false, 10, 10, 20, 1, f32(100), 20, f32(200), 10, 0, f32(100), 10))
      .toThrow('gemm: A has 100 elements but M=10, K=20, lda=20 needs 200');
    expectError(() => b.gemm(false, false, 10, 10, 20, 1, f32(200), 20, f32(199), 10, 0, f32(100), 10), 'RangeError');
    expect(() => b.gemm(false, false, 10, 10, 20, 1, f32(200), 20, f32(200), 10, 0, f32(99), 10))
      .toThrow('gemm: C has 99 elements but M=10, N=10, ldc=10 needs 100');
    expect(() => b.gemm(true, false, 10, 10, 20, 1, f32(200), 20, f32(200), 10, 0, f32(100), 10))
      .toThrow('transA=true, M=10, K=20, lda=20 needs 390');
    expect(() => b.gemm(false, false, 10, 10, 20, 1, f32(200), 5, f32(200), 10, 0, f32(100), 10))
      .toThrow('gemm: lda=5 is less than the 20 columns of A');
    expect(() => b.gemm(false, false, 2, 2, 2, 1, f32(4), 2, f64(4), 2, 0, f32(4), 2))
      .toThrow("gemm: argument 'B' is a Float64Array but A is a Float32Array");
    expect(() => b.gemm(false, false, -1, 2, 2, 1, f32(4), 2, f32(4), 2, 0, f32(4), 2))
      .toThrow("gemm: argument 'M' must be a non-negative integer, got number -1");
    expect(() => b.gemm(false, false, NaN, 2, 2, 1, f32(4), 2, f32(4), 2, 0, f32(4), 2))
      .toThrow("argument 'M' must be a non-negative integer, got NaN");
    expect(() => b.gemm(false, false, 2.5, 2, 2, 1, f32(4), 2, f32(4), 2, 0, f32(4), 2))
      .toThrow("argument 'M' must be a non-negative integer, got number 2.5");
    expect(() => raw.gemm(false, false, 2, 2, 2, 1, [1, 2, 3, 4], 2, f32(4), 2, 0, f32(4), 2))
      .toThrow("gemm: argument 'A' must be a Float32Array or Float64Array, got Array(4)");
    expectError(() => raw.gemm(false, false, 2, 2, 2, 1, new Int32Array(4), 2, f32(4), 2, 0, f32(4), 2), 'TypeError');
    expect(() => raw.gemm(0, false, 2, 2, 2, 1, f32(4), 2, f32(4), 2, 0, f32(4), 2))
      .toThrow("gemm: argument 'transA' must be a boolean, got number 0");
    expect(() => raw.gemm(false, false, 2, 2, 2)).toThrow('gemm: expects 13 to 15 arguments, got 5');
    // The optional epilogue: bias of length N and of A's type, activation by name.
    expect(() => b.gemm(false, false, 2, 3, 2, 1, f32(4), 2, f32(6), 3, 0, f32(6), 3, f32(2)))
      .toThrow(/bias.*3/);
    expect(() => b.gemm(false, false, 2, 3, 2, 1, f32(4), 2, f32(6), 3, 0, f32(6), 3, f64(3)))
      .toThrow("gemm: argument 'bias' is a Float64Array but A is a Float32Array");
    expect(() => b.gemm(false, false, 2, 3, 2, 1, f32(4), 2, f32(6), 3, 0, f32(6), 3, null, 'tanh' as 'relu'))
      .toThrow("gemm: activation must be 'linear' or 'relu', got 'tanh'");
    {
      const C = f32(6);
      b.gemm(false, false, 2, 3, 2, 1, new Float32Array([1, 2, 3, 4]), 2,
        new Float32Array([1, 0, -1, 0, 1, -1]), 3, 0, C, 3, new Float32Array([0.5, -10, 0]), 'relu');
      // [[1, 2, -3], [3, 4, -7]] + [0.5, -10, 0], then relu
      expect(Array.from(C)).toEqual([1.5, 0, 0, 3.5, 0, 0]);
    }
    // Sizes whose product overflows 64 bits must not wrap around into a passing length check.
    const huge = 2 ** 52;
    expectError(() => b.gemm(false, false, huge, huge, huge, 1, f32(4), huge, f32(4), huge, 0, f32(4), huge), 'RangeError');
    expect(() => b.gemm(false, false, 2, 2, 2, 1, f32(4), 2 ** 53, f32(4), 2, 0, f32(4), 2))
      .toThrow(/must be a non-negative integer|overflows|needs/);
  });

  test('elementwise argument checks', () => {
    expect(() => raw.unary('gelu', f32(3), f32(3), 0, 0)).toThrow("unary: unknown unary op 'gelu'");
    expect(() => b.unary('relu', f32(3), f32(4), 0, 0)).toThrow('unary: out has 4 elements but x has 3');
    expectError(() => b.unary('relu', f32(3), f64(3), 0, 0), 'TypeError');
    expect(() => raw.unary('relu', f32(3), f32(3), '1', 0)).toThrow("unary: argument 'alpha' must be a number");
    expect(() => b.unaryBackward('tanh', f32(3), f32(3), f32(2), f32(3), 0, 0))
      .toThrow('unaryBackward: dy has 2 elements but x has 3');
    expect(() => raw.binary('atan2', f32(1), [1], f32(1), [1], f32(1), [1])).toThrow("binary: unknown binary op 'atan2'");
    expect(() => b.binary('add', f32(6), [2, 3], f32(2), [2], f32(6), [2, 3]))
      .toThrow('binary: shapes do not broadcast: dim 1 is 3 in a and 2 in b');
    expect(() => b.binary('add', f32(6), [2, 3], f32(3), [3], f32(6), [3, 2]))
      .toThrow('binary: outShape[0] is 3 but the broadcast gives 2');
    expect(() => b.binary('add', f32(5), [2, 3], f32(3), [3], f32(6), [2, 3]))
      .toThrow('binary: a has 5 elements but aShape=[2, 3] needs 6');
    expect(() => b.binary('add', f32(1), [1, 1, 1, 1, 1, 1, 1, 1, 1], f32(1), [1], f32(1), [1]))
      .toThrow("binary: argument 'aShape' has rank 9; at most 8 is supported");
    expect(() => b.binary('add', f32(6), [2, -3], f32(3), [3], f32(6), [2, 3]))
      .toThrow("binary: argument 'aShape'[1] must be a non-negative integer, got number -3");
    expectError(() => raw.binary('add', f32(6), [2, '3'], f32(3), [3], f32(6), [2, 3]), 'RangeError');
    // An element getter that throws: the JS exception propagates, nothing crashes.
    const evil: number[] = [2, 3];
    Object.defineProperty(evil, 1, { get() { throw new Error('evil getter'); } });
    expect(() => b.binary('add', f32(6), evil, f32(3), [3], f32(6), [2, 3])).toThrow('evil getter');
  });

  test('reduce, argReduce, softmax and permute argument checks', () => {
    expect(() => raw.reduce('prod', f32(6), 1, 6, 1, f32(1))).toThrow("reduce: unknown reduce op 'prod'");
    expect(() => b.reduce('sum', f32(5), 1, 6, 1, f32(1))).toThrow('reduce: x has 5 elements but outer=1, n=6, inner=1 needs 6');
    expect(() => b.reduce('sum', f32(6), 2, 3, 1, f32(1))).toThrow('reduce: out has 1 elements');
    expect(() => b.reduce('sum', f32(6), 2 ** 40, 2 ** 40, 1, f32(1))).toThrow(/overflows/);
    expect(() => raw.argReduce('argmax', f32(6), 2, 3, 1, f32(2)))
      .toThrow("argReduce: argument 'out' must be an Int32Array, got Float32Array(2)");
    expect(() => b.argReduce('argmax', f32(6), 2, 0, 3, new Int32Array(6))).toThrow('argReduce: n must be between 1');
    expect(() => b.softmax(f32(6), 2, 4, f32(8), false)).toThrow('softmax: x has 6 elements but rows=2, cols=4 needs 8');
    expect(() => raw.softmax(f32(6), 2, 3, f32(6), 1)).toThrow("softmax: argument 'log' must be a boolean");
    expectError(() => b.softmaxBackward(f64(6), f32(6), 2, 3, f64(6), false), 'TypeError');
    expect(() => b.permute(f32(6), [2, 3], [0, 0], f32(6))).toThrow('permute: perm [0, 0] is not a permutation of 0..1');
    expect(() => b.permute(f32(6), [2, 3], [1], f32(6))).toThrow('permute: perm [1] has 1 entries but shape [2, 3] has rank 2');
    expect(() => b.permute(f32(6), [2, 3], [1, 0], new Int32Array(6))).toThrow("permute: argument 'out' is a Int32Array");
    expect(() => b.permute(f32(6), [2, 4], [1, 0], f32(8))).toThrow('permute: x has 6 elements but shape=[2, 4] needs 8');
  });

  test('optimizer, thread and kernel argument checks', () => {
    expect(() => b.sgdStep(f32(3), f32(2), f32(3), 0.1, 0.9, false)).toThrow('sgdStep: g has 2 elements but p has 3');
    expect(() => b.sgdStep(f32(3), f32(3), f32(0), 0.1, 0.9, false)).toThrow('sgdStep: v has 0 elements but p has 3');
    expect(() => b.sgdStep(f32(3), f32(3), f32(3), NaN, 0, false)).toThrow("sgdStep: argument 'lr' must be a finite number, got NaN");
    expect(() => b.adamStep(f32(3), f32(3), f32(3), f32(3), 0.1, 0.9, 0.999, 1e-7, 0))
      .toThrow("adamStep: argument 'step' must be >= 1");
    expectError(() => b.adamStep(f32(3), f32(3), f64(3), f32(3), 0.1, 0.9, 0.999, 1e-7, 1), 'TypeError');
    expect(() => b.rmspropStep(f32(3), f32(3), f32(4), 0.1, 0.9, 1e-7)).toThrow('rmspropStep: ms has 4 elements but p has 3');
    expectError(() => b.adagradStep(f32(3), f32(3), f32(3), 0.1, Infinity), 'RangeError');
    expect(() => b.setNumThreads(0)).toThrow("setNumThreads: argument 'n' must be between 1 and 1024, got 0");
    expectError(() => b.setNumThreads(-1), 'RangeError');
    expect(() => b.setGemmKernel('nope')).toThrow("setGemmKernel: unknown kernel 'nope'");
    expect(() => raw.backendInfo(1)).toThrow('backendInfo: expects 0 arguments, got 1');
  });

  test('type problems are TypeErrors, value problems are RangeErrors', () => {
    expectError(() => raw.unary('relu', f32(3)), 'TypeError', 'expects 5 arguments');
    expectError(() => raw.unary(3, f32(3), f32(3), 0, 0), 'TypeError', "argument 'op' must be a string");
    expectError(() => raw.softmax(f32(4), '2', 2, f32(4), false), 'TypeError', "argument 'rows' must be a number");
    expectError(() => raw.permute(new Uint8Array(4), [4], [0], new Uint8Array(4)), 'TypeError',
      'must be a Float32Array, Float64Array or Int32Array, got Uint8Array(4)');
    expectError(() => raw.binary('add', f32(1), 'x', f32(1), [1], f32(1), [1]), 'TypeError', 'must be an array of sizes');
    expectError(() => b.softmax(f32(4), -2, 2, f32(4), false), 'RangeError', "argument 'rows' must be a non-negative integer");
    expectError(() => b.softmax(f32(4), Infinity, 2, f32(4), false), 'RangeError', 'got Infinity');
    expectError(() => b.reduce('sum', f32(3), 1, 4, 1, f32(1)), 'RangeError', 'x has 3 elements');
    expectError(() => raw.reduce('median', f32(3), 1, 3, 1, f32(1)), 'RangeError', "unknown reduce op 'median'");
  });

  test('GRADFORGE_NUM_THREADS and GRADFORGE_GEMM_KERNEL are read at load time', () => {
    const script = `const b = require('node-gyp-build')(${JSON.stringify(root)}); ` +
      'const i = b.backendInfo(); process.stdout.write(JSON.stringify([i.numThreads, i.gemmKernel]));';
    const run = (env: Record<string, string>) => {
      const r = spawnSync(process.execPath, ['-e', script], {
        cwd: root, env: { ...process.env, ...env }, encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      return { out: JSON.parse(r.stdout) as [number, string], stderr: r.stderr };
    };
    expect(run({ GRADFORGE_NUM_THREADS: '3', GRADFORGE_GEMM_KERNEL: 'ref' }).out).toEqual([3, 'ref']);
    // An unknown kernel name falls back to the best one, with a warning.
    const bad = run({ GRADFORGE_GEMM_KERNEL: 'sse9' });
    expect(bad.out[1]).toBe(b.backendInfo().availableGemmKernels[0]);
    expect(bad.stderr).toContain('GRADFORGE_GEMM_KERNEL=sse9');
  });

  test('detached buffers are rejected by length checks, and the addon still works after all this', () => {
    const buf = new ArrayBuffer(64);
    const view = new Float32Array(buf);
    structuredClone(buf, { transfer: [buf] }); // detaches buf: view now has length 0
    expect(() => b.unary('relu', view, f32(16), 0, 0)).toThrow('unary: out has 16 elements but x has 0');
    expectError(() => b.gemm(false, false, 4, 4, 1, 1, view, 1, f32(4), 4, 0, f32(16), 4), 'RangeError');

    const C = new Float32Array(1);
    b.gemm(false, false, 1, 1, 2, 1, new Float32Array([2, 3]), 2, new Float32Array([4, 5]), 1, 0, C, 1);
    expect(C[0]).toBe(23);
  });
});

describe('convolutional-network exports: bad input throws and never crashes', () => {
  const f32 = (n: number): Float32Array => new Float32Array(n);
  const f64 = (n: number): Float64Array => new Float64Array(n);
  const raw = addon as Record<string, (...args: unknown[]) => unknown>;
  const conv = { N: 1, H: 5, W: 5, C: 2, KH: 3, KW: 3, O: 4, OH: 3, OW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
  const pool = { N: 1, H: 4, W: 4, C: 2, KH: 2, KW: 2, OH: 2, OW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 };

  test('a correct conv2d call computes something and the geometry is checked field by field', () => {
    const x = new Float32Array(50).fill(1);
    const w = new Float32Array(72).fill(1);
    const y = f32(36);
    b.conv2dForward(conv, x, w, null, y);
    expect(y[0]).toBe(18); // 3x3 window x 2 channels of ones
    expectError(() => b.conv2dForward({ ...conv, KH: 0 }, x, w, null, y), 'RangeError', 'geometry.KH must be an integer >= 1, got number 0');
    expectError(() => raw.conv2dForward({ ...conv, padTop: 1.5 }, x, w, null, y), 'RangeError', 'geometry.padTop');
    expectError(() => raw.conv2dForward({ ...conv, OW: undefined }, x, w, null, y), 'RangeError', 'geometry.OW');
    expectError(() => b.conv2dForward({ ...conv, padTop: 3 }, x, w, null, y), 'RangeError', 'must be smaller than the kernel span');
    expectError(() => b.conv2dForward({ ...conv, OH: 100 }, x, w, null, y), 'RangeError', 'does not fit the input');
    expectError(() => raw.conv2dForward([1, 2, 3], x, w, null, y), 'TypeError', "argument 'g' must be a geometry object");
  });

  test('conv arrays must be long enough, of one float type, and bias optional', () => {
    const x = f32(50);
    const w = f32(72);
    expectError(() => b.conv2dForward(conv, f32(49), w, null, f32(36)), 'RangeError', 'x has 49 elements but x [1, 5, 5, 2], w [3, 3, 2, 4], y [1, 3, 3, 4] needs 50');
    expectError(() => b.conv2dForward(conv, x, w, f32(3), f32(36)), 'RangeError', 'bias has 3 elements');
    expectError(() => b.conv2dForward(conv, x, f64(72), null, f32(36)), 'TypeError', 'same type');
    expectError(() => b.conv2dBackwardInput(conv, f32(36), w, f32(10)), 'RangeError', 'dx has 10 elements');
    expectError(() => b.conv2dBackwardFilter(conv, x, f32(36), f32(71), null), 'RangeError', 'dw has 71 elements');
    expectError(() => b.conv2dForward({ ...conv, N: 2 ** 40, H: 2 ** 20 }, x, w, null, f32(36)), 'RangeError');
  });

  test('conv + max pooling in one call: the bits of the two, and its own checks', () => {
    const g = { N: 2, H: 6, W: 5, C: 3, KH: 3, KW: 2, O: 4, OH: 4, OW: 4, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 };
    const p = { N: 2, H: 4, W: 4, C: 4, KH: 2, KW: 2, OH: 2, OW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0 };
    const x = f32(180).map((_, i) => Math.cos(i * 0.7)), w = f32(72).map((_, i) => Math.sin(i)), bias = f32(4).map((_, i) => i - 1.5);
    const y = f32(128), want = f32(32), got = f32(32);
    b.conv2dForward(g, x, w, bias, y, 'relu');
    b.maxPool2dForward(p, y, want, null);
    b.conv2dMaxPool2dForward(g, p, x, w, bias, got, 'relu');
    expect(Array.from(got)).toEqual(Array.from(want));
    expectError(() => b.conv2dMaxPool2dForward(g, { ...p, H: 5 }, x, w, bias, got), 'RangeError', "the pooling's input (x [2, 5, 4, 4]");
    expectError(() => b.conv2dMaxPool2dForward(g, null as never, x, w, bias, got), 'TypeError', "argument 'p' must be a geometry object");
    expectError(() => b.conv2dMaxPool2dForward(g, p, x, w, bias, f32(31)), 'RangeError', 'y has 31 elements');
    expectError(() => b.conv2dMaxPool2dForward(g, p, x, w, f32(3), got), 'RangeError', 'bias has 3 elements');
    expectError(() => b.conv2dMaxPool2dForward(g, p, x, w, bias, x.subarray(0, 32)), 'RangeError');
  });

  test('max pooling without argmax (inference) gives the same values and checks the rest', () => {
    const x = f32(32).map((_, i) => Math.sin(i * 1.7));
    x[5] = NaN;
    const withIdx = f32(8), without = f32(8);
    b.maxPool2dForward(pool, x, withIdx, new Int32Array(8));
    b.maxPool2dForward(pool, x, without, null);
    expect(Array.from(without)).toEqual(Array.from(withIdx));
    expect(without.some(Number.isNaN)).toBe(true);
    expectError(() => b.maxPool2dForward(pool, x, f32(7), null), 'RangeError', 'y has 7 elements');
    expectError(() => b.maxPool2dForward(pool, x, f32(8), new Int32Array(7)), 'RangeError', 'argmax has 7 elements');
    expectError(() => b.maxPool2dForward(pool, x, x.subarray(0, 8), null), 'RangeError');
  });

  test('pool backward rejects argmax positions outside the image', () => {
    const am = new Int32Array(8);
    b.maxPool2dForward(pool, f32(32), f32(8), am);
    am[3] = 16; // H*W = 16: one past the end
    expectError(() => b.maxPool2dBackward(pool, f32(8), am, f32(32)), 'RangeError', 'argmax[3] = 16 is not a position in [0, 16)');
    am[3] = -2;
    expectError(() => b.maxPool2dBackward(pool, f32(8), am, f32(32)), 'RangeError', 'argmax[3] = -2');
    const gam = new Int32Array([0, 99]);
    expectError(() => b.globalPool2dBackward('max', 1, 4, 2, f32(2), gam, f32(8)), 'RangeError', 'argmax[1] = 99');
    expectError(() => b.globalPool2dForward('avg', 1, 4, 2, f32(8), f32(2), new Int32Array(2)), 'TypeError', "'argmax' must be null for op 'avg'");
    expectError(() => b.globalPool2dForward('sum' as never, 1, 4, 2, f32(8), f32(2), null), 'RangeError', "unknown op 'sum'");
    expectError(() => b.avgPool2dForward({ ...pool, padTop: 2 }, f32(32), f32(8)), 'RangeError', 'smaller than the window');
  });

  test('upsampling and batch norm check modes, sizes and lengths', () => {
    expectError(() => b.upSampling2dForward('cubic' as never, 1, 2, 2, 1, 2, 2, f32(4), f32(16)), 'RangeError', "unknown mode 'cubic'");
    expectError(() => b.upSampling2dForward('nearest', 1, 2, 2, 1, 2, 2, f32(4), f32(15)), 'RangeError', 'y has 15 elements');
    expectError(() => b.upSampling2dBackward('bilinear', 1, 2, 2, 1, 0, 2, f32(16), f32(4)), 'RangeError', 'sh must be >= 1');
    const x = f32(6);
    expectError(() => b.batchNormTrain(2, 3, x, null, null, 1e-3, 0.9, f32(6), f32(3), f32(2), null, null), 'RangeError', 'invStd has 2 elements but C=3 needs 3');
    expectError(() => b.batchNormTrain(0, 3, f32(0), null, null, 1e-3, 0.9, f32(0), f32(3), f32(3), null, null), 'RangeError', 'M must be >= 1');
    expectError(() => b.batchNormInference(2, 3, x, null, null, f32(3), f32(3), 0, f32(6)), 'RangeError', 'epsilon must be > 0');
    expectError(() => b.batchNormBackward(2, 3, x, f64(6), null, f32(3), f32(3), f32(6), null, null), 'TypeError', 'same type');
  });
});

describe('recurrent exports (native/binding/rnn.cc)', () => {
  type Cfg = Parameters<Binding['rnnForward']>[0];
  const base: Cfg = {
    cell: 'simpleRNN', N: 1, T: 2, In: 1, U: 1, activation: 'linear', recurrentActivation: 'linear',
    resetAfter: false, goBackwards: false, zeroOutputForMask: false,
  };
  const G = (c: Cfg): number => (c.cell === 'lstm' ? 4 : c.cell === 'gru' ? 3 : 1);
  const f64 = (a: number[]): Float64Array => new Float64Array(a);

  function act(name: string, v: number): number {
    switch (name) {
      case 'tanh': return Math.tanh(v);
      case 'sigmoid': return 1 / (1 + Math.exp(-v));
      case 'hardSigmoid': return Math.min(1, Math.max(0, v / 6 + 0.5));
      case 'hardSigmoidLegacy': return Math.min(1, Math.max(0, 0.2 * v + 0.5));
      case 'relu': return v > 0 ? v : 0;
      default: return v;
    }
  }

  /** A plain reference of rnn.h's equations (Keras), for any small sizes. */
  function reference(c: Cfg, x: ArrayLike<number>, W: ArrayLike<number>, R: ArrayLike<number>, bias: ArrayLike<number> | null,
    h0: ArrayLike<number> | null, c0: ArrayLike<number> | null, mask: Uint8Array | null): { y: number[]; hT: number[]; cT: number[] } {
    const { N, T, In, U } = c;
    const GU = G(c) * U;
    const ra = c.cell === 'gru' && c.resetAfter;
    const y = new Array(N * T * U).fill(0), hT: number[] = [], cT: number[] = [];
    for (let n = 0; n < N; n++) {
      let h = Array.from({ length: U }, (_, u) => (h0 ? h0[n * U + u] : 0));
      let cs = Array.from({ length: U }, (_, u) => (c0 ? c0[n * U + u] : 0));
      for (let s = 0; s < T; s++) {
        const t = c.goBackwards ? T - 1 - s : s;
        const xw = (k: number, j: number): number => {
          let v = bias ? bias[k * U + j] : 0;
          for (let i = 0; i < In; i++) v += x[(n * T + t) * In + i] * W[i * GU + k * U + j];
          return v;
        };
        const hr = (k: number, j: number, hv: number[]): number => {
          let v = ra && bias ? bias[GU + k * U + j] : 0;
          for (let u = 0; u < U; u++) v += hv[u] * R[u * GU + k * U + j];
          return v;
        };
        if (mask && !mask[n * T + t]) {
          for (let u = 0; u < U; u++) y[(n * T + s) * U + u] = c.zeroOutputForMask ? 0 : h[u];
          continue;
        }
        const a = c.activation, r = c.recurrentActivation;
        const nh = new Array(U).fill(0);
        if (c.cell === 'simpleRNN') {
          for (let j = 0; j < U; j++) nh[j] = act(a, xw(0, j) + hr(0, j, h));
        } else if (c.cell === 'lstm') {
          const nc = new Array(U).fill(0);
          for (let j = 0; j < U; j++) {
            const ig = act(r, xw(0, j) + hr(0, j, h)), fg = act(r, xw(1, j) + hr(1, j, h));
            const gg = act(a, xw(2, j) + hr(2, j, h)), og = act(r, xw(3, j) + hr(3, j, h));
            nc[j] = fg * cs[j] + ig * gg;
            nh[j] = og * act(a, nc[j]);
          }
          cs = nc;
        } else {
          const z = h.map((_, j) => act(r, xw(0, j) + hr(0, j, h)));
          const rg = h.map((_, j) => act(r, xw(1, j) + hr(1, j, h)));
          for (let j = 0; j < U; j++) {
            const hh = ra ? act(a, xw(2, j) + rg[j] * hr(2, j, h)) : act(a, xw(2, j) + hr(2, j, h.map((v, u) => v * rg[u])));
            nh[j] = z[j] * h[j] + (1 - z[j]) * hh;
          }
        }
        h = nh;
        for (let u = 0; u < U; u++) y[(n * T + s) * U + u] = h[u];
      }
      hT.push(...h);
      cT.push(...cs);
    }
    return { y, hT, cT };
  }

  function forward(c: Cfg, x: Float64Array, W: Float64Array, R: Float64Array, bias: Float64Array | null,
    h0: Float64Array | null, c0: Float64Array | null, mask: Uint8Array | null) {
    const y = new Float64Array(c.N * c.T * c.U), hT = new Float64Array(c.N * c.U);
    const cT = c.cell === 'lstm' ? new Float64Array(c.N * c.U) : null;
    const ws = new Float64Array(b.rnnWorkspaceSize(c));
    b.rnnForward(c, x, W, R, bias, h0, c0, mask, y, hT, cT, ws);
    return { y, hT, cT, ws };
  }

  test('simpleRNN, linear, U = In = 1, T = 2: hand-computed outputs and gradients, float32 and float64', () => {
    for (const F of [Float32Array, Float64Array]) {
      const x = new F([1, 2]), W = new F([0.5]), R = new F([2]), bias = new F([0.25]), h0 = new F([1]);
      const y = new F(2), hT = new F(1), ws = new F(b.rnnWorkspaceSize(base));
      b.rnnForward(base, x, W, R, bias, h0, null, null, y, hT, null, ws);
      // h1 = 1*0.5 + 1*2 + 0.25, h2 = 2*0.5 + 2.75*2 + 0.25
      expectClose(y, [2.75, 6.75]);
      expectClose(hT, [6.75]);
      // loss = y1 + y2: dpre2 = 1, dh1 = 1 + 2 = 3 = dpre1, dh0 = 3*2
      const dx = new F(2), dh0 = new F(1), dW = new F(1), dR = new F(1), db = new F(1);
      b.rnnBackward(base, x, W, R, null, new F([1, 1]), null, null, ws, dx, dh0, null, dW, dR, db);
      expectClose(dx, [1.5, 0.5]);
      expectClose(dh0, [6]);
      expectClose(dW, [5]); // 1*3 + 2*1
      expectClose(dR, [5.75]); // h0*3 + h1*1
      expectClose(db, [4]);
      // goBackwards: t = 1 first (2*0.5 + 1*2 + 0.25 = 3.25), then t = 0 (0.5 + 6.5 + 0.25)
      b.rnnForward({ ...base, goBackwards: true }, x, W, R, bias, h0, null, null, y, hT, null, ws);
      expectClose(y, [3.25, 7.25]);
      // mask [1, 0]: step 1 carries h1 (or outputs zeros)
      const mask = new Uint8Array([1, 0]);
      b.rnnForward(base, x, W, R, bias, h0, null, mask, y, hT, null, ws);
      expectClose(y, [2.75, 2.75]);
      expectClose(hT, [2.75]);
      b.rnnForward({ ...base, zeroOutputForMask: true }, x, W, R, bias, h0, null, mask, y, hT, null, ws);
      expectClose(y, [2.75, 0]);
    }
  });

  test('lstm and gru, linear, U = In = T = 1: hand-computed outputs', () => {
    const lstm: Cfg = { ...base, cell: 'lstm', T: 1 };
    // i = 0.5, f = 0.5, g = 2, o = 1; c = 0.5*1 + 0.5*2 = 1.5; h = 1 * 1.5
    const l = forward(lstm, f64([1]), f64([0.5, 0.5, 2, 1]), f64([0, 0, 0, 0]), null, null, f64([1]), null);
    expectClose(l.y, [1.5]);
    expectClose(l.hT, [1.5]);
    expectClose(l.cT!, [1.5]);
    // gru reset_after = false: z = 0.25 + 2, r = 0.5 + 2, h~ = 2 + (2.5*2)*1 = 7; h = 2.25*2 - 1.25*7
    const gru: Cfg = { ...base, cell: 'gru', T: 1 };
    const g = forward(gru, f64([1]), f64([0.25, 0.5, 2]), f64([1, 1, 1]), null, f64([2]), null, null);
    expectClose(g.y, [-4.25]);
    // reset_after = true, recurrent bias of h 1: h~ = 2 + 2.5*(2 + 1) = 9.5; h = 4.5 - 1.25*9.5
    const g2 = forward({ ...gru, resetAfter: true }, f64([1]), f64([0.25, 0.5, 2]), f64([1, 1, 1]), f64([0, 0, 0, 0, 0, 1]), f64([2]), null, null);
    expectClose(g2.y, [-7.375]);
  });

  const cases: Cfg[] = [
    { ...base, cell: 'simpleRNN', activation: 'tanh' },
    { ...base, cell: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid' },
    { ...base, cell: 'lstm', activation: 'tanh', recurrentActivation: 'sigmoid', goBackwards: true, zeroOutputForMask: true },
    { ...base, cell: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: false },
    { ...base, cell: 'gru', activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true, goBackwards: true },
  ];
  const rand = (n: number, seed: number): Float64Array => {
    let s = seed * 2654435761 >>> 0;
    return Float64Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 - 0.5; });
  };

  const label = (c: Cfg): string => `${c.cell}${c.cell === 'gru' ? (c.resetAfter ? ' resetAfter' : ' !resetAfter') : ''}` +
    `${c.goBackwards ? ' goBackwards' : ''}${c.zeroOutputForMask ? ' zeroOutputForMask' : ''}`;
  test.each(cases.map((c) => [label(c), c] as [string, Cfg]))('%s: forward matches the reference; backward matches finite differences (float64)', (_name, c0cfg) => {
    const c: Cfg = { ...c0cfg, N: 2, T: 3, In: 2, U: 3 };
    const GU = G(c) * c.U, lstm = c.cell === 'lstm';
    const nb = c.cell === 'gru' && c.resetAfter ? 2 * GU : GU;
    const x = rand(c.N * c.T * c.In, 1), W = rand(c.In * GU, 2), R = rand(c.U * GU, 3), bias = rand(nb, 4);
    const h0 = rand(c.N * c.U, 5), c0 = lstm ? rand(c.N * c.U, 6) : null;
    const mask = new Uint8Array([1, 0, 1, 0, 1, 1]);
    const f = forward(c, x, W, R, bias, h0, c0, mask);
    const ref = reference(c, x, W, R, bias, h0, c0, mask);
    expectClose(f.y, ref.y, 1e-12);
    expectClose(f.hT, ref.hT, 1e-12);
    if (lstm) expectClose(f.cT!, ref.cT, 1e-12);
    // loss = sum(dy*y) + sum(dhT*hT) + sum(dcT*cT)
    const dy = rand(c.N * c.T * c.U, 7), dhT = rand(c.N * c.U, 8), dcT = lstm ? rand(c.N * c.U, 9) : null;
    const loss = (): number => {
      const r = reference(c, x, W, R, bias, h0, c0, mask);
      let l = 0;
      r.y.forEach((v, i) => { l += v * dy[i]; });
      r.hT.forEach((v, i) => { l += v * dhT[i]; });
      if (dcT) r.cT.forEach((v, i) => { l += v * dcT[i]; });
      return l;
    };
    const dx = new Float64Array(x.length), dW = new Float64Array(W.length), dR = new Float64Array(R.length);
    const db = new Float64Array(nb), dh0 = new Float64Array(h0.length), dc0 = lstm ? new Float64Array(c.N * c.U) : null;
    dW.fill(NaN); // overwritten, not accumulated
    b.rnnBackward(c, x, W, R, mask, dy, dhT, dcT, f.ws, dx, dh0, dc0, dW, dR, db);
    const pairs: [Float64Array, Float64Array][] = [[x, dx], [W, dW], [R, dR], [bias, db], [h0, dh0]];
    if (c0 && dc0) pairs.push([c0, dc0]);
    for (const [p, d] of pairs) {
      const num = Array.from(p, (_, i) => {
        const old = p[i];
        p[i] = old + 1e-6; const lp = loss();
        p[i] = old - 1e-6; const lm = loss();
        p[i] = old;
        return (lp - lm) / 2e-6;
      });
      expectClose(d, num, 1e-6);
    }
  });

  test('T = 0 passes the state through; N = 0 writes nothing; U = 0 zeroes only dx', () => {
    const c: Cfg = { ...base, cell: 'lstm', N: 2, T: 0, In: 3, U: 2 };
    const h0 = f64([1, 2, 3, 4]), c0 = f64([5, 6, 7, 8]);
    const hT = new Float64Array(4), cT = new Float64Array(4), ws = new Float64Array(b.rnnWorkspaceSize(c));
    b.rnnForward(c, f64([]), new Float64Array(3 * 8), new Float64Array(2 * 8), null, h0, c0, null, f64([]), hT, cT, ws);
    expect(Array.from(hT)).toEqual([1, 2, 3, 4]);
    expect(Array.from(cT)).toEqual([5, 6, 7, 8]);
    b.rnnForward(c, f64([]), new Float64Array(24), new Float64Array(16), null, null, null, null, f64([]), hT, cT, ws);
    expect(Array.from(hT)).toEqual([0, 0, 0, 0]);
    const dh0 = new Float64Array(4), dc0 = new Float64Array(4);
    const dW = new Float64Array(24).fill(7), dR = new Float64Array(16).fill(7), db = new Float64Array(8).fill(7);
    b.rnnBackward(c, f64([]), new Float64Array(24), new Float64Array(16), null, null, h0, c0, ws, null, dh0, dc0, dW, dR, db);
    expect(Array.from(dh0)).toEqual([1, 2, 3, 4]);
    expect(Array.from(dc0)).toEqual([5, 6, 7, 8]);
    expect([...dW, ...dR, ...db].every((v) => v === 0)).toBe(true);
    // N = 0: nothing to write in forward; backward zeroes the weight gradients
    const n0: Cfg = { ...c, N: 0, T: 5 };
    expect(b.rnnWorkspaceSize(n0)).toBe(0);
    b.rnnForward(n0, f64([]), new Float64Array(24), new Float64Array(16), null, null, null, null, f64([]), null, null, f64([]));
    dW.fill(7);
    b.rnnBackward(n0, f64([]), new Float64Array(24), new Float64Array(16), null, null, null, null, f64([]), null, null, null, dW, dR, db);
    expect(dW.every((v) => v === 0)).toBe(true);
    // U = 0: dx is zero, nothing else has elements
    const u0: Cfg = { ...base, N: 1, T: 2, In: 2, U: 0 };
    expect(b.rnnWorkspaceSize(u0)).toBe(0);
    const dx = new Float64Array(4).fill(7);
    b.rnnBackward(u0, new Float64Array(4), f64([]), f64([]), null, null, null, null, f64([]), dx, null, null, f64([]), f64([]), null);
    expect(Array.from(dx)).toEqual([0, 0, 0, 0]);
  });

  test('bad config, types and lengths throw naming the argument', () => {
    const raw = addon as Record<string, (...args: unknown[]) => unknown>;
    const x = new Float32Array(2), W = new Float32Array(1), R = new Float32Array(1), y = new Float32Array(2);
    const ws = new Float32Array(b.rnnWorkspaceSize(base));
    const fwd = (c: unknown, ...over: [number, unknown][]): unknown => {
      const args: unknown[] = [c, x, W, R, null, null, null, null, y, null, null, ws];
      for (const [i, v] of over) args[i] = v;
      return raw.rnnForward(...args);
    };
    expect(fwd(base)).toBeUndefined();
    expectError(() => fwd({ ...base, cell: 'LSTM' }), 'RangeError', "rnnForward: cfg.cell must be 'simpleRNN', 'lstm' or 'gru', got 'LSTM'");
    expectError(() => fwd({ ...base, activation: 'softmax' }), 'RangeError', 'cfg.activation must be');
    expectError(() => fwd({ ...base, recurrentActivation: 3 }), 'TypeError', 'cfg.recurrentActivation must be a string');
    expectError(() => fwd({ ...base, T: -1 }), 'RangeError', 'cfg.T must be a non-negative integer, got number -1');
    expectError(() => fwd({ ...base, U: 1.5 }), 'RangeError', 'cfg.U must be a non-negative integer');
    expectError(() => fwd({ ...base, goBackwards: 1 }), 'TypeError', 'cfg.goBackwards must be a boolean, got number 1');
    expectError(() => fwd({ ...base, N: undefined }), 'RangeError', 'cfg.N');
    expectError(() => fwd(null), 'TypeError', "argument 'cfg' must be an RnnConfig object");
    expectError(() => fwd(base, [1, new Float32Array(1)]), 'RangeError', 'x has 1 elements but simpleRNN N=1, T=2, In=1, U=1 needs 2');
    expectError(() => fwd(base, [2, new Float64Array(1)]), 'TypeError', 'same type');
    expectError(() => fwd(base, [4, new Float32Array(0)]), 'RangeError', 'b has 0 elements');
    expectError(() => fwd(base, [7, new Float32Array(2)]), 'TypeError', "argument 'mask' must be a Uint8Array or null");
    expectError(() => fwd(base, [7, new Uint8Array(1)]), 'RangeError', 'mask has 1 elements');
    expectError(() => fwd(base, [11, new Float32Array(ws.length - 1)]), 'RangeError', 'workspace has');
    expectError(() => fwd(base, [6, new Float32Array(1)]), 'TypeError', "argument 'c0' must be null for a simpleRNN");
    expectError(() => fwd(base, [10, new Float32Array(1)]), 'TypeError', "argument 'cT' must be null");
    expectError(() => raw.rnnForward(base), 'TypeError', 'rnnForward: expects 12 to 13 arguments, got 1');
    expectError(() => raw.rnnBackward(base, x, W, R, null, null, null, new Float32Array(1), ws, null, null, null, W, R, null),
      'TypeError', "argument 'dcT' must be null");
    expectError(() => raw.rnnBackward(base, x, W, R, null, null, null, null, ws, null, null, null, new Float32Array(0), R, null),
      'RangeError', 'dW has 0 elements');
    expectError(() => b.rnnWorkspaceSize({ ...base, N: 2 ** 40, T: 2 ** 20 }), 'RangeError', 'overflows');
    expect(b.rnnWorkspaceSize({ ...base, cell: 'gru', resetAfter: true })).toBeGreaterThan(b.rnnWorkspaceSize({ ...base, cell: 'gru' }));
  });
});
