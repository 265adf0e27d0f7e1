// Execution plans (lib/models/plans, native/plan): predict, evaluate and predictAsync replay a
// recorded plan, and their results are bit-identical to the op-by-op path, for every layer
// type; what plans cannot replay is refused with a reason and runs op by op.
import * as gf from '../../lib';
import { Layer } from '../../lib/nn/layer';
import { expectBitIdentical } from '../util/helpers';
import { dcganDiscriminator } from '../../examples/dcgan';
import { mnistMlp } from '../../examples/mnist-mlp';

type Build = () => Layer[];

/** [name, layers, input shape without the batch, input kind, planned] */
const CASES: [string, Build, number[], 'float' | 'tokens', boolean][] = [
  ['dense relu/tanh/softmax', () => [gf.layers.dense({ units: 7, activation: 'relu', inputShape: [5] }), gf.layers.dense({ units: 6, activation: 'tanh' }), gf.layers.dense({ units: 3, activation: 'softmax' })], [5], 'float', true],
  ['dense sigmoid/elu/selu/softplus/linear, no bias', () => [gf.layers.dense({ units: 4, activation: 'sigmoid', inputShape: [3] }), gf.layers.dense({ units: 4, activation: 'elu' }), gf.layers.dense({ units: 4, activation: 'selu', useBias: false }), gf.layers.dense({ units: 4, activation: 'softplus' }), gf.layers.dense({ units: 2 })], [3], 'float', true],
  ['dense on a sequence (rank 3)', () => [gf.layers.dense({ units: 4, activation: 'relu', inputShape: [3, 5] })], [3, 5], 'float', true],
  ['activation, leakyRelu, dropout', () => [gf.layers.dense({ units: 6, inputShape: [4] }), gf.layers.activation({ activation: 'relu' }), gf.layers.leakyRelu({ alpha: 0.2 }), gf.layers.dropout({ rate: 0.5 }), gf.layers.dense({ units: 2, activation: 'softmax' })], [4], 'float', true],
  ['conv2d same/valid, strides, dilation', () => [gf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape: [9, 8, 2] }), gf.layers.conv2d({ filters: 3, kernelSize: 2, strides: 2, padding: 'valid' }), gf.layers.conv2d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', activation: 'tanh' })], [9, 8, 2], 'float', true],
  ['the tutorial CNN', () => [gf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }), gf.layers.maxPooling2d({ poolSize: 2 }), gf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }), gf.layers.maxPooling2d({ poolSize: 2 }), gf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }), gf.layers.flatten(), gf.layers.dense({ units: 16, activation: 'relu' }), gf.layers.dense({ units: 10, activation: 'softmax' })], [28, 28, 1], 'float', true],
  ['pooling, global pooling, upsampling', () => [gf.layers.averagePooling2d({ poolSize: 2, inputShape: [6, 6, 3] }), gf.layers.upSampling2d({ size: [2, 2] }), gf.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same' }), gf.layers.globalAveragePooling2d()], [6, 6, 3], 'float', true],
  ['global max pooling, bilinear upsampling', () => [gf.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear', inputShape: [3, 4, 2] }), gf.layers.globalMaxPooling2d()], [3, 4, 2], 'float', true],
  ['conv2dTranspose, batchNormalization', () => [gf.layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', inputShape: [4, 4, 2] }), gf.layers.batchNormalization(), gf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'sigmoid' })], [4, 4, 2], 'float', true],
  ['reshape, flatten', () => [gf.layers.reshape({ targetShape: [4, 3, 2], inputShape: [24] }), gf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), gf.layers.flatten(), gf.layers.dense({ units: 3 })], [24], 'float', true],
  ['simpleRNN, lstm, gru (returnSequences, goBackwards)', () => [gf.layers.simpleRNN({ units: 4, returnSequences: true, inputShape: [5, 3] }), gf.layers.lstm({ units: 5, returnSequences: true, goBackwards: true }), gf.layers.gru({ units: 3 })], [5, 3], 'float', true],
  ['gru resetAfter false, bidirectional (last step), timeDistributed', () => [gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 3, activation: 'relu' }), inputShape: [4, 2] }), gf.layers.bidirectional({ layer: gf.layers.gru({ units: 3, resetAfter: false }), mergeMode: 'sum' })], [4, 2], 'float', true],
  // the models of examples/: the MNIST MLP, the weather GRU, the DCGAN discriminator (the
  // tutorial CNN and the DCGAN generator are above and in predict-async.test.ts)
  ['examples: mnist-mlp', () => mnistMlp().layers, [784], 'float', true],
  ['examples: weather-forecast GRU', () => [gf.layers.gru({ units: 32, inputShape: [14, 6] }), gf.layers.dense({ units: 1 })], [14, 6], 'float', true],
  ['examples: dcgan discriminator', () => dcganDiscriminator().layers, [28, 28, 1], 'float', true],
  // pad, slice and concat are native box copies (copyBox), recorded like any kernel
  ['zeroPadding2d', () => [gf.layers.zeroPadding2d({ padding: 1, inputShape: [3, 3, 2] }), gf.layers.conv2d({ filters: 2, kernelSize: 3 })], [3, 3, 2], 'float', true],
  ['lstm, last step (a slice)', () => [gf.layers.lstm({ units: 3, inputShape: [4, 2] }), gf.layers.dense({ units: 2 })], [4, 2], 'float', true],
  // what JavaScript computes between kernels is refused, and runs op by op: the indices of a
  // backward sequence reversed in time, embedding lookups and masks
  ['bidirectional with returnSequences', () => [gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 3, returnSequences: true }), inputShape: [4, 2] })], [4, 2], 'float', false],
  ['spatialDropout2D, random augmentation (identity in inference)', () => [gf.layers.randomFlip({ mode: 'horizontal', inputShape: [5, 5, 1] }), gf.layers.spatialDropout2d({ rate: 0.3 }), gf.layers.flatten(), gf.layers.dense({ units: 2 })], [5, 5, 1], 'float', true],
  ['embedding then lstm', () => [gf.layers.embedding({ inputDim: 20, outputDim: 4, inputLength: 6 }), gf.layers.lstm({ units: 3 })], [6], 'tokens', false],
  ['masking then gru', () => [gf.layers.masking({ maskValue: 0, inputShape: [5, 2] }), gf.layers.gru({ units: 3 })], [5, 2], 'float', false],
];

