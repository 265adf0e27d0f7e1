/**
 * Losses, as Keras computes them: a per-sample loss (the mean or sum over the last axis),
 * then the mean over the batch ('sum_over_batch_size'), returned as a scalar tensor that
 * autograd can differentiate. Cross-entropies are numerically stable: from logits they use
 * logSoftmax / softplus and never take log(0); from probabilities they clip to
 * [1e-7, 1 - 1e-7] (Keras' epsilon) as Keras does.
 *
 * @example
 * const loss = gf.losses.categoricalCrossentropy(yOneHot, logits, {fromLogits: true});
 * loss.backward();
 * gf.losses.getLoss('sparse_categorical_crossentropy')(labels, probs);
 */
import { Tensor, allocate, shapeSize } from './tensor';
import { DTypeError, ShapeError, ValueError, fmtShape } from './errors';
import { add, sub, mul, div, log, clip, abs, square, softplus, neg } from './ops/elementwise';
import { sum, mean } from './ops/reduce';
import { logSoftmax } from './ops/softmax';
import { reshape } from './ops/shape';

/** Keras' fuzz factor (keras.backend.epsilon()). */
export const EPSILON = 1e-7;

export interface LossOptions {
  /** yPred are logits (pre-softmax/sigmoid): computed stably without forming probabilities. */
  fromLogits?: boolean;
  /**
   * Per-sample weights, shape [batch] (or the per-sample loss's shape). The weighted losses
   * are summed and divided by the number of per-sample losses, as Keras does.
   */
  sampleWeight?: Tensor;
  /**
   * Which per-sample loss values count, with the per-sample loss's shape (for predictions
   * [batch, steps, features]: [batch, steps]), 1 = counts, 0 = masked. Keras's rule: the loss
   * is sum(loss * weight * mask) / sum(mask), and 0 when nothing counts. The model passes the
   * mask of its output here (a recurrent layer with returnSequences after maskZero).
   */
  mask?: Tensor;
}

/** A loss: (targets, predictions, options) -> scalar tensor. */
export type LossFn = (yTrue: Tensor, yPred: Tensor, opts?: LossOptions) => Tensor;

// ----- shared checks and reduction -----

