// Saving and loading the wrapper layers, TimeDistributed and Bidirectional: gradforge's own
// round trips are bit-exact (memory and folder, nested wrappers, frozen and regularized inner
// layers); Keras 3 files load (a Bidirectional with its backward_layer and 'forward_' name,
// GRU reset_after true, weight paths with the cell in them); bad configs are ModelFormatErrors.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';
import { regularizers } from '../../lib/nn';

function bitsEqual(a: gf.Tensor, b: gf.Tensor): void {
  expect(b.shape).toEqual(a.shape);
  expect(Buffer.from(new Float32Array(b.data).buffer).equals(Buffer.from(new Float32Array(a.data).buffer))).toBe(true);
}

/** Every weight replaced by seeded noise (biases nonzero). */
function randomize(m: gf.Sequential, seed: number): void {
  m.setWeights(m.getWeights().map((w, i) => gf.randUniform([...w.shape], { seed: seed + i }).sub(0.5).mul(1.2)));
}

type Topology = { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };

async function roundTrips(m: gf.Sequential, x: gf.Tensor): Promise<gf.Sequential> {
  const a = await m.save(gf.io.toMemory());
  const back = await gf.loadModel(gf.io.fromMemory(a));
  bitsEqual(m.predict(x), back.predict(x));
  expect(back.weights.map((w) => w.name)).toEqual(m.weights.map((w) => w.name));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-wrappers-'));
  try {
    await m.save(`file://${dir}`);
    bitsEqual(m.predict(x), (await gf.loadModel(`file://${dir}`)).predict(x));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return back;
}

describe('TimeDistributed save/load', () => {
  test('embedding(maskZero) -> lstm(returnSequences) -> timeDistributed(dense): config, weight names, bit-exact round trips', async () => {
    gf.setSeed(21);
    const m = gf.sequential([
      gf.layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true, inputShape: [6] }),
      gf.layers.lstm({ units: 5, returnSequences: true }),
      gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }), name: 'time_distributed' }),
    ]);
    randomize(m, 10);
    const a = await m.save(gf.io.toMemory());
    const td = (a.modelTopology as Topology).config.layers[2];
    expect(td.class_name).toBe('TimeDistributed');
    expect(td.config).toMatchObject({ name: 'time_distributed', trainable: true, layer: { class_name: 'Dense', config: { name: 'dense', units: 3, activation: 'softmax' } } });
    expect((td.config.layer as { config: Record<string, unknown> }).config).not.toHaveProperty('batch_input_shape');
    expect(a.weightSpecs!.slice(-2).map((s) => s.name)).toEqual(['time_distributed/kernel', 'time_distributed/bias']);
    const x = gf.tensor([[1, 2, 3, 0, 0, 0], [0, 0, 8, 7, 6, 5]], undefined, { dtype: 'int32' });
    const back = await roundTrips(m, x);
    expect(back.layers[2].className).toBe('TimeDistributed');
    expect((back.layers[2] as gf.layers.TimeDistributed).layer.className).toBe('Dense');
  });

  test('nested and image wrappers: timeDistributed(conv2d), timeDistributed(bidirectional(lstm)), frozen and regularized inner layers', async () => {
    gf.setSeed(22);
    const conv = gf.sequential([
      gf.layers.timeDistributed({ layer: gf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelRegularizer: regularizers.l2({ l2: 0.01 }) }), inputShape: [3, 6, 6, 1] }),
      gf.layers.timeDistributed({ layer: gf.layers.batchNormalization() }),
      gf.layers.timeDistributed({ layer: gf.layers.flatten() }),
      gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 4 }), trainable: false }),
    ]);
    randomize(conv, 30);
    const back = await roundTrips(conv, gf.randn([2, 3, 6, 6, 1], { seed: 1 }));
    expect(back.layers[3].trainable).toBe(false);
    expect((back.layers[3] as gf.layers.TimeDistributed).layer.trainable).toBe(false);
    expect(back.trainableWeights.length).toBe(2 + 2);   // conv kernel, bias; bn gamma, beta
    expect(back.layers[0].regularizationLoss()!.item()).toBeCloseTo(conv.layers[0].regularizationLoss()!.item(), 6);

    const nested = gf.sequential([
      gf.layers.timeDistributed({ layer: gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 3, name: 'lstm' }), name: 'bidirectional' }), inputShape: [4, 5, 2], name: 'time_distributed' }),
    ]);
    expect(nested.weights.map((w) => w.name)).toEqual([
      'time_distributed/forward_lstm/kernel', 'time_distributed/forward_lstm/recurrent_kernel', 'time_distributed/forward_lstm/bias',
      'time_distributed/backward_lstm/kernel', 'time_distributed/backward_lstm/recurrent_kernel', 'time_distributed/backward_lstm/bias',
    ]);
    expect(nested.outputShape).toEqual([null, 4, 6]);
    randomize(nested, 40);
    await roundTrips(nested, gf.randn([2, 4, 5, 2], { seed: 2 }));
  });

  test('bad TimeDistributed configs are ModelFormatErrors saying where', async () => {
    const m = gf.sequential([gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2 }), inputShape: [3, 4] })]);
    const a = await m.save(gf.io.toMemory());
    const withConfig = (edit: (c: Record<string, unknown>) => void): unknown => {
      const j = JSON.parse(JSON.stringify(a.modelTopology)) as Topology;
      edit(j.config.layers[0].config);
      return { ...a, modelTopology: j };
    };
    const load = (art: unknown): Promise<gf.Sequential> => gf.loadModel(gf.io.fromMemory(art as never));
    await expect(load(withConfig((c) => { delete c.layer; }))).rejects.toThrow(/layer 0 \(TimeDistributed.*config.layer must be \{class_name, config\}/);
    await expect(load(withConfig((c) => { c.layer = 'dense'; }))).rejects.toThrow(gf.ModelFormatError);
    await expect(load(withConfig((c) => { (c.layer as { class_name: string }).class_name = 'Nope'; }))).rejects.toThrow(/layer 0 \(TimeDistributed.* > layer: unknown layer class 'Nope'/);
    await expect(load(withConfig((c) => { c.batch_input_shape = [null, 4]; }))).rejects.toThrow(/rank >= 3, got \[-1, 4\]/);
    await expect(load(withConfig((c) => { (c.layer as { config: Record<string, unknown> }).config.units = 5; }))).rejects.toThrow(/has shape \[4,2\], the topology needs \[4,5\]/);
  });
});

