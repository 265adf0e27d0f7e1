/**
 * Artifacts -> model. Reads the topology (Keras 2 / Keras 3 / TensorFlow.js spellings),
 * constructs the layers without building them, plans every weight's shape from the topology,
 * checks the weight specs and bytes against that plan, and only then builds the model and
 * copies the weights in. With a trainingConfig the model is compiled, and optimizer weights
 * (group 'optimizer') restore the optimizer's iterations and slots.
 *
 * Loading draws nothing from the global random source (layer initializers run while
 * building, but the generator's state is put back), so a seeded training run that saves,
 * loads and continues repeats the uninterrupted run exactly.
 *
 * Every problem with the input throws ModelFormatError naming what and where.
 */
import { Tensor } from '../tensor';
import { ModelFormatError, ValueError } from '../errors';
import { rngFor } from '../random';
import { buildWithInitializer, Layer, Shape } from '../nn/layer';
import { layerFromConfig, plannedWeights, WeightShape } from '../nn/registry';
import { getOptimizer, Optimizer } from '../optim';
import { SlotOptimizer } from '../optim/slots';
import { resolveLossName } from '../losses';
import { Sequential } from '../models/sequential';
import { FileSystemHandler, WeightSink } from './file';
import { checkArtifacts, checkArtifactsWithoutData, isObject, show, splitWeights, MAX_TENSOR_ELEMENTS, maxWeightBytes, showBytes } from './format';
import { optimizerWeightNames } from './serialize';
import type { IOHandler, ModelArtifacts, TrainingConfig, WeightSpec } from './types';

/** Options of loadModel. */
export interface LoadOptions {
  /** Compile the model from its trainingConfig when it has one (default true). */
  compile?: boolean;
}

const MAX_LAYERS = 10_000;

/** Runs fn; any error that is not already a ModelFormatError becomes one, prefixed by where. */
function guard<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new ModelFormatError(`${where}: ${msg}`);
  }
}

interface LayerEntry {
  className: string;
  config: Record<string, unknown>;
  where: string;
}

/** The Sequential topology's name and layer entries, whichever way it is nested. */
export function readTopology(topology: unknown, where: string): { name: string | undefined; layers: LayerEntry[] } {
  if (!isObject(topology)) throw new ModelFormatError(`${where}: modelTopology must be an object, got ${show(topology)}`);
  // the converter's Keras format nests the model under model_config
  const top = isObject(topology.model_config) ? topology.model_config : topology;
  const cls = top.class_name;
  if (cls !== 'Sequential') {
    throw new ModelFormatError(`${where}: modelTopology.class_name must be 'Sequential', got ${show(cls)}${cls === 'Model' || cls === 'Functional' ? ' (functional models are not supported yet)' : ''}`);
  }
  const cfg = top.config;
  let list: unknown;
  let name: string | undefined;
  let buildShape: unknown;
  if (Array.isArray(cfg)) {
    list = cfg;
  } else if (isObject(cfg)) {
    list = cfg.layers;
    if (cfg.name !== undefined && cfg.name !== null) {
      if (typeof cfg.name !== 'string' || cfg.name.length > 256) throw new ModelFormatError(`${where}: modelTopology.config.name must be a string, got ${show(cfg.name)}`);
      name = cfg.name;
    }
    buildShape = cfg.build_input_shape;
  } else {
    throw new ModelFormatError(`${where}: modelTopology.config must be {name, layers} or an array of layers, got ${show(cfg)}`);
  }
  if (!Array.isArray(list)) throw new ModelFormatError(`${where}: modelTopology.config.layers must be an array, got ${show(list)}`);
  if (list.length > MAX_LAYERS) throw new ModelFormatError(`${where}: ${list.length} layers is more than ${MAX_LAYERS}`);
  const layers: LayerEntry[] = [];
  let inputShape: unknown;
  // 'hard_sigmoid' means clip(0.2x + 0.5) to TensorFlow.js and Keras 2 (the LSTM/GRU default
  // there) and relu6(x + 3) / 6 to Keras 3 and gradforge: the producer decides
  const kv = (topology as Record<string, unknown>).keras_version ?? top.keras_version;
  const producer = typeof kv === 'string' ? kv : '';
  const legacyHardSigmoid = !/^(3\.|gradforge)/.test(producer);
  list.forEach((l, i) => {
    const at = `${where}: layer ${i}`;
    if (!isObject(l)) throw new ModelFormatError(`${at} must be {class_name, config}, got ${show(l)}`);
    if (typeof l.class_name !== 'string') throw new ModelFormatError(`${at}: class_name must be a string, got ${show(l.class_name)}`);
    const config = l.config ?? {};
    if (!isObject(config)) throw new ModelFormatError(`${at} (${l.class_name}): config must be an object, got ${show(config)}`);
    if (l.class_name === 'InputLayer') {
      // Keras 3 (and some Keras 2) Sequential configs start with an InputLayer
      if (layers.length > 0 || inputShape !== undefined) throw new ModelFormatError(`${at}: an InputLayer may only come first`);
      inputShape = config.batch_shape ?? config.batch_input_shape;
      if (inputShape === undefined || inputShape === null) throw new ModelFormatError(`${at}: InputLayer has no batch_shape / batch_input_shape`);
      return;
    }
    const name = typeof config.name === 'string' ? ` '${config.name.slice(0, 80)}'` : '';
    const copy = legacyHardSigmoid ? withLegacyHardSigmoid(l.class_name, config) : { ...config };
    layers.push({ className: l.class_name, config: copy, where: `${at} (${l.class_name.slice(0, 80)}${name})` });
  });
  const first = layers[0];
  inputShape ??= buildShape ?? undefined;
  if (first !== undefined && inputShape !== undefined && inputShape !== null
      && first.config.batch_input_shape === undefined && first.config.batch_shape === undefined) {
    first.config.batch_input_shape = inputShape;
  }
  return { name, layers };
}

