/**
 * Metrics: numbers that report training progress (accuracy, mse, ...). They are computed
 * without autograd (noGrad) and return a plain number, the mean over the batch. Each takes a
 * flag saying whether yPred are logits (the model fuses softmax/sigmoid into the loss and then
 * hands metrics the logits).
 *
 * @example
 * gf.metrics.categoricalAccuracy(yOneHot, probs);        // 0.9375
 * const acc = gf.metrics.getMetric('accuracy', 'sparse_categorical_crossentropy');
 * acc(labels, logits, true);
 */
import { Tensor } from './tensor';
import { noGrad } from './autograd';
import { DTypeError, ShapeError, ValueError, fmtShape } from './errors';
import { sigmoid } from './ops/elementwise';
import { softmax } from './ops/softmax';
import { argmax } from './ops/reduce';
import { LossName, LossFn, getLoss, resolveLossName, lossNames } from './losses';

/**
 * A metric: (targets, predictions, predictions-are-logits, mask) -> mean over the batch. The
 * mask, when given, has the predictions' shape less the last axis ([batch, steps] for
 * [batch, steps, features]); a row whose mask is 0 does not count, as Keras weighs metrics by
 * the output's mask. The model passes the mask of its output to every metric, custom ones too.
 */
export type MetricFn = (yTrue: Tensor, yPred: Tensor, fromLogits?: boolean, mask?: Tensor) => number;

/**
 * The mean of per-row values, counting only rows whose mask is nonzero (0 when none counts,
 * as Keras's divide_no_nan). rows values come from rowValue(i), each the mean over that row.
 */
function maskedRowMean(metric: string, rows: number, mask: Tensor, rowValue: (row: number) => number): number {
  if (!(mask instanceof Tensor)) throw new ValueError(`${metric}: mask must be a Tensor`);
  if (mask.size !== rows) {
    throw new ShapeError(`${metric}: mask shape ${fmtShape(mask.shape)} has ${mask.size} entries for ${rows} prediction rows (a mask has the predictions' shape less the last axis)`);
  }
  const m = mask.data;
  let s = 0, w = 0;
  for (let i = 0; i < rows; i++) {
    if (m[i] === 0) continue;
    s += m[i] * rowValue(i);
    w += m[i];
  }
  return w > 0 ? s / w : 0;
}

/** The number of rows (leading positions) of a prediction: everything but the last axis. */
function rowsOf(yPred: Tensor): number {
  return yPred.rank <= 1 ? yPred.size : yPred.size / yPred.shape[yPred.rank - 1];
}

function checkPair(metric: string, yTrue: Tensor, yPred: Tensor): void {
  if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) throw new ValueError(`${metric}: yTrue and yPred must be Tensors`);
  if (yPred.dtype === 'int32') throw new DTypeError(`${metric}: yPred must be a float tensor, got int32 of shape ${fmtShape(yPred.shape)}`);
  if (yPred.rank === 0) throw new ShapeError(`${metric}: yPred needs a batch dimension, got a scalar`);
  if (yPred.size === 0) throw new ValueError(`${metric}: empty batch (yPred shape ${fmtShape(yPred.shape)})`);
}

/** Same element count and shapes equal up to a trailing 1 (Keras squeezes it). */
function checkSameSize(metric: string, yTrue: Tensor, yPred: Tensor): void {
  const a = yTrue.shape.filter((d, i) => !(i === yTrue.rank - 1 && d === 1 && yTrue.rank > 1));
  const b = yPred.shape.filter((d, i) => !(i === yPred.rank - 1 && d === 1 && yPred.rank > 1));
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new ShapeError(`${metric}: yTrue shape ${fmtShape(yTrue.shape)} and yPred shape ${fmtShape(yPred.shape)} differ`);
  }
}

/**
 * Fraction of elements where (yPred > threshold) equals yTrue. The threshold is 0.5 on
 * probabilities and 0 on logits (sigmoid(x) > 0.5 exactly when x > 0).
 * @example binaryAccuracy(gf.tensor([[1], [0]]), gf.tensor([[0.7], [0.6]]))   // 0.5
 */
export function binaryAccuracy(yTrue: Tensor, yPred: Tensor, fromLogits = false, mask?: Tensor): number {
  checkPair('binaryAccuracy', yTrue, yPred);
  checkSameSize('binaryAccuracy', yTrue, yPred);
  const threshold = fromLogits ? 0 : 0.5;
  const t = yTrue.data;
  const p = yPred.data;
  if (mask !== undefined) {
    const rows = rowsOf(yPred), len = p.length / rows;
    return maskedRowMean('binaryAccuracy', rows, mask, (r) => {
      let h = 0;
      for (let i = r * len; i < (r + 1) * len; i++) if ((p[i] > threshold ? 1 : 0) === t[i]) h++;
      return h / len;
    });
  }
  let hits = 0;
  for (let i = 0; i < p.length; i++) {
    const predicted = p[i] > threshold ? 1 : 0;
    if (predicted === t[i]) hits++;
  }
  return hits / p.length;
}