describe('Bidirectional save/load', () => {
  test.each([['lstm'], ['gru']])('bidirectional(%s) (GRU: reset_after true, the default) round trips bit-exact, every merge mode', async (kind) => {
    for (const [i, mergeMode] of (['concat', 'sum', 'mul', 'ave'] as const).entries()) {
      gf.setSeed(50 + i);
      const inner = kind === 'lstm' ? gf.layers.lstm({ units: 3, returnSequences: i % 2 === 0 }) : gf.layers.gru({ units: 3, returnSequences: i % 2 === 0 });
      const m = gf.sequential([gf.layers.bidirectional({ layer: inner, mergeMode, inputShape: [5, 2] })]);
      randomize(m, 60 + i);
      const back = await roundTrips(m, gf.randn([3, 5, 2], { seed: i }));
      expect((back.layers[0] as gf.layers.Bidirectional).mergeMode).toBe(mergeMode);
    }
  });
});

describe('Keras 3 files', () => {
  // what Keras 3 writes for Sequential([Input((5, 3)), Bidirectional(GRU(2, return_sequences=True)),
  // TimeDistributed(Dense(2))]) (keras.src serialization, then the converter's model.json)
  const init = (cls: string, config: Record<string, unknown> = {}) => ({ module: 'keras.initializers', class_name: cls, config, registered_name: null });
  const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  // Keras 3 writes recurrent_initializer 'OrthogonalInitializer' (tested below); most files
  // here use its alias 'Orthogonal'
  const gru = (name: string, goBackwards: boolean, orthogonal = 'Orthogonal') => ({
    module: 'keras.layers', class_name: 'GRU', registered_name: null, build_config: { input_shape: [null, 5, 3] },
    config: {
      name, trainable: true, dtype: policy, return_sequences: true, return_state: false, go_backwards: goBackwards,
      stateful: false, unroll: false, zero_output_for_mask: true, units: 2, activation: 'tanh', recurrent_activation: 'sigmoid',
      use_bias: true, kernel_initializer: init('GlorotUniform', { seed: null }), recurrent_initializer: init(orthogonal, { gain: 1.0, seed: null }),
      bias_initializer: init('Zeros'), kernel_regularizer: null, recurrent_regularizer: null, bias_regularizer: null,
      activity_regularizer: null, kernel_constraint: null, recurrent_constraint: null, bias_constraint: null,
      dropout: 0.0, recurrent_dropout: 0.0, reset_after: true, seed: null,
    },
  });
  const topology = (backward: unknown, forward: unknown = gru('forward_gru', false)) => ({
    keras_version: '3.6.0', backend: 'tensorflow',
    model_config: {
      class_name: 'Sequential',
      config: {
        name: 'sequential', trainable: true, dtype: policy,
        layers: [
          { module: 'keras.layers', class_name: 'InputLayer', registered_name: null, config: { batch_shape: [null, 5, 3], dtype: 'float32', sparse: false, name: 'input_layer' } },
          { module: 'keras.layers', class_name: 'Bidirectional', registered_name: null, build_config: { input_shape: [null, 5, 3] },
            config: { name: 'bidirectional', trainable: true, dtype: policy, merge_mode: 'concat', layer: forward, backward_layer: backward } },
          { module: 'keras.layers', class_name: 'TimeDistributed', registered_name: null, build_config: { input_shape: [null, 5, 4] },
            config: { name: 'time_distributed', trainable: true, dtype: policy,
              layer: { module: 'keras.layers', class_name: 'Dense', registered_name: null, config: { name: 'dense', trainable: true, dtype: policy, units: 2, activation: 'linear', use_bias: true, kernel_initializer: init('GlorotUniform', { seed: null }), bias_initializer: init('Zeros'), kernel_regularizer: null, bias_regularizer: null, kernel_constraint: null, bias_constraint: null } } } },
        ],
      },
    },
  });
  // Keras 3's weight paths carry the cell and the wrapped layer: the loader places them by position
  const shapes: [string, number[]][] = [
    ['bidirectional/forward_gru/gru_cell/kernel', [3, 6]], ['bidirectional/forward_gru/gru_cell/recurrent_kernel', [2, 6]], ['bidirectional/forward_gru/gru_cell/bias', [2, 6]],
    ['bidirectional/backward_gru/gru_cell/kernel', [3, 6]], ['bidirectional/backward_gru/gru_cell/recurrent_kernel', [2, 6]], ['bidirectional/backward_gru/gru_cell/bias', [2, 6]],
    ['time_distributed/dense/kernel', [4, 2]], ['time_distributed/dense/bias', [2]],
  ];
  const values = shapes.map(([, s], i) => gf.randUniform(s, { seed: 70 + i }).sub(0.5));
  const artifacts = (backward: unknown, forward?: unknown): unknown => ({
    modelTopology: topology(backward, forward), format: 'layers-model', generatedBy: 'keras v3.6.0', convertedBy: 'TensorFlow.js Converter v4.22.0',
    weightSpecs: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })),
    // a view, not its .buffer: under jest a typed array's buffer may come from another realm
    weightData: Float32Array.from(values.flatMap((v) => Array.from(v.data))),
  });

  test('a Bidirectional with its backward_layer, GRU reset_after true and TimeDistributed loads, predicts as the same model built here', async () => {
    const m = await gf.loadModel(gf.io.fromMemory(artifacts(gru('backward_gru', true)) as never));
    expect(m.layers.map((l) => l.className)).toEqual(['Bidirectional', 'TimeDistributed']);
    // Keras's names: the 'forward_' of the file's layer name is not doubled
    expect(m.weights.map((w) => w.name)).toEqual(shapes.map(([n]) => n.replace('/gru_cell', '').replace('time_distributed/dense/', 'time_distributed/')));
    const want = gf.sequential([
      gf.layers.bidirectional({ layer: gf.layers.gru({ units: 2, returnSequences: true }), inputShape: [5, 3] }),
      gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2 }) }),
    ]);
    want.setWeights(values);
    const x = gf.randn([2, 5, 3], { seed: 9 });
    bitsEqual(want.predict(x), m.predict(x));
    // and what gradforge writes of it loads back the same
    await roundTrips(m, x);
  });

  test('a backward_layer that is not the automatic copy is refused', async () => {
    const other = gru('backward_gru', true);
    other.config.activation = 'relu';
    await expect(gf.loadModel(gf.io.fromMemory(artifacts(other) as never))).rejects.toThrow(/backward_layer must be the forward layer's config with go_backwards flipped/);
    await expect(gf.loadModel(gf.io.fromMemory(artifacts(gru('backward_gru', false)) as never))).rejects.toThrow(gf.ModelFormatError);
    await expect(gf.loadModel(gf.io.fromMemory(artifacts('gru') as never))).rejects.toThrow(/backward_layer/);
  });

  test("Keras 3's recurrent_initializer 'OrthogonalInitializer' is read as Orthogonal", async () => {
    const k3 = artifacts(gru('backward_gru', true, 'OrthogonalInitializer'), gru('forward_gru', false, 'OrthogonalInitializer'));
    const m = await gf.loadModel(gf.io.fromMemory(k3 as never));
    expect(m.layers.map((l) => l.className)).toEqual(['Bidirectional', 'TimeDistributed']);
  });
});
