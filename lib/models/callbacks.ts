/**
 * Callbacks: hooks that fit() calls around training, epochs and batches, plus History (what
 * fit returns), earlyStopping, reduceLROnPlateau, learningRateScheduler and terminateOnNaN. A callback is a Callback subclass or a plain object with
 * some of the hooks; hooks may be async.
 *
 * @example
 * await model.fit(x, y, {epochs: 50, validationSplit: 0.1, callbacks: [
 *   gf.callbacks.earlyStopping({monitor: 'val_loss', patience: 3, restoreBestWeights: true}),
 *   {onEpochEnd: (epoch, logs) => console.log(epoch, logs?.loss)},
 * ]});
 */
import { ValueError } from '../errors';
import type { Tensor } from '../tensor';

export type Logs = Record<string, number>;

/** The hooks; all optional. */
export interface CallbackHooks {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}

/** What a callback may touch on the model it watches. */
export interface TrainableModel {
  stopTraining: boolean;
  readonly optimizer: { learningRate: number; readonly schedule: unknown };
  getWeights(): Tensor[];
  setWeights(ws: readonly Tensor[]): void;
}

// the class gets the optional hooks by declaration merging
// eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-unsafe-declaration-merging
export interface Callback extends CallbackHooks {}
export abstract class Callback {
  protected model: TrainableModel | null = null;
  setModel(model: TrainableModel): void {
    this.model = model;
  }
}

/** Per-epoch logs of a fit: history.history.loss[i] is epoch i's mean training loss. */
export class History extends Callback {
  epoch: number[] = [];
  history: Record<string, number[]> = {};

  override onTrainBegin(): void {
    this.epoch = [];
    this.history = {};
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    this.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.history[k] ??= []).push(v);
  }
}

export interface EarlyStoppingArgs {
  /** A key of the epoch logs (default 'val_loss'). */
  monitor?: string;
  /** Smaller improvements do not count (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0). */
  patience?: number;
  /** 'min', 'max', or 'auto' (max for accuracy-like names, else min). */
  mode?: 'auto' | 'min' | 'max';
  /** A value the monitored quantity must beat. */
  baseline?: number;
  /** Put back the weights of the best epoch when training ends. */
  restoreBestWeights?: boolean;
}

/** Stops fit when the monitored quantity stops improving (Keras' EarlyStopping). */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  /** The epoch at which training stopped (0 when it did not stop early). */
  stoppedEpoch = 0;
  bestEpoch = 0;
  private wait = 0;
  private best = Infinity;
  private bestWeights: Tensor[] | null = null;
  private warned = false;

  constructor(args: EarlyStoppingArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.minDelta = Math.abs(args.minDelta ?? 0);
    this.patience = args.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new ValueError(`earlyStopping: patience must be an integer >= 0, got ${args.patience}`);
    }
    const mode = args.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new ValueError(`earlyStopping: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    this.mode = mode === 'auto' ? (/acc|auc|precision|recall/.test(this.monitor) ? 'max' : 'min') : mode;
    this.baseline = args.baseline;
    this.restoreBestWeights = args.restoreBestWeights ?? false;
  }

  private improved(value: number, reference: number): boolean {
    return this.mode === 'min' ? value < reference - this.minDelta : value > reference + this.minDelta;
  }

  override onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.bestEpoch = 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.bestWeights = null;
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const value = logs[this.monitor];
    if (value === undefined) {
      if (!this.warned) {
        console.warn(`earlyStopping: '${this.monitor}' is not in the epoch logs (${Object.keys(logs).join(', ')}); not stopping`);
        this.warned = true;
      }
      return;
    }
    if (this.restoreBestWeights && this.bestWeights === null && this.model) this.bestWeights = this.model.getWeights();
    this.wait++;
    if (this.improved(value, this.best)) {
      this.best = value;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights && this.model) this.bestWeights = this.model.getWeights();
      // a baseline must be beaten before improvements reset the patience counter
      if (this.baseline === undefined || this.improved(value, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0 && this.model) {
      this.stoppedEpoch = epoch;
      this.model.stopTraining = true;
    }
  }

  override onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights !== null && this.model) this.model.setWeights(this.bestWeights);
  }
}

/** @example gf.callbacks.earlyStopping({patience: 2}) */
export function earlyStopping(args: EarlyStoppingArgs = {}): EarlyStopping {
  return new EarlyStopping(args);
}

export interface ReduceLROnPlateauArgs {
  /** A key of the epoch logs (default 'val_loss'). */
  monitor?: string;
  /** New rate = rate * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement before reducing (default 10). */
  patience?: number;
  mode?: 'auto' | 'min' | 'max';
  /** Smaller improvements do not count (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The rate never goes below this (default 0). */
  minLr?: number;
  /** Print a line when the rate changes. */
  verbose?: 0 | 1;
}

function checkNonNegativeInt(op: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new ValueError(`${op}: ${name} must be an integer >= 0, got ${v}`);
  return v;
}

/** Lowers the learning rate when the monitored quantity stops improving (Keras' ReduceLROnPlateau). */
export class ReduceLROnPlateau extends Callback {
  readonly monitor: string;
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  readonly verbose: 0 | 1;
  private best = Infinity;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(args: ReduceLROnPlateauArgs = {}) {
    super();
    this.monitor = args.monitor ?? 'val_loss';
    this.factor = args.factor ?? 0.1;
    if (!(this.factor >= 0 && this.factor < 1)) throw new ValueError(`reduceLROnPlateau: factor must be in [0, 1), got ${args.factor}`);
    this.patience = checkNonNegativeInt('reduceLROnPlateau', 'patience', args.patience ?? 10);
    this.cooldown = checkNonNegativeInt('reduceLROnPlateau', 'cooldown', args.cooldown ?? 0);
    this.minDelta = Math.abs(args.minDelta ?? 1e-4);
    this.minLr = args.minLr ?? 0;
    if (!(this.minLr >= 0)) throw new ValueError(`reduceLROnPlateau: minLr must be >= 0, got ${args.minLr}`);
    const mode = args.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new ValueError(`reduceLROnPlateau: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    this.mode = mode === 'auto' ? (/acc|auc|precision|recall/.test(this.monitor) ? 'max' : 'min') : mode;
    this.verbose = args.verbose ?? 0;
  }

  override onTrainBegin(): void {
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.wait = 0;
    this.cooldownCounter = 0;
    if (this.model?.optimizer.schedule) {
      throw new ValueError('reduceLROnPlateau: the optimizer follows a learning-rate schedule; use one or the other');
    }
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    if (this.model === null) return;
    const opt = this.model.optimizer;
    const current = logs[this.monitor];
    logs.learning_rate = opt.learningRate;
    if (current === undefined) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    const better = this.mode === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
    if (better) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter <= 0 && ++this.wait >= this.patience) {
      if (opt.learningRate > this.minLr) {
        const lr = Math.max(opt.learningRate * this.factor, this.minLr);
        if (this.verbose) console.log(`Epoch ${epoch + 1}: reduceLROnPlateau reducing learning rate to ${lr}`);
        opt.learningRate = lr;
        this.cooldownCounter = this.cooldown;
        this.wait = 0;
      }
    }
  }
}

