/**
 * Image augmentation layers, active only in training (identity in predict/evaluate), as
 * Keras's RandomFlip and RandomTranslation: put them first in a model and every epoch sees
 * shifted/flipped copies of the images. Inputs are NHWC. Each output pixel copies one input
 * pixel (or is filled), so the gradient is a scatter-add of the same map.
 *
 * @example
 * gf.sequential([
 *   gf.layers.randomTranslation({heightFactor: 0.1, widthFactor: 0.1, inputShape: [28, 28, 1]}),
 *   gf.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu'}), ...
 * ]);
 */
import { Tensor, full } from '../tensor';
import { concat, gatherRows, reshape } from '../ops/shape';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { Rng, rngFor } from '../random';
import { Layer, LayerArgs, CallContext } from './layer';

/**
 * out[i] = map[i] >= 0 ? x[map[i]] : fill, differentiable in x: a gather of single elements
 * from x with the fill value appended as one more (so it runs on x's device, and its gradient
 * is gather's scatter-add, in the order of i).
 */
function remap(x: Tensor, map: Int32Array, fill: number): Tensor {
  const n = x.size;
  const table = concat([reshape(x, [n, 1]), full([1, 1], fill, x.dtype).to(x.device)], 0);
  const idx = new Int32Array(map.length);
  for (let i = 0; i < map.length; i++) idx[i] = map[i] >= 0 ? map[i] : n;
  return reshape(gatherRows(table, idx), x.shape);
}

