import { Tensor, tensor, randn } from '../../lib/tensor';
import { setSeed } from '../../lib/random';
import { ShapeError, ValueError } from '../../lib/errors';
import { Dense, dense } from '../../lib/nn/dense';
import { initializers, regularizers } from '../../lib/nn';
import { expectClose, expectGradOk } from '../util/helpers';

/** Reference y[r, u] = sum_i x[r, i] w[i, u] + b[u] in plain JS (float64). */
function manualDense(x: Tensor, w: Tensor, b: Tensor | null): Float64Array {
  const inDim = w.shape[0];
  const units = w.shape[1];
  const rows = x.size / inDim;
  const out = new Float64Array(rows * units);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < units; u++) {
      let s = b === null ? 0 : b.data[u];
      for (let i = 0; i < inDim; i++) s += x.data[r * inDim + i] * w.data[i * units + u];
      out[r * units + u] = s;
    }
  }
  return out;
}

describe('Dense', () => {
  test('forward equals x W + b, weights named and shaped as Keras', () => {
    setSeed(1);
    const layer = dense({ units: 5, inputShape: [7] });
    const x = randn([3, 7], { seed: 2 });
    const bias = tensor([0.1, -0.2, 0.3, 0.05, -1]);
    const y = layer.apply(x);
    layer.setWeights([layer.getWeights()[0], bias]);
    const y2 = layer.apply(x);
    expect(y.shape).toEqual([3, 5]);
    const [w, b] = layer.weights;
    expect(w.name).toBe(`${layer.name}/kernel`);
    expect(b.name).toBe(`${layer.name}/bias`);
    expect(w.shape).toEqual([7, 5]);
    expect(b.shape).toEqual([5]);
    // zero bias by default
    expectClose(y.data, manualDense(x, w.value, null), 1e-5);
    expectClose(y2.data, manualDense(x, w.value, bias), 1e-5);
    expect(layer.countParams()).toBe(7 * 5 + 5);
  });

  test('activation applied after the affine map; useBias false has no bias', () => {
    const layer = dense({ units: 4, activation: 'relu', useBias: false });
    const x = randn([6, 3], { seed: 3 });
    const y = layer.apply(x);
    expect(layer.weights.length).toBe(1);
    const ref = manualDense(x, layer.weights[0].value, null).map((v) => Math.max(0, v));
    expectClose(y.data, ref, 1e-5);
  });

  test('N-D input: applies the kernel along the last axis', () => {
    const layer = dense({ units: 3, biasInitializer: initializers.constant({ value: 0.5 }) });
    const x = randn([2, 4, 5], { seed: 4 });
    const y = layer.apply(x);
    expect(y.shape).toEqual([2, 4, 3]);
    expectClose(y.data, manualDense(x, layer.weights[0].value, layer.weights[1].value), 1e-5);
    expect(layer.computeOutputShape([null, 4, 5])).toEqual([null, 4, 3]);
  });

  test('ctx.logits skips softmax/sigmoid but never other activations', () => {
    const soft = dense({ units: 3, activation: 'softmax' });
    const x = randn([2, 4], { seed: 5 });
    const probs = soft.apply(x, { training: false });
    const logits = soft.apply(x, { training: false, logits: true });
    expectClose(probs.data, logits.softmax().data, 1e-6);
    for (let r = 0; r < 2; r++) expect(probs.data[r * 3] + probs.data[r * 3 + 1] + probs.data[r * 3 + 2]).toBeCloseTo(1, 5);
    expect(soft.activationName).toBe('softmax');

    const relu = dense({ units: 3, activation: 'relu' });
    const a = relu.apply(x, { training: false });
    const b = relu.apply(x, { training: false, logits: true });
    expectClose(b.data, a.data, 0);
  });

  test('gradients of kernel and bias are correct (gradcheck)', () => {
    const layer = dense({ units: 3, activation: 'tanh', kernelInitializer: initializers.glorotUniform({ seed: 1, dtype: 'float64' }),
      biasInitializer: initializers.randomNormal({ seed: 2, dtype: 'float64' }) });
    const x = randn([4, 5], { seed: 6, dtype: 'float64' });
    layer.apply(x);
    const [w, b] = layer.weights;
    // check d(loss)/d(x, W, b) through the layer by rebinding its weights to gradcheck's copies
    expectGradOk((xx, ww, bb) => {
      w.value = ww;
      b.value = bb;
      return layer.apply(xx).square().sum();
    }, [x, w.value, b.value]);
  });

  test('getConfig is Keras snake_case', () => {
    const layer = new Dense({ units: 8, activation: 'leakyRelu', kernelRegularizer: regularizers.l2({ l2: 1e-3 }), inputShape: [4], name: 'my_dense' });
    const cfg = layer.getConfig();
    expect(cfg).toMatchObject({
      name: 'my_dense', trainable: true, units: 8, activation: 'leaky_relu', use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: { class_name: 'L2', config: { l2: 1e-3 } },
      bias_regularizer: null,
      batch_input_shape: [null, 4],
    });
    expect(layer.className).toBe('Dense');
  });

  test('regularization loss is l2 * sum(W^2)', () => {
    const layer = dense({ units: 2, kernelRegularizer: 'l2', inputShape: [3] });
    layer.apply(randn([1, 3], { seed: 7 }));
    const w = layer.weights[0].value;
    let s = 0;
    for (const v of w.data) s += v * v;
    expect(layer.regularizationLoss()!.item()).toBeCloseTo(0.01 * s, 6);
  });

  test('bad arguments and inputs throw typed errors naming the values', () => {
    expect(() => dense({ units: 0 })).toThrow(ValueError);
    expect(() => dense({ units: 2.5 })).toThrow(/units must be a positive integer, got 2.5/);
    expect(() => dense({ units: 3, activation: 'nope' })).toThrow(/unknown activation 'nope'.*relu/);
    expect(() => dense({ units: 3, kernelInitializer: 'nope' })).toThrow(ValueError);
    const layer = dense({ units: 2 });
    layer.apply(randn([2, 3], { seed: 8 }));
    expect(() => layer.apply(randn([2, 4], { seed: 9 }))).toThrow(ShapeError);
    expect(() => layer.apply(randn([2, 4], { seed: 9 }))).toThrow(/\[2, 4\]/);
    expect(() => dense({ units: 2 }).apply(tensor([1, 2, 3]))).toThrow(/rank >= 2/);
    expect(() => dense({ units: 2 }).computeOutputShape([null, null])).toThrow(ShapeError);
  });
});
