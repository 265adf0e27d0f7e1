/**
 * SGD with optional (Nesterov) momentum, Keras 3's formulation:
 *   v = momentum * v - lr * g;  p += nesterov ? momentum * v - lr * g : v
 * Defaults: learningRate 0.01, momentum 0, nesterov false.
 *
 * @example
 * const opt = gf.optimizers.sgd({learningRate: 0.1, momentum: 0.9, nesterov: true});
 */
import type { Kernels, FloatStorage } from '../backend';
import { ValueError } from '../errors';
import { SlotOptimizer, optimizerArgs, OptimizerArgs, checkHyper } from './slots';

export interface SGDArgs extends OptimizerArgs {
  /** In [0, 1]; 0 (the default) is plain gradient descent with no momentum slot. */
  momentum?: number;
  nesterov?: boolean;
}

export class SGD extends SlotOptimizer {
  readonly className = 'SGD';
  readonly momentum: number;
  readonly nesterov: boolean;
  private readonly empty32 = new Float32Array(0);
  private readonly empty64 = new Float64Array(0);

  constructor(args: SGDArgs = {}) {
    super('sgd', args, 0.01);
    this.momentum = checkHyper('sgd', 'momentum', args.momentum ?? 0, 0, 1);
    this.nesterov = args.nesterov ?? false;
    if (typeof this.nesterov !== 'boolean') throw new ValueError(`sgd: nesterov must be a boolean, got ${String(this.nesterov)}`);
  }

  /** Keras 3 keeps a 'momentum' slot only when momentum is non-zero. */
  get slotNames(): readonly string[] {
    return this.momentum === 0 ? [] : ['momentum'];
  }

  protected step(kernels: Kernels, p: FloatStorage, g: FloatStorage, slots: FloatStorage[]): void {
    const v = slots[0] ?? (p instanceof Float64Array ? this.empty64 : this.empty32);
    kernels.sgdStep(p, g, v, this.learningRate, this.momentum, this.nesterov);
  }

  getConfig(): Record<string, unknown> {
    return { ...this.baseConfig('SGD'), momentum: this.momentum, nesterov: this.nesterov };
  }
}

/**
 * Stochastic gradient descent.
 * @example gf.optimizers.sgd({learningRate: 0.01, momentum: 0.9})
 */
export function sgd(args: SGDArgs | number = {}): SGD {
  return new SGD(optimizerArgs('sgd', args));
}
