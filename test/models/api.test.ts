// The forms a Keras or TensorFlow.js user writes, and the mistakes they make, end to end.
import * as gf from '../../lib';

describe('API forms users write', () => {
  test('gf.sequential({layers}), a single metric name, a single callback object, sgd(0.1)', async () => {
    gf.setSeed(1);
    const m = gf.sequential({ layers: [gf.layers.dense({ units: 2, activation: 'softmax', inputShape: [3] })], name: 'tiny' });
    expect(m.name).toBe('tiny');
    const opt = gf.optimizers.sgd(0.1);
    expect(opt.learningRate).toBe(0.1);
    expect(gf.optimizers.adam(0.01).learningRate).toBe(0.01);
    m.compile({ optimizer: opt, loss: 'categoricalCrossentropy', metrics: 'accuracy' });
    let epochs = 0;
    const h = await m.fit(gf.randn([8, 3], { seed: 1 }), gf.toCategorical([0, 1, 0, 1, 0, 1, 0, 1], 2),
      { epochs: 2, verbose: 0, callbacks: { onEpochEnd: () => { epochs++; } } });
    expect(epochs).toBe(2);
    expect(Object.keys(h.history)).toEqual(['loss', 'accuracy']);
    expect(() => gf.optimizers.sgd('fast' as never)).toThrow(/expected options \{learningRate, \.\.\.\} or a learning rate/);
  });

  test('a custom metric sees probabilities even though the loss is fused with the softmax', async () => {
    gf.setSeed(2);
    const m = gf.sequential([gf.layers.dense({ units: 3, activation: 'softmax', inputShape: [4] })]);
    const rowSum = (yTrue: gf.Tensor, yPred: gf.Tensor): number => yPred.sum(-1).mean().item();
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: [rowSum] });
    const x = gf.randn([10, 4], { seed: 3 });
    const y = gf.toCategorical([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 3);
    const h = await m.fit(x, y, { epochs: 1, verbose: 0 });
    expect(h.history.rowSum[0]).toBeCloseTo(1, 5);
    expect(m.evaluate(x, y)[1]).toBeCloseTo(1, 5);
  });

  test('a frozen layer gets no gradient and keeps its weights', async () => {
    gf.setSeed(3);
    const first = gf.layers.dense({ units: 4, activation: 'relu', inputShape: [3] });
    const m = gf.sequential([first, gf.layers.dense({ units: 1 })]);
    first.trainable = false;
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const before = first.getWeights().map((w) => Array.from(w.data));
    const second = m.layers[1].getWeights().map((w) => Array.from(w.data));
    await m.fit(gf.randn([16, 3], { seed: 1 }), gf.randn([16, 1], { seed: 2 }), { epochs: 2, verbose: 0 });
    expect(first.getWeights().map((w) => Array.from(w.data))).toEqual(before);
    expect(m.layers[1].getWeights().map((w) => Array.from(w.data))).not.toEqual(second);
    for (const v of first.weights) {
      expect(v.value.requiresGrad).toBe(false);
      expect(v.value.grad).toBeNull();
    }
    expect(m.trainableWeights.length).toBe(2);
    first.trainable = true;
    expect(first.weights.every((v) => v.value.requiresGrad)).toBe(true);
  });

  test('bad layer arguments are caught where they are written', () => {
    expect(() => gf.layers.flatten({ inputShape: [-1, 3] })).toThrow(/inputShape must be an array of positive integers, got \[-1,3\]/);
    expect(() => gf.layers.dense({ units: 2, activation: 'constructor' as never })).toThrow(/unknown activation/);
    expect(() => gf.sequential({ layers: 'dense' as never })).toThrow(/layers must be an array/);
    expect(() => gf.sequential([{} as never])).toThrow(/expected a layer/);
    const m = gf.sequential([gf.layers.dense({ units: 2, inputShape: [3] })]);
    expect(() => m.setWeights([1, 2] as never)).toThrow(/expected an array of 2 Tensors/);
    expect(() => m.compile({ optimizer: 'adam', loss: 'constructor' })).toThrow(/unknown loss 'constructor'/);
  });

  test('trainTestSplit stratifies by one-hot rows too', () => {
    const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
    const x = gf.arange(10).reshape([10, 1]);
    const oneHot = gf.toCategorical(labels, 2);
    const s = gf.data.trainTestSplit(x, oneHot, { testSize: 0.5, seed: 1, stratify: oneHot });
    expect(s.yTest.argmax(-1).data.filter((v) => v === 1).length).toBe(2);
    expect(() => gf.data.trainTestSplit(x, oneHot, { stratify: gf.zeros([10, 2, 1]) })).toThrow(/stratify must be labels \[10\] or one-hot rows/);
  });
});