/** @example gf.callbacks.reduceLROnPlateau({monitor: 'val_loss', factor: 0.5, patience: 2}) */
export function reduceLROnPlateau(args: ReduceLROnPlateauArgs = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(args);
}

/** Sets the learning rate at the start of each epoch from fn(epoch, currentRate) (Keras' LearningRateScheduler). */
export class LearningRateScheduler extends Callback {
  constructor(private readonly fn: (epoch: number, lr: number) => number) {
    super();
    if (typeof fn !== 'function') throw new ValueError('learningRateScheduler: expected a function (epoch, lr) => lr');
  }

  override onEpochBegin(epoch: number): void {
    if (this.model === null) return;
    const lr = this.fn(epoch, this.model.optimizer.learningRate);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ValueError(`learningRateScheduler: the function returned ${String(lr)} for epoch ${epoch}; need a finite number >= 0`);
    }
    this.model.optimizer.learningRate = lr;
  }
}

/** @example gf.callbacks.learningRateScheduler((epoch, lr) => (epoch < 10 ? lr : lr * 0.9)) */
export function learningRateScheduler(fn: (epoch: number, lr: number) => number): LearningRateScheduler {
  return new LearningRateScheduler(fn);
}

/**
 * Stops training at the first batch whose loss is NaN or infinite (Keras' TerminateOnNaN): it
 * prints "Batch N: Invalid loss, terminating training" (N the batch index in the epoch, from 0)
 * and sets stopTraining, so fit ends after that batch (the epoch's end hooks still run). It
 * watches `loss` in model.fit and every `*_loss` (d_loss, g_loss) in gan.fit. The batch logs
 * hold running means over the epoch, which turn NaN or infinite at the first such batch.
 * @example await model.fit(x, y, {epochs: 100, callbacks: [gf.callbacks.terminateOnNaN()]})
 */
export class TerminateOnNaN extends Callback {
  /** The batch index and epoch at which training was stopped, or null. */
  stoppedAt: { epoch: number; batch: number } | null = null;
  private epoch = 0;

  override onTrainBegin(): void {
    this.stoppedAt = null;
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  override onBatchEnd(batch: number, logs: Logs = {}): void {
    for (const [k, v] of Object.entries(logs)) {
      if ((k === 'loss' || k.endsWith('_loss')) && !Number.isFinite(v)) {
        console.log(`Batch ${batch}: Invalid loss, terminating training`);
        this.stoppedAt = { epoch: this.epoch, batch };
        if (this.model !== null) this.model.stopTraining = true;
        return;
      }
    }
  }
}

/** @example gf.callbacks.terminateOnNaN() */
export function terminateOnNaN(): TerminateOnNaN {
  return new TerminateOnNaN();
}

/** Runs one hook on every callback, in order, awaiting async ones. */
export async function runHook<K extends keyof CallbackHooks>(
  callbacks: readonly CallbackHooks[], hook: K, ...args: Parameters<NonNullable<CallbackHooks[K]>>): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    if (fn !== undefined) await fn.apply(cb, args);
  }
}
