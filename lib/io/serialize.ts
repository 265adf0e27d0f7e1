/**
 * Model -> artifacts: the Keras-style topology, the weight specs (Keras names) with their
 * bytes, and with includeOptimizer the compile config (trainingConfig) and the optimizer's
 * state (iterations and slots in Keras 3 order, group 'optimizer').
 *
 * It is not: the reverse (load.ts) or any storage (file.ts, memory.ts).
 */
import type { Sequential } from '../models/sequential';
import { ValueError } from '../errors';
import { resolveLossName } from '../losses';
import { GRADFORGE_VERSION, concatWeights } from './format';
import type { ModelArtifacts, SaveOptions, TrainingConfig, WeightSpec } from './types';

/** 'categoricalCrossentropy' -> 'categorical_crossentropy' (Keras' spelling). */
export function toSnakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * The model's topology, Keras style: `{class_name: 'Sequential', config: {name, layers},
 * keras_version, backend}`. The first layer carries the model's batch input shape.
 */
export function modelTopology(model: Sequential): Record<string, unknown> {
  const layers = model.layers.map((l, i) => {
    const config = l.getConfig();
    if (i === 0 && model.inputShape !== null && config.batch_input_shape === undefined) config.batch_input_shape = [...model.inputShape];
    return { class_name: l.className, config };
  });
  return {
    class_name: 'Sequential',
    config: { name: model.name, layers },
    keras_version: `gradforge ${GRADFORGE_VERSION}`,
    backend: 'tensor_flow.js',
  };
}

/** The optimizer weight names: '<optimizer>/iterations', '<optimizer>/<param>_<slot>' (Keras 3 style). */
export function optimizerWeightNames(prefix: string, paramNames: readonly string[], slotNames: readonly string[]): string[] {
  const names = [`${prefix}/iterations`];
  for (const p of paramNames) for (const s of slotNames) names.push(`${prefix}/${p.replace(/\//g, '_')}_${s}`);
  return names;
}

/** The compile state as Keras saves it. */
export function trainingConfig(model: Sequential): TrainingConfig {
  const c = model.requireCompiled('save');
  const canonical = resolveLossName(c.loss);
  const loss = canonical !== undefined ? toSnakeCase(canonical) : c.lossName;
  return {
    loss,
    metrics: c.metrics.map((m) => m.name),
    optimizer_config: { class_name: c.optimizer.className, config: c.optimizer.getConfig() },
    loss_weights: null,
    sample_weight_mode: null,
  };
}

/** Everything a handler needs to store the model. */
export function modelToArtifacts(model: Sequential, opts: SaveOptions = {}): ModelArtifacts {
  if (opts === null || typeof opts !== 'object') throw new ValueError(`${model.name}.save: options must be an object such as {includeOptimizer: true}`);
  const specs: WeightSpec[] = [];
  const arrays: (Float32Array | Int32Array)[] = [];
  for (const v of model.weights) {
    const t = v.value;
    specs.push({ name: v.name, shape: [...t.shape], dtype: 'float32' });
    const d = t.dataSync();  // a weight on a device is copied back
    arrays.push(d instanceof Float32Array ? d : Float32Array.from(d));
  }
  const a: ModelArtifacts = {
    modelTopology: modelTopology(model),
    format: 'layers-model',
    generatedBy: `gradforge ${GRADFORGE_VERSION}`,
    convertedBy: null,
    weightSpecs: specs,
  };
  if (opts.includeOptimizer === true) {
    a.trainingConfig = trainingConfig(model);
    const opt = model.optimizer;
    const vars = model.trainableWeights;
    const state = opt.getState(vars.map((v) => v.value));
    const prefix = String(opt.getConfig().name ?? opt.className.toLowerCase());
    const names = optimizerWeightNames(prefix, vars.map((v) => v.name), state.slotNames);
    specs.push({ name: names[0], shape: [], dtype: 'int32', group: 'optimizer' });
    arrays.push(Int32Array.of(state.iterations));
    state.weights.forEach((w, i) => {
      specs.push({ name: names[i + 1], shape: [...w.shape], dtype: 'float32', group: 'optimizer' });
      const d = w.dataSync();
      arrays.push(d instanceof Float32Array ? d : Float32Array.from(d));
    });
  }
  a.weightData = concatWeights(arrays);
  return a;
}
