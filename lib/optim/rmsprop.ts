/**
 * RMSprop, Keras 3's formulation without momentum or centering:
 *   ms = rho ms + (1 - rho) g^2;  p -= lr * g / sqrt(ms + eps)
 * Defaults: learningRate 0.001, rho 0.9, epsilon 1e-7.
 *
 * @example
 * const opt = gf.optimizers.rmsprop({learningRate: 1e-3, rho: 0.9});
 */
import type { Kernels, FloatStorage } from '../backend';
import { SlotOptimizer, optimizerArgs, OptimizerArgs, checkHyper } from './slots';

export interface RMSpropArgs extends OptimizerArgs {
  rho?: number;
  epsilon?: number;
}

export class RMSprop extends SlotOptimizer {
  readonly className = 'RMSprop';
  readonly rho: number;
  readonly epsilon: number;

  constructor(args: RMSpropArgs = {}) {
    super('rmsprop', args, 0.001);
    this.rho = checkHyper('rmsprop', 'rho', args.rho ?? 0.9, 0, 1, false, true);
    this.epsilon = checkHyper('rmsprop', 'epsilon', args.epsilon ?? 1e-7, 0, Infinity);
  }

  get slotNames(): readonly string[] {
    return ['velocity'];
  }

  protected step(kernels: Kernels, p: FloatStorage, g: FloatStorage, slots: FloatStorage[]): void {
    kernels.rmspropStep(p, g, slots[0], this.learningRate, this.rho, this.epsilon);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig('rmsprop'), rho: this.rho, momentum: 0, epsilon: this.epsilon, centered: false };
  }
}

/**
 * The RMSprop optimizer.
 * @example gf.optimizers.rmsprop({learningRate: 0.001})
 */
export function rmsprop(args: RMSpropArgs | number = {}): RMSprop {
  return new RMSprop(optimizerArgs('rmsprop', args));
}
