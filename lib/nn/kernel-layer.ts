/**
 * KernelLayer: what Dense and the convolutions share — an activation (skipped when the model
 * fuses softmax/sigmoid with its loss), an optional bias, the kernel and bias initializers and
 * regularizers, and their Keras config entries. Subclasses create the weights and compute.
 */
import { Tensor } from '../tensor';
import { Layer, LayerArgs, LayerVariable, CallContext, Initializer, Regularizer } from './layer';
import { getInitializer, serializeInitializer, InitializerConfig } from './initializers';
import { getRegularizer, serializeRegularizer, RegularizerConfig } from './regularizers';
import { ActivationFn, getActivation, canonicalActivationName } from './activations';

/** Activations that the model may fuse with its loss (it then asks for logits). */
export const FUSABLE_ACTIVATIONS: readonly string[] = ['softmax', 'sigmoid'];

export interface KernelLayerArgs extends LayerArgs {
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

export abstract class KernelLayer extends Layer {
  /** The canonical Keras name of the activation ('linear' when none). */
  readonly activationName: string;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  protected readonly activationFn: ActivationFn;
  /** Set by build(). */
  kernel: LayerVariable | null = null;
  bias: LayerVariable | null = null;

  protected constructor(args: KernelLayerArgs) {
    super(args);
    this.activationName = canonicalActivationName(args.activation);
    this.activationFn = getActivation(this.activationName);
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorotUniform');
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
  }

  /** Creates 'kernel' (and 'bias' unless useBias is false) with the layer's settings. */
  protected addKernelAndBias(kernelShape: readonly number[], biasSize: number): void {
    this.kernel = this.addWeight('kernel', kernelShape, this.kernelInitializer, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', [biasSize], this.biasInitializer, this.biasRegularizer);
  }

  /**
   * The activation, unless the model fuses it with the loss (ctx.logits): then the model
   * applies softmax/sigmoid inside the loss (stable log). Other activations always run.
   */
  protected activate(y: Tensor, ctx: CallContext): Tensor {
    if (ctx.logits === true && FUSABLE_ACTIVATIONS.includes(this.activationName)) return y;
    return this.activationFn(y);
  }

  /** The Keras config entries of the activation, bias and the kernel/bias settings. */
  protected kernelConfig(): Record<string, unknown> {
    return {
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
