// gf.rnn: the native recurrent op against a plain JavaScript transcription of Keras's cell
// equations (so gate order, layouts and GRU's two variants are checked at the library level),
// and gradcheck in float64 for every cell with bias, initial states, masks and goBackwards,
// with and without a recurrent dropout mask (which multiplies h_{t-1} only where it meets the
// recurrent kernel, so the reference below says exactly where).
import * as gf from '../../lib';
import { Tensor } from '../../lib/tensor';
import { backendFor } from '../../lib/backend';

const kernels = backendFor('cpu').kernels;
import type { Binding, RnnConfig } from '../../binding';

import { kerasRnnReference as reference } from '../util/keras-rnn';

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
  // Keras's recurrent dropout values at rate 0.5: 0 or 2, some of each in every row
  const rmask = gf.tensor([[2, 0], [0, 2], [2, 2]], undefined, { dtype: 'float64' });

  test.each([
    [false, false, false], [true, false, false], [false, true, false], [true, true, false],
    [false, false, true], [true, true, true],
  ])('forward equals Keras\'s equations (goBackwards %s, mask %s, recurrent mask %s)', (goBackwards, masked, dropped) => {
    const got = gf.rnn(x, W, R, b, { cell, resetAfter, goBackwards, h0, mask: masked ? mask : null, recurrentMask: dropped ? rmask : null });
    const want = reference(cell, x.toArray() as number[][][], W.toArray() as number[][], R.toArray() as number[][],
      b.toArray() as number[] | number[][], {
        resetAfter, goBackwards, h0: h0.toArray() as number[][], mask: masked ? mask.toArray() as number[][] : undefined,
        recurrentMask: dropped ? rmask.toArray() as number[][] : undefined,
      });
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

  test('gradcheck in float64 with a recurrent mask (Keras values and arbitrary ones), a mask and goBackwards', () => {
    const inputs = [x, W, R, b, h0];
    const arbitrary = rand([N, U], 6, 1.5);  // a plain factor: a mask applied twice would show
    for (const [goBackwards, recurrentMask] of [[false, rmask], [true, rmask], [false, arbitrary]] as const) {
      const r = gf.gradcheck((xi, wi, ri, bi, hi) => gf.rnn(xi, wi, ri, bi, { cell, resetAfter, goBackwards, h0: hi, mask, recurrentMask }).y.square().sum(), inputs);
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

test('workspaces are recycled: a second backward through one graph, and calls in between, give the same gradients', () => {
  for (const cell of ['lstm', 'gru', 'simpleRNN'] as const) {
    const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
    const x = rand([3, 5, 2], 21), W = rand([2, G * 4], 22).setRequiresGrad(true), R = rand([4, G * 4], 23).setRequiresGrad(true);
    const rmask = gf.tensor(Float64Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 0 : 1.5)), [3, 4]);
    const loss = gf.rnn(x, W, R, null, { cell, recurrentMask: rmask }).y.square().sum();
    loss.backward();
    const first = [Array.from(W.grad!.data), Array.from(R.grad!.data)];
    // other calls of the same size take and give back the workspace meanwhile
    for (let i = 0; i < 3; i++) gf.rnn(rand([3, 5, 2], 30 + i), W, R, null, { cell }).y.sum().backward();
    gf.noGrad(() => gf.rnn(x, W, R, null, { cell }));
    W.zeroGrad(); R.zeroGrad();
    loss.backward();  // the first backward gave its workspace back: the forward runs again
    expect([Array.from(W.grad!.data), Array.from(R.grad!.data)]).toEqual(first);
  }
});

test('bad arguments are typed errors naming the cell and shapes', () => {
  const x = gf.zeros([2, 3, 4]);
  expect(() => gf.rnn(gf.zeros([2, 4]), gf.zeros([4, 8]), gf.zeros([2, 8]), null, { cell: 'lstm' })).toThrow(/lstm: input must be \[batch, time, features\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 7]), gf.zeros([2, 8]), null, { cell: 'lstm' })).toThrow(/kernel must be \[4, 4\*units\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 6]), gf.zeros([2, 6]), gf.zeros([6]), { cell: 'gru' })).toThrow(/bias must have shape \[2, 6\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 2]), gf.zeros([2, 2]), null, { cell: 'simpleRNN', c0: gf.zeros([2, 2]) })).toThrow(/only an LSTM has a cell state/);
  expect(() => gf.rnn(x, gf.zeros([4, 2]), gf.zeros([2, 2]), null, { cell: 'simpleRNN', mask: gf.zeros([2, 4]) })).toThrow(/mask must have shape \[2, 3\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 2]), gf.zeros([2, 2]), null, { cell: 'simpleRNN', activation: 'elu' as 'tanh' })).toThrow(/activation must be one of/);
  expect(() => gf.rnn(x, gf.zeros([4, 8]), gf.zeros([2, 8]), null, { cell: 'lstm', recurrentMask: gf.zeros([2, 3]) }))
    .toThrow(/lstm: recurrentMask must have shape \[2, 2\], got \[2, 3\]/);
  expect(() => gf.rnn(x, gf.zeros([4, 8]), gf.zeros([2, 8]), null, { cell: 'lstm', recurrentMask: gf.zeros([2, 2], { dtype: 'float64' }) }))
    .toThrow(/lstm: recurrentMask is float64 but the input is float32/);
});

