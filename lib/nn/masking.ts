/**
 * Masking: marks as masked every time step whose features all equal `maskValue` (default 0),
 * sets those steps to 0, and hands the mask to the layers after it, as Keras's Masking does;
 * a recurrent layer then skips those steps.
 *
 * @example
 * gf.sequential([gf.layers.masking({ maskValue: 0, inputShape: [20, 3] }), gf.layers.lstm({ units: 8 })]);
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { mul } from '../ops/elementwise';
import { reshape } from '../ops/shape';
import { Layer, LayerArgs, CallContext, Shape } from './layer';

export interface MaskingArgs extends LayerArgs {
  maskValue?: number;
}

export class Masking extends Layer {
  readonly className = 'Masking';
  readonly maskValue: number;

  constructor(args: MaskingArgs = {}) {
    super(args);
    const v = args.maskValue ?? 0;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`masking: maskValue must be a number, got ${String(v)}`);
    this.maskValue = v;
  }

  /** [batch, time]: 1 where some feature differs from maskValue. */
  private stepMask(x: Tensor): Tensor {
    if (x.rank < 3) throw new ShapeError(`${this.name}: expected input [batch, time, features], got ${fmtShape(x.shape)}`);
    const f = x.shape[x.rank - 1];
    const steps = f === 0 ? 0 : x.size / f;
    const d = x.dataSync(), m = new Float32Array(steps);
    for (let s = 0; s < steps; s++) {
      for (let k = 0; k < f; k++) {
        if (d[s * f + k] !== this.maskValue) { m[s] = 1; break; }
      }
    }
    return new Tensor(m, x.shape.slice(0, -1)).to(x.device);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    const m = this.stepMask(x);
    return mul(x, reshape(m, [...m.shape, 1]));
  }

  override computeMask(input: Tensor, mask: Tensor | null): Tensor | null {
    void mask;
    return this.stepMask(input);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dtype: 'float32', mask_value: this.maskValue };
  }
}

/** @example gf.layers.masking({ maskValue: 0 }) */
export function masking(args: MaskingArgs = {}): Masking {
  return new Masking(args);
}
