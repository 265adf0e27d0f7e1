// gf.rnn: the native recurrent op against a plain JavaScript transcription of Keras's cell
// equations (so gate order, layouts and GRU's two variants are checked at the library level),
// and gradcheck in float64 for every cell with bias, initial states, masks and goBackwards.
import * as gf from '../../lib';
import { Tensor } from '../../lib/tensor';

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/** Keras's equations, one step at a time: y [N, T, U] (processing order), hT, cT. */
function reference(cell: 'simpleRNN' | 'lstm' | 'gru', x: number[][][], W: number[][], R: number[][], b: number[] | number[][] | null,
                   opts: { resetAfter?: boolean; goBackwards?: boolean; mask?: number[][]; h0?: number[][] } = {}): { y: number[][][]; h: number[][]; c: number[][] } {
  const N = x.length, T = x[0].length, U = R.length;
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const bin = b === null ? new Array(G * U).fill(0) : Array.isArray(b[0]) ? (b as number[][])[0] : (b as number[]);
  const brec = b !== null && Array.isArray(b[0]) ? (b as number[][])[1] : new Array(G * U).fill(0);
  const y: number[][][] = [], hOut: number[][] = [], cOut: number[][] = [];
  for (let n = 0; n < N; n++) {
    let h = opts.h0 ? [...opts.h0[n]] : new Array(U).fill(0);
    let c = new Array(U).fill(0);
    const ys: number[][] = [];
    for (let s = 0; s < T; s++) {
      const t = opts.goBackwards ? T - 1 - s : s;
      if (opts.mask && opts.mask[n][t] === 0) { ys.push([...h]); continue; }
      const xw = (j: number): number => x[n][t].reduce((a, v, k) => a + v * W[k][j], 0) + bin[j];
      const hr = (hv: number[], j: number): number => hv.reduce((a, v, k) => a + v * R[k][j], 0);
      if (cell === 'simpleRNN') {
        h = h.map((_, u) => Math.tanh(xw(u) + hr(h, u)));
      } else if (cell === 'lstm') {
        const g = (k: number, u: number): number => xw(k * U + u) + hr(h, k * U + u);
        const i = h.map((_, u) => sig(g(0, u))), f = h.map((_, u) => sig(g(1, u)));
        const cc = h.map((_, u) => Math.tanh(g(2, u))), o = h.map((_, u) => sig(g(3, u)));
        c = c.map((cv, u) => f[u] * cv + i[u] * cc[u]);
        h = h.map((_, u) => o[u] * Math.tanh(c[u]));
      } else {
        const z = h.map((_, u) => sig(xw(u) + hr(h, u) + brec[u]));
        const r = h.map((_, u) => sig(xw(U + u) + hr(h, U + u) + brec[U + u]));
        const hh = opts.resetAfter
          ? h.map((_, u) => Math.tanh(xw(2 * U + u) + r[u] * (hr(h, 2 * U + u) + brec[2 * U + u])))
          : h.map((_, u) => Math.tanh(xw(2 * U + u) + hr(h.map((hv, k) => r[k] * hv), 2 * U + u)));
        h = h.map((hv, u) => z[u] * hv + (1 - z[u]) * hh[u]);
      }
      ys.push([...h]);
    }
    y.push(ys);
    hOut.push(h);
    cOut.push(c);
  }
  return { y, h: hOut, c: cOut };
}

function rand(shape: number[], seed: number, scale = 0.5): Tensor {
  return gf.randUniform(shape, { seed, dtype: 'float64' }).mul(2 * scale).sub(scale);
}

