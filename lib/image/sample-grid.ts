/**
 * sampleGrid: a GAN callback that writes a PNG grid of generated samples every N epochs, always
 * from the same latent batch (a fixed seed), so the pictures show the generator's progress and
 * nothing else.
 *
 * @example
 * await gan.fit(images, {epochs: 20, callbacks: [gf.callbacks.sampleGrid('out/samples', {every: 1})]});
 * // out/samples/epoch-001.png, epoch-002.png, ...
 */
import * as path from 'path';
import { ValueError } from '../errors';
import { GanCallback } from '../gan/callback';
import { GridOptions, saveGrid } from './grid';

export interface SampleGridArgs {
  /** Write a grid after every `every`-th epoch (default 1). */
  every?: number;
  /** Samples per grid (default 16). */
  n?: number;
  /** Seed of the fixed latent batch (default 0). */
  seed?: number;
  /** Class of each sample for a conditional GAN (default: 0, 1, ..., K-1, 0, 1, ...). */
  labels?: number[];
  /** The file name for an epoch (0-based); default `epoch-001.png` for the first epoch. */
  fileName?: (epoch: number) => string;
  /** Layout and value range of the grid (see gf.image.toGrid). */
  grid?: GridOptions;
}

export class SampleGrid extends GanCallback {
  readonly dir: string;
  /** Paths written so far, in order. */
  readonly written: string[] = [];
  private readonly every: number;
  private readonly n: number;
  private readonly seed: number;
  private readonly labels: number[] | undefined;
  private readonly fileName: (epoch: number) => string;
  private readonly grid: GridOptions;

  constructor(dir: string, args: SampleGridArgs = {}) {
    super();
    if (typeof dir !== 'string' || dir === '') throw new ValueError(`sampleGrid: expected a folder path, got ${JSON.stringify(dir)}`);
    const positiveInt = (name: string, v: number): number => {
      if (!Number.isInteger(v) || v < 1) throw new ValueError(`sampleGrid: ${name} must be an integer >= 1, got ${v}`);
      return v;
    };
    this.dir = dir.startsWith('file://') ? dir.slice('file://'.length) : dir;
    this.every = positiveInt('every', args.every ?? 1);
    this.n = positiveInt('n', args.n ?? 16);
    this.seed = args.seed ?? 0;
    this.labels = args.labels;
    if (this.labels !== undefined && this.labels.length !== this.n) {
      throw new ValueError(`sampleGrid: labels has ${this.labels.length} entries for n = ${this.n} samples`);
    }
    this.fileName = args.fileName ?? ((epoch) => `epoch-${String(epoch + 1).padStart(3, '0')}.png`);
    this.grid = args.grid ?? {};
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    if ((epoch + 1) % this.every !== 0) return;
    const gan = this.gan;
    if (gan === null) throw new ValueError('sampleGrid: this callback samples a GAN; pass it to gan.fit, not model.fit');
    const k = gan.config.numClasses;
    const labels = k === null ? undefined : this.labels ?? Array.from({ length: this.n }, (_, i) => i % k);
    const images = gan.generate(this.n, { seed: this.seed, labels });
    const file = path.join(this.dir, this.fileName(epoch));
    await saveGrid(images, file, this.grid);
    this.written.push(file);
  }
}

/**
 * A callback writing a grid of `n` generated samples to `dir` every `every` epochs.
 * @example gf.callbacks.sampleGrid('out/samples', {every: 5, n: 64})
 */
export function sampleGrid(dir: string, args: SampleGridArgs = {}): SampleGrid {
  return new SampleGrid(dir, args);
}