/** Row-wise argmax of a [..., classes] array in JS (first index on ties, as the kernel). */
function argmaxRows(x: Tensor): Int32Array {
  return noGrad(() => argmax(x, -1)).data as Int32Array;
}

/**
 * Fraction of rows where argmax(yTrue) equals argmax(yPred) (logits or probabilities alike).
 * @example categoricalAccuracy(oneHot, probs)
 */
export function categoricalAccuracy(yTrue: Tensor, yPred: Tensor, fromLogits = false, mask?: Tensor): number {
  void fromLogits; // argmax is the same before and after softmax
  checkPair('categoricalAccuracy', yTrue, yPred);
  if (yTrue.rank !== yPred.rank || yTrue.shape.some((d, i) => d !== yPred.shape[i])) {
    throw new ShapeError(`categoricalAccuracy: yTrue shape ${fmtShape(yTrue.shape)} and yPred shape ${fmtShape(yPred.shape)} differ`);
  }
  const a = argmaxRows(yTrue.dtype === 'int32' ? yTrue.cast('float32') : yTrue);
  const b = argmaxRows(yPred);
  if (mask !== undefined) return maskedRowMean('categoricalAccuracy', b.length, mask, (r) => (a[r] === b[r] ? 1 : 0));
  let hits = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) hits++;
  return hits / a.length;
}

/**
 * Fraction of rows where the integer label equals argmax(yPred); labels [batch] or [batch, 1].
 * @example sparseCategoricalAccuracy(gf.tensor([2, 0], [2], {dtype: 'int32'}), probs)
 */
export function sparseCategoricalAccuracy(yTrue: Tensor, yPred: Tensor, fromLogits = false, mask?: Tensor): number {
  void fromLogits;
  checkPair('sparseCategoricalAccuracy', yTrue, yPred);
  const lead = yPred.shape.slice(0, -1);
  if (yPred.rank < 2 || yTrue.size !== lead.reduce((n, d) => n * d, 1)) {
    throw new ShapeError(`sparseCategoricalAccuracy: labels of shape ${fmtShape(yTrue.shape)} do not match yPred shape ${fmtShape(yPred.shape)}`);
  }
  const b = argmaxRows(yPred);
  const t = yTrue.data;
  if (mask !== undefined) return maskedRowMean('sparseCategoricalAccuracy', b.length, mask, (r) => (t[r] === b[r] ? 1 : 0));
  let hits = 0;
  for (let i = 0; i < b.length; i++) if (t[i] === b[i]) hits++;
  return hits / b.length;
}

/**
 * Probabilities from logits for the value metrics. The activation is the one the model fused
 * (the loss tells which); without that, a single output column can only have been a sigmoid.
 */
function toProbabilities(metric: string, yPred: Tensor, activation: 'sigmoid' | 'softmax' | undefined): Tensor {
  const act = activation ?? (yPred.shape[yPred.rank - 1] === 1 ? 'sigmoid' : undefined);
  if (act === undefined) {
    throw new ValueError(`${metric}: yPred are logits of shape ${fmtShape(yPred.shape)} and the output activation is unknown; ` +
      `get the metric with getMetric('${metric}', lossName) so it knows whether to apply softmax or sigmoid`);
  }
  return noGrad(() => (act === 'sigmoid' ? sigmoid(yPred) : softmax(yPred, -1)));
}

function valueMetric(metric: string, yTrue: Tensor, yPred: Tensor, fromLogits: boolean,
                     activation: 'sigmoid' | 'softmax' | undefined, f: (d: number) => number, mask?: Tensor): number {
  checkPair(metric, yTrue, yPred);
  checkSameSize(metric, yTrue, yPred);
  const p = (fromLogits ? toProbabilities(metric, yPred, activation) : yPred).data;
  const t = yTrue.data;
  if (mask !== undefined) {
    const rows = rowsOf(yPred), len = p.length / rows;
    return maskedRowMean(metric, rows, mask, (r) => {
      let s = 0;
      for (let i = r * len; i < (r + 1) * len; i++) s += f(p[i] - t[i]);
      return s / len;
    });
  }
  let s = 0;
  for (let i = 0; i < p.length; i++) s += f(p[i] - t[i]);
  // mean over the last axis then the batch equals the mean over all (equal row lengths)
  return s / p.length;
}

/**
 * Mean squared error as a number.
 * @example meanSquaredError(yTrue, yPred)
 */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor, fromLogits = false, mask?: Tensor): number {
  return valueMetric('meanSquaredError', yTrue, yPred, fromLogits, undefined, (d) => d * d, mask);
}

