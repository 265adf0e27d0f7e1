import { Tensor, tensor, randn, randUniform } from '../lib/tensor';
import { ShapeError, ValueError, DTypeError } from '../lib/errors';
import {
  meanSquaredError, meanAbsoluteError, binaryCrossentropy, categoricalCrossentropy,
  sparseCategoricalCrossentropy, getLoss, resolveLossName,
} from '../lib/losses';
import { expectGradOk, expectClose } from './util/helpers';

const f64 = (v: number[][] | number[]): Tensor => tensor(v, undefined, { dtype: 'float64' });
const int = (v: number[]): Tensor => tensor(v, undefined, { dtype: 'int32' });

/** Rows of a [rows, cols] float64 tensor whose rows are probability vectors. */
function probs(rows: number, cols: number, seed: number): Tensor {
  return randn([rows, cols], { seed, dtype: 'float64' }).softmax();
}

describe('values match Keras (documented examples and hand computation)', () => {
  test('mse / mae', () => {
    // keras.losses.MeanSquaredError docs: 0.5; MeanAbsoluteError docs: 0.5
    const yt = tensor([[0, 1], [0, 0]]);
    const yp = tensor([[1, 1], [1, 0]]);
    expect(meanSquaredError(yt, yp).item()).toBeCloseTo(0.5, 6);
    expect(meanAbsoluteError(yt, yp).item()).toBeCloseTo(0.5, 6);
    expect(meanSquaredError(tensor([[1], [2]]), tensor([[1.5], [2]])).item()).toBeCloseTo(0.125, 6);
    expect(meanSquaredError(yt, yp).shape).toEqual([]);
    // [batch] targets against [batch, 1] predictions are accepted, as in Keras
    expect(meanAbsoluteError(tensor([1, 2]), tensor([[1.5], [3]])).item()).toBeCloseTo(0.75, 6);
  });

  test('binary crossentropy from probabilities and from logits', () => {
    // keras.losses.BinaryCrossentropy docs
    expect(binaryCrossentropy(tensor([[0, 1], [0, 0]]), tensor([[0.6, 0.4], [0.4, 0.6]])).item()).toBeCloseTo(0.815, 3);
    expect(binaryCrossentropy(tensor([0, 1, 0, 0]), tensor([-18.6, 0.51, 2.94, -12.8]), { fromLogits: true }).item()).toBeCloseTo(0.865, 3);
    // hand computed with Python math.log
    expect(binaryCrossentropy(f64([[0, 1], [1, 0]]), f64([[0.1, 0.8], [0.7, 0.4]])).item()).toBeCloseTo(0.2990011586691898, 10);
  });

  test('categorical and sparse categorical crossentropy', () => {
    // keras.losses.CategoricalCrossentropy / SparseCategoricalCrossentropy docs: 1.177
    const yp = tensor([[0.05, 0.95, 0], [0.1, 0.8, 0.1]]);
    expect(categoricalCrossentropy(tensor([[0, 1, 0], [0, 0, 1]]), yp).item()).toBeCloseTo(1.176939193690798, 5);
    expect(sparseCategoricalCrossentropy(int([1, 2]), yp).item()).toBeCloseTo(1.176939193690798, 5);
    expect(sparseCategoricalCrossentropy(tensor([[1], [2]]), yp).item()).toBeCloseTo(1.176939193690798, 5);
    const logits = f64([[1, 2, 3], [1, -1, 0.5]]);
    expect(sparseCategoricalCrossentropy(int([2, 0]), logits, { fromLogits: true }).item()).toBeCloseTo(0.48128144204318557, 10);
    expect(categoricalCrossentropy(f64([[0, 0, 1], [1, 0, 0]]), logits, { fromLogits: true }).item()).toBeCloseTo(0.48128144204318557, 10);
  });

  test('from logits equals from probabilities where both are accurate', () => {
    const x = randn([6, 4], { seed: 1, dtype: 'float64' });
    const t = probs(6, 4, 2);
    expect(categoricalCrossentropy(t, x, { fromLogits: true }).item()).toBeCloseTo(categoricalCrossentropy(t, x.softmax()).item(), 8);
    const z = randUniform([6, 4], { seed: 3, dtype: 'float64' });
    expect(binaryCrossentropy(z, x, { fromLogits: true }).item()).toBeCloseTo(binaryCrossentropy(z, x.sigmoid()).item(), 8);
  });

  test('stable for saturated logits; probabilities clipped at 1e-7', () => {
    const big = tensor([[1000, -1000, 0]]);
    const l = categoricalCrossentropy(tensor([[0, 1, 0]]), big, { fromLogits: true }).item();
    expect(l).toBeCloseTo(2000, 2);
    expect(Number.isFinite(binaryCrossentropy(tensor([[1, 0]]), tensor([[-500, 500]]), { fromLogits: true }).item())).toBe(true);
    expect(binaryCrossentropy(tensor([[1, 0]]), tensor([[-500, 500]]), { fromLogits: true }).item()).toBeCloseTo(500, 3);
    // p = 0 for the true class: -log(1e-7) = 16.118
    expect(categoricalCrossentropy(f64([[1, 0]]), f64([[0, 1]])).item()).toBeCloseTo(-Math.log(1e-7), 6);
    expect(binaryCrossentropy(f64([[1]]), f64([[0]])).item()).toBeCloseTo(-Math.log(1e-7), 6);
  });

  test('sample weights: sum(w * loss) / batch size', () => {
    const yt = tensor([[0], [1], [2]]);
    const yp = tensor([[1], [1], [0]]);
    // per-sample squared errors 1, 0, 4
    const w = tensor([2, 5, 0.5]);
    expect(meanSquaredError(yt, yp, { sampleWeight: w }).item()).toBeCloseTo((2 + 0 + 2) / 3, 6);
    expect(() => meanSquaredError(yt, yp, { sampleWeight: tensor([1, 2]) })).toThrow(ShapeError);
  });
});

