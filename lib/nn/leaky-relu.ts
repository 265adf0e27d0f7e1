/**
 * LeakyReLU: x > 0 ? x : alpha * x, as its own layer (Keras' `LeakyReLU`, the activation of
 * DCGAN discriminators). Its config is written as TensorFlow.js 4 and Keras 2 write it,
 * `{alpha}`, so TensorFlow.js loads it; Keras 3's `{negative_slope}` is read too (registry).
 *
 * @example
 * gf.sequential([
 *   gf.layers.conv2d({filters: 64, kernelSize: 5, strides: 2, padding: 'same', inputShape: [28, 28, 1]}),
 *   gf.layers.leakyRelu({alpha: 0.2}),
 * ]);
 */
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import { leakyRelu as leakyReluOp } from '../ops/elementwise';
import { Layer, LayerArgs, CallContext } from './layer';

/** Keras' and TensorFlow.js's default slope. */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.3;

export interface LeakyReLUArgs extends LayerArgs {
  /** Slope for x < 0 (default 0.3, as Keras and TensorFlow.js). */
  alpha?: number;
}

export class LeakyReLU extends Layer {
  readonly className = 'LeakyReLU';
  /** A mask on the input passes through unchanged (works per time step). */
  override get supportsMasking(): boolean { return true; }
  readonly alpha: number;

  constructor(args: LeakyReLUArgs = {}) {
    if (args === null || typeof args !== 'object') throw new ValueError(`leakyRelu: expected an options object {alpha?}, got ${String(args)}`);
    super(args);
    const alpha = args.alpha ?? DEFAULT_LEAKY_RELU_ALPHA;
    // a negative slope is allowed (Keras 2 allowed it); only a non-number is nonsense
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
      throw new ValueError(`leakyRelu: alpha must be a finite number, got ${String(alpha)}`);
    }
    this.alpha = alpha;
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    return leakyReluOp(x, this.alpha);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dtype: 'float32', alpha: this.alpha };
  }
}

/**
 * A leaky ReLU layer.
 * @example gf.layers.leakyRelu({alpha: 0.2})
 */
export function leakyRelu(args: LeakyReLUArgs = {}): LeakyReLU {
  return new LeakyReLU(args);
}