function input(shape: number[], kind: 'float' | 'tokens', seed: number): gf.Tensor {
  gf.setSeed(seed);
  if (kind === 'float') return gf.randn(shape);
  const t = gf.randUniform(shape, { minval: 0, maxval: 20 });
  return gf.tensor(Array.from(t.data, (v) => Math.floor(v)), shape);
}


afterEach(() => { gf.setExecutionPlans(true); });

describe('predict replays a plan bit-identical to op by op', () => {
  test.each(CASES)('%s', async (_name, build, shape, kind, planned) => {
    gf.setSeed(3);
    const model = gf.sequential({ layers: build() });
    const batch = [3, ...shape];
    // the first call records (and computes op by op), the later ones replay
    model.predict(input(batch, kind, 1));
    const x = input(batch, kind, 2);
    const replayed = model.predict(x);
    const async = await model.predictAsync(x);
    gf.setExecutionPlans(false);
    const opByOp = model.predict(x);
    expectBitIdentical(opByOp, replayed);
    expectBitIdentical(opByOp, async);
    const status = model.predictPlanStatus(batch)!;
    expect(status).not.toBeNull();
    if (planned) {
      expect(status.reason).toBe('');
      expect(status.planned).toBe(true);
      expect(status.kernels.length).toBeGreaterThan(0);
    } else {
      expect(status.planned).toBe(false);
      expect(status.reason).toMatch(/JavaScript|mask/);
    }
  });
});
