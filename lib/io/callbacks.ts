/**
 * Checkpoint callbacks (Keras' ModelCheckpoint and BackupAndRestore), saving in the
 * layers-model format with atomic writes.
 *
 * @example
 * await model.fit(x, y, {epochs: 20, validationSplit: 0.1, callbacks: [
 *   gf.callbacks.modelCheckpoint('file://./ckpt/best', {monitor: 'val_loss', saveBestOnly: true}),
 *   gf.callbacks.backupAndRestore('./ckpt/backup'),   // rerun the same script after a crash: it resumes
 * ]});
 */
import * as fs from 'fs/promises';
import { ValueError, ModelFormatError } from '../errors';
import { Callback, Logs } from '../models/callbacks';
import type { Sequential } from '../models/sequential';
import type { FitArgs } from '../models/training';
import { rngFor } from '../random';
import { FileSystemHandler } from './file';
import { restoreInto } from './load';
import { getHandler } from './router';
import { modelToArtifacts } from './serialize';
import type { IOHandler } from './types';

function asSequential(model: unknown, op: string): Sequential {
  const m = model as Sequential | null;
  if (m === null || typeof m.save !== 'function') throw new ValueError(`${op}: the callback is not attached to a model (pass it in fit's callbacks)`);
  return m;
}

/** Keras-style file name templates: '{epoch}', '{epoch:02d}', '{val_loss:.3f}'. */
export function formatCheckpointPath(template: string, epoch: number, logs: Logs): string {
  return template.replace(/\{(\w+)(?::(\d*)([df]|\.\d+f))?\}/g, (whole, key: string, width: string, spec: string | undefined) => {
    const v = key === 'epoch' ? epoch + 1 : logs[key];
    if (v === undefined) return whole;
    let s: string;
    if (spec !== undefined && spec.startsWith('.')) s = v.toFixed(Number(spec.slice(1, -1)));
    else if (spec === 'd') s = String(Math.round(v));
    else s = String(v);
    const w = Number(width || 0);
    return width?.startsWith('0') ? s.padStart(w, '0') : s.padStart(w);
  });
}

export interface ModelCheckpointArgs {
  /** A key of the epoch logs (default 'val_loss'). */
  monitor?: string;
  /** Save only when the monitored quantity improves on the best so far. */
  saveBestOnly?: boolean;
  /** 'min', 'max' or 'auto' (max for accuracy-like names, else min). */
  mode?: 'auto' | 'min' | 'max';
  /** 'epoch' (default) or a number of batches between saves. */
  saveFreq?: 'epoch' | number;
  /** Save the optimizer's state too (default false). */
  includeOptimizer?: boolean;
  /** 1 prints a line per save. */
  verbose?: 0 | 1;
}

/** Saves the model during fit (Keras' ModelCheckpoint). */
export class ModelCheckpoint extends Callback {
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: 'min' | 'max';
  readonly saveFreq: 'epoch' | number;
  readonly includeOptimizer: boolean;
  readonly verbose: 0 | 1;
  /** The best monitored value so far. */
  best: number;
  private batches = 0;
  private epoch = 0;
  private warned = false;