describe('the addon\'s recurrentMask argument (native/binding/rnn.cc)', () => {
  const b = kernels as unknown as Binding;
  const raw = kernels as unknown as Record<string, (...args: unknown[]) => unknown>;
  const base: RnnConfig = {
    cell: 'simpleRNN', N: 1, T: 2, In: 1, U: 1, activation: 'linear', recurrentActivation: 'linear',
    resetAfter: false, goBackwards: false, zeroOutputForMask: false,
  };

  test('simpleRNN, linear, U = In = 1: hand-computed outputs and gradients with h_{t-1} * 0.5 before R', () => {
    for (const F of [Float32Array, Float64Array]) {
      const x = new F([1, 2]), W = new F([0.5]), R = new F([2]), bias = new F([0.25]), h0 = new F([1]), m = new F([0.5]);
      const y = new F(2), hT = new F(1), ws = new F(b.rnnWorkspaceSize(base));
      b.rnnForward(base, x, W, R, bias, h0, null, null, y, hT, null, ws, m);
      // h1 = 1*0.5 + (1*0.5)*2 + 0.25 = 1.75, h2 = 2*0.5 + (1.75*0.5)*2 + 0.25 = 3
      expect(Array.from(y)).toEqual([1.75, 3]);
      expect(Array.from(hT)).toEqual([3]);
      // loss = y1 + y2: dpre2 = 1, dh1 = 1 + 1*2*0.5 = 2 = dpre1, dh0 = 2*2*0.5 = 2
      const dx = new F(2), dh0 = new F(1), dW = new F(1), dR = new F(1), db = new F(1);
      b.rnnBackward(base, x, W, R, null, new F([1, 1]), null, null, ws, dx, dh0, null, dW, dR, db, m);
      expect(Array.from(dx)).toEqual([1, 0.5]);
      expect(Array.from(dh0)).toEqual([2]);
      expect(Array.from(dW)).toEqual([4]);       // 1*2 + 2*1
      expect(Array.from(dR)).toEqual([1.875]);   // (h0*0.5)*2 + (h1*0.5)*1
      expect(Array.from(db)).toEqual([3]);
      // null and absent are no recurrent dropout
      b.rnnForward(base, x, W, R, bias, h0, null, null, y, hT, null, ws, null);
      expect(Array.from(y)).toEqual([2.75, 6.75]);
      b.rnnForward(base, x, W, R, bias, h0, null, null, y, hT, null, ws);
      expect(Array.from(y)).toEqual([2.75, 6.75]);
    }
  });

  test('a wrong recurrentMask throws naming it and the shapes', () => {
    const x = new Float32Array(2), W = new Float32Array(1), R = new Float32Array(1), y = new Float32Array(2);
    const ws = new Float32Array(b.rnnWorkspaceSize(base));
    const two: RnnConfig = { ...base, N: 2, T: 1 };
    const fwd = (c: RnnConfig, m: unknown): unknown => raw.rnnForward(c, x, W, R, null, null, null, null, y, null, null, ws, m);
    const bwd = (m: unknown): unknown => raw.rnnBackward(base, x, W, R, null, null, null, null, ws, null, null, null,
      new Float32Array(1), new Float32Array(1), null, m);
    expect(() => fwd(two, new Float32Array(1))).toThrow(/^rnnForward: recurrentMask has 1 elements but simpleRNN N=2, T=1, In=1, U=1 needs 2$/);
    // (the addon's errors come from Node's realm, not jest's: compared by name)
    const name = (f: () => unknown): string => { try { f(); } catch (e) { return (e as Error).name; } return 'none'; };
    expect(name(() => fwd(base, new Float64Array(1)))).toBe('TypeError');
    expect(name(() => fwd(two, new Float32Array(1)))).toBe('RangeError');
    expect(() => fwd(base, new Float64Array(1))).toThrow(/argument 'recurrentMask' is a Float64Array but x is a Float32Array/);
    expect(() => fwd(base, new Int32Array(1))).toThrow(/argument 'recurrentMask' must be a Float32Array or Float64Array/);
    expect(name(() => fwd(base, [1]))).toBe('TypeError');
    expect(() => fwd(base, y.subarray(1))).toThrow(/^rnnForward: argument 'y' overlaps argument 'recurrentMask'/);
    expect(() => fwd(base, ws.subarray(0, 1))).toThrow(/argument 'workspace' overlaps argument 'recurrentMask'/);
    expect(() => raw.rnnForward(base, x, W, R, null, null, null, null, y, null, null, ws, null, null)).toThrow(/^rnnForward: expects 12 to 13 arguments, got 14$/);
    expect(() => bwd(new Float32Array(0))).toThrow(/^rnnBackward: recurrentMask has 0 elements but simpleRNN N=1, T=2, In=1, U=1 needs 1$/);
    expect(() => bwd(ws.subarray(0, 1))).toThrow(/^rnnBackward: argument 'workspace' overlaps argument 'recurrentMask'/);
    expect(bwd(new Float32Array(1))).toBeUndefined();
  });
});
