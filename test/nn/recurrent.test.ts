// gf.layers.simpleRNN / lstm / gru: Keras's weights and defaults, output shapes, goBackwards,
// stateful layers, training on a sequence task, save/load bit for bit, and bad input.
import * as gf from '../../lib';
import { ShapeError, ValueError } from '../../lib/errors';
import { risingAndFalling } from '../util/helpers';

test('weights: Keras names, layouts and initial values (orthogonal recurrent kernel, unit forget bias)', () => {
  const m = gf.sequential([gf.layers.lstm({ units: 3, inputShape: [5, 2], name: 'lstm' })]);
  const names = m.layers[0].weights.map((w) => w.name);
  expect(names).toEqual(['lstm/kernel', 'lstm/recurrent_kernel', 'lstm/bias']);
  const [k, r, b] = m.getWeights();
  expect(k.shape).toEqual([2, 12]);
  expect(r.shape).toEqual([3, 12]);
  expect(Array.from(b.data)).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);  // i, f = 1, c, o
  // each 3x3 gate block of an orthogonal [3, 12] matrix: rows are orthonormal
  const rr = r.toArray() as number[][];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dot = rr[i].reduce((s, v, c) => s + v * rr[j][c], 0);
      expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
    }
  }
  const g = gf.sequential([gf.layers.gru({ units: 4, inputShape: [5, 2] })]);
  expect(g.getWeights()[2].shape).toEqual([2, 12]);   // resetAfter: input and recurrent biases
  const g2 = gf.sequential([gf.layers.gru({ units: 4, resetAfter: false, inputShape: [5, 2] })]);
  expect(g2.getWeights()[2].shape).toEqual([12]);
});

test('returnSequences, the last output, goBackwards', () => {
  const x = gf.randn([2, 6, 3], { seed: 1 });
  for (const make of [gf.layers.simpleRNN, gf.layers.lstm, gf.layers.gru]) {
    const seq = make({ units: 4, returnSequences: true, inputShape: [6, 3] });
    const y = seq.apply(x);
    expect(y.shape).toEqual([2, 6, 4]);
    const last = make({ units: 4, inputShape: [6, 3] });
    last.apply(x);  // builds
    last.setWeights(seq.getWeights());
    const h = last.apply(x);
    expect(h.shape).toEqual([2, 4]);
    const yd = y.data, hd = h.data;
    for (let n = 0; n < 2; n++) for (let u = 0; u < 4; u++) expect(hd[n * 4 + u]).toBe(yd[(n * 6 + 5) * 4 + u]);
    // goBackwards on a reversed sequence equals forwards on the original
    const back = make({ units: 4, goBackwards: true, inputShape: [6, 3] });
    back.apply(x);
    back.setWeights(seq.getWeights());
    const rev = gf.tensor(Float32Array.from({ length: 36 }, (_, i) => {
      const n = Math.floor(i / 18), t = Math.floor((i % 18) / 3), f = i % 3;
      return x.data[(n * 6 + (5 - t)) * 3 + f];
    }), [2, 6, 3]);
    const hb = back.apply(rev).data;
    for (let i = 0; i < 8; i++) expect(hb[i]).toBeCloseTo(hd[i], 6);
  }
});

test('stateful: the next batch starts from the last states; resetStates starts over', () => {
  const layer = gf.layers.gru({ units: 3, stateful: true, inputShape: [4, 2] });
  const full = gf.layers.gru({ units: 3, inputShape: [8, 2] });
  const x = gf.randn([2, 8, 2], { seed: 2 });
  const first = gf.slice(x, [0, 0, 0], [2, 4, 2]), second = gf.slice(x, [0, 4, 0], [2, 4, 2]);
  layer.apply(first);
  full.apply(x);
  full.setWeights(layer.getWeights());
  const split = layer.apply(second).data;
  const whole = full.apply(x).data;
  for (let i = 0; i < 6; i++) expect(split[i]).toBeCloseTo(whole[i], 6);
  layer.resetStates();
  const fresh = gf.layers.gru({ units: 3, inputShape: [4, 2] });
  fresh.apply(first);
  fresh.setWeights(layer.getWeights());
  expect(Array.from(layer.apply(first).data)).toEqual(Array.from(fresh.apply(first).data));
  expect(() => layer.apply(gf.randn([3, 4, 2], { seed: 3 }))).toThrow(/keeps the batch size of its first batch \(2\)/);
});

test('an LSTM learns to tell rising from falling sequences; a GRU and a SimpleRNN too', async () => {
  gf.setSeed(7);
  const n = 128, T = 8;
  const { x, y } = risingAndFalling(n, T);
  for (const make of [gf.layers.lstm, gf.layers.gru, gf.layers.simpleRNN]) {
    const m = gf.sequential([make({ units: 8, inputShape: [T, 1] }), gf.layers.dense({ units: 1, activation: 'sigmoid' })]);
    m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.02 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 30, batchSize: 32, verbose: 0, seed: 1 });
    const acc = h.history.acc ?? h.history.accuracy;
    expect(acc[acc.length - 1]).toBeGreaterThanOrEqual(0.95);
  }
});

test('save and load bit for bit, with the Keras config', async () => {
  const m = gf.sequential([
    gf.layers.gru({ units: 5, returnSequences: true, inputShape: [7, 3], name: 'gru' }),
    gf.layers.lstm({ units: 4, goBackwards: true, dropout: 0.2, name: 'lstm' }),
    gf.layers.dense({ units: 2 }),
  ]);
  const cfg = m.layers[0].getConfig();
  expect(cfg).toMatchObject({ units: 5, activation: 'tanh', recurrent_activation: 'sigmoid', reset_after: true, return_sequences: true });
  const x = gf.randn([3, 7, 3], { seed: 4 });
  const before = Array.from(m.predict(x).data);
  const mem = gf.io.toMemory();
  await m.save(mem);
  const back = await gf.loadModel(gf.io.fromMemory(mem.artifacts!));
  expect(back.layers.map((l) => l.className)).toEqual(['GRU', 'LSTM', 'Dense']);
  expect(Array.from(back.predict(x).data)).toEqual(before);
  expect((back.layers[1] as gf.layers.LSTM).goBackwards).toBe(true);
});

test('bad input: clear errors naming the layer and the shapes', () => {
  expect(() => gf.layers.lstm({ units: 0 })).toThrow(ValueError);
  expect(() => gf.layers.lstm({ units: 2.5 })).toThrow(/units must be a positive integer/);
  expect(() => gf.layers.gru({ units: 2, recurrentDropout: 1 })).toThrow(/gru: recurrentDropout must be in \[0, 1\), got 1/);
  expect(() => gf.layers.lstm({ units: 2, activation: 'elu' })).toThrow(/'elu' is not supported/);
  expect(() => gf.layers.lstm({ units: 2, inputShape: [4] })).toThrow(ShapeError);
  const layer = gf.layers.simpleRNN({ units: 2, name: 'rnn' });
  expect(() => layer.apply(gf.zeros([2, 3]))).toThrow(/rnn: a recurrent layer needs input \[batch, time, features\] \(rank 3\)/);
});
