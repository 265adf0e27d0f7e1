// Every layer class round-trips through the layers-model format with its config and weights:
// the reloaded model has the same configs and predicts bit for bit the same.
import * as gf from '../../lib';

async function roundTrip(m: gf.Sequential, x: gf.Tensor): Promise<gf.Sequential> {
  const a = await m.save(gf.io.toMemory());
  // through JSON text, as a file would
  const json = JSON.parse(JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs }));
  const m2 = await gf.loadModel(gf.io.fromMemory({ ...json, weightData: a.weightData }));
  expect(m2.layers.map((l) => l.className)).toEqual(m.layers.map((l) => l.className));
  expect(m2.layers.map((l) => l.getConfig())).toEqual(m.layers.map((l) => l.getConfig()));
  expect(m2.weights.map((w) => w.name)).toEqual(m.weights.map((w) => w.name));
  m.getWeights().forEach((w, i) => expect(Array.from(m2.getWeights()[i].data)).toEqual(Array.from(w.data)));
  const y = m.predict(x);
  const y2 = m2.predict(x);
  expect(y2.shape).toEqual(y.shape);
  expect(Buffer.from(new Float32Array(y2.data).buffer).equals(Buffer.from(new Float32Array(y.data).buffer))).toBe(true);
  return m2;
}

test('a CNN with every image layer (trained, so BatchNormalization moving statistics are not their initial values)', async () => {
  gf.setSeed(8);
  const m = gf.sequential([
    gf.layers.randomTranslation({ heightFactor: 0.1, widthFactor: 0.2, fillMode: 'constant', fillValue: 0.5, seed: 3, inputShape: [8, 8, 2] }),
    gf.layers.randomFlip({ mode: 'horizontal', seed: 4 }),
    gf.layers.zeroPadding2d({ padding: [[1, 2], [0, 1]] }),
    gf.layers.conv2d({ filters: 4, kernelSize: [3, 2], strides: [1, 2], padding: 'same', activation: 'relu', kernelInitializer: 'heNormal', kernelRegularizer: gf.regularizers.l2({ l2: 0.01 }) }),
    gf.layers.batchNormalization({ momentum: 0.8, epsilon: 1e-2 }),
    gf.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
    gf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, useBias: false, padding: 'same' }),
    gf.layers.averagePooling2d({ poolSize: [2, 1], padding: 'same' }),
    gf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 1, activation: 'tanh' }),
    gf.layers.upSampling2d({ size: [1, 2], interpolation: 'bilinear' }),
    gf.layers.batchNormalization({ center: false }),
    gf.layers.activation({ activation: 'elu' }),
    gf.layers.reshape({ targetShape: [-1, 2] }),
    gf.layers.flatten(),
    gf.layers.dropout({ rate: 0.2, seed: 5 }),
    gf.layers.dense({ units: 3, activation: 'softmax', biasInitializer: gf.initializers.constant({ value: 0.1 }) }),
  ]);
  const x = gf.randn([6, 8, 8, 2], { seed: 2 });
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await m.fit(x, gf.toCategorical([0, 1, 2, 0, 1, 2], 3), { epochs: 2, batchSize: 3, verbose: 0 });
  const bn = m.layers[4] as gf.layers.BatchNormalization;
  expect(Array.from(bn.movingMean!.value.data).some((v) => v !== 0)).toBe(true);
  const m2 = await roundTrip(m, x);
  const bn2 = m2.layers[4] as gf.layers.BatchNormalization;
  expect(Array.from(bn2.movingVariance!.value.data)).toEqual(Array.from(bn.movingVariance!.value.data));
  expect(bn2.movingMean!.trainable).toBe(false);
});

test('global pooling layers, a frozen layer, dense without bias, noise shapes', async () => {
  gf.setSeed(9);
  const x = gf.randn([4, 5, 5, 3], { seed: 4 });
  for (const pool of [gf.layers.globalAveragePooling2d(), gf.layers.globalMaxPooling2d()]) {
    const frozen = gf.layers.conv2d({ filters: 4, kernelSize: 2, inputShape: [5, 5, 3] });
    frozen.trainable = false;
    const m = gf.sequential([
      frozen,
      gf.layers.dropout({ rate: 0.5, noiseShape: [null, 1, 1, 4] }),
      pool,
      gf.layers.dense({ units: 2, useBias: false, activation: 'sigmoid' }),
    ]);
    const m2 = await roundTrip(m, x);
    expect(m2.layers[0].trainable).toBe(false);
    expect(m2.trainableWeights.length).toBe(1);
  }
});

test('an MLP with regularizers and every initializer kind in its config', async () => {
  gf.setSeed(10);
  const m = gf.sequential([
    gf.layers.dense({ units: 6, inputShape: [4], activation: 'leakyRelu', kernelInitializer: 'glorotNormal', biasRegularizer: gf.regularizers.l1({ l1: 0.1 }) }),
    gf.layers.dense({ units: 5, activation: 'tanh', kernelInitializer: gf.initializers.randomUniform({ minval: -0.2, maxval: 0.3 }) }),
    gf.layers.dense({ units: 4, activation: 'selu', kernelInitializer: 'lecunNormal', kernelRegularizer: gf.regularizers.l1l2({ l1: 0.01, l2: 0.02 }) }),
    gf.layers.dense({ units: 2, kernelInitializer: gf.initializers.varianceScaling({ scale: 2, mode: 'fan_out', distribution: 'uniform' }) }),
  ]);
  await roundTrip(m, gf.randn([3, 4], { seed: 1 }));
});
