/**
 * Adagrad, Keras 3's formulation:
 *   acc += g^2;  p -= lr * g / sqrt(acc + eps)
 * Defaults: learningRate 0.001, initialAccumulatorValue 0.1, epsilon 1e-7.
 *
 * @example
 * const opt = gf.optimizers.adagrad({learningRate: 0.01});
 */
import type { Kernels, FloatStorage } from '../backend';
import { SlotOptimizer, optimizerArgs, OptimizerArgs, checkHyper } from './slots';

export interface AdagradArgs extends OptimizerArgs {
  initialAccumulatorValue?: number;
  epsilon?: number;
}

export class Adagrad extends SlotOptimizer {
  readonly className = 'Adagrad';
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;

  constructor(args: AdagradArgs = {}) {
    super('adagrad', args, 0.001);
    this.initialAccumulatorValue = checkHyper('adagrad', 'initialAccumulatorValue', args.initialAccumulatorValue ?? 0.1, 0, Infinity);
    this.epsilon = checkHyper('adagrad', 'epsilon', args.epsilon ?? 1e-7, 0, Infinity);
  }

  get slotNames(): readonly string[] {
    return ['accumulator'];
  }

  protected override slotInit(): number {
    return this.initialAccumulatorValue;
  }

  protected step(kernels: Kernels, p: FloatStorage, g: FloatStorage, slots: FloatStorage[]): void {
    kernels.adagradStep(p, g, slots[0], this.learningRate, this.epsilon);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig('adagrad'), initial_accumulator_value: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

/**
 * The Adagrad optimizer.
 * @example gf.optimizers.adagrad({learningRate: 0.01})
 */
export function adagrad(args: AdagradArgs | number = {}): Adagrad {
  return new Adagrad(optimizerArgs('adagrad', args));
}