function checkInputs(loss: string, yTrue: Tensor, yPred: Tensor): void {
  if (!(yTrue instanceof Tensor) || !(yPred instanceof Tensor)) {
    throw new ValueError(`${loss}: yTrue and yPred must be Tensors`);
  }
  if (yPred.dtype === 'int32') {
    throw new DTypeError(`${loss}: yPred must be a float tensor, got int32 of shape ${fmtShape(yPred.shape)}`);
  }
  if (yPred.rank === 0) throw new ShapeError(`${loss}: yPred needs a batch dimension, got a scalar`);
  if (yPred.size === 0) throw new ValueError(`${loss}: empty batch (yPred shape ${fmtShape(yPred.shape)})`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * yTrue cast to yPred's dtype and brought to yPred's shape. As in Keras, a trailing axis of
 * size 1 on either side is tolerated ([batch] targets for [batch, 1] predictions and the
 * reverse); any other difference is a ShapeError naming the loss and both shapes.
 */
function alignTargets(loss: string, yTrue: Tensor, yPred: Tensor): Tensor {
  const t = yTrue.dtype === yPred.dtype ? yTrue : yTrue.cast(yPred.dtype);
  if (sameShape(t.shape, yPred.shape)) return t;
  const ps = yPred.shape;
  const ts = t.shape;
  if (ts.length === ps.length - 1 && ps[ps.length - 1] === 1 && sameShape(ts, ps.slice(0, -1))) return reshape(t, ps);
  if (ps.length === ts.length - 1 && ts[ts.length - 1] === 1 && sameShape(ps, ts.slice(0, -1))) return reshape(t, ps);
  throw new ShapeError(`${loss}: yTrue shape ${fmtShape(yTrue.shape)} and yPred shape ${fmtShape(yPred.shape)} differ`);
}

/** Rank-1 predictions [batch] are one value per sample: view them as [batch, 1]. */
function asColumns(t: Tensor, p: Tensor): [Tensor, Tensor] {
  if (p.rank !== 1) return [t, p];
  return [reshape(t, [p.shape[0], 1]), reshape(p, [p.shape[0], 1])];
}

/**
 * Keras' sum_over_batch_size: sum(perSample * weight) / count(perSample), or with a mask
 * sum(perSample * weight * mask) / sum(mask) (Keras scales the mask by total / valid, which
 * comes to the same; no valid value gives 0, as its divide_no_nan).
 */
function reduceOverBatch(loss: string, perSample: Tensor, opts: LossOptions): Tensor {
  const { sampleWeight, mask } = opts;
  if (sampleWeight === undefined && mask === undefined) return mean(perSample);
  const ps = perSample.shape;
  let weighted = perSample;
  if (sampleWeight !== undefined) {
    if (!(sampleWeight instanceof Tensor)) throw new ValueError(`${loss}: sampleWeight must be a Tensor`);
    let w = sampleWeight.dtype === perSample.dtype ? sampleWeight : sampleWeight.cast(perSample.dtype);
    if (w.rank === 2 && w.shape[1] === 1 && !sameShape(w.shape, ps)) w = reshape(w, [w.shape[0]]);
    if (sameShape(w.shape, ps)) {
      // already one weight per loss value
    } else if (w.rank === 1 && ps.length >= 1 && w.shape[0] === ps[0]) {
      w = reshape(w, [ps[0], ...ps.slice(1).map(() => 1)]);
    } else {
      throw new ShapeError(`${loss}: sampleWeight shape ${fmtShape(sampleWeight.shape)} does not match the batch: per-sample loss has shape ${fmtShape(ps)}`);
    }
    weighted = mul(perSample, w);
  }
  if (mask === undefined) return div(sum(weighted), Math.max(1, perSample.size));
  if (!(mask instanceof Tensor)) throw new ValueError(`${loss}: mask must be a Tensor`);
  if (!sameShape(mask.shape, ps)) {
    throw new ShapeError(`${loss}: mask shape ${fmtShape(mask.shape)} does not match the per-sample loss shape ${fmtShape(ps)} (predictions [batch, steps, ...] take a mask [batch, steps])`);
  }
  const m = mask.dtype === perSample.dtype ? mask : mask.cast(perSample.dtype);
  let valid = 0;
  const md = m.cpu().data;  // the count is a number here: a mask on a device is read back
  for (let i = 0; i < md.length; i++) valid += md[i];
  return div(sum(mul(weighted, m)), valid > 0 ? valid : 1);
}

// ----- the losses -----

/**
 * mean((yPred - yTrue)^2) over the last axis, then over the batch.
 * @example gf.losses.meanSquaredError(gf.tensor([[1], [2]]), gf.tensor([[1.5], [2]]))  // 0.125
 */
export function meanSquaredError(yTrue: Tensor, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const name = 'meanSquaredError';
  checkInputs(name, yTrue, yPred);
  const [t, p] = asColumns(alignTargets(name, yTrue, yPred), yPred);
  return reduceOverBatch(name, mean(square(sub(p, t)), -1), opts);
}

/**
 * mean(|yPred - yTrue|) over the last axis, then over the batch.
 * @example gf.losses.meanAbsoluteError(yTrue, yPred)
 */
export function meanAbsoluteError(yTrue: Tensor, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const name = 'meanAbsoluteError';
  checkInputs(name, yTrue, yPred);
  const [t, p] = asColumns(alignTargets(name, yTrue, yPred), yPred);
  return reduceOverBatch(name, mean(abs(sub(p, t)), -1), opts);
}

/**
 * Binary cross-entropy of targets in [0, 1], mean over the last axis then the batch.
 * From logits x: z * softplus(-x) + (1 - z) * softplus(x) (= max(x,0) - x z + log(1+e^-|x|),
 * exact for large |x|, gradient sigmoid(x) - z). From probabilities: clipped to
 * [1e-7, 1 - 1e-7] first, as Keras.
 * @example gf.losses.binaryCrossentropy(labels, logits, {fromLogits: true})
 */
export function binaryCrossentropy(yTrue: Tensor, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const name = 'binaryCrossentropy';
  checkInputs(name, yTrue, yPred);
  const [z, x] = asColumns(alignTargets(name, yTrue, yPred), yPred);
  let elem: Tensor;
  if (opts.fromLogits === true) {
    elem = add(mul(z, softplus(neg(x))), mul(sub(1, z), softplus(x)));
  } else {
    const p = clip(x, EPSILON, 1 - EPSILON);
    elem = neg(add(mul(z, log(p)), mul(sub(1, z), log(sub(1, p)))));
  }
  return reduceOverBatch(name, mean(elem, -1), opts);
}

/** -sum(t * log p) over the last axis from probabilities (normalized, clipped) or logits. */
function crossentropyFromTargets(t: Tensor, yPred: Tensor, fromLogits: boolean): Tensor {
  if (fromLogits) return neg(sum(mul(t, logSoftmax(yPred, -1)), -1));
  // Keras renormalizes the rows (so unnormalized scores still work), then clips
  const p = clip(div(yPred, sum(yPred, -1, true)), EPSILON, 1 - EPSILON);
  return neg(sum(mul(t, log(p)), -1));
}

/**
 * Cross-entropy of one-hot (or soft) targets over the last axis, mean over the batch.
 * @example gf.losses.categoricalCrossentropy(oneHot, probs)
 */
export function categoricalCrossentropy(yTrue: Tensor, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const name = 'categoricalCrossentropy';
  checkInputs(name, yTrue, yPred);
  const t = yTrue.dtype === yPred.dtype ? yTrue : yTrue.cast(yPred.dtype);
  if (!sameShape(t.shape, yPred.shape)) {
    throw new ShapeError(`${name}: yTrue shape ${fmtShape(yTrue.shape)} and yPred shape ${fmtShape(yPred.shape)} differ (targets must be one-hot; use sparseCategoricalCrossentropy for class indices)`);
  }
  return reduceOverBatch(name, crossentropyFromTargets(t, yPred, opts.fromLogits === true), opts);
}

/**
 * Cross-entropy of integer class indices: labels of shape [batch] or [batch, 1] (int32, or
 * floats holding integers) against predictions [batch, classes]. A label outside
 * [0, classes) is a ValueError naming it.
 * @example gf.losses.sparseCategoricalCrossentropy(gf.tensor([2, 0], [2], {dtype: 'int32'}), logits, {fromLogits: true})
 */
export function sparseCategoricalCrossentropy(yTrue: Tensor, yPred: Tensor, opts: LossOptions = {}): Tensor {
  const name = 'sparseCategoricalCrossentropy';
  checkInputs(name, yTrue, yPred);
  if (yPred.rank < 2) {
    throw new ShapeError(`${name}: yPred must be [batch, classes], got ${fmtShape(yPred.shape)}`);
  }
  const lead = yPred.shape.slice(0, -1);
  const classes = yPred.shape[yPred.rank - 1];
  const ts = yTrue.shape;
  const fits = sameShape(ts, lead) || (ts.length === lead.length + 1 && ts[ts.length - 1] === 1 && sameShape(ts.slice(0, -1), lead));
  if (!fits) {
    throw new ShapeError(`${name}: labels of shape ${fmtShape(ts)} do not match yPred shape ${fmtShape(yPred.shape)} (expected ${fmtShape(lead)} or ${fmtShape([...lead, 1])})`);
  }
  // one-hot in yPred's dtype: the loss is then the categorical one (same clipping and the
  // same gradient), and the labels never need a gradient
  const oneHot = allocate(yPred.dtype, shapeSize(yPred.shape));
  const labels = yTrue.cpu().data;  // checked here, so read back from a device
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new ValueError(`${name}: label ${c} at position ${i} is out of range: expected an integer in [0, ${classes}) for ${classes} classes`);
    }
    oneHot[i * classes + c] = 1;
  }
  const t = new Tensor(oneHot, yPred.shape).to(yPred.device);
  return reduceOverBatch(name, crossentropyFromTargets(t, yPred, opts.fromLogits === true), opts);
}

