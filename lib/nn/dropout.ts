/**
 * Dropout (inverted): in training each element is zeroed with probability `rate` and the
 * survivors are scaled by 1 / (1 - rate), so inference needs no rescaling and is the
 * identity. Masks draw from the global seedable RNG (or a private one when `seed` is given),
 * so a seeded run drops the same units.
 *
 * @example
 * model.add(gf.layers.dropout({rate: 0.5}));
 */
import { Tensor, allocate, shapeSize } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { Rng, rngFor } from '../random';
import { mul } from '../ops/elementwise';
import { Layer, LayerArgs, CallContext } from './layer';

export interface DropoutArgs extends LayerArgs {
  /** Fraction of the inputs to drop, in [0, 1). */
  rate: number;
  /**
   * Shape of the mask, broadcast over the input; null entries take the input's size
   * (e.g. [null, 1, null] drops the same features at every time step).
   */
  noiseShape?: (number | null)[];
  /** Seeds a private generator for the masks (a reproducible sequence of masks). */
  seed?: number;
}

export class Dropout extends Layer {
  readonly className: string = 'Dropout';
  /** A mask on the input passes through unchanged (works per time step). */
  override get supportsMasking(): boolean { return true; }
  readonly rate: number;
  readonly noiseShape: (number | null)[] | undefined;
  readonly seed: number | undefined;
  private readonly rng: Rng | null;

  constructor(args: DropoutArgs) {
    super(args);
    if (args === null || typeof args !== 'object') throw new ValueError('dropout: expected {rate}');
    const rate = args.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
      throw new ValueError(`dropout: rate must be a number in [0, 1), got ${rate}`);
    }
    this.rate = rate;
    if (args.noiseShape !== undefined) {
      for (const d of args.noiseShape) {
        if (d !== null && (!Number.isInteger(d) || d < 1)) {
          throw new ValueError(`dropout: noiseShape entries must be positive integers or null, got ${fmtShape(args.noiseShape.map((v) => v ?? -1))}`);
        }
      }
      this.noiseShape = [...args.noiseShape];
    }
    if (args.seed !== undefined && !Number.isFinite(args.seed)) throw new ValueError(`dropout: seed must be a finite number, got ${args.seed}`);
    this.seed = args.seed;
    // one private generator for the layer's life: each call draws a new mask, and the
    // sequence of masks is the same on every run
    this.rng = args.seed === undefined ? null : new Rng(args.seed);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    if (!ctx.training || this.rate === 0) return x;
    const shape = this.maskShape(x);
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    const rng = this.rng ?? rngFor();
    const mask = allocate(x.dtype === 'int32' ? 'float32' : x.dtype, shapeSize(shape));
    for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < keep ? scale : 0;
    return mul(x, new Tensor(mask, shape).to(x.device));
  }

  protected maskShape(x: Tensor): number[] {
    if (this.noiseShape === undefined) return [...x.shape];
    if (this.noiseShape.length !== x.rank) {
      throw new ShapeError(`${this.name}: noiseShape ${fmtShape(this.noiseShape.map((d) => d ?? -1))} has rank ${this.noiseShape.length}, input ${fmtShape(x.shape)} has rank ${x.rank}`);
    }
    return this.noiseShape.map((d, i) => {
      const n = d ?? x.shape[i];
      if (n !== 1 && n !== x.shape[i]) {
        throw new ShapeError(`${this.name}: noiseShape ${fmtShape(this.noiseShape!.map((v) => v ?? -1))} does not broadcast to input ${fmtShape(x.shape)}`);
      }
      return n;
    });
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dtype: 'float32', rate: this.rate, noise_shape: this.noiseShape ?? null, seed: this.seed ?? null };
  }
}

/**
 * A dropout layer.
 * @example gf.layers.dropout({rate: 0.25})
 */
export function dropout(args: DropoutArgs): Dropout {
  return new Dropout(args);
}

export interface SpatialDropout2DArgs extends LayerArgs {
  /** Fraction of the feature maps (channels) to drop, in [0, 1). */
  rate: number;
  /** Seeds a private generator for the masks. */
  seed?: number;
}

/**
 * SpatialDropout2D (Keras): drops whole feature maps of an NHWC input — one draw per image and
 * channel, shared by every pixel — because neighbouring pixels of a map are so correlated that
 * dropping them one by one barely regularizes a convolutional network.
 *
 * @example
 * model.add(gf.layers.conv2d({filters: 32, kernelSize: 3, activation: 'relu'}));
 * model.add(gf.layers.spatialDropout2d({rate: 0.2}));
 */
export class SpatialDropout2D extends Dropout {
  override readonly className: string = 'SpatialDropout2D';

  constructor(args: SpatialDropout2DArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError('spatialDropout2d: expected {rate}');
    super({ ...args, noiseShape: undefined });
  }

  protected override maskShape(x: Tensor): number[] {
    if (x.rank !== 4) throw new ShapeError(`${this.name}: SpatialDropout2D needs NHWC input [batch, height, width, channels], got ${fmtShape(x.shape)}`);
    return [x.shape[0], 1, 1, x.shape[3]];
  }

  override getConfig(): Record<string, unknown> {
    const { noise_shape: _unused, ...rest } = super.getConfig();
    return { ...rest, data_format: 'channels_last' };
  }
}

/**
 * A spatial dropout layer for NHWC feature maps.
 * @example gf.layers.spatialDropout2d({rate: 0.2})
 */
export function spatialDropout2d(args: SpatialDropout2DArgs): SpatialDropout2D {
  return new SpatialDropout2D(args);
}
