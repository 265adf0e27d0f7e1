// Sequential's inference forward runs a Conv2D and the MaxPooling2D after it as one kernel
// (lib/ops/conv-pool, native conv2d_maxpool2d_forward): bit for bit the two layers run apart,
// which is what a forward that records gradients does.
import * as gf from '../../lib';
import { Layer } from '../../lib/nn/layer';
import { expectBitIdentical } from '../util/helpers';

const CASES: [string, () => Layer[], number[], boolean][] = [
  ['the tutorial CNN (1-channel direct path, then im2col)', () => [
    gf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }), gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.conv2d({ filters: 40, kernelSize: 3, activation: 'relu' }), gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.flatten(), gf.layers.dense({ units: 10, activation: 'softmax' })], [28, 28, 1], true],
  ['same padding, overlapping 3x3 windows, stride 1 pool', () => [
    gf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', inputShape: [9, 7, 3] }),
    gf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' })], [9, 7, 3], true],
  ['strided dilated conv, 2x3 pool stride 2', () => [
    gf.layers.conv2d({ filters: 17, kernelSize: 2, dilationRate: 2, activation: 'relu', inputShape: [12, 13, 2] }),
    gf.layers.maxPooling2d({ poolSize: [2, 3], strides: 2, padding: 'same' })], [12, 13, 2], true],
  ['a large image: several bands per image', () => [
    gf.layers.conv2d({ filters: 36, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [64, 64, 3] }),
    gf.layers.maxPooling2d({ poolSize: 2 })], [64, 64, 3], true],
  ['sigmoid conv (runs apart: not fused)', () => [
    gf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'sigmoid', inputShape: [8, 8, 1] }), gf.layers.maxPooling2d({ poolSize: 2 })], [8, 8, 1], false],
];


afterEach(() => { gf.setExecutionPlans(true); });

test.each(CASES)('%s', (_name, build, shape, fused) => {
  gf.setSeed(5);
  const model = gf.sequential({ layers: build() });
  const x = gf.randn([3, ...shape]);
  x.data[7] = NaN; // a NaN reaches a window: the pool's NaN rule holds in the fused kernel too
  const apart = gf.enableGrad(() => model.apply(x)); // the weights require gradients: recorded, unfused
  expect(apart.gradFn).not.toBeNull();
  const planned = model.predict(x);
  model.predict(x);
  gf.setExecutionPlans(false);
  const opByOp = model.predict(x);
  expectBitIdentical(apart, opByOp);
  expectBitIdentical(apart, planned);
  const kernels = model.predictPlanStatus(x.shape)!.kernels;
  expect(kernels.includes('conv2dMaxPool2dForward')).toBe(fused);
  expect(kernels.includes('maxPool2dForward')).toBe(!fused);
});

test('a model whose conv feeds a pool still trains (fit records, unfused) and predicts fused', () => {
  gf.setSeed(6);
  const model = gf.sequential({ layers: [
    gf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 1] }), gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.flatten(), gf.layers.dense({ units: 2, activation: 'softmax' })] });
  model.compile({ optimizer: gf.optimizers.sgd({ learningRate: 0.1 }), loss: 'sparseCategoricalCrossentropy' });
  const x = gf.randn([8, 6, 6, 1]);
  const y = gf.tensor([0, 1, 0, 1, 0, 1, 0, 1], [8]);
  const before = model.evaluate(x, y)[0];
  const first = model.trainOnBatch(x, y);
  for (let i = 0; i < 20; i++) model.trainOnBatch(x, y);
  const after = model.evaluate(x, y)[0];
  expect(after).toBeLessThan(before);
  expect(Number.isFinite(Array.isArray(first) ? first[0] : first)).toBe(true);
  expectBitIdentical(gf.enableGrad(() => model.apply(x)), model.predict(x));
});