describe.each([
  ['simpleRNN', false], ['lstm', false], ['gru', true], ['gru', false],
] as const)('%s (resetAfter %s)', (cell, resetAfter) => {
  const N = 3, T = 4, In = 3, U = 2;
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const x = rand([N, T, In], 1), W = rand([In, G * U], 2), R = rand([U, G * U], 3);
  const b = rand(cell === 'gru' && resetAfter ? [2, G * U] : [G * U], 4);
  const h0 = rand([N, U], 5);
  const mask = gf.tensor([[1, 1, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0]], undefined, { dtype: 'float64' });

  test.each([[false, false], [true, false], [false, true], [true, true]])('forward equals Keras\'s equations (goBackwards %s, mask %s)', (goBackwards, masked) => {
    const got = gf.rnn(x, W, R, b, { cell, resetAfter, goBackwards, h0, mask: masked ? mask : null });
    const want = reference(cell, x.toArray() as number[][][], W.toArray() as number[][], R.toArray() as number[][],
      b.toArray() as number[] | number[][], { resetAfter, goBackwards, h0: h0.toArray() as number[][], mask: masked ? mask.toArray() as number[][] : undefined });
    const yd = got.y.data;
    want.y.flat(2).forEach((v, i) => expect(yd[i]).toBeCloseTo(v, 12));
    want.h.flat().forEach((v, i) => expect(got.hT.data[i]).toBeCloseTo(v, 12));
    if (cell === 'lstm') want.c.flat().forEach((v, i) => expect(got.cT!.data[i]).toBeCloseTo(v, 12));
  });

  test('gradcheck in float64 (x, kernel, recurrent kernel, bias, h0), with a mask and goBackwards', () => {
    const inputs = [x, W, R, b, h0];
    for (const goBackwards of [false, true]) {
      const r = gf.gradcheck((xi, wi, ri, bi, hi) => gf.rnn(xi, wi, ri, bi, { cell, resetAfter, goBackwards, h0: hi, mask }).y.square().sum(), inputs);
      expect(r.message).toBe('');
      expect(r.ok).toBe(true);
    }
  });
});

test('LSTM: gradient to the initial cell state c0, and zeroOutputForMask', () => {
  const N = 2, T = 3, In = 2, U = 2;
  const x = rand([N, T, In], 11), W = rand([In, 8], 12), R = rand([U, 8], 13), c0 = rand([N, U], 14);
  const mask = gf.tensor([[1, 0, 1], [1, 1, 0]], undefined, { dtype: 'float64' });
  const r = gf.gradcheck((xi, ci) => gf.rnn(xi, W, R, null, { cell: 'lstm', c0: ci, mask, zeroOutputForMask: true }).y.sum(), [x, c0]);
  expect(r.ok).toBe(true);
  const y = gf.rnn(x, W, R, null, { cell: 'lstm', c0, mask, zeroOutputForMask: true }).y;
  expect(Array.from(y.data.subarray(1 * U, 2 * U))).toEqual([0, 0]);  // sample 0, step 1 masked
});

test('bad arguments are typed errors naming the cell and shapes', () => {
  const x = gf.zeros([2, 3, 4]);
  expect(() => gf.rnn(gf.zeros([2, 4]), gf.zeros([4, 8]), gf.zeros([2, 8]), null, { cell: 'lstm' })).toThrow(/lstm: input must be \[batch, time, features\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 7]), gf.zeros([2, 8]), null, { cell: 'lstm' })).toThrow(/kernel must be \[4, 4\*units\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 6]), gf.zeros([2, 6]), gf.zeros([6]), { cell: 'gru' })).toThrow(/bias must have shape \[2, 6\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 2]), gf.zeros([2, 2]), null, { cell: 'simpleRNN', c0: gf.zeros([2, 2]) })).toThrow(/only an LSTM has a cell state/);
  expect(() => gf.rnn(x, gf.zeros([4, 2]), gf.zeros([2, 2]), null, { cell: 'simpleRNN', mask: gf.zeros([2, 4]) })).toThrow(/mask must have shape \[2, 3\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 2]), gf.zeros([2, 2]), null, { cell: 'simpleRNN', activation: 'elu' as 'tanh' })).toThrow(/activation must be one of/);
});
