/**
 * The fit loop: batches, forward, loss (+ regularization), backward, optimizer step, metrics,
 * validation, callbacks and the progress display.
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { Rng, rngFor, setSeed } from '../random';
import type { ParamGrad } from '../optim/optimizer';
import type { Sequential } from './sequential';
import { BatchStatistics, batchStatistics, checkBatchSize, checkXY, rangeIndices } from './sequential';
import { Callback, CallbackHooks, History, Logs, runHook } from './callbacks';
import { warnNonFiniteLoss } from './warnings';
import { ProgressBar } from './progress';
import { sliceRows } from '../ops/shape';
import { withScope } from '../memory';
import { claimTraining } from './training-guard';

export interface FitArgs {
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Samples per gradient step (default 32). */
  batchSize?: number;
  /** Shuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  /** Fraction in (0, 1) of the samples, taken from the end before shuffling, used for validation. */
  validationSplit?: number;
  /** [x, y] to validate on after each epoch. */
  validationData?: [Tensor, Tensor];
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  callbacks?: Callback | CallbackHooks | (Callback | CallbackHooks)[];
  /** Seeds the global random source first, so shuffles and dropout masks repeat. */
  seed?: number;
  /** Epoch to start at (for resuming). */
  initialEpoch?: number;
  /**
   * Weight of each class in the loss, by class index (Keras' class_weight): {0: 1, 1: 5}
   * makes mistakes on class 1 count five times. Classes left out weigh 1.
   */
  classWeight?: Record<number, number> | number[];
  /** Weight of each training sample in the loss, shape [n] (Keras' sample_weight). */
  sampleWeight?: Tensor;
  /** Where the progress display writes (default process.stdout). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

function checkInt(op: string, name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`${op}: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** Validation split as Keras does it: the last fraction of the samples, before shuffling. */
function splitValidation(x: Tensor, y: Tensor, fraction: number): [Tensor, Tensor, Tensor, Tensor] {
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    throw new ValueError(`fit: validationSplit must be in (0, 1), got ${fraction}`);
  }
  const n = x.shape[0];
  const nTrain = Math.floor(n * (1 - fraction));
  if (nTrain < 1 || nTrain >= n) {
    throw new ValueError(`fit: validationSplit ${fraction} of ${n} samples leaves ${nTrain} for training and ${n - nTrain} for validation; both need at least one`);
  }
  return [sliceRows(x, 0, nTrain), sliceRows(y, 0, nTrain), sliceRows(x, nTrain, n), sliceRows(y, nTrain, n)];
}

/** The class index of each row of y: one-hot rows by argmax, else the (rounded) value. */
function classIndices(y: Tensor): Int32Array {
  const n = y.shape[0];
  const cols = n === 0 ? 0 : y.size / n;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (cols === 1) {
      out[i] = Math.round(y.data[i]);
      continue;
    }
    let best = 0;
    for (let j = 1; j < cols; j++) if (y.data[i * cols + j] > y.data[i * cols + best]) best = j;
    out[i] = best;
  }
  return out;
}

/** Per-sample loss weights from sampleWeight and classWeight, or null when neither is given. */
function sampleWeights(x: Tensor, y: Tensor, args: FitArgs): Tensor | null {
  const n = x.shape[0];
  if (args.sampleWeight === undefined && args.classWeight === undefined) return null;
  const w = new Float32Array(n).fill(1);
  if (args.sampleWeight !== undefined) {
    const sw = args.sampleWeight;
    if (!(sw instanceof Tensor) || sw.size !== n || (sw.rank !== 1 && !(sw.rank === 2 && sw.shape[1] === 1))) {
      throw new ShapeError(`fit: sampleWeight must have shape [${n}] (one weight per sample), got ${sw instanceof Tensor ? fmtShape(sw.shape) : typeof sw}`);
    }
    for (let i = 0; i < n; i++) {
      if (!(sw.data[i] >= 0) || !Number.isFinite(sw.data[i])) throw new ValueError(`fit: sampleWeight[${i}] is ${sw.data[i]}; weights must be finite and >= 0`);
      w[i] = sw.data[i];
    }
  }
  if (args.classWeight !== undefined) {
    const cw = args.classWeight;
    if (cw === null || typeof cw !== 'object') throw new ValueError('fit: classWeight must be an object {classIndex: weight} or an array');
    for (const [k, v] of Object.entries(cw)) {
      if (!/^\d+$/.test(k)) throw new ValueError(`fit: classWeight key '${k}' is not a class index`);
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`fit: classWeight[${k}] is ${String(v)}; weights must be finite and >= 0`);
    }
    const labels = classIndices(y);
    const table = cw as Record<number, number | undefined>;
    for (let i = 0; i < n; i++) w[i] *= table[labels[i]] ?? 1;
  }
  return new Tensor(w, [n]);
}

