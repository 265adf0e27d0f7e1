// Embedding: table lookup forward, scatter-add gradient (repeated ids sum), training on a toy
// task, Keras config and save/load, and bad ids.
import * as gf from '../../lib';
import { ShapeError, ValueError, ModelFormatError } from '../../lib/errors';

test('forward returns the table rows, for int32 and integral float ids', () => {
  const layer = gf.layers.embedding({ inputDim: 5, outputDim: 3, inputShape: [4] });
  const ids = gf.tensor([[0, 4, 4, 2], [1, 1, 3, 0]], undefined, { dtype: 'int32' });
  const y = layer.apply(ids);
  expect(y.shape).toEqual([2, 4, 3]);
  const table = layer.getWeights()[0];
  expect(table.shape).toEqual([5, 3]);
  const t = table.data, yd = y.data;
  [0, 4, 4, 2, 1, 1, 3, 0].forEach((id, k) => {
    expect(Array.from(yd.subarray(k * 3, k * 3 + 3))).toEqual(Array.from(t.subarray(id * 3, id * 3 + 3)));
  });
  expect(Array.from(layer.apply(gf.tensor([[0, 4, 4, 2], [1, 1, 3, 0]])).data)).toEqual(Array.from(yd));
  // Keras's default initializer: uniform in [-0.05, 0.05]
  expect(Array.from(t).every((v) => Math.abs(v) <= 0.05)).toBe(true);
});

test('the gradient adds into the rows used (repeated ids sum); other rows get zero', () => {
  const layer = gf.layers.embedding({ inputDim: 4, outputDim: 2, inputShape: [3] });
  const y = layer.apply(gf.tensor([[1, 3, 1]], undefined, { dtype: 'int32' }));
  const w = gf.tensor([[[1, 2], [3, 4], [5, 6]]]);
  y.mul(w).sum().backward();
  const g = layer.trainableWeights[0].value.grad!;
  expect(g.toArray()).toEqual([[0, 0], [6, 8], [0, 0], [3, 4]]);
});

test('an Embedding + Flatten + Dense model learns which token marks the class', async () => {
  gf.setSeed(3);
  const n = 64, len = 6;
  const ids = new Int32Array(n * len), labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < len; t++) ids[i * len + t] = 2 + ((i * 7 + t * 3) % 8);
    labels[i] = i % 2;
    ids[i * len + (i % len)] = labels[i] === 1 ? 1 : 0;  // token 1 means positive, 0 negative
  }
  const x = gf.tensor(ids, [n, len]);
  const y = gf.tensor(labels, [n, 1]);
  const m = gf.sequential([
    gf.layers.embedding({ inputDim: 10, outputDim: 4, inputShape: [len] }),
    gf.layers.flatten(),
    gf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.05 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(x, y, { epochs: 40, batchSize: 16, verbose: 0 });
  expect(h.history.acc?.[39] ?? h.history.accuracy?.[39]).toBe(1);
});

test('Keras config, save and load bit for bit', async () => {
  const m = gf.sequential([gf.layers.embedding({ inputDim: 7, outputDim: 3, inputShape: [5], name: 'emb' }), gf.layers.flatten(), gf.layers.dense({ units: 2 })]);
  const cfg = m.layers[0].getConfig();
  expect(cfg).toMatchObject({ input_dim: 7, output_dim: 3, mask_zero: false, name: 'emb' });
  expect((cfg.embeddings_initializer as { class_name: string }).class_name).toBe('RandomUniform');
  const x = gf.tensor([[0, 1, 2, 3, 6]], undefined, { dtype: 'int32' });
  const before = Array.from(m.predict(x).data);
  const mem = gf.io.toMemory();
  await m.save(mem);
  const back = await gf.loadModel(gf.io.fromMemory(mem.artifacts!));
  expect(back.layers[0].className).toBe('Embedding');
  expect(back.getWeights()[0].shape).toEqual([7, 3]);
  expect(Array.from(back.predict(x).data)).toEqual(before);
  // a Keras 2 file with input_length and no input shape
  const keras2 = { class_name: 'Embedding', config: { name: 'e', input_dim: 4, output_dim: 2, input_length: 3, mask_zero: false } };
  const j = m.toJSON() as { config: { layers: unknown[] } };
  j.config.layers = [keras2];
  const fromK2 = gf.modelFromJSON(j as never);
  expect(fromK2.layers[0].computeOutputShape([null, 3])).toEqual([null, 3, 2]);
});

test('bad ids and arguments are typed errors naming the layer', () => {
  const layer = gf.layers.embedding({ inputDim: 3, outputDim: 2, name: 'words' });
  expect(() => layer.apply(gf.tensor([[0, 3]], undefined, { dtype: 'int32' }))).toThrow(ShapeError);
  expect(() => layer.apply(gf.tensor([[0, 3]], undefined, { dtype: 'int32' }))).toThrow(/words: id 3 at flat position 1 .* outside \[0, 3\)/);
  expect(() => layer.apply(gf.tensor([[0.5, 1]]))).toThrow(/id 0.5/);
  expect(() => gf.layers.embedding({ inputDim: 0, outputDim: 2 })).toThrow(ValueError);
  expect(() => gf.layers.embedding({ inputDim: 3, outputDim: 2.5 })).toThrow(/outputDim must be a positive integer/);
  const j = { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Embedding', config: { name: 'e', input_dim: 4, output_dim: 2.5, batch_input_shape: [null, 3] } }] } };
  expect(() => gf.modelFromJSON(j as never)).toThrow(ModelFormatError);
});
