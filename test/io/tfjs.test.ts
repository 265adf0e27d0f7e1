// Interop with the real TensorFlow.js (@tensorflow/tfjs, pure JS CPU backend): models saved by
// gradforge load in TensorFlow.js and predict the same, and the reverse.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

import { maxAbsDiff, tf, tfPredict } from '../util/tfjs';

// tfjs greets Node users with a hint to install tfjs-node; keep the test output clean
const warn = console.warn;
beforeAll(async () => {
  console.warn = (...args: unknown[]) => { if (!String(args[0]).includes('tfjs-node')) warn(...args); };
  await tf.setBackend('cpu');
});
afterAll(() => { console.warn = warn; });

test('a trained gradforge MLP loads in TensorFlow.js (tf.io.fromMemory) and predicts the same', async () => {
  gf.setSeed(31);
  const m = gf.sequential([
    gf.layers.dense({ units: 32, activation: 'relu', inputShape: [10] }),
    gf.layers.dropout({ rate: 0.2 }),
    gf.layers.dense({ units: 16, activation: 'tanh' }),
    gf.layers.dense({ units: 4, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
  const x = gf.randn([20, 10], { seed: 2 });
  await m.fit(x, gf.tensor(Array.from({ length: 20 }, (_, i) => i % 4), [20]), { epochs: 3, verbose: 0 });
  const a = await m.save(gf.io.toMemory());
  const tm = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }));
  expect(tm.layers.map((l) => l.getClassName())).toEqual(['Dense', 'Dropout', 'Dense', 'Dense']);
  expect(maxAbsDiff(await tfPredict(tm, x), m.predict(x).data)).toBeLessThanOrEqual(1e-5);
  tm.dispose();
});

test('the tutorial CNN saved to a folder loads in TensorFlow.js from those files and predicts the same', async () => {
  gf.setSeed(32);
  const m = gf.sequential([
    gf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.flatten(),
    gf.layers.dropout({ rate: 0.5 }),
    gf.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-tfjs-'));
  await m.save(`file://${dir}`);
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
  const tm = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
  }));
  const x = gf.randUniform([3, 28, 28, 1], { seed: 3 });
  expect(maxAbsDiff(await tfPredict(tm, x), m.predict(x).data)).toBeLessThanOrEqual(1e-5);
  tm.dispose();
});

test('model.json with the checksums gradforge records still loads in TensorFlow.js (its own model.json reader)', async () => {
  gf.setSeed(33);
  const m = gf.sequential([gf.layers.dense({ units: 6, activation: 'relu', inputShape: [5] }), gf.layers.dense({ units: 2 })]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-tfjs-sum-'));
  await m.save(`file://${dir}`);
  await m.save(`file://${dir}`);  // (the second save writes weights.alt.bin)
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  expect(Object.keys(j.weightsChecksums)).toEqual(['weights.alt.bin']);
  // the path tf.io's file and http handlers take: the whole model.json object, weights by its manifest
  const artifacts = await tf.io.getModelArtifactsForJSON(j, async (manifest) => {
    const bins = manifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p)));
    const all = Buffer.concat(bins);
    return [manifest.flatMap((g) => g.weights), all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
  });
  const tm = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const x = gf.randn([3, 5], { seed: 4 });
  expect(maxAbsDiff(await tfPredict(tm, x), m.predict(x).data)).toBeLessThanOrEqual(1e-6);
  tm.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a model built and saved by TensorFlow.js (tf.io.withSaveHandler) loads in gradforge and predicts the same', async () => {
  const tm = tf.sequential({
    layers: [
      tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', padding: 'same', inputShape: [8, 8, 2] }),
      tf.layers.batchNormalization(),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2 }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 8, activation: 'elu' }),
      tf.layers.dropout({ rate: 0.1 }),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  // moving statistics that are not their initial values
  const bn = tm.layers[1];
  const [g, b, mm, mv] = bn.getWeights();
  bn.setWeights([g.mul(1.5), b.add(0.1), mm.add(0.2), mv.mul(2)]);
  let saved: import('@tensorflow/tfjs').io.ModelArtifacts | null = null;
  await tm.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  expect(saved).not.toBeNull();
  const m = await gf.loadModel(gf.io.fromMemory(saved! as never));
  expect(m.layers.map((l) => l.className)).toEqual(tm.layers.map((l) => l.getClassName()));
  const x = gf.randn([4, 8, 8, 2], { seed: 5 });
  expect(maxAbsDiff(m.predict(x).data, await tfPredict(tm, x))).toBeLessThanOrEqual(1e-5);
  tm.dispose();
});

test('optimizer state both ways: TensorFlow.js names (iter, <param>/m, <param>/v) and camelCase optimizer config', async () => {
  const tm = tf.sequential({ layers: [tf.layers.dense({ units: 3, activation: 'softmax', inputShape: [4] })] });
  tm.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.randomNormal([8, 4], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  await tm.fit(xs, ys, { epochs: 3, batchSize: 4, verbose: 0 });
  let saved: import('@tensorflow/tfjs').io.ModelArtifacts | null = null;
  await tm.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }), { includeOptimizer: true });
  const m = await gf.loadModel(gf.io.fromMemory(saved! as never));
  expect(m.optimizer.className).toBe('Adam');
  expect(m.optimizer.learningRate).toBe(0.01);
  expect(m.optimizer.iterations).toBe(6);
  const tfWeights = new Map((await tm.optimizer.getWeights()).map((w) => [w.name, w.tensor]));
  const state = m.optimizer.getState(m.trainableWeights.map((v) => v.value));
  const names = tm.layers[0].weights.map((w) => w.originalName);
  const want = names.flatMap((n) => [`${n}/m`, `${n}/v`]).map((n) => Array.from(tfWeights.get(n)!.dataSync()));
  expect(state.weights.map((w) => Array.from(w.data))).toEqual(want);

  // and TensorFlow.js loads a gradforge model saved with its optimizer (it ignores our slot names)
  const a = await m.save(gf.io.toMemory(), { includeOptimizer: true });
  const back = await tf.loadLayersModel(tf.io.fromMemory(a as never));
  const x = gf.randn([2, 4], { seed: 1 });
  expect(maxAbsDiff(await tfPredict(back, x), m.predict(x).data)).toBeLessThanOrEqual(1e-6);
  tm.dispose();
  back.dispose();
});
