import * as gf from '../../lib';
import { tutorialCnn } from '../../examples/mnist-cnn';

describe('convolutional layers', () => {
  test('the tutorial CNN has Keras\'s output shapes and parameter counts', () => {
    const m = tutorialCnn();
    const text = m.summary(80, () => undefined);
    const rows = text.split('\n').filter((l) => /\((Conv2D|MaxPooling2D|Flatten|Dense)\)/.test(l));
    const shapes = rows.map((r) => /\(None[^)]*\)/.exec(r)![0]);
    expect(shapes).toEqual(['(None, 26, 26, 32)', '(None, 13, 13, 32)', '(None, 11, 11, 64)', '(None, 5, 5, 64)',
      '(None, 3, 3, 64)', '(None, 576)', '(None, 64)', '(None, 10)']);
    expect(rows.map((r) => Number(r.trim().split(/\s+/).pop()))).toEqual([320, 0, 18496, 0, 36928, 0, 36928, 650]);
    expect(text).toContain('Total params: 93,322');
    expect(m.weights[0].name).toMatch(/^conv2d(_\d+)?\/kernel$/);
    expect(m.weights[0].shape).toEqual([3, 3, 1, 32]);
  });

  test('a small CNN with batch normalization learns 512 digits', async () => {
    gf.setSeed(7);
    const { xTrain, yTrain } = gf.datasets.mnistDigits({ flatten: false });
    const x = xTrain.slice([0, 0, 0, 0], [512, -1, -1, -1]);
    const y = gf.toCategorical(yTrain.slice([0], [512]), 10);
    const m = gf.sequential([
      gf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], padding: 'same' }),
      gf.layers.batchNormalization(),
      gf.layers.maxPooling2d({ poolSize: 2 }),
      gf.layers.flatten(),
      gf.layers.dense({ units: 10, activation: 'softmax' }),
    ]);
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 4, batchSize: 32, verbose: 0 });
    expect(h.history.loss[3]).toBeLessThan(h.history.loss[0] * 0.5);
    expect(m.evaluate(x, y)[1]).toBeGreaterThan(0.8);
  });

  test('batchNormalization: moving statistics are non-trainable and change only in training', async () => {
    gf.setSeed(1);
    const bn = gf.layers.batchNormalization({ momentum: 0.5 });
    const m = gf.sequential([gf.layers.dense({ units: 3, inputShape: [4] }), bn]);
    expect(bn.weights.map((w) => w.name.split('/')[1])).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(m.trainableWeights.length).toBe(4);
    expect(m.nonTrainableWeights.length).toBe(2);
    expect(m.summary(65, () => undefined)).toContain('Non-trainable params: 6');
    const before = Array.from(bn.movingMean!.value.data);
    m.predict(gf.randn([8, 4], { seed: 2 }));
    expect(Array.from(bn.movingMean!.value.data)).toEqual(before);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await m.fit(gf.randn([8, 4], { seed: 2 }).add(3), gf.zeros([8, 3]), { epochs: 1, verbose: 0 });
    expect(Array.from(bn.movingMean!.value.data)).not.toEqual(before);
  });

  test('conv2dTranspose and upSampling2d grow images as a DCGAN generator needs', () => {
    const g = gf.sequential([
      gf.layers.dense({ units: 7 * 7 * 8, inputShape: [16] }),
      gf.layers.reshape({ targetShape: [7, 7, 8] }),
      gf.layers.conv2dTranspose({ filters: 4, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu' }),
      gf.layers.upSampling2d({ size: 2 }),
      gf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'tanh' }),
    ]);
    expect(g.outputShape).toEqual([null, 28, 28, 1]);
    expect(g.predict(gf.randn([2, 16], { seed: 1 })).shape).toEqual([2, 28, 28, 1]);
    expect(g.layers[2].weights[0].shape).toEqual([4, 4, 4, 8]);
  });

  test('wrong input rank or channels, and kernels that do not fit, are clear errors', () => {
    expect(() => gf.sequential([gf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [28, 28] })])).toThrow(/expected input \[batch, height, width, channels\], got rank 3/);
    const m = gf.sequential([gf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [8, 8, 3] })]);
    expect(() => m.predict(gf.zeros([1, 8, 8, 1]))).toThrow(/does not match the model's input \[-1, 8, 8, 3\]/);
    expect(() => gf.sequential([gf.layers.conv2d({ filters: 4, kernelSize: 5, inputShape: [3, 3, 1] })])).toThrow(/kernel 5x5 does not fit input/);
    expect(() => gf.layers.conv2d({ filters: 0, kernelSize: 3 })).toThrow(/filters must be a positive integer, got 0/);
    expect(() => gf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 0 })).toThrow(/strides must be integers >= 1, got 0/);
    expect(() => gf.sequential([gf.layers.maxPooling2d({ poolSize: 4, inputShape: [3, 3, 1] })]).outputShape).toThrow(/pool size 4x4 does not fit/);
  });
});