/**
 * Mean absolute error as a number.
 * @example meanAbsoluteError(yTrue, yPred)
 */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor, fromLogits = false, mask?: Tensor): number {
  return valueMetric('meanAbsoluteError', yTrue, yPred, fromLogits, undefined, Math.abs, mask);
}

export const mse = meanSquaredError;
export const mae = meanAbsoluteError;

/** The activation a fused loss implies for logits. */
function fusedActivation(loss: LossName | undefined): 'sigmoid' | 'softmax' | undefined {
  if (loss === 'binaryCrossentropy') return 'sigmoid';
  if (loss === 'categoricalCrossentropy' || loss === 'sparseCategoricalCrossentropy') return 'softmax';
  return undefined;
}

/**
 * Keras' choice for 'accuracy' when the loss does not decide it: one output column is binary,
 * labels with fewer dimensions (or one column against many) are sparse, else categorical.
 */
const shapeBasedAccuracy: MetricFn = (yTrue, yPred, fromLogits = false, mask) => {
  const classes = yPred.shape[yPred.rank - 1];
  if (yPred.rank === 1 || classes === 1) return binaryAccuracy(yTrue, yPred, fromLogits, mask);
  if (yTrue.rank < yPred.rank || yTrue.shape[yTrue.rank - 1] === 1) return sparseCategoricalAccuracy(yTrue, yPred, fromLogits, mask);
  return categoricalAccuracy(yTrue, yPred, fromLogits, mask);
};

/** Every metric name getMetric accepts (snake_case also accepted), plus the loss names. */
export const metricNames: readonly string[] = [
  'accuracy', 'acc', 'binaryAccuracy', 'categoricalAccuracy', 'sparseCategoricalAccuracy',
  'meanSquaredError', 'mse', 'meanAbsoluteError', 'mae', ...lossNames.filter((n) => n.endsWith('Crossentropy')),
];

/**
 * A metric by name. 'accuracy'/'acc' resolve by the loss as TensorFlow.js and Keras 2 do
 * (binary, categorical or sparse cross-entropy), else by the shapes at call time. (Keras 3
 * decides by the output shape alone, so a binaryCrossentropy model with 5 outputs gets
 * categorical accuracy there and binary accuracy here.) 'mse'/'mae' apply the loss's
 * fused activation to logits. A cross-entropy name gives that loss's value as a number.
 * @example getMetric('accuracy', 'categoricalCrossentropy') === categoricalAccuracy
 */
export function getMetric(name: string | MetricFn, lossName?: string | LossFn): MetricFn {
  if (typeof name === 'function') return name;
  if (typeof name !== 'string') throw new ValueError(`getMetric: expected a name or a function, got ${String(name)}`);
  const loss = lossName === undefined ? undefined : resolveLossName(lossName);
  const key = name.replace(/_/g, '').toLowerCase();
  switch (key) {
    case 'accuracy':
    case 'acc':
      if (loss === 'binaryCrossentropy') return binaryAccuracy;
      if (loss === 'categoricalCrossentropy') return categoricalAccuracy;
      if (loss === 'sparseCategoricalCrossentropy') return sparseCategoricalAccuracy;
      return shapeBasedAccuracy;
    case 'binaryaccuracy':
      // logits of a softmax output are not thresholded at 0: take probabilities first
      if (fusedActivation(loss) === 'softmax') {
        return (t, p, fromLogits = false, mask) => binaryAccuracy(t, fromLogits ? toProbabilities('binaryAccuracy', p, 'softmax') : p, false, mask);
      }
      return binaryAccuracy;
    case 'categoricalaccuracy': return categoricalAccuracy;
    case 'sparsecategoricalaccuracy': return sparseCategoricalAccuracy;
    case 'meansquarederror':
    case 'mse': {
      const act = fusedActivation(loss);
      return (t, p, fromLogits = false, mask) => valueMetric('meanSquaredError', t, p, fromLogits, act, (d) => d * d, mask);
    }
    case 'meanabsoluteerror':
    case 'mae': {
      const act = fusedActivation(loss);
      return (t, p, fromLogits = false, mask) => valueMetric('meanAbsoluteError', t, p, fromLogits, act, Math.abs, mask);
    }
    case 'binarycrossentropy':
    case 'categoricalcrossentropy':
    case 'sparsecategoricalcrossentropy': {
      const f = getLoss(name);
      const own = fusedActivation(resolveLossName(name));
      const lossAct = fusedActivation(loss);
      return (t, p, fromLogits = false, mask) => noGrad(() => {
        // logits of another activation than this cross-entropy's own: use probabilities
        if (fromLogits && lossAct !== own) return f(t, toProbabilities(name, p, lossAct), { fromLogits: false, mask }).item();
        return f(t, p, { fromLogits, mask }).item();
      });
    }
    default:
      throw new ValueError(`getMetric: unknown metric '${name}'; known: ${metricNames.join(', ')}`);
  }
}