/** Layers whose 'hard_sigmoid' depends on the file's producer (see readTopology). */
const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'GRU']);

/**
 * A copy of a layer config with 'hard_sigmoid' read as the legacy clip(0.2x + 0.5), in a
 * recurrent layer and in the layers a wrapper (Bidirectional, TimeDistributed) holds.
 */
function withLegacyHardSigmoid(className: string, config: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...config };
  if (RECURRENT.has(className)) {
    for (const k of ['activation', 'recurrent_activation']) if (copy[k] === 'hard_sigmoid') copy[k] = 'hard_sigmoid_legacy';
  }
  for (const k of ['layer', 'backward_layer']) {
    const inner = copy[k];
    if (isObject(inner) && typeof inner.class_name === 'string' && isObject(inner.config)) {
      copy[k] = { ...inner, config: withLegacyHardSigmoid(inner.class_name, inner.config) };
    }
  }
  return copy;
}

interface PlannedWeight extends WeightShape {
  fullName: string;
  layer: Layer;
}

/** Layers constructed (not built) from the topology, and every weight they will create. */
function planModel(topology: unknown, where: string): { name: string | undefined; layers: Layer[]; weights: PlannedWeight[] } {
  const top = readTopology(topology, where);
  const layers: Layer[] = [];
  const weights: PlannedWeight[] = [];
  let shape: Shape | null = null;
  let elements = 0;
  top.layers.forEach((e, i) => {
    const layer = guard(e.where, () => layerFromConfig(e.className, e.config, e.where, shape));
    if (i === 0) shape = layer.batchInputShape === undefined ? null : [...layer.batchInputShape];
    else if (layer.batchInputShape !== undefined) throw new ModelFormatError(`${e.where}: only the first layer may have an input shape`);
    if (shape !== null) {
      const s: Shape = shape;
      for (const w of guard(e.where, () => plannedWeights(layer, s))) {
        const n = w.shape.reduce((a, b) => a * b, 1);
        if (!w.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || n > MAX_TENSOR_ELEMENTS) {
          throw new ModelFormatError(`${e.where}: weight '${w.name}' would have shape ${show(w.shape)}; refusing to allocate it`);
        }
        elements += n;
        if (elements * 4 > maxWeightBytes()) throw new ModelFormatError(`${e.where}: the model's weights would take ${elements * 4} bytes (${showBytes(elements * 4)}), more than this machine's memory (${maxWeightBytes()} bytes); refusing to allocate them`);
        weights.push({ ...w, fullName: `${layer.name}/${w.name}`, layer });
      }
      const out: Shape = guard(e.where, () => layer.computeOutputShape(s));
      // an output no computer could hold (UpSampling2D by 10^6 ...) is refused here, not in predict
      const perSample = out.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
      if (!(perSample <= MAX_TENSOR_ELEMENTS) || out.slice(1).some((d) => d !== null && !(Number.isSafeInteger(d) && d >= 1))) {
        throw new ModelFormatError(`${e.where}: its output shape ${show(out)} is not a sane size (at most ${MAX_TENSOR_ELEMENTS} values per sample)`);
      }
      shape = out;
    }
    layers.push(layer);
  });
  return { name: top.name, layers, weights };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Index of the spec for each expected weight: by name when every name is found exactly once,
 * else by position (converters rename weights but keep Keras' order).
 */
function matchWeights(expected: readonly ExpectedWeight[], specs: readonly WeightSpec[], dtype: WeightSpec['dtype'] | null, where: string, what: string): number[] {
  const byName = new Map<string, number>();
  const dup = new Set<string>();
  specs.forEach((s, i) => { if (byName.has(s.name)) dup.add(s.name); byName.set(s.name, i); });
  const unique = (n: string): boolean => byName.has(n) && !dup.has(n);
  let idx: number[] | null = null;
  // our names first, then each family of aliases (TensorFlow.js's optimizer names)
  const families = Math.max(0, ...expected.map((w) => w.aliases?.length ?? 0));
  for (let f = -1; f < families && idx === null; f++) {
    const name = (w: ExpectedWeight): string | undefined => (f < 0 ? w.fullName : w.aliases?.[f]);
    if (expected.every((w) => { const n = name(w); return n !== undefined && unique(n); })) idx = expected.map((w) => byName.get(name(w)!)!);
  }
  if (idx !== null) {
    if (specs.length !== expected.length) {
      const used = new Set(idx);
      const extra = specs.filter((_, i) => !used.has(i)).map((s) => s.name);
      throw new ModelFormatError(`${where}: ${what}: the file has weights the model does not: ${show(extra)}`);
    }
  } else if (specs.length === expected.length) {
    idx = expected.map((_, i) => i);
  } else {
    const missing = expected.filter((w) => !byName.has(w.fullName)).map((w) => w.fullName);
    throw new ModelFormatError(`${where}: ${what}: the topology needs ${expected.length} weights, the file has ${specs.length}${missing.length > 0 ? `; missing ${show(missing)}` : ''}`);
  }
  const found = idx;
  expected.forEach((w, k) => {
    const s = specs[found[k]];
    if (!sameShape(s.shape, w.shape)) {
      throw new ModelFormatError(`${where}: ${what}: weight '${s.name}' has shape ${show(s.shape)}, the topology needs ${show(w.shape)} for '${w.fullName}'`);
    }
    if (dtype !== null && s.dtype !== dtype) throw new ModelFormatError(`${where}: ${what}: weight '${s.name}' has dtype ${s.dtype}, expected ${dtype}`);
  });
  return found;
}

interface ExpectedWeight {
  fullName: string;
  shape: number[];
  /** Other names the same weight may have, one per naming family. */
  aliases?: string[];
}

/** TensorFlow.js's names for our optimizer slots ('dense/kernel/m' for Adam's momentum). */
const TFJS_SLOT_NAMES: Record<string, Record<string, string>> = {
  Adam: { momentum: 'm', velocity: 'v' },
  RMSprop: { velocity: 'rms' },
  Adagrad: { accumulator: 'accumulator' },
  SGD: { momentum: 'momentum' },
};

/**
 * The optimizer weights expected for these trainable parameters, in our (Keras 3) order:
 * iterations, then each parameter's slots. TensorFlow.js names ('iter', '<param>/m') are
 * accepted as aliases; matched by name, their slot-major order does not matter.
 */
function expectedOptimizerWeights(opt: Optimizer, params: readonly { fullName: string; shape: number[] }[]): { expected: ExpectedWeight[]; slotNames: readonly string[] } {
  const slotNames = opt instanceof SlotOptimizer ? opt.slotNames : [];
  const prefix = String(opt.getConfig().name ?? opt.className.toLowerCase());
  const names = optimizerWeightNames(prefix, params.map((p) => p.fullName), slotNames);
  const tfjs = TFJS_SLOT_NAMES[opt.className] ?? {};
  const expected: ExpectedWeight[] = [{ fullName: names[0], shape: [], aliases: ['iter'] }];
  params.forEach((p, i) => slotNames.forEach((slot, j) => {
    const alias = tfjs[slot] === undefined ? [] : [`${p.fullName}/${tfjs[slot]}`];
    expected.push({ fullName: names[1 + i * slotNames.length + j], shape: p.shape, aliases: alias });
  }));
  return { expected, slotNames };
}

interface CompilePlan {
  optimizer: Optimizer;
  loss: string;
  metrics: string[];
}

/** Checks a trainingConfig and creates its (stateless) optimizer. */
function planCompile(tc: TrainingConfig, where: string): CompilePlan {
  const at = `${where}: trainingConfig`;
  if (typeof tc.loss !== 'string') throw new ModelFormatError(`${at}.loss must be a loss name (one output), got ${show(tc.loss)}`);
  if (resolveLossName(tc.loss) === undefined) throw new ModelFormatError(`${at}.loss '${tc.loss.slice(0, 80)}' is not a known loss (a custom loss cannot be restored; load with {compile: false})`);
  // a list, or (TensorFlow.js, Keras 2) a dict of lists per output name
  const given: unknown = tc.metrics ?? [];
  const metrics = isObject(given) ? Object.values(given).flat() : given;
  if (!Array.isArray(metrics) || metrics.some((m) => typeof m !== 'string')) throw new ModelFormatError(`${at}.metrics must be an array of names, got ${show(given)}`);
  const oc = tc.optimizer_config;
  if (!isObject(oc) || typeof oc.class_name !== 'string' || (oc.config !== undefined && oc.config !== null && !isObject(oc.config))) {
    throw new ModelFormatError(`${at}.optimizer_config must be {class_name, config}, got ${show(oc)}`);
  }
  const optimizer = guard(`${at}.optimizer_config`, () => getOptimizer({ class_name: oc.class_name as string, config: (oc.config ?? {}) as Record<string, unknown> }));
  return { optimizer, loss: tc.loss, metrics: metrics as string[] };
}

/** What loading has checked and planned before anything is allocated. */
interface LoadPlan {
  where: string;
  specs: WeightSpec[];
  modelIdx: number[];
  plan: ReturnType<typeof planModel>;
  /** The spec (index into modelIdx) of each planned model weight. */
  match: number[];
  compile: CompilePlan | null;
  optMatch: { iter: number; slots: number[]; slotNames: readonly string[] } | null;
}

/** Checks the specs against the topology and the training config (no weight bytes needed). */
function planLoad(a: ModelArtifacts, opts: LoadOptions, where: string): LoadPlan {
  const specs = a.weightSpecs ?? [];
  const modelIdx: number[] = [];
  const optIdx: number[] = [];
  specs.forEach((s, i) => (s.group === 'optimizer' ? optIdx : modelIdx).push(i));
  const plan = planModel(a.modelTopology, where);
  if (plan.weights.length === 0 && modelIdx.length > 0 && plan.layers[0]?.batchInputShape === undefined) {
    throw new ModelFormatError(`${where}: the topology gives no input shape (batch_input_shape) for its first layer, so the ${modelIdx.length} saved weights cannot be placed`);
  }
  const modelSpecs = modelIdx.map((i) => specs[i]);
  const match = matchWeights(plan.weights, modelSpecs, 'float32', where, 'model weights');

  const doCompile = opts.compile ?? true;
  let compile: CompilePlan | null = null;
  if (doCompile && a.trainingConfig !== undefined) compile = planCompile(a.trainingConfig, where);
  let optMatch: LoadPlan['optMatch'] = null;
  if (compile !== null && optIdx.length > 0) {
    const trainable = plan.weights.filter((w) => w.layer.trainable && w.trainable !== false);
    const { expected, slotNames } = expectedOptimizerWeights(compile.optimizer, trainable);
    const optSpecs = optIdx.map((i) => specs[i]);
    const idx = matchWeights(expected, optSpecs, null, where, 'optimizer weights');
    optMatch = { iter: optIdx[idx[0]], slots: idx.slice(1).map((k) => optIdx[k]), slotNames };
    for (const k of optMatch.slots) if (specs[k].dtype !== 'float32') throw new ModelFormatError(`${where}: optimizer weight '${specs[k].name}' must be float32`);
  }
  return { where, specs, modelIdx, plan, match, compile, optMatch };
}

/** The saved iteration count (0 without optimizer state), checked. */
function iterationsOf(p: LoadPlan, views: readonly (Float32Array | Int32Array | null)[]): number {
  if (p.optMatch === null) return 0;
  const it = views[p.optMatch.iter]!;
  const s = p.specs[p.optMatch.iter];
  if (it.length !== 1 || !Number.isSafeInteger(it[0]) || it[0] < 0) {
    throw new ModelFormatError(`${p.where}: optimizer weight '${s.name}' must hold one integer >= 0 (the iteration count), got ${show(Array.from(it.slice(0, 4)))}`);
  }
  return it[0];
}

/** Makes zeros without drawing anything (new typed arrays are zero pages until written). */
const LOADING_INIT = {
  className: 'Zeros',
  create: (shape: readonly number[]): Tensor => new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape),
  getConfig: (): Record<string, unknown> => ({}),
};

/**
 * The model, built with every weight zero: all of them are overwritten by the saved ones, so
 * the layers' initializers (seconds for a large model, and draws from the random generator)
 * are skipped while it is built; the layers keep them in their configs.
 */
function buildPlanned(p: LoadPlan): Sequential {
  const rng = rngFor();
  const rngState = rng.getState();
  let model: Sequential;
  try {
    model = buildWithInitializer(LOADING_INIT, () =>
      guard(p.where, () => new Sequential({ name: p.plan.name, layers: p.plan.layers })));
  } finally {
    rng.setState(rngState);  // loading never moves the seeded stream that fit and dropout use
  }
  if (model.weights.length !== p.plan.weights.length) throw new ModelFormatError(`${p.where}: the built model has ${model.weights.length} weights, the plan ${p.plan.weights.length}`);
  return model;
}

/** Compiles the model and restores the optimizer's state, when planned. */
function compilePlanned(p: LoadPlan, model: Sequential, views: readonly (Float32Array | Int32Array | null)[], iterations: number): void {
  if (p.compile === null) return;
  const c = p.compile;
  guard(`${p.where}: trainingConfig`, () => model.compile({ optimizer: c.optimizer, loss: c.loss, metrics: c.metrics }));
  if (p.optMatch !== null) {
    const om = p.optMatch;
    const params = model.trainableWeights.map((v) => v.value);
    const weights = om.slots.map((k) => new Tensor((views[k] as Float32Array).slice(), p.specs[k].shape));
    guard(`${p.where}: optimizer weights`, () => c.optimizer.setState({ iterations, slotNames: om.slotNames, weights }, params));
  }
}

/**
 * A model from artifacts (any handler's, or built by hand): checked against the topology
 * before anything is allocated.
 */
export function modelFromArtifacts(artifacts: unknown, opts: LoadOptions = {}, where = 'loadModel'): Sequential {
  const { artifacts: a, data } = checkArtifacts(artifacts, where);
  const p = planLoad(a, opts, where);
  const views = splitWeights(p.specs, data);
  const iterations = iterationsOf(p, views);
  // everything is checked: build
  const model = buildPlanned(p);
  model.weights.forEach((v, k) => {
    const view = views[p.modelIdx[p.match[k]]];
    guard(where, () => v.assign(new Tensor(view, p.plan.weights[k].shape)));
  });
  compilePlanned(p, model, views, iterations);
  return model;
}

/**
 * A model from a model folder, its weights read from the files straight into the model's
 * tensors (no second copy of them in memory). Everything is checked before the model is built.
 */
async function modelFromFolder(handler: FileSystemHandler, opts: LoadOptions, where = 'loadModel'): Promise<Sequential> {
  const opened = await handler.open();
  try {
    const { artifacts: a, bytes } = checkArtifactsWithoutData(opened.artifacts, where);
    if (bytes !== opened.weightBytes) throw new ModelFormatError(`${where}: the weight files hold ${opened.weightBytes} bytes, the weight specs need ${bytes}`);
    const p = planLoad(a, opts, where);
    const model = buildPlanned(p);
    // where each spec's bytes go: the model's own weights, new arrays for the optimizer's
    const views: (Float32Array | Int32Array | null)[] = p.specs.map(() => null);
    const copies: [number, number][] = [];
    model.weights.forEach((v, k) => {
      const i = p.modelIdx[p.match[k]];
      const d = v.value.data;
      if (d instanceof Float32Array && d.length === v.value.size) views[i] = d;
      else { views[i] = new Float32Array(v.value.size); copies.push([k, i]); }
    });
    if (p.optMatch !== null) {
      for (const i of [p.optMatch.iter, ...p.optMatch.slots]) {
        const n = p.specs[i].shape.reduce((x, y) => x * y, 1);
        views[i] = p.specs[i].dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
      }
    }
    const sinks: WeightSink[] = p.specs.map((s, i) => {
      const v = views[i];
      return v === null ? { buffer: null, byteLength: 4 * s.shape.reduce((x, y) => x * y, 1) } : v;
    });
    await opened.readWeights(sinks);
    const iterations = iterationsOf(p, views);
    for (const [k, i] of copies) guard(where, () => model.weights[k].assign(new Tensor(views[i]!, p.plan.weights[k].shape)));
    compilePlanned(p, model, views, iterations);
    return model;
  } finally {
    await opened.close();
  }
}

/**
 * A model from its JSON topology (model.toJSON(), a model.json, or their strings), with
 * freshly initialized weights.
 * @example const copy = gf.modelFromJSON(model.toJSON());
 */
export function modelFromJSON(json: string | Record<string, unknown>): Sequential {
  let j: unknown = json;
  if (typeof json === 'string') {
    try { j = JSON.parse(json); } catch (e) { throw new ModelFormatError(`modelFromJSON: not valid JSON (${(e as Error).message})`); }
  }
  if (!isObject(j)) throw new ModelFormatError(`modelFromJSON: expected a topology object, got ${show(j)}`);
  const topology = isObject(j.modelTopology) ? j.modelTopology : j;
  const plan = planModel(topology, 'modelFromJSON');
  return guard('modelFromJSON', () => new Sequential({ name: plan.name, layers: plan.layers }));
}

/** Loads through a handler. */
export async function loadFromHandler(handler: IOHandler, opts: LoadOptions = {}): Promise<Sequential> {
  if (handler === null || typeof handler !== 'object' || typeof handler.load !== 'function') {
    throw new ValueError('loadModel: expected a URL such as file://path or an IOHandler with load()');
  }
  // a folder (and not a subclass with its own load): the weights go straight into the model
  if (handler instanceof FileSystemHandler && handler.load === FileSystemHandler.prototype.load) return modelFromFolder(handler, opts);
  const artifacts: ModelArtifacts = await handler.load();
  return modelFromArtifacts(artifacts, opts);
}

/**
 * Copies saved weights (and, when the artifacts hold them and the model is compiled, the
 * optimizer's state) into an existing model of the same architecture. Checks everything first.
 * @example restoreInto(model, await gf.io.fileSystem('./backup').load())
 */
export function restoreInto(model: Sequential, artifacts: unknown, where = 'restore'): void {
  const { artifacts: a, data } = checkArtifacts(artifacts, where);
  const specs = a.weightSpecs ?? [];
  const modelIdx: number[] = [];
  const optIdx: number[] = [];
  specs.forEach((s, i) => (s.group === 'optimizer' ? optIdx : modelIdx).push(i));
  const vars = model.weights;
  const expected = vars.map((v) => ({ fullName: v.name, shape: [...v.shape] }));
  const match = matchWeights(expected, modelIdx.map((i) => specs[i]), 'float32', where, 'model weights');
  const views = splitWeights(specs, data);
  let state: { iterations: number; slotNames: readonly string[]; weights: Tensor[] } | null = null;
  if (optIdx.length > 0) {
    const params = model.trainableWeights.map((v) => ({ fullName: v.name, shape: [...v.shape] }));
    const { expected: exp, slotNames } = expectedOptimizerWeights(model.optimizer, params);
    const idx = matchWeights(exp, optIdx.map((i) => specs[i]), null, where, 'optimizer weights');
    const it = views[optIdx[idx[0]]];
    if (it.length !== 1 || !Number.isSafeInteger(it[0]) || it[0] < 0) throw new ModelFormatError(`${where}: the optimizer's iteration count must be one integer >= 0`);
    state = {
      iterations: it[0], slotNames,
      weights: idx.slice(1).map((k) => new Tensor(Float32Array.from(views[optIdx[k]]), specs[optIdx[k]].shape)),
    };
  }
  vars.forEach((v, k) => v.assign(new Tensor(views[modelIdx[match[k]]], [...v.shape])));
  if (state !== null) model.optimizer.setState(state, model.trainableWeights.map((v) => v.value));
}
