/**
 * Optimizer: the base of sgd, adam, rmsprop and adagrad. It clips gradients (by value, by norm
 * or by global norm: one of them, as Keras 3), then updates each parameter in place with a native kernel, keeping
 * per-parameter state (moments, accumulators) keyed by the parameter tensor.
 *
 * @example
 * const opt = gf.optimizers.adam({learningRate: 1e-3, clipnorm: 1});
 * opt.applyGradients([{param: w, grad: w.grad!}]);
 */
import { Tensor } from '../tensor';
import { LearningRateSchedule, isSchedule } from './schedules';

export interface OptimizerArgs {
  /** A number, or a schedule evaluated at every step (gf.optimizers.schedules). */
  learningRate?: number | LearningRateSchedule;
  /** Clip each gradient to this L2 norm. */
  clipnorm?: number;
  /** Clip the global L2 norm of all gradients together. */
  globalClipnorm?: number;
  /** Clip each gradient element to [-clipvalue, clipvalue]. */
  clipvalue?: number;
}

export interface ParamGrad {
  param: Tensor;
  grad: Tensor;
}

/**
 * An optimizer's variables, for saving with the model (includeOptimizer): the step count and
 * the slot tensors, parameter-major: for each parameter in the order given to getState, its
 * slots in `slotNames` order (Keras 3's order: m0, v0, m1, v1, ...).
 */
export interface OptimizerState {
  iterations: number;
  /** Slot names per parameter, e.g. ['momentum', 'velocity'] for adam; [] for plain sgd. */
  slotNames: readonly string[];
  weights: Tensor[];
}

export abstract class Optimizer {
  abstract readonly className: string;
  /** The learning rate of the next step (a schedule sets it before each step). */
  learningRate: number;
  /** The schedule the learning rate follows, if one was given. */
  readonly schedule: LearningRateSchedule | null;
  /** Number of applyGradients calls so far (Keras' `iterations`). */
  iterations = 0;
  abstract applyGradients(pairs: readonly ParamGrad[]): void;
  abstract getConfig(): Record<string, unknown>;
  /** The state for these parameters (all seen so far, in first-seen order, when omitted). */
  abstract getState(params?: readonly Tensor[]): OptimizerState;
  /** Restores a state that getState returned for the same parameters in the same order. */
  abstract setState(state: OptimizerState, params: readonly Tensor[]): void;

  protected constructor(learningRate: number | LearningRateSchedule) {
    this.schedule = isSchedule(learningRate) ? learningRate : null;
    this.learningRate = isSchedule(learningRate) ? learningRate.at(0) : learningRate;
  }
}
