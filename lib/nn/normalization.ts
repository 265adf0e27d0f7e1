/**
 * BatchNormalization over the last axis (channels), as Keras: weights gamma, beta (trainable)
 * and moving_mean, moving_variance (not trainable, updated during fit). Inference uses the
 * moving statistics.
 *
 * @example
 * gf.layers.batchNormalization();          // after a conv2d or dense layer
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { batchNorm } from '../ops/batchnorm';
import { Layer, LayerArgs, LayerVariable, Shape, CallContext, Initializer } from './layer';
import { getInitializer, serializeInitializer, InitializerConfig } from './initializers';

export interface BatchNormalizationArgs extends LayerArgs {
  /** Only -1 (the last axis) is supported. */
  axis?: number;
  /** Default 0.99 (Keras). */
  momentum?: number;
  /** Default 1e-3 (Keras). */
  epsilon?: number;
  /** Learn beta (default true). */
  center?: boolean;
  /** Learn gamma (default true). */
  scale?: boolean;
  betaInitializer?: string | Initializer | InitializerConfig;
  gammaInitializer?: string | Initializer | InitializerConfig;
  movingMeanInitializer?: string | Initializer | InitializerConfig;
  movingVarianceInitializer?: string | Initializer | InitializerConfig;
}

export class BatchNormalization extends Layer {
  readonly className = 'BatchNormalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  private readonly inits: Record<'beta' | 'gamma' | 'mean' | 'variance', Initializer>;
  gamma: LayerVariable | null = null;
  beta: LayerVariable | null = null;
  movingMean: LayerVariable | null = null;
  movingVariance: LayerVariable | null = null;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    if (args.axis !== undefined && args.axis !== -1) throw new ValueError(`batchNormalization: only axis -1 (channels last) is supported, got ${args.axis}`);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ValueError(`batchNormalization: momentum must be in [0, 1], got ${args.momentum}`);
    if (!(this.epsilon > 0)) throw new ValueError(`batchNormalization: epsilon must be > 0, got ${args.epsilon}`);
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.inits = {
      beta: getInitializer(args.betaInitializer ?? 'zeros'),
      gamma: getInitializer(args.gammaInitializer ?? 'ones'),
      mean: getInitializer(args.movingMeanInitializer ?? 'zeros'),
      variance: getInitializer(args.movingVarianceInitializer ?? 'ones'),
    };
  }

  override build(inputShape: Shape): void {
    const c = inputShape[inputShape.length - 1];
    if (inputShape.length < 2 || c === null || c === undefined) {
      throw new ShapeError(`${this.name}: needs a known channel (last) dimension, got ${fmtShape(inputShape.map((d) => d ?? -1))}`);
    }
    // Keras order: gamma, beta, moving_mean, moving_variance
    if (this.scale) this.gamma = this.addWeight('gamma', [c], this.inits.gamma);
    if (this.center) this.beta = this.addWeight('beta', [c], this.inits.beta);
    this.movingMean = this.addWeight('moving_mean', [c], this.inits.mean, null, false);
    this.movingVariance = this.addWeight('moving_variance', [c], this.inits.variance, null, false);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    return batchNorm(x, {
      gamma: this.gamma?.value, beta: this.beta?.value,
      movingMean: this.movingMean!.value, movingVar: this.movingVariance!.value,
      // a frozen BatchNormalization runs in inference mode, as in Keras 2+
      training: ctx.training && this.trainable,
      momentum: this.momentum, epsilon: this.epsilon,
    });
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), dtype: 'float32', axis: -1, momentum: this.momentum, epsilon: this.epsilon,
      center: this.center, scale: this.scale,
      beta_initializer: serializeInitializer(this.inits.beta), gamma_initializer: serializeInitializer(this.inits.gamma),
      moving_mean_initializer: serializeInitializer(this.inits.mean), moving_variance_initializer: serializeInitializer(this.inits.variance),
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
    };
  }
}

/** @example gf.layers.batchNormalization({momentum: 0.9}) */
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);
