/**
 * Callbacks: hooks that fit() calls around training, epochs and batches, plus History (what
 * fit returns) and earlyStopping. A callback is a Callback subclass or a plain object with
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

/** Runs one hook on every callback, in order, awaiting async ones. */
export async function runHook<K extends keyof CallbackHooks>(
  callbacks: readonly CallbackHooks[], hook: K, ...args: Parameters<NonNullable<CallbackHooks[K]>>): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    if (fn !== undefined) await fn.apply(cb, args);
  }
}
