// LeakyReLU layer: values, gradient, config (TensorFlow.js / Keras 2 'alpha' and Keras 3
// 'negative_slope'), and a save/load round trip, including loading in TensorFlow.js.
import * as gf from '../../lib';
import { LeakyReLU, leakyRelu } from '../../lib/nn/leaky-relu';
import { layerFromConfig } from '../../lib/nn/registry';
import { expectGradOk, rand64 } from '../util/helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');

test('forward: x for x > 0, alpha * x otherwise; default alpha 0.3', () => {
  const x = gf.tensor([[-2, -0.5, 0, 0.5, 3]]);
  expect(Array.from(leakyRelu({ alpha: 0.2 }).apply(x).data)).toEqual(Array.from(Float32Array.of(-0.4, -0.1, 0, 0.5, 3)));
  expect(Array.from(leakyRelu().apply(x).data)).toEqual(Array.from(Float32Array.of(-0.6, -0.15, 0, 0.5, 3)));
  expect(leakyRelu().computeOutputShape([null, 4, 4, 2])).toEqual([null, 4, 4, 2]);
});

test('gradient agrees with finite differences (away from the kink)', () => {
  const layer = leakyRelu({ alpha: 0.15 });
  // keep samples away from 0, where the derivative jumps
  const x = rand64([4, 5], 3);
  for (let i = 0; i < x.size; i++) if (Math.abs(x.data[i]) < 0.05) x.data[i] = 0.5;
  expectGradOk((t) => layer.apply(t, { training: true }), [x]);
});

test('bad alpha is a ValueError naming the value', () => {
  expect(() => leakyRelu({ alpha: Number.NaN })).toThrow(/leakyRelu: alpha must be a finite number, got NaN/);
  expect(() => leakyRelu({ alpha: '0.2' as unknown as number })).toThrow(gf.ValueError);
});

test('config: written as TensorFlow.js writes it ({alpha}); alpha and negative_slope both read', () => {
  const l = leakyRelu({ alpha: 0.2, name: 'lrelu_cfg' });
  const cfg = l.getConfig();
  expect(cfg).toEqual({ name: 'lrelu_cfg', trainable: true, dtype: 'float32', alpha: 0.2 });
  const back = layerFromConfig('LeakyReLU', JSON.parse(JSON.stringify(cfg)), 'layer 0') as LeakyReLU;
  expect(back).toBeInstanceOf(LeakyReLU);
  expect(back.getConfig()).toEqual(cfg);
  const k3 = layerFromConfig('LeakyReLU', { name: 'k3', negative_slope: 0.1 }, 'layer 0') as LeakyReLU;
  expect(k3.alpha).toBe(0.1);
  expect((layerFromConfig('LeakyReLU', {}, 'layer 0') as LeakyReLU).alpha).toBe(0.3);
  expect(() => layerFromConfig('LeakyReLU', { alpha: 0.1, negative_slope: 0.2 }, 'layer 3')).toThrow(/layer 3: config.alpha \(0.1\) and config.negative_slope \(0.2\) disagree/);
  expect(() => layerFromConfig('LeakyReLU', { alpha: 'x' }, 'layer 2')).toThrow(gf.ModelFormatError);
});

test('a Sequential with LeakyReLU layers saves and loads (gradforge and TensorFlow.js) with the same outputs', async () => {
  gf.setSeed(21);
  const m = gf.sequential([
    gf.layers.dense({ units: 6, inputShape: [3] }),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.dense({ units: 2 }),
    gf.layers.leakyRelu(),
  ]);
  const x = gf.randn([20, 3], { seed: 4 });
  const a = await m.save(gf.io.toMemory());
  const json = JSON.parse(JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs }));
  const m2 = await gf.loadModel(gf.io.fromMemory({ ...json, weightData: a.weightData }));
  expect(m2.layers.map((l) => l.className)).toEqual(['Dense', 'LeakyReLU', 'Dense', 'LeakyReLU']);
  expect(m2.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
  const y = m.predict(x);
  expect(Array.from(m2.predict(x).data)).toEqual(Array.from(y.data));
  // the negative side is reached, so alpha matters for the comparison below
  expect(Array.from(y.data).some((v) => v < 0)).toBe(true);

  const warn = console.warn;
  console.warn = (...args: unknown[]) => { if (!String(args[0]).includes('tfjs-node')) warn(...args); };
  try {
    await tf.setBackend('cpu');
    const tm = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }));
    expect(tm.layers.map((l) => l.getClassName())).toEqual(['Dense', 'LeakyReLU', 'Dense', 'LeakyReLU']);
    const t = tf.tensor(Float32Array.from(x.data), [...x.shape]);
    const ty = tm.predict(t) as import('@tensorflow/tfjs').Tensor;
    const got = await ty.data();
    for (let i = 0; i < y.size; i++) expect(Math.abs(got[i] - y.data[i])).toBeLessThanOrEqual(1e-5);
    t.dispose();
    ty.dispose();
    tm.dispose();
  } finally {
    console.warn = warn;
  }
});
