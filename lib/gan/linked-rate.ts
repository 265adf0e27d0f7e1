/**
 * The learning rate callbacks see on a GAN (TrainableModel.optimizer): one number standing
 * for two optimizers.
 */
import type { Optimizer } from '../optim/optimizer';

/**
 * The learning rate a callback sees on a GAN: the generator's. Setting it scales both
 * optimizers by the same factor, so their ratio (two time-scale rules, e.g. 1:4) is kept.
 */
export class LinkedLearningRate {
  constructor(private readonly g: Optimizer, private readonly d: Optimizer) {}

  get learningRate(): number {
    return this.g.learningRate;
  }

  set learningRate(lr: number) {
    const old = this.g.learningRate;
    this.d.learningRate = old > 0 ? this.d.learningRate * (lr / old) : lr;
    this.g.learningRate = lr;
  }

  /** A schedule of either optimizer (a callback that sets rates refuses to fight one). */
  get schedule(): unknown {
    return this.g.schedule ?? this.d.schedule;
  }
}
