// gf.layers.bidirectional: the forward half is the layer as given, the backward half the same
// layer run with goBackwards; merge modes; returnSequences alignment; masks; Keras weight
// names; training; save and load.
import * as gf from '../../lib';
import { ValueError } from '../../lib/errors';

test('concat of a forward and a backward copy, Keras weight names, output shapes', () => {
  gf.setSeed(1);
  const m = gf.sequential([gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 3, name: 'lstm' }), inputShape: [5, 2], name: 'bidirectional' })]);
  expect(m.layers[0].weights.map((w) => w.name)).toEqual([
    'bidirectional/forward_lstm/kernel', 'bidirectional/forward_lstm/recurrent_kernel', 'bidirectional/forward_lstm/bias',
    'bidirectional/backward_lstm/kernel', 'bidirectional/backward_lstm/recurrent_kernel', 'bidirectional/backward_lstm/bias',
  ]);
  const x = gf.randn([2, 5, 2], { seed: 2 });
  const y = m.predict(x);
  expect(y.shape).toEqual([2, 6]);
  const w = m.getWeights();
  const fwd = gf.layers.lstm({ units: 3 }), bwd = gf.layers.lstm({ units: 3, goBackwards: true });
  fwd.apply(x); bwd.apply(x);
  fwd.setWeights(w.slice(0, 3)); bwd.setWeights(w.slice(3));
  const yf = fwd.apply(x).data, yb = bwd.apply(x).data;
  for (let n = 0; n < 2; n++) {
    for (let u = 0; u < 3; u++) {
      expect(y.data[n * 6 + u]).toBeCloseTo(yf[n * 3 + u], 6);
      expect(y.data[n * 6 + 3 + u]).toBeCloseTo(yb[n * 3 + u], 6);
    }
  }
});

test('returnSequences: the backward half is reversed so step t belongs to input step t; sum/mul/ave', () => {
  gf.setSeed(3);
  const x = gf.randn([1, 4, 2], { seed: 4 });
  const cat = gf.layers.bidirectional({ layer: gf.layers.gru({ units: 2, returnSequences: true }) });
  const y = cat.apply(x);
  expect(y.shape).toEqual([1, 4, 4]);
  const w = cat.getWeights();
  const bwd = gf.layers.gru({ units: 2, returnSequences: true, goBackwards: true });
  bwd.apply(x); bwd.setWeights(w.slice(3));
  const yb = bwd.apply(x).data;   // processing order: yb step s is input step 3 - s
  for (let t = 0; t < 4; t++) for (let u = 0; u < 2; u++) expect(y.data[t * 4 + 2 + u]).toBeCloseTo(yb[(3 - t) * 2 + u], 6);
  for (const [mode, f] of [['sum', (a: number, b: number) => a + b], ['mul', (a: number, b: number) => a * b], ['ave', (a: number, b: number) => (a + b) / 2]] as const) {
    const l = gf.layers.bidirectional({ layer: gf.layers.gru({ units: 2, returnSequences: true }), mergeMode: mode });
    l.apply(x); l.setWeights(w);
    const z = l.apply(x);
    expect(z.shape).toEqual([1, 4, 2]);
    for (let t = 0; t < 4; t++) for (let u = 0; u < 2; u++) expect(z.data[t * 2 + u]).toBeCloseTo(f(y.data[t * 4 + u], y.data[t * 4 + 2 + u]), 5);
  }
});

test("the issue's model: embedding(maskZero) -> bidirectional(lstm) -> dense trains, padding does not matter, save/load is exact", async () => {
  gf.setSeed(9);
  const n = 64, T = 8;
  const x = new Int32Array(n * T), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    for (let t = T - 3 - (i % 4); t < T; t++) x[i * T + t] = (y[i] === 1 ? 1 : 5) + ((i * t) % 3);
  }
  const model = gf.sequential([
    gf.layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [T] }),
    gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 6 }) }),
    gf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.05 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const h = await model.fit(gf.tensor(x, [n, T]), gf.tensor(y, [n, 1]), { epochs: 15, batchSize: 16, verbose: 0 });
  const acc = h.history.acc ?? h.history.accuracy;
  expect(acc[acc.length - 1]).toBe(1);
  const a = model.predict(gf.tensor([[0, 0, 0, 0, 0, 2, 3, 1]], undefined, { dtype: 'int32' })).data[0];
  const b = model.predict(gf.tensor([[2, 0, 3, 0, 1, 0, 0, 0]], undefined, { dtype: 'int32' })).data[0];
  expect(b).toBeCloseTo(a, 6);
  const mem = gf.io.toMemory();
  await model.save(mem);
  const back = await gf.loadModel(gf.io.fromMemory(mem.artifacts!));
  expect(back.layers[1].className).toBe('Bidirectional');
  const probe = gf.tensor(x.subarray(0, 4 * T), [4, T]);
  expect(Array.from(back.predict(probe).data)).toEqual(Array.from(model.predict(probe).data));
});

test('bad arguments', () => {
  expect(() => gf.layers.bidirectional({ layer: gf.layers.dense({ units: 2 }) as never })).toThrow(/layer must be a simpleRNN, lstm or gru/);
  expect(() => gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 2 }), mergeMode: 'max' as never })).toThrow(ValueError);
  expect(() => gf.layers.bidirectional({ layer: gf.layers.gru({ units: 2, stateful: true }) })).toThrow(/stateful/);
});
