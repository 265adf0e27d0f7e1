/**
 * Activation: applies an activation function as its own layer (Keras' `Activation`).
 * When it holds softmax or sigmoid and the model asks for logits (to fuse the activation with
 * the loss), it passes its input through unchanged.
 *
 * @example
 * model.add(gf.layers.dense({units: 10}));
 * model.add(gf.layers.activation({activation: 'softmax'}));
 */
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import { Layer, LayerArgs, CallContext } from './layer';
import { ActivationFn, getActivation, canonicalActivationName } from './activations';
import { FUSABLE_ACTIVATIONS } from './kernel-layer';

export interface ActivationArgs extends LayerArgs {
  /** Keras activation name ('relu', 'softmax', 'leaky_relu' or 'leakyRelu', ...). */
  activation: string;
}

export class Activation extends Layer {
  readonly className = 'Activation';
  /** A mask on the input passes through unchanged (works per time step). */
  override get supportsMasking(): boolean { return true; }
  /** The canonical Keras name of the activation. */
  readonly activationName: string;
  private readonly fn: ActivationFn;

  constructor(args: ActivationArgs) {
    super(args);
    if (args === null || typeof args !== 'object' || typeof args.activation !== 'string') {
      throw new ValueError('activation: expected {activation: name}');
    }
    this.activationName = canonicalActivationName(args.activation);
    this.fn = getActivation(this.activationName);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    if (ctx.logits === true && FUSABLE_ACTIVATIONS.includes(this.activationName)) return x;
    return this.fn(x);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dtype: 'float32', activation: this.activationName };
  }
}

/**
 * An activation layer.
 * @example gf.layers.activation({activation: 'relu'})
 */
export function activation(args: ActivationArgs): Activation {
  return new Activation(args);
}
