// Masks as Keras carries them: embedding({maskZero}) and masking() make them, Dense/Dropout
// carry them, recurrent layers skip masked steps (so padding changes nothing), returnSequences
// passes the mask on to the loss and metrics (test/models/masked-steps.test.ts covers those).
import * as gf from '../../lib';

const ids = (rows: number[][]): gf.Tensor => gf.tensor(rows, undefined, { dtype: 'int32' });

describe.each([['lstm'], ['gru'], ['simpleRNN']] as const)('%s after embedding({maskZero})', (kind) => {
  const make = { lstm: gf.layers.lstm, gru: gf.layers.gru, simpleRNN: gf.layers.simpleRNN }[kind];
  const model = (goBackwards: boolean, len: number): gf.Sequential => gf.sequential([
    gf.layers.embedding({ inputDim: 10, outputDim: 3, maskZero: true, inputShape: [len], name: 'emb' }),
    make({ units: 4, goBackwards, name: 'rnn' }),
  ]);

  test.each([false, true])('padding, in front or behind, gives the output of the unpadded sequence (goBackwards %s)', (goBackwards) => {
    gf.setSeed(5);
    const padded = model(goBackwards, 6);
    const plain = model(goBackwards, 3);
    plain.setWeights(padded.getWeights());
    const want = Array.from(plain.predict(ids([[4, 7, 2]])).data);
    for (const row of [[0, 0, 0, 4, 7, 2], [4, 7, 2, 0, 0, 0], [4, 0, 7, 0, 2, 0]]) {
      const got = Array.from(padded.predict(ids([row])).data);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    }
  });

  test('without maskZero the padding does change the output', () => {
    gf.setSeed(6);
    const m = gf.sequential([gf.layers.embedding({ inputDim: 10, outputDim: 3, inputShape: [6] }), make({ units: 4 })]);
    const a = m.predict(ids([[0, 0, 0, 4, 7, 2]])).data, b = m.predict(ids([[4, 7, 2, 0, 0, 0]])).data;
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });
});

test('masking() marks steps whose features all equal maskValue, zeroes them, and the LSTM skips them', () => {
  const x = gf.tensor([[[1, 2], [-1, -1], [3, 4]]]);
  const layer = gf.layers.masking({ maskValue: -1 });
  expect(Array.from(layer.apply(x).data, (v) => v + 0)).toEqual([1, 2, 0, 0, 3, 4]);   // (-1 * 0 is -0, as in Keras)
  expect(layer.computeMask(x, null)!.toArray()).toEqual([[1, 0, 1]]);
  gf.setSeed(7);
  const m = gf.sequential([gf.layers.masking({ maskValue: -1, inputShape: [3, 2] }), gf.layers.lstm({ units: 3 })]);
  const short = gf.sequential([gf.layers.lstm({ units: 3, inputShape: [2, 2] })]);
  short.setWeights(m.getWeights());
  const want = Array.from(short.predict(gf.tensor([[[1, 2], [3, 4]]])).data);
  Array.from(m.predict(x).data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
});

test('the mask is carried through Dense and Dropout and goes on with returnSequences', () => {
  const m = gf.sequential([
    gf.layers.embedding({ inputDim: 10, outputDim: 3, maskZero: true, inputShape: [4] }),
    gf.layers.dense({ units: 3 }), gf.layers.dropout({ rate: 0.1 }),
    gf.layers.gru({ units: 2, returnSequences: true }),
    gf.layers.lstm({ units: 2 }),
  ]);
  const a = m.predict(ids([[5, 6, 0, 0]])).data, b = m.predict(ids([[5, 6, 0, 9]])).data;
  expect(Array.from(a)).not.toEqual(Array.from(b));   // step 4 counts when unmasked
  const c = m.predict(ids([[5, 0, 6, 0]])).data;
  Array.from(c).forEach((v, i) => expect(v).toBeCloseTo(a[i], 6));   // masked steps do not
});

test('an IMDB-shaped model with maskZero trains; a masked returnSequences output trains and evaluates', async () => {
  gf.setSeed(8);
  const n = 64, T = 8;
  const x = new Int32Array(n * T), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const len = 2 + (i % 5);
    y[i] = i % 2;
    for (let t = T - len; t < T; t++) x[i * T + t] = (y[i] === 1 ? 1 : 4) + ((i + t) % 3);
  }
  const m = gf.sequential([
    gf.layers.embedding({ inputDim: 8, outputDim: 4, maskZero: true, inputShape: [T] }),
    gf.layers.lstm({ units: 8 }),
    gf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.05 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(gf.tensor(x, [n, T]), gf.tensor(y, [n, 1]), { epochs: 20, batchSize: 16, verbose: 0 });
  const acc = h.history.acc ?? h.history.accuracy;
  expect(acc[acc.length - 1]).toBe(1);

  const seq = gf.sequential([
    gf.layers.embedding({ inputDim: 8, outputDim: 4, maskZero: true, inputShape: [T], name: 'words' }),
    gf.layers.lstm({ units: 2, returnSequences: true }),
  ]);
  seq.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const hs = await seq.fit(gf.tensor(x, [n, T]), gf.zeros([n, T, 2]), { epochs: 2, verbose: 0 });
  expect(hs.history.loss[1]).toBeLessThan(hs.history.loss[0]);
  expect(Number.isFinite(seq.evaluate(gf.tensor(x, [n, T]), gf.zeros([n, T, 2]))[0])).toBe(true);
  expect(seq.predict(gf.tensor(x, [n, T])).shape).toEqual([n, T, 2]);   // predict is fine
});

test('maskZero and masking save and load', async () => {
  const m = gf.sequential([
    gf.layers.embedding({ inputDim: 6, outputDim: 2, maskZero: true, inputShape: [5] }),
    gf.layers.gru({ units: 3 }),
  ]);
  const mem = gf.io.toMemory();
  await m.save(mem);
  const back = await gf.loadModel(gf.io.fromMemory(mem.artifacts!));
  expect((back.layers[0] as gf.layers.Embedding).maskZero).toBe(true);
  const x = ids([[0, 0, 3, 4, 5]]);
  expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));
  const mk = gf.sequential([gf.layers.masking({ maskValue: 2, inputShape: [3, 1] }), gf.layers.simpleRNN({ units: 1 })]);
  const mem2 = gf.io.toMemory();
  await mk.save(mem2);
  expect(((await gf.loadModel(gf.io.fromMemory(mem2.artifacts!))).layers[0] as gf.layers.Masking).maskValue).toBe(2);
});
