// gf.layers.timeDistributed: the wrapped layer applied to every time step in one call (equal
// to applying it step by step), its weights (names, trainable, regularizers, get/setWeights),
// gradients, masks passed through, training, and bad arguments.
import * as gf from '../../lib';
import { ValueError } from '../../lib/errors';
import { initializers, regularizers } from '../../lib/nn';
import { Tensor } from '../../lib/tensor';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** x[:, t] of an [N, T, ...] tensor. */
function step(x: gf.Tensor, t: number): gf.Tensor {
  const [n, , ...rest] = x.shape;
  return gf.reshape(gf.slice(x, [0, t, ...rest.map(() => 0)], [n, 1, ...rest]), [n, ...rest]);
}

describe('timeDistributed', () => {
  test('Dense over [N, T, F] equals the Dense applied to each step; shapes; the weights are the inner layer\'s', () => {
    gf.setSeed(1);
    const inner = gf.layers.dense({ units: 4, activation: 'tanh', biasInitializer: 'randomNormal' });
    const td = gf.layers.timeDistributed({ layer: inner, name: 'time_distributed' });
    const x = gf.randn([3, 5, 6], { seed: 2 });
    const y = td.apply(x);
    expect(y.shape).toEqual([3, 5, 4]);
    expect(td.computeOutputShape([null, 5, 6])).toEqual([null, 5, 4]);
    expect(td.computeOutputShape([null, null, 6])).toEqual([null, null, 4]);
    // one set of weights, the given layer's, named after the wrapper (TensorFlow.js's names)
    expect(td.layer).toBe(inner);
    expect(td.weights).toEqual(inner.weights);
    expect(td.weights.map((w) => w.name)).toEqual(['time_distributed/kernel', 'time_distributed/bias']);
    expect(inner.name).not.toBe('time_distributed');
    expect(td.countParams()).toBe(6 * 4 + 4);
    for (let t = 0; t < 5; t++) {
      const want = inner.apply(step(x, t)).data;
      expect(maxAbsDiff(step(y, t).data, want)).toBeLessThanOrEqual(1e-6);
    }
    // setWeights reaches the inner layer
    const w = td.getWeights().map((v) => v.mul(2));
    td.setWeights(w);
    expect(Array.from(inner.getWeights()[0].data)).toEqual(Array.from(w[0].data));
  });

  test('a rank-5 sequence of images through Conv2D and Flatten equals the layers applied per step', () => {
    gf.setSeed(3);
    const conv = gf.layers.conv2d({ filters: 3, kernelSize: 2, activation: 'relu' });
    const m = gf.sequential([
      gf.layers.timeDistributed({ layer: conv, inputShape: [4, 5, 5, 2] }),
      gf.layers.timeDistributed({ layer: gf.layers.flatten() }),
    ]);
    expect(m.outputShape).toEqual([null, 4, 4 * 4 * 3]);
    const x = gf.randn([2, 4, 5, 5, 2], { seed: 4 });
    const y = m.predict(x);
    expect(y.shape).toEqual([2, 4, 48]);
    for (let t = 0; t < 4; t++) {
      expect(maxAbsDiff(step(y, t).data, conv.apply(step(x, t)).data)).toBeLessThanOrEqual(1e-6);
    }
  });

  test('gradients with respect to the input, kernel and bias are correct (gradcheck)', () => {
    const inner = gf.layers.dense({ units: 3, activation: 'tanh',
      kernelInitializer: initializers.glorotUniform({ seed: 1, dtype: 'float64' }),
      biasInitializer: initializers.randomNormal({ seed: 2, dtype: 'float64' }) });
    const td = gf.layers.timeDistributed({ layer: inner });
    const x = gf.randn([2, 4, 5], { seed: 6, dtype: 'float64' });
    td.apply(x);
    const [w, b] = td.weights;
    // rebinding the wrapper's weights to gradcheck's copies rebinds the inner layer's
    const r = gf.gradcheck((xx, ww, bb) => {
      w.value = ww;
      b.value = bb;
      return td.apply(xx).square().sum();
    }, [x, w.value, b.value]);
    expect(r.message).toBe('');
    expect(r.ok).toBe(true);
  });

  test('trainable and regularizers are the inner layer\'s; freezing the wrapper freezes it', () => {
    const inner = gf.layers.dense({ units: 2, kernelRegularizer: regularizers.l2({ l2: 0.5 }) });
    const td = gf.layers.timeDistributed({ layer: inner });
    td.apply(gf.randn([1, 3, 4], { seed: 1 }));
    expect(td.trainableWeights).toEqual(inner.weights);
    const k = inner.weights[0].value;
    const want = k.square().sum().mul(0.5).item();
    expect(td.regularizationLoss()!.item()).toBeCloseTo(want, 6);
    td.trainable = false;
    expect(inner.trainable).toBe(false);
    expect(td.trainableWeights).toEqual([]);
    expect(td.nonTrainableWeights).toEqual(inner.weights);
    expect(k.requiresGrad).toBe(false);
    expect(td.regularizationLoss()).toBeNull();
    td.trainable = true;
    expect(inner.trainable && k.requiresGrad).toBe(true);
    expect(gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2 }), trainable: false }).layer.trainable).toBe(false);
  });

  test('fit trains the wrapped weights; a frozen wrapper keeps them', async () => {
    gf.setSeed(5);
    const x = gf.randn([16, 3, 2], { seed: 7 });
    const y = x.mul(2).add(1);   // per step: y = 2x + 1, a Dense can learn it
    const td = gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2 }), inputShape: [3, 2] });
    const m = gf.sequential([td]);
    m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.1 }), loss: 'mse' });
    const h = await m.fit(x, y, { epochs: 40, batchSize: 16, verbose: 0 });
    expect(h.history.loss[h.history.loss.length - 1]).toBeLessThan(h.history.loss[0] / 10);
    // frozen: fit leaves the wrapped weights alone (a dense after it still trains)
    td.trainable = false;
    const m2 = gf.sequential([td, gf.layers.dense({ units: 2 })]);
    m2.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.1 }), loss: 'mse' });
    const before = td.getWeights().map((w) => Array.from(w.data));
    const last = m2.layers[1].getWeights().map((w) => Array.from(w.data));
    await m2.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(td.getWeights().map((w) => Array.from(w.data))).toEqual(before);
    expect(m2.layers[1].getWeights().map((w) => Array.from(w.data))).not.toEqual(last);
  });

  test('a final softmax Dense is fused with categorical crossentropy, as a plain Dense is', () => {
    const td = gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 3, activation: 'softmax' }), inputShape: [2, 4] });
    const m = gf.sequential([td]);
    m.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    expect(td.activationName).toBe('softmax');
    expect(m.fusedOutput()).toBe(true);
    const x = gf.randn([2, 2, 4], { seed: 1 });
    const logits = td.apply(x, { training: false, logits: true });
    expect(maxAbsDiff(gf.softmax(logits).data, m.predict(x).data)).toBeLessThanOrEqual(1e-6);
    expect(gf.layers.timeDistributed({ layer: gf.layers.flatten() }).activationName).toBeUndefined();
  });

  test('masks: the input mask goes on unchanged, so embedding(maskZero) -> lstm(returnSequences) -> timeDistributed(dense) keeps it', () => {
    gf.setSeed(11);
    const T = 6;
    const layers = [
      gf.layers.embedding({ inputDim: 7, outputDim: 3, maskZero: true, inputShape: [T] }),
      gf.layers.lstm({ units: 4, returnSequences: true }),
      gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 3, biasInitializer: 'ones' }) }),
      gf.layers.lstm({ units: 2 }),
    ];
    const m = gf.sequential(layers);
    expect(layers[2].supportsMasking).toBe(true);
    // walk the layers as Sequential does: the embedding's mask reaches the last lstm
    const ids = gf.tensor([[3, 1, 4, 0, 0, 0], [0, 0, 0, 3, 1, 4]], undefined, { dtype: 'int32' });
    let h: gf.Tensor = ids;
    let mask: gf.Tensor | null = null;
    const masks: (Tensor | null)[] = [];
    for (const l of m.layers) {
      const input = h;
      h = l.apply(input, { training: false, mask });
      mask = l.computeMask(input, mask);
      masks.push(mask);
    }
    expect(masks[2]).toBe(masks[0]);
    expect(Array.from(masks[2]!.data)).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(masks[3]).toBeNull();
    // and the last lstm skips the padded steps: padding before or after gives the same state
    // (dense(0 state) = its bias, nonzero, would count otherwise)
    const y = m.predict(ids).data;
    expect(maxAbsDiff(y.subarray(0, 2), y.subarray(2, 4))).toBeLessThanOrEqual(1e-6);
  });

  test('bad arguments are ValueErrors naming the layer and the shapes', () => {
    expect(() => gf.layers.timeDistributed({ layer: { units: 3 } as never })).toThrow(/layer must be a gradforge Layer/);
    expect(() => gf.layers.timeDistributed(null as never)).toThrow(ValueError);
    expect(() => gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2 }), inputShape: [4], name: 'td_bad' })).toThrow(/td_bad: TimeDistributed needs an input \[batch, time, \.\.\.\] of rank >= 3, got \[-1, 4\]/);
    expect(() => gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2, inputShape: [4] }) })).toThrow(/give inputShape \[time, \.\.\.\] to timeDistributed/);
    const td = gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 2 }), name: 'td_rank' });
    expect(() => td.apply(gf.randn([2, 3]))).toThrow(ValueError);
    expect(() => td.apply(gf.randn([2, 3]))).toThrow(/td_rank: .*rank >= 3, got \[-1, 3\]/);
    td.apply(gf.randn([2, 3, 4]));
    expect(() => td.setWeights([gf.zeros([4, 2])])).toThrow(/td_rank.setWeights: expected an array of 2 Tensors/);
    expect(() => td.apply(gf.randn([2, 3, 5]))).toThrow(/td_rank/);
  });
});