// ----- lookup by name -----

/** The canonical loss names (lowerCamelCase). */
export type LossName =
  | 'meanSquaredError' | 'meanAbsoluteError' | 'binaryCrossentropy'
  | 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy';

const LOSSES: Record<LossName, LossFn> = {
  meanSquaredError, meanAbsoluteError, binaryCrossentropy, categoricalCrossentropy, sparseCategoricalCrossentropy,
};

/** Aliases (lower-cased, underscores removed) -> canonical name. */
const ALIASES: Record<string, LossName> = {
  meansquarederror: 'meanSquaredError',
  mse: 'meanSquaredError',
  meanabsoluteerror: 'meanAbsoluteError',
  mae: 'meanAbsoluteError',
  binarycrossentropy: 'binaryCrossentropy',
  categoricalcrossentropy: 'categoricalCrossentropy',
  sparsecategoricalcrossentropy: 'sparseCategoricalCrossentropy',
};

/** Every name getLoss accepts (snake_case forms work as well). */
export const lossNames: readonly string[] = [
  'meanSquaredError', 'mse', 'meanAbsoluteError', 'mae', 'binaryCrossentropy',
  'categoricalCrossentropy', 'sparseCategoricalCrossentropy',
];

/**
 * The canonical name of a loss given by name (any Keras spelling) or by one of this module's
 * functions; undefined for a custom function or an unknown name.
 * @example resolveLossName('categorical_crossentropy')   // 'categoricalCrossentropy'
 */
export function resolveLossName(loss: string | LossFn): LossName | undefined {
  if (typeof loss === 'function') {
    return (Object.keys(LOSSES) as LossName[]).find((k) => LOSSES[k] === loss);
  }
  if (typeof loss !== 'string') return undefined;
  const key = loss.replace(/_/g, '').toLowerCase();
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
}

/**
 * A loss function from its name: camelCase or Keras snake_case, or the 'mse'/'mae' shorthands.
 * Returns this module's function objects themselves (the model compares them to decide
 * whether it can fuse the output activation with the loss).
 * @example gf.losses.getLoss('categorical_crossentropy') === gf.losses.categoricalCrossentropy
 */
export function getLoss(name: string | LossFn): LossFn {
  if (typeof name === 'function') return name;
  const key = resolveLossName(name);
  if (key === undefined) {
    throw new ValueError(`getLoss: unknown loss '${String(name)}'; known: ${lossNames.join(', ')} (snake_case also accepted)`);
  }
  return LOSSES[key];
}
