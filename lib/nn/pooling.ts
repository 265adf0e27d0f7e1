/**
 * Pooling and upsampling layers: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
 * GlobalMaxPooling2D, UpSampling2D (NHWC).
 *
 * @example
 * gf.layers.maxPooling2d({poolSize: 2});
 * gf.layers.globalAveragePooling2d();
 * gf.layers.upSampling2d({size: 2});
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { maxPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d, upSampling2d as upSampling2dOp, Pool2dOptions } from '../ops/pool';
import { axisGeometry, pair, checkPadding, Padding } from '../ops/conv';
import type { UpsampleMode } from '../../binding';
import { Layer, LayerArgs, Shape, CallContext } from './layer';

export interface Pooling2DArgs extends LayerArgs {
  poolSize?: number | [number, number];
  /** Default: poolSize (as Keras). */
  strides?: number | [number, number];
  padding?: Padding;
}

function imagesShape(name: string, s: Shape): void {
  if (s.length !== 4) throw new ShapeError(`${name}: expected input [batch, height, width, channels], got rank ${s.length} ${fmtShape(s.map((d) => d ?? -1))}`);
}

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  constructor(op: string, args: Pooling2DArgs) {
    super(args);
    this.poolSize = pair(op, 'poolSize', args.poolSize, 2);
    this.strides = pair(op, 'strides', args.strides ?? this.poolSize, 1);
    this.padding = checkPadding(op, args.padding);
  }

  /** The pooling op's options (poolSize, strides, padding). */
  options(): Pool2dOptions {
    return { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }

  override computeOutputShape(inputShape: Shape): Shape {
    imagesShape(this.name, inputShape);
    const size = (d: number | null, axis: 0 | 1): number | null => {
      if (d === null) return null;
      const out = axisGeometry(d, this.poolSize[axis], this.strides[axis], 1, this.padding).out;
      if (out < 1) throw new ShapeError(`${this.name}: pool size ${this.poolSize.join('x')} does not fit input ${fmtShape(inputShape.map((v) => v ?? -1))} with padding '${this.padding}'`);
      return out;
    };
    return [inputShape[0], size(inputShape[1], 0), size(inputShape[2], 1), inputShape[3]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), pool_size: this.poolSize, strides: this.strides, padding: this.padding, data_format: 'channels_last' };
  }
}

export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) { super('maxPooling2d', args); }
  call(x: Tensor, ctx: CallContext): Tensor { void ctx; return maxPool2d(x, this.options()); }
}

export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) { super('averagePooling2d', args); }
  call(x: Tensor, ctx: CallContext): Tensor { void ctx; return avgPool2d(x, this.options()); }
}

abstract class GlobalPooling2D extends Layer {
  override computeOutputShape(inputShape: Shape): Shape {
    imagesShape(this.name, inputShape);
    return [inputShape[0], inputShape[3]];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), data_format: 'channels_last', keepdims: false };
  }
}

export class GlobalAveragePooling2D extends GlobalPooling2D {
  readonly className = 'GlobalAveragePooling2D';
  constructor(args: LayerArgs = {}) { super(args); }
  call(x: Tensor, ctx: CallContext): Tensor { void ctx; return globalAvgPool2d(x); }
}

export class GlobalMaxPooling2D extends GlobalPooling2D {
  readonly className = 'GlobalMaxPooling2D';
  constructor(args: LayerArgs = {}) { super(args); }
  call(x: Tensor, ctx: CallContext): Tensor { void ctx; return globalMaxPool2d(x); }
}

export interface UpSampling2DArgs extends LayerArgs {
  size?: number | [number, number];
  interpolation?: UpsampleMode;
}

export class UpSampling2D extends Layer {
  readonly className = 'UpSampling2D';
  readonly size: [number, number];
  readonly interpolation: UpsampleMode;

  constructor(args: UpSampling2DArgs = {}) {
    super(args);
    this.size = pair('upSampling2d', 'size', args.size, 2);
    const mode = args.interpolation ?? 'nearest';
    if (mode !== 'nearest' && mode !== 'bilinear' && mode !== 'bilinearLegacy') {
      throw new ValueError(`upSampling2d: interpolation must be 'nearest', 'bilinear' or 'bilinearLegacy', got '${String(mode)}'`);
    }
    this.interpolation = mode;
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    return upSampling2dOp(x, { size: this.size, interpolation: this.interpolation });
  }

  override computeOutputShape(inputShape: Shape): Shape {
    imagesShape(this.name, inputShape);
    const [b, h, w, c] = inputShape;
    return [b, h === null ? null : h * this.size[0], w === null ? null : w * this.size[1], c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), size: this.size, interpolation: this.interpolation, data_format: 'channels_last' };
  }
}

export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);
export const globalAveragePooling2d = (args: LayerArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);
export const globalMaxPooling2d = (args: LayerArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);
export const upSampling2d = (args: UpSampling2DArgs = {}): UpSampling2D => new UpSampling2D(args);