export async function fitLoop(model: Sequential, xIn: Tensor, yIn: Tensor, args: FitArgs): Promise<History> {
  const c = model.requireCompiled('fit');
  checkXY('fit', xIn, yIn);
  const epochs = checkInt('fit', 'epochs', args.epochs ?? 1, 0);
  const batchSize = checkBatchSize('fit', args.batchSize ?? 32);
  const initialEpoch = checkInt('fit', 'initialEpoch', args.initialEpoch ?? 0, 0);
  const verbose = args.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new ValueError(`fit: verbose must be 0, 1 or 2, got ${String(verbose)}`);
  if (args.validationSplit !== undefined && args.validationData !== undefined) {
    throw new ValueError('fit: give validationSplit or validationData, not both');
  }
  if (args.seed !== undefined) setSeed(args.seed);
  const rng: Rng = rngFor();

  let x = xIn;
  let y = yIn;
  let weights = sampleWeights(xIn, yIn, args);
  let val: [Tensor, Tensor] | null = null;
  if (args.validationSplit !== undefined) {
    const [xt, yt, xv, yv] = splitValidation(xIn, yIn, args.validationSplit);
    x = xt;
    y = yt;
    val = [xv, yv];
    if (weights !== null) weights = weights.slice([0], [xt.shape[0]]);
  } else if (args.validationData !== undefined) {
    const vd = args.validationData;
    if (!Array.isArray(vd) || vd.length !== 2) throw new ValueError('fit: validationData must be [x, y]');
    checkXY('fit (validationData)', vd[0], vd[1]);
    if (vd[0].rank !== x.rank || vd[0].shape.some((d, i) => i > 0 && d !== x.shape[i])) {
      throw new ShapeError(`fit: validationData x ${fmtShape(vd[0].shape)} does not match training x ${fmtShape(x.shape)}`);
    }
    val = [vd[0], vd[1]];
  }

  const history = new History();
  const given = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
  for (const cb of given) {
    if (cb === null || typeof cb !== 'object') throw new ValueError(`fit: a callback must be an object with hooks such as onEpochEnd, got ${String(cb)}`);
  }
  const callbacks: CallbackHooks[] = [history, ...given];
  for (const cb of callbacks) if (cb instanceof Callback) cb.setModel(model);
  model.stopTraining = false;

  const n = x.shape[0];
  const steps = Math.ceil(n / batchSize);
  const fused = model.fusedOutput();
  const progress = new ProgressBar({ epochs, steps, verbose, stream: args.stream });
  const order = rangeIndices(0, n);
  let warned = false;

  await runHook(callbacks, 'onTrainBegin', {});
  for (let epoch = initialEpoch; epoch < epochs && !model.stopTraining; epoch++) {
    await runHook(callbacks, 'onEpochBegin', epoch, {});
    progress.epochBegin(epoch);
    if (args.shuffle ?? true) {
      // each epoch shuffles the samples in their original order, so an epoch's order depends
      // only on the random state at its start (a resumed fit repeats it exactly)
      for (let i = 0; i < n; i++) order[i] = i;
      rng.shuffle(order);
    }
    // running means as Keras's trackers: the loss per sample, a metric per counted step
    const sums = new Array<number>(1 + c.metrics.length).fill(0);
    const counts = new Array<number>(1 + c.metrics.length).fill(0);
    const means = (): number[] => sums.map((s, k) => (counts[k] > 0 ? s / counts[k] : 0));
    for (let step = 0; step < steps; step++) {
      const idx = order.subarray(step * batchSize, Math.min(n, (step + 1) * batchSize));
      await runHook(callbacks, 'onBatchBegin', step, { batch: step, size: idx.length });
      // every tensor of the step is dead when it returns numbers: recycle their storage
      const batch = withScope(() => trainStep(model, x.gather(idx), y.gather(idx), fused,
        weights === null ? undefined : weights.gather(idx)));
      if (!warned && !Number.isFinite(batch.values[0])) {
        // keep going as Keras does, but a NaN loss is worth knowing about at once, whatever
        // the verbosity: once per fit
        warned = true;
        warnNonFiniteLoss(`fit: the loss of model '${model.name}' is ${batch.values[0]} at epoch ${epoch + 1}/${epochs}, step ${step + 1}/${steps}`);
      }
      batch.values.forEach((v, k) => { sums[k] += v * batch.weights[k]; counts[k] += batch.weights[k]; });
      const now = means();
      const running: Logs = { loss: now[0] };
      c.metrics.forEach((m, k) => { running[m.name] = now[k + 1]; });
      progress.batchEnd(step + 1, running);
      await runHook(callbacks, 'onBatchEnd', step, { batch: step, size: idx.length, ...running });
      // a callback that stops training (terminateOnNaN) ends the epoch here, as in Keras
      if (model.stopTraining) break;
      // yield to the event loop so timers, I/O and the display keep running during long epochs
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const epochMeans = means();
    const logs: Logs = { loss: epochMeans[0] };
    c.metrics.forEach((m, k) => { logs[m.name] = epochMeans[k + 1]; });
    if (val !== null) {
      const vr = model.evaluate(val[0], val[1], { batchSize });
      logs.val_loss = vr[0];
      c.metrics.forEach((m, k) => { logs[`val_${m.name}`] = vr[k + 1]; });
    }
    progress.epochEnd(logs);
    await runHook(callbacks, 'onEpochEnd', epoch, logs);
  }
  await runHook(callbacks, 'onTrainEnd', {});
  return history;
}

/** Sequential.trainOnBatch: one step of fit's on (x, y); [loss, ...metrics]. */
export function trainOnBatch(model: Sequential, x: Tensor, y: Tensor, sampleWeight?: Tensor): number[] {
  model.requireCompiled('trainOnBatch');
  checkXY('trainOnBatch', x, y);
  if (sampleWeight !== undefined && (!(sampleWeight instanceof Tensor) || sampleWeight.size !== x.shape[0])) {
    throw new ShapeError(`trainOnBatch: sampleWeight must be a Tensor of ${x.shape[0]} weights (one per sample), got ${sampleWeight instanceof Tensor ? fmtShape(sampleWeight.shape) : String(sampleWeight)}`);
  }
  const release = claimTraining('trainOnBatch', `model '${model.name}'`, model.trainingParts());
  try {
    return withScope(() => trainStep(model, x, y, model.fusedOutput(), sampleWeight)).values;
  } finally {
    release();
  }
}

/** One gradient step on a batch; returns its loss and metrics with their weights. */
function trainStep(model: Sequential, xb: Tensor, ybIn: Tensor, fused: boolean, sampleWeightIn?: Tensor): BatchStatistics {
  const c = model.requireCompiled('fit');
  const { output: out, mask } = model.applyWithMask(xb, { training: true, logits: fused });
  // the batch moves to the model's device (applyWithMask moves x)
  const yb = ybIn.to(model.device);
  const sampleWeight = sampleWeightIn?.to(model.device);
  let loss = c.loss(yb, out, { fromLogits: fused, sampleWeight, mask: mask ?? undefined });
  if (loss.size !== 1) throw new ShapeError(`fit: the loss must be a scalar, got shape ${fmtShape(loss.shape)}`);
  const dataLoss = loss.item();
  const reg = model.regularizationLoss();
  if (reg !== null) loss = loss.add(reg);
  const vars = model.trainableWeights;
  const all = model.weights;
  for (const v of all) v.value.zeroGrad();
  // a model with nothing to train (every layer frozen) still reports its loss, as in Keras
  if (loss.requiresGrad) loss.backward();
  const pairs: ParamGrad[] = [];
  for (const v of vars) if (v.value.grad !== null) pairs.push({ param: v.value, grad: v.value.grad });
  c.optimizer.applyGradients(pairs);
  for (const v of all) v.value.zeroGrad();
  return batchStatistics(c, yb, out, mask, fused, reg === null ? dataLoss : loss.item());
}