function checkImages(layer: string, x: Tensor): [number, number, number, number] {
  if (x.rank !== 4) throw new ShapeError(`${layer}: expected images [batch, height, width, channels], got ${fmtShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

export type FlipMode = 'horizontal' | 'vertical' | 'horizontal_and_vertical';

export interface RandomFlipArgs extends LayerArgs {
  /** Which flips may happen, each with probability 1/2 per image (default 'horizontal_and_vertical', as Keras). */
  mode?: FlipMode;
  seed?: number;
}

export class RandomFlip extends Layer {
  readonly className = 'RandomFlip';
  readonly mode: FlipMode;
  readonly seed: number | undefined;
  private readonly rng: Rng | null;

  constructor(args: RandomFlipArgs = {}) {
    super(args);
    const mode = args.mode ?? 'horizontal_and_vertical';
    if (mode !== 'horizontal' && mode !== 'vertical' && mode !== 'horizontal_and_vertical') {
      throw new ValueError(`randomFlip: mode must be 'horizontal', 'vertical' or 'horizontal_and_vertical', got '${String(mode)}'`);
    }
    this.mode = mode;
    this.seed = args.seed;
    this.rng = args.seed === undefined ? null : new Rng(args.seed);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const [n, h, w, c] = checkImages(this.name, x);
    if (!ctx.training) return x;
    const rng = this.rng ?? rngFor();
    const map = new Int32Array(x.size);
    for (let b = 0; b < n; b++) {
      const flipH = this.mode !== 'vertical' && rng.uniform() < 0.5;
      const flipV = this.mode !== 'horizontal' && rng.uniform() < 0.5;
      for (let i = 0; i < h; i++) {
        const si = flipV ? h - 1 - i : i;
        for (let j = 0; j < w; j++) {
          const sj = flipH ? w - 1 - j : j;
          const dst = ((b * h + i) * w + j) * c;
          const src = ((b * h + si) * w + sj) * c;
          for (let k = 0; k < c; k++) map[dst + k] = src + k;
        }
      }
    }
    return remap(x, map, 0);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), mode: this.mode, seed: this.seed ?? null };
  }
}

export type FillMode = 'reflect' | 'constant' | 'nearest' | 'wrap';

export interface RandomTranslationArgs extends LayerArgs {
  /** Largest vertical shift as a fraction of the height (default 0). */
  heightFactor?: number;
  /** Largest horizontal shift as a fraction of the width (default 0). */
  widthFactor?: number;
  /** How pixels shifted in from outside are filled (default 'reflect', as Keras). */
  fillMode?: FillMode;
  /** The value for fillMode 'constant' (default 0). */
  fillValue?: number;
  seed?: number;
}

/** Where a coordinate outside [0, n) reads from, or -1 for the constant fill. */
function resolve(p: number, n: number, mode: FillMode): number {
  if (p >= 0 && p < n) return p;
  switch (mode) {
    case 'constant': return -1;
    case 'nearest': return p < 0 ? 0 : n - 1;
    case 'wrap': return ((p % n) + n) % n;
    case 'reflect': {
      // d c b a | a b c d | d c b a (the edge pixel repeats), period 2n
      const m = ((p % (2 * n)) + 2 * n) % (2 * n);
      return m < n ? m : 2 * n - 1 - m;
    }
  }
}

/**
 * Shifts each image by a whole number of pixels drawn uniformly from
 * [-factor * size, factor * size] along each axis (Keras interpolates; whole-pixel shifts
 * keep digits crisp and need no interpolation).
 */
export class RandomTranslation extends Layer {
  readonly className = 'RandomTranslation';
  readonly heightFactor: number;
  readonly widthFactor: number;
  readonly fillMode: FillMode;
  readonly fillValue: number;
  readonly seed: number | undefined;
  private readonly rng: Rng | null;

  constructor(args: RandomTranslationArgs = {}) {
    super(args);
    const factor = (name: string, v: number | undefined): number => {
      const f = v ?? 0;
      if (typeof f !== 'number' || !(f >= 0 && f <= 1)) throw new ValueError(`randomTranslation: ${name} must be in [0, 1], got ${String(v)}`);
      return f;
    };
    this.heightFactor = factor('heightFactor', args.heightFactor);
    this.widthFactor = factor('widthFactor', args.widthFactor);
    const mode = args.fillMode ?? 'reflect';
    if (!['reflect', 'constant', 'nearest', 'wrap'].includes(mode)) {
      throw new ValueError(`randomTranslation: fillMode must be 'reflect', 'constant', 'nearest' or 'wrap', got '${String(mode)}'`);
    }
    this.fillMode = mode;
    this.fillValue = args.fillValue ?? 0;
    this.seed = args.seed;
    this.rng = args.seed === undefined ? null : new Rng(args.seed);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const [n, h, w, c] = checkImages(this.name, x);
    if (!ctx.training || (this.heightFactor === 0 && this.widthFactor === 0)) return x;
    const rng = this.rng ?? rngFor();
    const maxDy = Math.round(this.heightFactor * h);
    const maxDx = Math.round(this.widthFactor * w);
    const map = new Int32Array(x.size);
    for (let b = 0; b < n; b++) {
      const dy = rng.int(2 * maxDy + 1) - maxDy;
      const dx = rng.int(2 * maxDx + 1) - maxDx;
      for (let i = 0; i < h; i++) {
        const si = resolve(i - dy, h, this.fillMode);
        for (let j = 0; j < w; j++) {
          const sj = resolve(j - dx, w, this.fillMode);
          const dst = ((b * h + i) * w + j) * c;
          const src = si < 0 || sj < 0 ? -1 : ((b * h + si) * w + sj) * c;
          for (let k = 0; k < c; k++) map[dst + k] = src < 0 ? -1 : src + k;
        }
      }
    }
    return remap(x, map, this.fillValue);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), height_factor: this.heightFactor, width_factor: this.widthFactor,
      fill_mode: this.fillMode, fill_value: this.fillValue, seed: this.seed ?? null,
    };
  }
}

/** @example gf.layers.randomFlip({mode: 'horizontal'}) */
export const randomFlip = (args: RandomFlipArgs = {}): RandomFlip => new RandomFlip(args);
/** @example gf.layers.randomTranslation({heightFactor: 0.1, widthFactor: 0.1}) */
export const randomTranslation = (args: RandomTranslationArgs = {}): RandomTranslation => new RandomTranslation(args);