describe('gradients (gradcheck, float64)', () => {
  const yt = randUniform([4, 3], { seed: 10, dtype: 'float64' });
  // away from kinks (|d| = 0) and from the clip boundaries
  const yp = randUniform([4, 3], { seed: 11, dtype: 'float64', minval: 0.05, maxval: 0.95 });

  test('mse, mae', () => {
    expectGradOk((p) => meanSquaredError(yt, p), [yp]);
    expectGradOk((p) => meanAbsoluteError(yt, p), [yp.add(0.013)]);
    expectGradOk((p) => meanSquaredError(yt, p, { sampleWeight: f64([1, 2, 3, 4]) }), [yp]);
  });

  test('binary crossentropy (probabilities and logits)', () => {
    expectGradOk((p) => binaryCrossentropy(yt, p), [yp]);
    expectGradOk((x) => binaryCrossentropy(yt, x, { fromLogits: true }), [randn([4, 3], { seed: 12, dtype: 'float64' }).mul(3)]);
  });

  test('categorical and sparse crossentropy (probabilities and logits)', () => {
    const t = probs(4, 3, 13);
    expectGradOk((p) => categoricalCrossentropy(t, p), [probs(4, 3, 14)]);
    expectGradOk((x) => categoricalCrossentropy(t, x, { fromLogits: true }), [randn([4, 3], { seed: 15, dtype: 'float64' })]);
    const labels = int([0, 2, 1, 2]);
    expectGradOk((p) => sparseCategoricalCrossentropy(labels, p), [probs(4, 3, 16)]);
    expectGradOk((x) => sparseCategoricalCrossentropy(labels, x, { fromLogits: true }), [randn([4, 3], { seed: 17, dtype: 'float64' })]);
  });

  test('logit gradients are softmax(x) - t and sigmoid(x) - z over the batch', () => {
    const x = f64([[0.5, -1, 2]]).setRequiresGrad(true);
    categoricalCrossentropy(f64([[0, 1, 0]]), x, { fromLogits: true }).backward();
    const s = [0.5, -1, 2].map(Math.exp);
    const z = s.reduce((a, b) => a + b, 0);
    expectClose(x.grad!.data, s.map((v, i) => v / z - (i === 1 ? 1 : 0)), 1e-12);
    const y = f64([[0.3, -4]]).setRequiresGrad(true);
    binaryCrossentropy(f64([[1, 0]]), y, { fromLogits: true }).backward();
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    // mean over 2 elements
    expectClose(y.grad!.data, [(sig(0.3) - 1) / 2, sig(-4) / 2], 1e-12);
  });
});

describe('errors and lookup', () => {
  test('shape mismatches name the loss and both shapes', () => {
    expect(() => meanSquaredError(tensor([[1, 2, 3]]), tensor([[1, 2]]))).toThrow(ShapeError);
    expect(() => meanSquaredError(tensor([[1, 2, 3]]), tensor([[1, 2]]))).toThrow(/meanSquaredError: yTrue shape \[1, 3\] and yPred shape \[1, 2\] differ/);
    expect(() => categoricalCrossentropy(int([1, 2]), tensor([[0.5, 0.5, 0], [0, 0, 1]]))).toThrow(/categoricalCrossentropy.*\[2\].*\[2, 3\]/);
    expect(() => sparseCategoricalCrossentropy(int([1, 2, 0]), tensor([[0.5, 0.5], [0, 1]]))).toThrow(/sparseCategoricalCrossentropy.*\[3\].*\[2, 2\]/);
    expect(() => binaryCrossentropy(tensor([1]), tensor([1], undefined, { dtype: 'int32' }))).toThrow(DTypeError);
  });

  test('out-of-range sparse labels name the label and the class count', () => {
    expect(() => sparseCategoricalCrossentropy(int([0, 3]), tensor([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])))
      .toThrow(/label 3 at position 1 is out of range.*3 classes/);
    expect(() => sparseCategoricalCrossentropy(int([-1]), tensor([[0.5, 0.5]]))).toThrow(ValueError);
    expect(() => sparseCategoricalCrossentropy(tensor([0.5]), tensor([[0.5, 0.5]]))).toThrow(/label 0.5/);
  });

  test('getLoss accepts camelCase, snake_case and shorthands, returning the same functions', () => {
    expect(getLoss('categoricalCrossentropy')).toBe(categoricalCrossentropy);
    expect(getLoss('categorical_crossentropy')).toBe(categoricalCrossentropy);
    expect(getLoss('sparse_categorical_crossentropy')).toBe(sparseCategoricalCrossentropy);
    expect(getLoss('binary_crossentropy')).toBe(binaryCrossentropy);
    expect(getLoss('mse')).toBe(meanSquaredError);
    expect(getLoss('mean_squared_error')).toBe(meanSquaredError);
    expect(getLoss('mae')).toBe(meanAbsoluteError);
    expect(getLoss('meanAbsoluteError')).toBe(meanAbsoluteError);
    expect(resolveLossName(sparseCategoricalCrossentropy)).toBe('sparseCategoricalCrossentropy');
    expect(() => getLoss('hinge_of_doom')).toThrow(/unknown loss 'hinge_of_doom'; known: meanSquaredError, mse/);
  });
});
