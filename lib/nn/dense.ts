/**
 * Dense: y = activation(x W + b), W of shape [in, units] and b of shape [units] (Keras'
 * layout and names 'kernel'/'bias'). An input of rank > 2 is multiplied along its last axis
 * at every leading position ([batch, steps, in] -> [batch, steps, units]), as Keras does.
 *
 * @example
 * const layer = gf.layers.dense({units: 10, activation: 'softmax', inputShape: [784]});
 * const y = layer.apply(x);           // [batch, 784] -> [batch, 10]
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { matmul } from '../ops/matmul';
import { add } from '../ops/elementwise';
import { Layer, LayerArgs, LayerVariable, Shape, CallContext, Initializer, Regularizer } from './layer';
import { getInitializer, serializeInitializer, InitializerConfig } from './initializers';
import { getRegularizer, serializeRegularizer, RegularizerConfig } from './regularizers';
import { ActivationFn, getActivation, canonicalActivationName } from './activations';

export interface DenseArgs extends LayerArgs {
  /** Output size (a positive integer). */
  units: number;
  /** Activation name (Keras names, camelCase accepted); linear when omitted. */
  activation?: string;
  useBias?: boolean;
  /** Default 'glorotUniform' (as Keras). */
  kernelInitializer?: string | Initializer | InitializerConfig;
  /** Default 'zeros'. */
  biasInitializer?: string | Initializer | InitializerConfig;
  kernelRegularizer?: string | Regularizer | RegularizerConfig | null;
  biasRegularizer?: string | Regularizer | RegularizerConfig | null;
}

/** Activations that the model may fuse with its loss (it then asks for logits). */
export const FUSABLE_ACTIVATIONS: readonly string[] = ['softmax', 'sigmoid'];

export class Dense extends Layer {
  readonly className = 'Dense';
  readonly units: number;
  /** The canonical Keras name of the activation ('linear' when none). */
  readonly activationName: string;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  private readonly activationFn: ActivationFn;
  /** Set by build(). */
  kernel: LayerVariable | null = null;
  bias: LayerVariable | null = null;

  constructor(args: DenseArgs) {
    super(args);
    if (args === null || typeof args !== 'object') throw new ValueError('dense: expected an options object {units, ...}');
    if (!Number.isInteger(args.units) || args.units <= 0) {
      throw new ValueError(`dense: units must be a positive integer, got ${args.units}`);
    }
    this.units = args.units;
    this.activationName = canonicalActivationName(args.activation);
    this.activationFn = getActivation(this.activationName);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorotUniform');
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
    if (this.batchInputShape !== undefined) checkInputShape(this.name, this.batchInputShape);
  }

  override build(inputShape: Shape): void {
    const inDim = checkInputShape(this.name, inputShape);
    this.kernel = this.addWeight('kernel', [inDim, this.units], this.kernelInitializer, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer, this.biasRegularizer);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const kernel = this.kernel;
    if (kernel === null) throw new ValueError(`${this.name}: call before build`);
    const inDim = kernel.shape[0];
    if (x.rank < 2 || x.shape[x.rank - 1] !== inDim) {
      throw new ShapeError(`${this.name}: expected input [..., ${inDim}] (rank >= 2), got ${fmtShape(x.shape)}`);
    }
    let y = matmul(x, kernel.value);
    if (this.bias !== null) y = add(y, this.bias.value);
    // with ctx.logits the model applies softmax/sigmoid inside the loss (stable log); other
    // activations are never skipped, whatever the flag says
    if (ctx.logits === true && FUSABLE_ACTIVATIONS.includes(this.activationName)) return y;
    return this.activationFn(y);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.name, inputShape);
    return [...inputShape.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      units: this.units,
      activation: this.activationName,
      use_bias: this.useBias,
      kernel_initializer: serializeInitializer(this.kernelInitializer),
      bias_initializer: serializeInitializer(this.biasInitializer),
      kernel_regularizer: serializeRegularizer(this.kernelRegularizer),
      bias_regularizer: serializeRegularizer(this.biasRegularizer),
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    };
  }
}

/** The known last dimension of a Dense input shape, or a ShapeError. */
function checkInputShape(name: string, shape: Shape): number {
  if (shape.length < 2) {
    throw new ShapeError(`${name}: Dense needs an input of rank >= 2 (batch first), got ${fmtShape(shape.map((d) => d ?? -1))}`);
  }
  const last = shape[shape.length - 1];
  if (last === null || !Number.isInteger(last) || last <= 0) {
    throw new ShapeError(`${name}: the last input dimension must be a known positive integer, got ${fmtShape(shape.map((d) => d ?? -1))}`);
  }
  return last;
}

/**
 * A densely connected layer.
 * @example gf.layers.dense({units: 128, activation: 'relu', inputShape: [784]})
 */
export function dense(args: DenseArgs): Dense {
  return new Dense(args);
}
