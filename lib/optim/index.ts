/**
 * The optimizers (`gf.optimizers`): factories, classes, and getOptimizer for
 * `compile({optimizer: 'adam'})`.
 *
 * @example
 * gf.optimizers.adam({learningRate: 1e-3});
 * gf.optimizers.getOptimizer('rmsprop');
 */
import { ValueError } from '../errors';
import { Optimizer } from './optimizer';
import { SGD, sgd } from './sgd';
import { Adam, adam } from './adam';
import { RMSprop, rmsprop } from './rmsprop';
import { Adagrad, adagrad } from './adagrad';
import { scheduleFromConfig } from './schedules';

export { Optimizer } from './optimizer';
export * as schedules from './schedules';
export type { LearningRateSchedule } from './schedules';
export type { OptimizerArgs, OptimizerState, ParamGrad } from './optimizer';
export { SlotOptimizer } from './slots';
export type { MaybeParamGrad } from './slots';
export { SGD, sgd } from './sgd';
export type { SGDArgs } from './sgd';
export { Adam, adam } from './adam';
export type { AdamArgs } from './adam';
export { RMSprop, rmsprop } from './rmsprop';
export type { RMSpropArgs } from './rmsprop';
export { Adagrad, adagrad } from './adagrad';
export type { AdagradArgs } from './adagrad';

/** Optimizer factories by name. */
export const optimizers = { sgd, adam, rmsprop, adagrad };

/** A Keras-serialized optimizer: `{class_name: 'Adam', config: {learning_rate: 0.001, ...}}`. */
export interface OptimizerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

/** Every name getOptimizer accepts (case-insensitive). */
export const optimizerNames: readonly string[] = ['sgd', 'adam', 'rmsprop', 'adagrad'];

function numOrUndef(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Builds from Keras config keys (snake_case; camelCase also read). */
function fromConfig(kind: string, c: Record<string, unknown>): Optimizer {
  const pick = (...keys: string[]): number | undefined => {
    for (const k of keys) if (typeof c[k] === 'number') return c[k] as number;
    return undefined;
  };
  // a schedule is saved as {class_name, config} in place of the number
  const lrc = c.learning_rate ?? c.learningRate;
  const schedule = lrc !== null && typeof lrc === 'object' && typeof (lrc as { class_name?: unknown }).class_name === 'string'
    ? scheduleFromConfig(lrc as { class_name: string; config?: Record<string, unknown> }) : undefined;
  const base = {
    learningRate: schedule ?? pick('learning_rate', 'learningRate', 'lr'),
    clipnorm: numOrUndef(c.clipnorm),
    globalClipnorm: pick('global_clipnorm', 'globalClipnorm'),
    clipvalue: numOrUndef(c.clipvalue),
  };
  switch (kind) {
    case 'sgd':
      return new SGD({ ...base, momentum: pick('momentum'), nesterov: typeof c.nesterov === 'boolean' ? c.nesterov : undefined });
    case 'adam':
      return new Adam({ ...base, beta1: pick('beta_1', 'beta1'), beta2: pick('beta_2', 'beta2'), epsilon: pick('epsilon') });
    case 'rmsprop':
      return new RMSprop({ ...base, rho: pick('rho'), epsilon: pick('epsilon') });
    case 'adagrad':
      return new Adagrad({ ...base, initialAccumulatorValue: pick('initial_accumulator_value', 'initialAccumulatorValue'), epsilon: pick('epsilon') });
    default:
      throw new ValueError(`getOptimizer: unknown optimizer '${kind}'; known: ${optimizerNames.join(', ')}`);
  }
}

/**
 * An optimizer from a name ('adam', 'SGD', ... with Keras defaults), a Keras config
 * `{class_name, config}`, or an Optimizer (returned as is).
 * @example model.compile({optimizer: 'adam', loss: 'mse'})   // uses getOptimizer('adam')
 */
export function getOptimizer(opt: string | Optimizer | OptimizerConfig): Optimizer {
  if (opt instanceof Optimizer) return opt;
  if (typeof opt === 'string') return fromConfig(opt.toLowerCase(), {});
  if (opt !== null && typeof opt === 'object' && typeof (opt as OptimizerConfig).class_name === 'string') {
    const oc = opt as OptimizerConfig;
    return fromConfig(oc.class_name.toLowerCase(), oc.config ?? {});
  }
  throw new ValueError(`getOptimizer: expected a name (${optimizerNames.join(', ')}), an Optimizer or {class_name, config}, got ${String(opt)}`);
}
