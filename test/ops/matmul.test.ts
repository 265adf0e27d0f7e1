import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { expectGradOk, rand64, expectClose } from '../util/helpers';

function naiveMatmul(a: Tensor, b: Tensor, ta: boolean, tb: boolean): number[] {
  const [ar, ac] = a.shape;
  const [br, bc] = b.shape;
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const N = tb ? br : bc;
  const A = (i: number, k: number): number => (ta ? a.data[k * ac + i] : a.data[i * ac + k]);
  const B = (k: number, j: number): number => (tb ? b.data[j * bc + k] : b.data[k * bc + j]);
  const out: number[] = [];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A(i, k) * B(k, j);
      out.push(s);
    }
  }
  return out;
}

describe('matmul', () => {
  const combos: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

  test.each(combos)('transA=%s transB=%s matches the naive product at odd sizes', (ta, tb) => {
    for (const [M, K, N] of [[1, 1, 1], [7, 17, 33], [33, 100, 7], [64, 257, 3]]) {
      const a = rand64(ta ? [K, M] : [M, K], M + K);
      const b = rand64(tb ? [N, K] : [K, N], K + N);
      const y = gf.matmul(a, b, ta, tb);
      expect(y.shape).toEqual([M, N]);
      expectClose(y.data, naiveMatmul(a, b, ta, tb), 1e-10, 1e-10);
      const y32 = gf.matmul(a.cast('float32'), b.cast('float32'), ta, tb);
      expectClose(y32.data, y.data, 1e-3 * Math.sqrt(K), 1e-4);
    }
  });

  test.each(combos)('transA=%s transB=%s passes gradcheck', (ta, tb) => {
    const a = rand64(ta ? [4, 3] : [3, 4], 1);
    const b = rand64(tb ? [5, 4] : [4, 5], 2);
    expectGradOk((p, q) => gf.matmul(p, q, ta, tb), [a, b]);
  });

  test('batched matmul matches per-batch products and passes gradcheck', () => {
    const a = rand64([2, 3, 4, 5], 3);
    const b = rand64([2, 3, 5, 2], 4);
    const y = gf.matmul(a, b);
    expect(y.shape).toEqual([2, 3, 4, 2]);
    for (let i = 0; i < 6; i++) {
      const ai = new Tensor(a.data.slice(i * 20, (i + 1) * 20), [4, 5]);
      const bi = new Tensor(b.data.slice(i * 10, (i + 1) * 10), [5, 2]);
      expectClose(y.data.subarray(i * 8, (i + 1) * 8), naiveMatmul(ai, bi, false, false), 1e-10);
    }
    expectGradOk((p, q) => gf.matmul(p, q), [rand64([2, 3, 4], 5), rand64([2, 4, 3], 6)]);
    expectGradOk((p, q) => gf.matmul(p, q, true, true), [rand64([2, 4, 3], 7), rand64([2, 2, 4], 8)]);
  });

  test('N-D by 2-D folds the leading dimensions (as Dense on sequences)', () => {
    const a = rand64([2, 3, 4], 9);
    const w = rand64([4, 5], 10);
    const y = gf.matmul(a, w);
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(y.data, naiveMatmul(a.reshape([6, 4]), w, false, false), 1e-10);
    expectGradOk((p, q) => gf.matmul(p, q), [a, w]);
  });

  test('shape errors name both shapes', () => {
    expect(() => gf.matmul(gf.zeros([32, 784]), gf.zeros([128, 10]))).toThrow(gf.ShapeError);
    expect(() => gf.matmul(gf.zeros([32, 784]), gf.zeros([128, 10]))).toThrow('matmul: inner dimensions differ: [32, 784] x [128, 10]');
    expect(() => gf.matmul(gf.zeros([3]), gf.zeros([3, 2]))).toThrow(/rank >= 2/);
    expect(() => gf.matmul(gf.zeros([2, 3, 4]), gf.zeros([3, 4, 2]))).toThrow(/batch dimensions differ/);
  });
});

