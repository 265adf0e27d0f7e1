/**
 * Adam, Keras 3's formulation (epsilon outside the square root, bias correction folded into
 * the step size):
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
 * Defaults: learningRate 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7.
 *
 * @example
 * model.compile({optimizer: gf.optimizers.adam({learningRate: 3e-4}), loss: 'mse'});
 */
import type { Kernels, FloatStorage } from '../backend';
import { SlotOptimizer, optimizerArgs, OptimizerArgs, checkHyper } from './slots';

export interface AdamArgs extends OptimizerArgs {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export class Adam extends SlotOptimizer {
  readonly className = 'Adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(args: AdamArgs = {}) {
    super('adam', args, 0.001);
    this.beta1 = checkHyper('adam', 'beta1', args.beta1 ?? 0.9, 0, 1, false, true);
    this.beta2 = checkHyper('adam', 'beta2', args.beta2 ?? 0.999, 0, 1, false, true);
    this.epsilon = checkHyper('adam', 'epsilon', args.epsilon ?? 1e-7, 0, Infinity);
  }

  get slotNames(): readonly string[] {
    return ['momentum', 'velocity'];
  }

  protected step(kernels: Kernels, p: FloatStorage, g: FloatStorage, slots: FloatStorage[], t: number): void {
    kernels.adamStep(p, g, slots[0], slots[1], this.learningRate, this.beta1, this.beta2, this.epsilon, t);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig('adam'), beta_1: this.beta1, beta_2: this.beta2, epsilon: this.epsilon, amsgrad: false };
  }
}

/**
 * The Adam optimizer.
 * @example gf.optimizers.adam({learningRate: 0.001})
 */
export function adam(args: AdamArgs | number = {}): Adam {
  return new Adam(optimizerArgs('adam', args));
}
