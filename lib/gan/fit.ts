/**
 * The GAN's fit loop: epochs over the real samples in (shuffled) batches; for each batch the
 * GAN's step (discriminatorSteps discriminator updates, then one generator update) runs in a
 * memory scope and returns numbers; running means go to the same progress display and the
 * same callback hooks as model.fit.
 */
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import { withScope } from '../memory';
import { Callback, CallbackHooks, History, Logs, TrainableModel, runHook } from '../models/callbacks';
import { warnNonFiniteLoss } from '../models/warnings';
import { ProgressBar } from '../models/progress';
import { checkBatchSize, rangeIndices } from '../models/sequential';
import { BackupAndRestore } from '../io/callbacks';

export interface GanFitArgs {
  /** Passes over the real samples in this call (default 1); epoch numbers continue from earlier fits. */
  epochs?: number;
  /** Real samples per step (default 32); the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  callbacks?: Callback | CallbackHooks | (Callback | CallbackHooks)[];
  /** Class indices [n] (int32), one per real sample: required when the GAN is conditional. */
  labels?: Tensor;
  /** Shuffle the samples every epoch (default true), with the GAN's own random source. */
  shuffle?: boolean;
  /** Where the progress display writes (default process.stdout). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The numbers of one step, and the keys of the epoch logs, in display order. */
export interface GanStepLogs {
  d_loss: number;
  g_loss: number;
  d_real: number;
  d_fake: number;
}

const LOG_KEYS: readonly (keyof GanStepLogs)[] = ['d_loss', 'g_loss', 'd_real', 'd_fake'];

/** What the loop needs from the GAN. */
export interface GanFitTarget {
  /** The GAN, as callbacks see it. */
  model: TrainableModel & { epoch: number };
  /** One training step on a real batch (its labels when conditional); numbers only. */
  step(x: Tensor, labels: Int32Array | null): GanStepLogs;
  /** Shuffles indices in place with the GAN's random source. */
  shuffle(order: Int32Array): void;
}

function checkEpochs(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ValueError(`gan.fit: epochs must be an integer >= 0, got ${String(v)}`);
  return v;
}

function callbackList(given: GanFitArgs['callbacks']): (Callback | CallbackHooks)[] {
  const list = given === undefined ? [] : Array.isArray(given) ? given : [given];
  for (const cb of list) {
    if (cb === null || typeof cb !== 'object') throw new ValueError(`gan.fit: a callback must be an object with hooks such as onEpochEnd, got ${String(cb)}`);
    // it backs up one Sequential model; a GAN is two models plus optimizers and a random state
    if (cb instanceof BackupAndRestore) throw new ValueError('gan.fit: backupAndRestore saves a single model; for a GAN use modelCheckpoint(dir, {includeOptimizer: true}) and loadGan, which resume exactly');
  }
  return list;
}

function runningLogs(sums: number[], seen: number): Logs {
  const logs: Logs = {};
  LOG_KEYS.forEach((k, i) => { logs[k] = sums[i] / seen; });
  return logs;
}

/** Runs the epochs; x is checked and float32, labels checked (or null). */
export async function fitGanLoop(t: GanFitTarget, x: Tensor, labels: Int32Array | null, args: GanFitArgs): Promise<History> {
  const epochs = checkEpochs(args.epochs ?? 1);
  const batchSize = checkBatchSize('gan.fit', args.batchSize ?? 32);
  const verbose = args.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new ValueError(`gan.fit: verbose must be 0, 1 or 2, got ${String(verbose)}`);
  const history = new History();
  const callbacks: CallbackHooks[] = [history, ...callbackList(args.callbacks)];
  for (const cb of callbacks) if (cb instanceof Callback) cb.setModel(t.model);
  t.model.stopTraining = false;

  const n = x.shape[0];
  const steps = Math.ceil(n / batchSize);
  const first = t.model.epoch;
  const progress = new ProgressBar({ epochs: first + epochs, steps, verbose, stream: args.stream });
  const order = rangeIndices(0, n);
  let warned = false;
  await runHook(callbacks, 'onTrainBegin', {});
  for (let epoch = first; epoch < first + epochs && !t.model.stopTraining; epoch++) {
    await runHook(callbacks, 'onEpochBegin', epoch, {});
    progress.epochBegin(epoch);
    if (args.shuffle ?? true) {
      // from the original order each epoch, so an epoch's order depends only on the random
      // state at its start (a saved and reloaded GAN repeats it)
      for (let i = 0; i < n; i++) order[i] = i;
      t.shuffle(order);
    }
    const sums = new Array<number>(LOG_KEYS.length).fill(0);
    let seen = 0;
    for (let step = 0; step < steps; step++) {
      const idx = order.slice(step * batchSize, Math.min(n, (step + 1) * batchSize));
      await runHook(callbacks, 'onBatchBegin', step, { batch: step, size: idx.length });
      const batchLabels = labels === null ? null : idx.map((i) => labels[i]);
      // every tensor of the step is dead when it returns numbers: recycle their storage
      const logs = withScope(() => t.step(x.gather(idx), batchLabels));
      if (!warned && !(Number.isFinite(logs.d_loss) && Number.isFinite(logs.g_loss))) {
        warned = true; // once per fit, whatever the verbosity
        warnNonFiniteLoss(`gan.fit: d_loss is ${logs.d_loss} and g_loss is ${logs.g_loss} at epoch ${epoch + 1}/${first + epochs}, step ${step + 1}/${steps}`);
      }
      LOG_KEYS.forEach((k, i) => { sums[i] += logs[k] * idx.length; });
      seen += idx.length;
      const running = runningLogs(sums, seen);
      progress.batchEnd(step + 1, running);
      await runHook(callbacks, 'onBatchEnd', step, { batch: step, size: idx.length, ...running });
      // a callback that stops training (terminateOnNaN) ends the epoch here, as in model.fit
      if (t.model.stopTraining) break;
      // let timers, I/O and the display run during long epochs
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const logs = runningLogs(sums, seen);
    t.model.epoch = epoch + 1;
    progress.epochEnd(logs);
    await runHook(callbacks, 'onEpochEnd', epoch, logs);
  }
  await runHook(callbacks, 'onTrainEnd', {});
  return history;
}
