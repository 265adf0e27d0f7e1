// The layers-model format: model.json + weights.bin, memory artifacts, what TensorFlow.js and
// Keras write (shards, model_config, bare layer lists, batch_shape, InputLayer), toJSON.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gf-io-'));
}

function mlp(): gf.Sequential {
  gf.setSeed(11);
  return gf.sequential([
    gf.layers.dense({ units: 8, activation: 'relu', inputShape: [5] }),
    gf.layers.dropout({ rate: 0.25 }),
    gf.layers.dense({ units: 3, activation: 'softmax' }),
  ], { name: 'mlp' });
}

function bitsEqual(a: gf.Tensor, b: gf.Tensor): void {
  expect(b.shape).toEqual(a.shape);
  expect(Buffer.from(new Float32Array(b.data).buffer).equals(Buffer.from(new Float32Array(a.data).buffer))).toBe(true);
}

describe('layers-model format', () => {
  const x = gf.randn([7, 5], { seed: 3 });

  test('file:// round trip: model.json fields, weights.bin bytes, identical predictions', async () => {
    const m = mlp();
    const dir = tmpDir();
    const r = await m.save(`file://${dir}`);
    expect(r.modelArtifactsInfo.weightDataBytes).toBe((5 * 8 + 8 + 8 * 3 + 3) * 4);
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    expect(j.format).toBe('layers-model');
    expect(j.generatedBy).toMatch(/^gradforge /);
    expect(j.convertedBy).toBeNull();
    expect(j.modelTopology.class_name).toBe('Sequential');
    expect(j.modelTopology.config.name).toBe('mlp');
    expect(j.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual(['Dense', 'Dropout', 'Dense']);
    expect(j.modelTopology.config.layers[0].config.batch_input_shape).toEqual([null, 5]);
    expect(typeof j.modelTopology.keras_version).toBe('string');
    expect(j.modelTopology.backend).toBe('tensor_flow.js');
    const names = m.weights.map((w) => w.name);
    expect(j.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: [
      { name: names[0], shape: [5, 8], dtype: 'float32' }, { name: names[1], shape: [8], dtype: 'float32' },
      { name: names[2], shape: [8, 3], dtype: 'float32' }, { name: names[3], shape: [3], dtype: 'float32' },
    ] }]);
    expect(names[0]).toMatch(/^dense(_\d+)?\/kernel$/);
    // weights.bin: the tensors' little-endian float32 bytes in manifest order
    const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
    const expected = Buffer.concat(m.getWeights().map((w) => Buffer.from(new Float32Array(w.data).buffer)));
    expect(bin.equals(expected)).toBe(true);

    const m2 = await gf.loadModel(`file://${dir}`);
    expect(m2.name).toBe('mlp');
    expect(m2.layers.map((l) => l.name)).toEqual(m.layers.map((l) => l.name));
    expect(m2.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
    bitsEqual(m.predict(x), m2.predict(x));
    // a path to model.json itself also loads
    bitsEqual(m.predict(x), (await gf.loadModel(`file://${path.join(dir, 'model.json')}`)).predict(x));
  });

  test('memory artifacts and a user IOHandler', async () => {
    const m = mlp();
    const { modelTopology, weightSpecs, weightData } = await m.save(gf.io.toMemory());
    expect(modelTopology).toEqual(m.toJSON());
    expect(weightData!.byteLength).toBe(m.countParams() * 4);
    const m2 = await gf.loadModel(gf.io.fromMemory({ modelTopology: modelTopology!, weightSpecs, weightData }));
    bitsEqual(m.predict(x), m2.predict(x));
    // tfjs's three-argument form, and weightData as a Node Buffer (from a database)
    const m3 = await gf.loadModel(gf.io.fromMemory(modelTopology!, weightSpecs, Buffer.from(weightData!) as unknown as ArrayBuffer));
    bitsEqual(m.predict(x), m3.predict(x));

    const store = new Map<string, string>();
    const handler: gf.io.IOHandler = {
      async save(a) {
        store.set('m', JSON.stringify({ ...a, weightData: Buffer.from(a.weightData!).toString('base64') }));
        return { modelArtifactsInfo: gf.io.artifactsInfo(a) };
      },
      async load() {
        const o = JSON.parse(store.get('m')!);
        return { ...o, weightData: new Uint8Array(Buffer.from(o.weightData, 'base64')).buffer };
      },
    };
    await m.save(handler);
    bitsEqual(m.predict(x), (await gf.loadModel(handler)).predict(x));
  });

  test('toJSON / modelFromJSON rebuild the architecture; JSON.stringify(model) is the topology', () => {
    const m = mlp();
    const copy = gf.modelFromJSON(m.toJSON());
    expect(copy.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
    expect(copy.weights.map((w) => w.shape)).toEqual(m.weights.map((w) => w.shape));
    const again = gf.modelFromJSON(JSON.stringify(m));
    expect(again.countParams()).toBe(m.countParams());
    copy.setWeights(m.getWeights());
    bitsEqual(m.predict(x), copy.predict(x));
  });

  test('a model built by fit (no inputShape) saves its input shape', async () => {
    gf.setSeed(4);
    const m = gf.sequential([gf.layers.dense({ units: 2 })]);
    m.predict(x);
    const a = await m.save(gf.io.toMemory());
    const m2 = await gf.loadModel(gf.io.fromMemory(a));
    bitsEqual(m.predict(x), m2.predict(x));
  });

  test('loading does not move the global random source', async () => {
    const m = mlp();
    const a = await m.save(gf.io.toMemory());
    gf.setSeed(5);
    const r1 = gf.randn([4]);
    gf.setSeed(5);
    await gf.loadModel(gf.io.fromMemory(a));
    const r2 = gf.randn([4]);
    expect(Array.from(r2.data)).toEqual(Array.from(r1.data));
  });

  test('Rng.getState / setState resume the same sequence (the cached normal too)', () => {
    const r = new gf.Rng(3);
    r.normal();
    const st = r.getState();
    expect(st.length).toBe(5);
    const a = [r.normal(), r.uniform(), r.normal()];
    const r2 = new gf.Rng(99);
    r2.setState(st);
    expect([r2.normal(), r2.uniform(), r2.normal()]).toEqual(a);
    expect(() => r2.setState([0, 0, 0, 0])).toThrow(gf.ValueError);
    expect(() => r2.setState([1, 2, 3] as never)).toThrow(gf.ValueError);
  });

  test('what TensorFlow.js / Keras write: shards, model_config, bare layer list, batch_shape, InputLayer', async () => {
    const m = mlp();
    const a = await m.save(gf.io.toMemory());
    const bytes = Buffer.from(a.weightData!);
    const dir = tmpDir();
    // three shards that split tensors at arbitrary byte offsets
    const cuts = [0, 37 * 4, 61 * 4 + 0, bytes.length];
    const paths = ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'];
    paths.forEach((p, i) => fs.writeFileSync(path.join(dir, p), bytes.subarray(cuts[i], cuts[i + 1])));
    const layers = (a.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
    const keras3Layers = layers.map((l, i) => {
      const c = { ...l.config };
      if (i === 0) { c.batch_shape = c.batch_input_shape; delete c.batch_input_shape; }
      return { class_name: l.class_name, config: c };
    });
    const write = (topology: unknown, manifest: unknown = [{ paths, weights: a.weightSpecs }]): string => {
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy: 'keras v2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: topology, weightsManifest: manifest }));
      return `file://${dir}`;
    };
    const want = m.predict(x);
    bitsEqual(want, (await gf.loadModel(write({ keras_version: '2.15.0', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: { name: 's', layers } } }))).predict(x));
    bitsEqual(want, (await gf.loadModel(write({ class_name: 'Sequential', config: layers }))).predict(x));
    bitsEqual(want, (await gf.loadModel(write({ class_name: 'Sequential', config: { name: 's', layers: keras3Layers } }))).predict(x));
    // Keras 3: an InputLayer first, dtype policies, weights split over two manifest groups
    const withInput = [{ class_name: 'InputLayer', config: { batch_shape: [null, 5], dtype: 'float32', name: 'input_layer' } },
      ...layers.map((l, i) => ({ class_name: l.class_name, config: { ...l.config, batch_input_shape: i === 0 ? undefined : l.config.batch_input_shape, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } } } }))];
    const w = a.weightSpecs!;
    fs.writeFileSync(path.join(dir, 'a.bin'), bytes.subarray(0, (40 + 8) * 4));
    fs.writeFileSync(path.join(dir, 'b.bin'), bytes.subarray((40 + 8) * 4));
    const split = [{ paths: ['a.bin'], weights: w.slice(0, 2) }, { paths: ['./b.bin'], weights: w.slice(2) }];
    bitsEqual(want, (await gf.loadModel(write({ class_name: 'Sequential', config: { name: 's', layers: withInput } }, split))).predict(x));
    // renamed weights (converters) are placed by position
    const renamed = [{ paths, weights: w.map((s, i) => ({ ...s, name: `sequential/layer_${i}` })) }];
    bitsEqual(want, (await gf.loadModel(write({ class_name: 'Sequential', config: layers }, renamed))).predict(x));
  });

  test('optimizer weights (group optimizer) are skipped when loading with compile: false', async () => {
    const m = mlp();
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const a = await m.save(gf.io.toMemory(), { includeOptimizer: true });
    expect(a.weightSpecs!.filter((s) => s.group === 'optimizer').length).toBe(1 + 2 * 4);
    expect(a.trainingConfig).toEqual(expect.objectContaining({ loss: 'categorical_crossentropy', metrics: ['accuracy'] }));
    const m2 = await gf.loadModel(gf.io.fromMemory(a), { compile: false });
    bitsEqual(m.predict(x), m2.predict(x));
    expect(() => m2.optimizer).toThrow(/compile/);
  });

  test('bad targets are ValueErrors', async () => {
    const m = mlp();
    await expect(m.save('s3://bucket/x')).rejects.toThrow(gf.ValueError);
    await expect(gf.loadModel('http://x')).rejects.toThrow(gf.ValueError);
    await expect(m.save({ load: async () => ({ modelTopology: {} }) })).rejects.toThrow(/no save/);
  });
});
