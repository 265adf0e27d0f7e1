/**
 * Learning-rate schedules, as Keras's keras.optimizers.schedules: a function of the
 * optimizer's step count (`iterations`, from 0) that gives the learning rate of that step.
 * Pass one as `learningRate` to any optimizer.
 *
 * @example
 * const lr = gf.optimizers.schedules.exponentialDecay({initialLearningRate: 0.01, decaySteps: 1000, decayRate: 0.9});
 * model.compile({optimizer: gf.optimizers.sgd({learningRate: lr}), loss: 'mse'});
 */
import { ValueError } from '../errors';

export interface LearningRateSchedule {
  readonly className: string;
  /** The learning rate for the step with this 0-based index. */
  at(step: number): number;
  getConfig(): Record<string, unknown>;
}

function positive(sched: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ValueError(`${sched}: ${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

function nonNegative(sched: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`${sched}: ${name} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

export interface DecayArgs {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  /** Decay in whole steps of decaySteps (a step function) instead of continuously. */
  staircase?: boolean;
}

/** lr = initial * decayRate ^ (step / decaySteps) (floored when staircase). */
export class ExponentialDecay implements LearningRateSchedule {
  readonly className = 'ExponentialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  constructor(args: DecayArgs) {
    this.initialLearningRate = nonNegative('exponentialDecay', 'initialLearningRate', args.initialLearningRate);
    this.decaySteps = positive('exponentialDecay', 'decaySteps', args.decaySteps);
    this.decayRate = positive('exponentialDecay', 'decayRate', args.decayRate);
    this.staircase = args.staircase ?? false;
  }
  at(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate * this.decayRate ** (this.staircase ? Math.floor(p) : p);
  }
  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase };
  }
}

/** lr = initial / (1 + decayRate * step / decaySteps) (floored when staircase). */
export class InverseTimeDecay implements LearningRateSchedule {
  readonly className = 'InverseTimeDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  constructor(args: DecayArgs) {
    this.initialLearningRate = nonNegative('inverseTimeDecay', 'initialLearningRate', args.initialLearningRate);
    this.decaySteps = positive('inverseTimeDecay', 'decaySteps', args.decaySteps);
    this.decayRate = nonNegative('inverseTimeDecay', 'decayRate', args.decayRate);
    this.staircase = args.staircase ?? false;
  }
  at(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate / (1 + this.decayRate * (this.staircase ? Math.floor(p) : p));
  }
  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, decay_rate: this.decayRate, staircase: this.staircase };
  }
}

/** Step decay: values[i] while step <= boundaries[i] (and values[last] after the last). */
export class PiecewiseConstantDecay implements LearningRateSchedule {
  readonly className = 'PiecewiseConstantDecay';
  readonly boundaries: number[];
  readonly values: number[];
  constructor(args: { boundaries: number[]; values: number[] }) {
    const { boundaries, values } = args;
    if (!Array.isArray(boundaries) || !Array.isArray(values) || values.length !== boundaries.length + 1) {
      throw new ValueError(`piecewiseConstantDecay: need one more value than boundaries, got ${values?.length} values and ${boundaries?.length} boundaries`);
    }
    boundaries.forEach((b, i) => {
      if (!Number.isFinite(b) || (i > 0 && b <= boundaries[i - 1])) throw new ValueError(`piecewiseConstantDecay: boundaries must increase, got [${boundaries.join(', ')}]`);
    });
    values.forEach((v) => nonNegative('piecewiseConstantDecay', 'each value', v));
    this.boundaries = [...boundaries];
    this.values = [...values];
  }
  at(step: number): number {
    for (let i = 0; i < this.boundaries.length; i++) if (step <= this.boundaries[i]) return this.values[i];
    return this.values[this.values.length - 1];
  }
  getConfig(): Record<string, unknown> {
    return { boundaries: this.boundaries, values: this.values };
  }
}

/** Cosine decay from initial to initial * alpha over decaySteps, then constant. */
export class CosineDecay implements LearningRateSchedule {
  readonly className = 'CosineDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  constructor(args: { initialLearningRate: number; decaySteps: number; alpha?: number }) {
    this.initialLearningRate = nonNegative('cosineDecay', 'initialLearningRate', args.initialLearningRate);
    this.decaySteps = positive('cosineDecay', 'decaySteps', args.decaySteps);
    this.alpha = nonNegative('cosineDecay', 'alpha', args.alpha ?? 0);
  }
  at(step: number): number {
    const p = Math.min(step, this.decaySteps) / this.decaySteps;
    const cosine = 0.5 * (1 + Math.cos(Math.PI * p));
    return this.initialLearningRate * ((1 - this.alpha) * cosine + this.alpha);
  }
  getConfig(): Record<string, unknown> {
    return { initial_learning_rate: this.initialLearningRate, decay_steps: this.decaySteps, alpha: this.alpha };
  }
}

/** @example gf.optimizers.schedules.exponentialDecay({initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5}) */
export const exponentialDecay = (args: DecayArgs): ExponentialDecay => new ExponentialDecay(args);
export const inverseTimeDecay = (args: DecayArgs): InverseTimeDecay => new InverseTimeDecay(args);
/** @example gf.optimizers.schedules.piecewiseConstantDecay({boundaries: [1000, 2000], values: [0.1, 0.01, 0.001]}) */
export const piecewiseConstantDecay = (args: { boundaries: number[]; values: number[] }): PiecewiseConstantDecay => new PiecewiseConstantDecay(args);
export const cosineDecay = (args: { initialLearningRate: number; decaySteps: number; alpha?: number }): CosineDecay => new CosineDecay(args);

export function isSchedule(v: unknown): v is LearningRateSchedule {
  return typeof v === 'object' && v !== null && typeof (v as LearningRateSchedule).at === 'function';
}

/**
 * A schedule from its Keras serialization `{class_name: 'ExponentialDecay', config: {...}}`
 * (snake_case keys; camelCase also read), as saved in an optimizer's learning_rate.
 * @example scheduleFromConfig({class_name: 'CosineDecay', config: {initial_learning_rate: 0.1, decay_steps: 100}})
 */
export function scheduleFromConfig(s: { class_name: string; config?: Record<string, unknown> | null }): LearningRateSchedule {
  const c = s.config ?? {};
  const get = (snake: string, camel: string): never => (c[snake] ?? c[camel]) as never;
  const decay = (): DecayArgs => ({
    initialLearningRate: get('initial_learning_rate', 'initialLearningRate'), decaySteps: get('decay_steps', 'decaySteps'),
    decayRate: get('decay_rate', 'decayRate'), staircase: (get('staircase', 'staircase') ?? undefined) as never,
  });
  switch (s.class_name) {
    case 'ExponentialDecay': return new ExponentialDecay(decay());
    case 'InverseTimeDecay': return new InverseTimeDecay(decay());
    case 'PiecewiseConstantDecay': return new PiecewiseConstantDecay({ boundaries: get('boundaries', 'boundaries'), values: get('values', 'values') });
    case 'CosineDecay': return new CosineDecay({ initialLearningRate: get('initial_learning_rate', 'initialLearningRate'), decaySteps: get('decay_steps', 'decaySteps'), alpha: (get('alpha', 'alpha') ?? undefined) as never });
    default: throw new ValueError(`scheduleFromConfig: unknown learning-rate schedule '${String(s.class_name)}'; known: ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay`);
  }
}