describe('linear (GEMM with bias and relu in its store)', () => {
  const unfused = (x: Tensor, w: Tensor, b: Tensor | null, act: gf.FusedActivation): Tensor => {
    let y = gf.matmul(x, w);
    if (b !== null) y = gf.add(y, b);
    return act === 'relu' ? gf.relu(y) : y;
  };

  test.each([['linear', true], ['relu', true], ['linear', false], ['relu', false]] as const)(
    'activation=%s bias=%s equals matmul + bias + activation at odd sizes, float64 and float32',
    (act, withBias) => {
      for (const [M, K, N] of [[1, 1, 1], [7, 17, 33], [33, 100, 7], [130, 257, 70]]) {
        const x = rand64([M, K], M + 2 * K);
        const w = rand64([K, N], K + 3 * N);
        const b = withBias ? rand64([N], N) : null;
        const want = unfused(x, w, b, act);
        const y = gf.linear(x, w, b, act);
        expect(y.shape).toEqual([M, N]);
        expectClose(y.data, want.data, 1e-12, 1e-12);
        const y32 = gf.linear(x.cast('float32'), w.cast('float32'), b?.cast('float32') ?? null, act);
        expectClose(y32.data, want.data, 1e-4 * Math.sqrt(K), 1e-4);
        if (act === 'relu' && M * N > 100) expect(Array.from(y.data).some((v) => v === 0)).toBe(true);
      }
    });

  test.each([['linear'], ['relu']] as const)('activation=%s passes gradcheck, with and without bias, 2-D and 3-D', (act) => {
    // Shifted away from 0 so that no pre-activation sits within gradcheck's step of relu's kink.
    const x = rand64([5, 4], 11);
    const w = rand64([4, 3], 12);
    const b = gf.tensor([0.3, -0.2, 0.1], [3], { dtype: 'float64' });
    expectGradOk((p, q, r) => gf.linear(p, q, r, act), [x, w, b]);
    expectGradOk((p, q) => gf.linear(p, q, null, act), [x, w]);
    expectGradOk((p, q, r) => gf.linear(p, q, r, act), [rand64([2, 3, 4], 13), w, b]);
  });

  test('gradients of gradients flow through it (createGraph), with relu', () => {
    const w = rand64([4, 3], 16);
    const b = gf.tensor([0.3, -0.2, 0.1], [3], { dtype: 'float64' });
    expectGradOk((x) => gf.enableGrad(() => {
      const outer = x.grad;
      x.zeroGrad();
      gf.linear(x, w, b, 'relu').tanh().sum().backward(undefined, { createGraph: true });
      const g = x.grad!;
      x.grad = outer;
      return g.square().sum();
    }), [rand64([5, 4], 17)], { atol: 1e-5, rtol: 1e-3 });
  });

  test('relu in the store keeps NaN as gf.relu does (a diverging model must not look finite)', () => {
    const x = gf.tensor([1, NaN, -2, 3, 0.5, -1], [2, 3]);
    const w = gf.tensor([1, -1, 2, 0.5, -3, 1], [3, 2]);
    const fused = gf.linear(x, w, gf.tensor([0.1, -0.2], [2]), 'relu');
    const plain = gf.relu(gf.add(gf.matmul(x, w), gf.tensor([0.1, -0.2], [2])));
    expect(Array.from(fused.data).map(String)).toEqual(Array.from(plain.data).map(String));
    expect(Number.isNaN(fused.data[0])).toBe(true);
    const img = gf.tensor([NaN, 1, -1, 2], [1, 2, 2, 1]);
    const k = gf.ones([1, 1, 1, 1]);
    expect(Array.from(gf.conv2d(img, k, { activation: 'relu' }).data).map(String)).toEqual(['NaN', '1', '0', '2']);
  });

  test('bad shapes, dtypes and activations are named', () => {
    expect(() => gf.linear(gf.zeros([2, 3]), gf.zeros([4, 5]))).toThrow('linear: expected x [..., K] (rank >= 2) and w [K, N], got x [2, 3] and w [4, 5]');
    expect(() => gf.linear(gf.zeros([2, 3]), gf.zeros([3, 5]), gf.zeros([4]))).toThrow(/bias must have shape \[5\].*got \[4\]/);
    expect(() => gf.linear(gf.zeros([2, 3]), gf.zeros([3, 5]), null, 'tanh' as gf.FusedActivation)).toThrow(gf.ValueError);
    expect(() => gf.linear(gf.zeros([2, 3]), gf.zeros([3, 5], { dtype: 'float64' }))).toThrow(gf.DTypeError);
  });

  test('Dense with relu or linear takes the fused path and still trains like the unfused ops', () => {
    const layer = gf.layers.dense({ units: 6, activation: 'relu', inputShape: [5] });
    const x = gf.randn([9, 5], { seed: 3 });
    const y = layer.apply(x);
    const k = layer.getWeights();
    const want = gf.relu(gf.add(gf.matmul(x, k[0]), k[1]));
    expectClose(y.data, want.data, 1e-6, 1e-6);
  });
});