  constructor(readonly target: string | IOHandler, args: ModelCheckpointArgs = {}) {
    super();
    if (typeof target !== 'string' && (target === null || typeof target !== 'object')) {
      throw new ValueError(`modelCheckpoint: expected a path ('file://dir', '{epoch:02d}' allowed) or an IOHandler, got ${String(target)}`);
    }
    this.monitor = args.monitor ?? 'val_loss';
    this.saveBestOnly = args.saveBestOnly ?? false;
    const mode = args.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new ValueError(`modelCheckpoint: mode must be 'auto', 'min' or 'max', got '${String(mode)}'`);
    this.mode = mode === 'auto' ? (/acc|auc|precision|recall/.test(this.monitor) ? 'max' : 'min') : mode;
    const freq = args.saveFreq ?? 'epoch';
    if (freq !== 'epoch' && !(Number.isInteger(freq) && (freq as number) > 0)) {
      throw new ValueError(`modelCheckpoint: saveFreq must be 'epoch' or a positive number of batches, got ${String(freq)}`);
    }
    this.saveFreq = freq;
    this.includeOptimizer = args.includeOptimizer ?? false;
    this.verbose = args.verbose ?? 0;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  override onTrainBegin(): void {
    this.batches = 0;
  }

  override onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  override async onBatchEnd(batch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') return;
    this.batches++;
    if (this.batches % this.saveFreq === 0) await this.maybeSave(this.epoch, logs);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    if (this.saveFreq === 'epoch') await this.maybeSave(epoch, logs);
  }

  private async maybeSave(epoch: number, logs: Logs): Promise<void> {
    const model = asSequential(this.model, 'modelCheckpoint');
    if (this.saveBestOnly) {
      const v = logs[this.monitor];
      if (v === undefined) {
        if (!this.warned) console.warn(`modelCheckpoint: '${this.monitor}' is not in the logs (${Object.keys(logs).join(', ')}); not saving`);
        this.warned = true;
        return;
      }
      if (!(this.mode === 'min' ? v < this.best : v > this.best)) return;
      this.best = v;
    }
    const target = typeof this.target === 'string' ? formatCheckpointPath(this.target, epoch, logs) : this.target;
    const where = typeof target === 'string' && !target.startsWith('file://') ? `file://${target}` : target;
    await model.save(where, { includeOptimizer: this.includeOptimizer });
    if (this.verbose > 0) console.log(`Epoch ${epoch + 1}: saved model to ${typeof target === 'string' ? target : 'the handler'}`);
  }
}

/**
 * @example gf.callbacks.modelCheckpoint('file://./ckpt/model-{epoch:02d}', {monitor: 'val_accuracy', saveBestOnly: true})
 */
export function modelCheckpoint(target: string | IOHandler, args: ModelCheckpointArgs = {}): ModelCheckpoint {
  return new ModelCheckpoint(target, args);
}

export interface BackupAndRestoreArgs {
  /** Remove the backup when fit finishes normally (default true). */
  deleteCheckpoint?: boolean;
}

/** What a backup's model.json carries besides the model. */
interface BackupState {
  /** The last epoch that finished. */
  epoch: number;
  /** The global random generator's state at that moment. */
  rng: number[];
}

/**
 * Backs the model up (weights, optimizer state, the random generator) after every epoch into
 * a folder; when fit starts with a backup there, it restores it and resumes after the last
 * finished epoch (Keras' BackupAndRestore). Training that was interrupted and resumed this way
 * matches the uninterrupted run exactly, shuffling included (each epoch's order depends only
 * on the random state at its start, which the backup holds).
 */
export class BackupAndRestore extends Callback {
  readonly deleteCheckpoint: boolean;
  private readonly handler: FileSystemHandler;
  /** The epoch fit resumed after, or null when it started afresh. */
  restoredEpoch: number | null = null;

  constructor(readonly dir: string, args: BackupAndRestoreArgs = {}) {
    super();
    if (typeof dir !== 'string' || dir.length === 0) throw new ValueError(`backupAndRestore: expected a folder path, got ${String(dir)}`);
    const folder = dir.startsWith('file://') ? dir.slice('file://'.length) : dir;
    this.handler = new FileSystemHandler(folder);
    this.deleteCheckpoint = args.deleteCheckpoint ?? true;
  }

  /** Called by fit before it starts: restores a backup and moves initialEpoch past it. */
  async prepareFit(model: Sequential, args: FitArgs): Promise<FitArgs> {
    this.restoredEpoch = null;
    try {
      await fs.access(this.handler.modelJsonPath);
    } catch {
      return args;
    }
    const artifacts = await this.handler.load();
    const meta = artifacts.userDefinedMetadata?.gradforge_backup as BackupState | undefined;
    if (meta === undefined || !Number.isInteger(meta.epoch) || meta.epoch < 0 || !Array.isArray(meta.rng)) {
      throw new ModelFormatError(`backupAndRestore: ${this.handler.modelJsonPath} is not a backup (no userDefinedMetadata.gradforge_backup {epoch, rng})`);
    }
    restoreInto(model, artifacts, `backupAndRestore ${this.handler.modelJsonPath}`);
    try {
      rngFor().setState(meta.rng);
    } catch (e) {
      throw new ModelFormatError(`backupAndRestore: bad random state in ${this.handler.modelJsonPath}: ${(e as Error).message}`);
    }
    this.restoredEpoch = meta.epoch;
    // the seed would reset the generator the backup just restored
    const { seed, ...rest } = args;
    void seed;
    return { ...rest, initialEpoch: Math.max(args.initialEpoch ?? 0, meta.epoch + 1) };
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    const model = asSequential(this.model, 'backupAndRestore');
    const a = modelToArtifacts(model, { includeOptimizer: true });
    a.userDefinedMetadata = { gradforge_backup: { epoch, rng: rngFor().getState() } satisfies BackupState };
    await this.handler.save(a);
  }

  override async onTrainEnd(): Promise<void> {
    if (!this.deleteCheckpoint) return;
    await this.handler.remove();
  }
}

/** @example gf.callbacks.backupAndRestore('./backup') */
export function backupAndRestore(dir: string, args: BackupAndRestoreArgs = {}): BackupAndRestore {
  return new BackupAndRestore(dir, args);
}
