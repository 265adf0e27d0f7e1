/**
 * Reshape and ZeroPadding2D: layers that move data without weights.
 *
 * @example
 * gf.layers.reshape({targetShape: [7, 7, 256]});      // [batch, 12544] -> [batch, 7, 7, 256]
 * gf.layers.zeroPadding2d({padding: 1});              // [b, 28, 28, c] -> [b, 30, 30, c]
 */
import { Tensor, shapeSize } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { reshape as reshapeOp, pad } from '../ops/shape';
import { Layer, LayerArgs, Shape, CallContext } from './layer';

export interface ReshapeArgs extends LayerArgs {
  /** The output shape without the batch dimension; one entry may be -1 (inferred). */
  targetShape: number[];
}

export class Reshape extends Layer {
  readonly className = 'Reshape';
  readonly targetShape: number[];

  constructor(args: ReshapeArgs) {
    super(args);
    if (args === null || typeof args !== 'object' || !Array.isArray(args.targetShape)) throw new ValueError('reshape: expected {targetShape: number[]}');
    if (args.targetShape.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || args.targetShape.filter((d) => d === -1).length > 1) {
      throw new ValueError(`reshape: targetShape ${fmtShape(args.targetShape)} must be positive integers with at most one -1`);
    }
    this.targetShape = [...args.targetShape];
  }

  /** The target with -1 resolved for `perSample` elements per sample, or a ShapeError. */
  private resolved(perSample: number, input: readonly (number | null)[]): number[] {
    const known = shapeSize(this.targetShape.filter((d) => d !== -1));
    const t = this.targetShape.map((d) => (d === -1 ? perSample / known : d));
    if (shapeSize(t) !== perSample || t.some((d) => !Number.isInteger(d))) {
      throw new ShapeError(`${this.name}: cannot reshape input ${fmtShape(input.map((d) => d ?? -1))} (${perSample} values per sample) to ${fmtShape(this.targetShape)}`);
    }
    return t;
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    const perSample = shapeSize(x.shape.slice(1));
    return reshapeOp(x, [x.shape[0], ...this.resolved(perSample, x.shape)]);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    const rest = inputShape.slice(1);
    if (rest.some((d) => d === null)) return [inputShape[0], ...this.targetShape.map((d) => (d === -1 ? null : d))];
    return [inputShape[0], ...this.resolved(shapeSize(rest as number[]), inputShape)];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), target_shape: this.targetShape };
  }
}

export interface ZeroPadding2DArgs extends LayerArgs {
  /** n (all sides), [rows, cols] (symmetric), or [[top, bottom], [left, right]] (default 1). */
  padding?: number | [number, number] | [[number, number], [number, number]];
}

export class ZeroPadding2D extends Layer {
  readonly className = 'ZeroPadding2D';
  readonly padding: [[number, number], [number, number]];

  constructor(args: ZeroPadding2DArgs = {}) {
    super(args);
    const p = args.padding ?? 1;
    let pp: [[number, number], [number, number]];
    if (typeof p === 'number') pp = [[p, p], [p, p]];
    else if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number') pp = [[p[0], p[0]], [p[1], p[1]]];
    else if (Array.isArray(p) && p.length === 2 && Array.isArray(p[0]) && Array.isArray(p[1])) pp = [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
    else throw new ValueError(`zeroPadding2d: padding must be n, [rows, cols] or [[top, bottom], [left, right]], got ${JSON.stringify(p)}`);
    if (pp.flat().some((v) => !Number.isInteger(v) || v < 0)) throw new ValueError(`zeroPadding2d: paddings must be integers >= 0, got ${JSON.stringify(p)}`);
    this.padding = pp;
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    if (x.rank !== 4) throw new ShapeError(`${this.name}: expected images [batch, height, width, channels], got ${fmtShape(x.shape)}`);
    return pad(x, [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    if (inputShape.length !== 4) throw new ShapeError(`${this.name}: expected input [batch, height, width, channels], got rank ${inputShape.length}`);
    const [b, h, w, c] = inputShape;
    const [[t, bo], [l, r]] = this.padding;
    return [b, h === null ? null : h + t + bo, w === null ? null : w + l + r, c];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding, data_format: 'channels_last' };
  }
}

/** @example gf.layers.reshape({targetShape: [28, 28, 1]}) */
export const reshape = (args: ReshapeArgs): Reshape => new Reshape(args);
/** @example gf.layers.zeroPadding2d({padding: 2}) */
export const zeroPadding2d = (args: ZeroPadding2DArgs = {}): ZeroPadding2D => new ZeroPadding2D(args);
