import { tensor, randn } from '../lib/tensor';
import { ShapeError, ValueError } from '../lib/errors';
import {
  binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, meanSquaredError, meanAbsoluteError, getMetric,
} from '../lib/metrics';
import { categoricalCrossentropy } from '../lib/losses';

const int = (v: number[]): ReturnType<typeof tensor> => tensor(v, undefined, { dtype: 'int32' });

describe('accuracy metrics', () => {
  test('binaryAccuracy: threshold 0.5 on probabilities, 0 on logits', () => {
    // keras.metrics.BinaryAccuracy docs: [[1],[1],[0],[0]] vs [[0.98],[1],[0],[0.6]] -> 0.75
    expect(binaryAccuracy(tensor([[1], [1], [0], [0]]), tensor([[0.98], [1], [0], [0.6]]))).toBeCloseTo(0.75, 10);
    // logits: 0.2 > 0 counts as class 1 (it would not against 0.5)
    expect(binaryAccuracy(tensor([[1], [0], [1]]), tensor([[0.2], [-0.1], [-3]]), true)).toBeCloseTo(2 / 3, 10);
    expect(binaryAccuracy(tensor([[1], [0], [1]]), tensor([[0.2], [-0.1], [-3]]), false)).toBeCloseTo(1 / 3, 10);
    // [batch] labels against [batch, 1] predictions
    expect(binaryAccuracy(tensor([1, 0]), tensor([[0.7], [0.6]]))).toBe(0.5);
  });

  test('categoricalAccuracy: argmax match, logits or probabilities', () => {
    // keras.metrics.CategoricalAccuracy docs: 0.5
    expect(categoricalAccuracy(tensor([[0, 0, 1], [0, 1, 0]]), tensor([[0.1, 0.9, 0.8], [0.05, 0.95, 0]]))).toBe(0.5);
    const logits = randn([20, 5], { seed: 1 });
    const t = logits.softmax();
    expect(categoricalAccuracy(t, logits, true)).toBe(1);
  });

  test('sparseCategoricalAccuracy: label equals argmax; [batch] or [batch, 1] labels', () => {
    // keras.metrics.SparseCategoricalAccuracy docs: [[2],[1]] vs [[0.1,0.6,0.3],[0.05,0.95,0]] -> 0.5
    const yp = tensor([[0.1, 0.6, 0.3], [0.05, 0.95, 0]]);
    expect(sparseCategoricalAccuracy(tensor([[2], [1]]), yp)).toBe(0.5);
    expect(sparseCategoricalAccuracy(int([1, 1]), yp)).toBe(1);
    expect(() => sparseCategoricalAccuracy(int([1, 1, 0]), yp)).toThrow(ShapeError);
  });

  test('mse / mae as numbers; logits mapped through the fused activation', () => {
    expect(meanSquaredError(tensor([[0, 1], [0, 0]]), tensor([[1, 1], [1, 0]]))).toBeCloseTo(0.5, 10);
    expect(meanAbsoluteError(tensor([[1], [2]]), tensor([[1.5], [3]]))).toBeCloseTo(0.75, 7);
    // one column of logits can only have been a sigmoid
    const sig = (z: number): number => 1 / (1 + Math.exp(-z));
    expect(meanSquaredError(tensor([[1], [0]]), tensor([[0.3], [-2]]), true)).toBeCloseTo(((1 - sig(0.3)) ** 2 + sig(-2) ** 2) / 2, 6);
    // several columns of logits need the loss to say which activation
    expect(() => meanSquaredError(tensor([[1, 0]]), tensor([[0.3, -2]]), true)).toThrow(ValueError);
    const viaLoss = getMetric('mse', 'categorical_crossentropy');
    const x = tensor([[0.3, -2]]);
    const p = x.softmax().data;
    expect(viaLoss(tensor([[1, 0]]), x, true)).toBeCloseTo(((1 - p[0]) ** 2 + p[1] ** 2) / 2, 6);
  });

  test('metrics record no autograd graph', () => {
    const x = randn([4, 3], { seed: 2 }).setRequiresGrad(true);
    const m = getMetric('categorical_crossentropy', 'categoricalCrossentropy');
    const v = m(x.softmax().detach(), x, true);
    expect(typeof v).toBe('number');
    expect(v).toBeCloseTo(categoricalCrossentropy(x.softmax().detach(), x, { fromLogits: true }).item(), 6);
    expect(x.grad).toBeNull();
  });
});

describe('getMetric', () => {
  test("'accuracy' follows the loss, as Keras", () => {
    expect(getMetric('accuracy', 'binaryCrossentropy')).toBe(binaryAccuracy);
    expect(getMetric('acc', 'binary_crossentropy')).toBe(binaryAccuracy);
    expect(getMetric('accuracy', 'categoricalCrossentropy')).toBe(categoricalAccuracy);
    expect(getMetric('accuracy', 'sparse_categorical_crossentropy')).toBe(sparseCategoricalAccuracy);
    expect(getMetric('sparse_categorical_accuracy')).toBe(sparseCategoricalAccuracy);
  });

  test("'accuracy' with another loss decides from the shapes", () => {
    const acc = getMetric('accuracy', 'mse');
    expect(acc(tensor([[1], [0]]), tensor([[0.9], [0.8]]))).toBe(0.5);                          // binary
    expect(acc(int([2, 0]), tensor([[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]]))).toBe(1);                 // sparse
    expect(acc(tensor([[0, 1, 0], [1, 0, 0]]), tensor([[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]]))).toBe(0.5); // categorical
  });

  test('unknown names list the known ones', () => {
    expect(() => getMetric('f1_magic')).toThrow(/unknown metric 'f1_magic'; known: accuracy, acc/);
  });
});
