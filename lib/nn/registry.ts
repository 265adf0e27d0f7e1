/**
 * The layer registry: Keras class name -> a constructor from a Keras (snake_case) config, and
 * the weight shapes the layer will create for an input shape (so a loader can check a saved
 * model's weights against its topology before allocating anything).
 *
 * Configs come from files, so every field is type-checked here; a bad field throws
 * ModelFormatError naming the layer and the field. Constructor checks (ValueError) are
 * turned into ModelFormatError by the caller, which knows where the layer is.
 *
 * @example
 * const layer = layerFromConfig({class_name: 'Dense', config: {units: 10, activation: 'relu'}}, 'layer 0');
 */
import { ModelFormatError } from '../errors';
import { Layer, LayerArgs, Shape } from './layer';
import { Dense } from './dense';
import { Activation } from './activation';
import { Dropout, SpatialDropout2D } from './dropout';
import { Flatten } from './flatten';
import { Conv2D, Conv2DTranspose } from './convolutional';
import { MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, UpSampling2D } from './pooling';
import { BatchNormalization } from './normalization';
import { Reshape, ZeroPadding2D } from './reshape';
import { RandomFlip, RandomTranslation } from './augmentation';
import { LeakyReLU } from './leaky-relu';
import { Embedding } from './embedding';
import { Masking } from './masking';
import { Bidirectional, MergeMode, setBidirectionalFactory } from './bidirectional';
import { TimeDistributed } from './time-distributed';
import { GATES } from '../ops/rnn';
import { SimpleRNN, LSTM, GRU, RecurrentArgs } from './recurrent';
import type { InitializerConfig } from './initializers';
import type { RegularizerConfig } from './regularizers';
import type { Padding } from '../ops/conv';

type Cfg = Record<string, unknown>;

/** A weight a layer will create: its short name ('kernel') and shape. */
export interface WeightShape {
  name: string;
  shape: number[];
  /** false for weights fit never updates (BatchNormalization's moving statistics). */
  trainable?: boolean;
}

interface Entry {
  create(c: ConfigReader, inputShape: Shape | null): Layer;
  /** The weights built for this input shape, in creation order; none when omitted. */
  weights?(layer: Layer, inputShape: Shape): WeightShape[];
}

/** Reads typed fields from a config, throwing ModelFormatError with the location. */
export class ConfigReader {
  constructor(readonly cfg: Cfg, readonly where: string) {}

  private fail(key: string, want: string): never {
    const v = this.cfg[key];
    let shown: string;
    try { shown = JSON.stringify(v) ?? String(v); } catch { shown = Object.prototype.toString.call(v); }
    throw new ModelFormatError(`${this.where}: config.${key} must be ${want}, got ${shown.length > 80 ? shown.slice(0, 80) + '...' : shown}`);
  }

  has(key: string): boolean {
    return this.cfg[key] !== undefined && this.cfg[key] !== null;
  }

  num(key: string): number | undefined {
    if (!this.has(key)) return undefined;
    const v = this.cfg[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, 'a finite number');
    return v;
  }

  int(key: string): number | undefined {
    const v = this.num(key);
    if (v !== undefined && !Number.isSafeInteger(v)) this.fail(key, 'an integer');
    return v;
  }

  bool(key: string): boolean | undefined {
    if (!this.has(key)) return undefined;
    const v = this.cfg[key];
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v;
  }

  str(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const v = this.cfg[key];
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  /** n or [a, b] of integers. */
  intOrPair(key: string): number | [number, number] | undefined {
    if (!this.has(key)) return undefined;
    const v = this.cfg[key];
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (Array.isArray(v) && v.length === 1 && Number.isSafeInteger(v[0])) return v[0] as number;
    if (Array.isArray(v) && v.length === 2 && v.every((d) => Number.isSafeInteger(d))) return [v[0] as number, v[1] as number];
    return this.fail(key, 'an integer or a pair of integers');
  }

  /** An array of integers (or null entries when nullable). */
  dims(key: string, nullable: boolean): (number | null)[] | undefined {
    if (!this.has(key)) return undefined;
    const v = this.cfg[key];
    if (!Array.isArray(v) || v.length > 16 || v.some((d) => !(Number.isSafeInteger(d) || (nullable && d === null)))) {
      this.fail(key, `an array of integers${nullable ? ' or nulls' : ''}`);
    }
    return v as (number | null)[];
  }

  /** An initializer or regularizer: a name or {class_name, config}. */
  serialized(key: string): string | { class_name: string; config: Cfg } | undefined {
    if (!this.has(key)) return undefined;
    const v = this.cfg[key];
    if (typeof v === 'string') return v;
    if (isObject(v) && typeof v.class_name === 'string' && (v.config === undefined || v.config === null || isObject(v.config))) {
      return { class_name: v.class_name, config: (v.config ?? {}) as Cfg };
    }
    return this.fail(key, "a name or {class_name, config}");
  }

  /** Fields this library does not implement must be absent or null. */
  unsupported(...keys: string[]): void {
    for (const k of keys) if (this.has(k)) this.fail(k, 'null (not supported by gradforge)');
  }

  /** The base layer arguments: name, trainable, batch input shape (Keras 2 or 3 spelling), dtype. */
  base(): LayerArgs {
    const args: LayerArgs = {};
    const name = this.str('name');
    if (name !== undefined) {
      if (name.length === 0 || name.length > 256) this.fail('name', 'a non-empty name (at most 256 characters)');
      args.name = name;
    }
    const trainable = this.bool('trainable');
    if (trainable !== undefined) args.trainable = trainable;
    const shape = this.dims('batch_input_shape', true) ?? this.dims('batch_shape', true);
    if (shape !== undefined) args.batchInputShape = shape;
    checkDtype(this.cfg.dtype, this.where);
    return args;
  }
}

/** A short rendering of a config value for messages; never throws, even on deep nesting. */
function show(v: unknown): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = Object.prototype.toString.call(v); }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isObject(v: unknown): v is Cfg {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Whether two JSON values are equal (objects key by key, in any order). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!jsonEqual(a[k] ?? null, b[k] ?? null)) return false;
  return true;
}

/**
 * Whether a Bidirectional's backward_layer is the copy Keras makes itself: the forward layer's
 * class and config with go_backwards flipped (names aside). Keras 3 writes it in every file.
 */
function isAutomaticBackward(fwd: { class_name: string; config: Cfg }, bwd: { class_name: string; config: Cfg }): boolean {
  if (fwd.class_name !== bwd.class_name) return false;
  if ((fwd.config.go_backwards === true) === (bwd.config.go_backwards === true)) return false;
  const strip = (cfg: Cfg): Cfg => {
    const { name, go_backwards, ...rest } = cfg;
    void name; void go_backwards;
    return rest;
  };
  return jsonEqual(strip(fwd.config), strip(bwd.config));
}

/** A layer dtype: 'float32', or Keras 3's {class_name: 'DTypePolicy', config: {name: 'float32'}}. */
function checkDtype(dtype: unknown, where: string): void {
  if (dtype === undefined || dtype === null || dtype === 'float32') return;
  if (isObject(dtype) && isObject(dtype.config) && dtype.config.name === 'float32') return;
  let shown: string;
  try { shown = JSON.stringify(dtype); } catch { shown = Object.prototype.toString.call(dtype); }
  throw new ModelFormatError(`${where}: config.dtype must be 'float32' (the only layer dtype gradforge computes in), got ${shown}`);
}

function channelsLast(c: ConfigReader): void {
  const f = c.str('data_format');
  if (f !== undefined && f !== 'channels_last') {
    throw new ModelFormatError(`${c.where}: config.data_format must be 'channels_last' (NHWC), got '${f}'`);
  }
}

function padding(c: ConfigReader): Padding | undefined {
  return c.str('padding') as Padding | undefined;
}

const init = (c: ConfigReader, key: string): string | InitializerConfig | undefined => c.serialized(key) as string | InitializerConfig | undefined;
const reg = (c: ConfigReader, key: string): string | RegularizerConfig | undefined => c.serialized(key) as string | RegularizerConfig | undefined;

/** The last dimension of an input shape, for weight planning. */
function lastDim(layer: Layer, shape: Shape): number {
  const d = shape[shape.length - 1];
  if (shape.length < 2 || d === null || d === undefined) {
    throw new ModelFormatError(`layer '${layer.name}': its input's last dimension must be known to build its weights, got input shape ${show(shape)}`);
  }
  return d;
}

function convConfig(c: ConfigReader): ConstructorParameters<typeof Conv2D>[0] {
  channelsLast(c);
  c.unsupported('activity_regularizer', 'kernel_constraint', 'bias_constraint');
  const groups = c.int('groups');
  if (groups !== undefined && groups !== 1) throw new ModelFormatError(`${c.where}: config.groups must be 1, got ${groups}`);
  const filters = c.int('filters');
  const kernelSize = c.intOrPair('kernel_size');
  if (filters === undefined) throw new ModelFormatError(`${c.where}: config.filters is missing`);
  if (kernelSize === undefined) throw new ModelFormatError(`${c.where}: config.kernel_size is missing`);
  return {
    ...c.base(), filters, kernelSize, strides: c.intOrPair('strides'), padding: padding(c),
    dilationRate: c.intOrPair('dilation_rate'), activation: c.str('activation'), useBias: c.bool('use_bias'),
    kernelInitializer: init(c, 'kernel_initializer'), biasInitializer: init(c, 'bias_initializer'),
    kernelRegularizer: reg(c, 'kernel_regularizer'), biasRegularizer: reg(c, 'bias_regularizer'),
  };
}

function pooling(c: ConfigReader): { poolSize?: number | [number, number]; strides?: number | [number, number]; padding?: Padding } & LayerArgs {
  channelsLast(c);
  return { ...c.base(), poolSize: c.intOrPair('pool_size'), strides: c.intOrPair('strides'), padding: padding(c) };
}

function globalPooling(c: ConfigReader): LayerArgs {
  channelsLast(c);
  if (c.bool('keepdims') === true) throw new ModelFormatError(`${c.where}: config.keepdims true is not supported`);
  return c.base();
}

/** The config fields SimpleRNN, LSTM and GRU share (Keras 3 names). */
function recurrentConfig(c: ConfigReader): RecurrentArgs {
  c.unsupported('activity_regularizer', 'kernel_constraint', 'recurrent_constraint', 'bias_constraint');
  if (c.bool('return_state') === true) throw new ModelFormatError(`${c.where}: config.return_state true is not supported in a Sequential model`);
  const units = c.int('units');
  if (units === undefined) throw new ModelFormatError(`${c.where}: config.units is missing`);
  return {
    ...c.base(), units, activation: c.str('activation'), recurrentActivation: c.str('recurrent_activation'),
    useBias: c.bool('use_bias'),
    kernelInitializer: init(c, 'kernel_initializer'), recurrentInitializer: init(c, 'recurrent_initializer'),
    biasInitializer: init(c, 'bias_initializer'),
    kernelRegularizer: reg(c, 'kernel_regularizer'), recurrentRegularizer: reg(c, 'recurrent_regularizer'),
    biasRegularizer: reg(c, 'bias_regularizer'),
    dropout: c.num('dropout'), recurrentDropout: c.num('recurrent_dropout'),
    returnSequences: c.bool('return_sequences'), goBackwards: c.bool('go_backwards'), stateful: c.bool('stateful'),
  };
}

function recurrentWeights(l: Layer, s: Shape): WeightShape[] {
  const r = l as SimpleRNN | LSTM | GRU;
  const gu = GATES[r.cell] * r.units;
  const w = [
    { name: 'kernel', shape: [lastDim(l, s), gu] },
    { name: 'recurrent_kernel', shape: [r.units, gu] },
  ];
  if (r.useBias) w.push({ name: 'bias', shape: r.biasShape() });
  return w;
}

const ENTRIES: Record<string, Entry> = {
  Bidirectional: {
    create: (c) => {
      const inner = c.serialized('layer');
      if (inner === undefined || typeof inner === 'string') throw new ModelFormatError(`${c.where}: config.layer must be {class_name, config}`);
      if (!['SimpleRNN', 'LSTM', 'GRU'].includes(inner.class_name)) {
        throw new ModelFormatError(`${c.where}: config.layer must be a SimpleRNN, LSTM or GRU, got '${inner.class_name.slice(0, 80)}'`);
      }
      const config = { ...inner.config };
      if (c.has('backward_layer')) {
        // Keras 3 always writes the backward copy, and names the forward one 'forward_<name>'
        const back = c.serialized('backward_layer');
        if (back === undefined || typeof back === 'string' || !isAutomaticBackward(inner, back)) {
          throw new ModelFormatError(`${c.where}: config.backward_layer must be the forward layer's config with go_backwards flipped (a different backward layer is not supported)`);
        }
        const name = config.name;
        if (typeof name === 'string' && name.startsWith('forward_') && back.config.name === `backward_${name.slice(8)}`) config.name = name.slice(8);
      }
      const layer = layerFromConfig(inner.class_name, config, `${c.where} > layer`) as SimpleRNN;
      return new Bidirectional({ ...c.base(), layer, mergeMode: c.str('merge_mode') as MergeMode | undefined });
    },
    weights: (l, s) => {
      const b = l as Bidirectional;
      const probe = layerFromConfig(b.innerClass, b.innerConfig, `layer '${b.name}' > layer`);
      const inner = plannedWeights(probe, s);
      const base = String(b.innerConfig.name);
      return [...inner.map((w) => ({ ...w, name: `forward_${base}/${w.name}` })), ...inner.map((w) => ({ ...w, name: `backward_${base}/${w.name}` }))];
    },
  },
  TimeDistributed: {
    create: (c, inputShape) => {
      const inner = c.serialized('layer');
      if (inner === undefined || typeof inner === 'string') throw new ModelFormatError(`${c.where}: config.layer must be {class_name, config}`);
      // the wrapped layer reads one step: [N, T, ...] -> [N, ...] (BatchNormalization's axis)
      const step = inputShape === null || inputShape.length < 3 ? null : [inputShape[0], ...inputShape.slice(2)];
      const layer = layerFromConfig(inner.class_name, inner.config, `${c.where} > layer`, step);
      return new TimeDistributed({ ...c.base(), layer });
    },
    // the wrapped layer's weights, named after the wrapper ('time_distributed/kernel')
    weights: (l, s) => {
      const t = l as TimeDistributed;
      return plannedWeights(t.layer, t.stepShape(s));
    },
  },
  Masking: { create: (c) => new Masking({ ...c.base(), maskValue: c.num('mask_value') }) },
  SimpleRNN: {
    create: (c) => new SimpleRNN(recurrentConfig(c)),
    weights: recurrentWeights,
  },
  LSTM: {
    create: (c) => new LSTM({ ...recurrentConfig(c), unitForgetBias: c.bool('unit_forget_bias') }),
    weights: recurrentWeights,
  },
  GRU: {
    create: (c) => new GRU({ ...recurrentConfig(c), resetAfter: c.bool('reset_after') }),
    weights: recurrentWeights,
  },
  Embedding: {
    create: (c) => {
      c.unsupported('activity_regularizer', 'embeddings_constraint');
      const inputDim = c.int('input_dim');
      const outputDim = c.int('output_dim');
      if (inputDim === undefined || outputDim === undefined) throw new ModelFormatError(`${c.where}: config.input_dim and config.output_dim are required`);
      const base = c.base();
      const inputLength = c.int('input_length');
      return new Embedding({
        ...base, inputDim, outputDim, maskZero: c.bool('mask_zero'),
        inputLength: base.inputShape === undefined && base.batchInputShape === undefined ? inputLength : undefined,
        embeddingsInitializer: init(c, 'embeddings_initializer'), embeddingsRegularizer: reg(c, 'embeddings_regularizer'),
      });
    },
    weights: (l) => {
      const e = l as Embedding;
      return [{ name: 'embeddings', shape: [e.inputDim, e.outputDim] }];
    },
  },
  Dense: {
    create: (c) => {
      c.unsupported('activity_regularizer', 'kernel_constraint', 'bias_constraint');
      const units = c.int('units');
      if (units === undefined) throw new ModelFormatError(`${c.where}: config.units is missing`);
      return new Dense({
        ...c.base(), units, activation: c.str('activation'), useBias: c.bool('use_bias'),
        kernelInitializer: init(c, 'kernel_initializer'), biasInitializer: init(c, 'bias_initializer'),
        kernelRegularizer: reg(c, 'kernel_regularizer'), biasRegularizer: reg(c, 'bias_regularizer'),
      });
    },
    weights: (l, s) => {
      const d = l as Dense;
      const w = [{ name: 'kernel', shape: [lastDim(l, s), d.units] }];
      if (d.useBias) w.push({ name: 'bias', shape: [d.units] });
      return w;
    },
  },
  Conv2D: {
    create: (c) => new Conv2D(convConfig(c)),
    weights: (l, s) => {
      const d = l as Conv2D;
      const w = [{ name: 'kernel', shape: [...d.kernelSize, lastDim(l, s), d.filters] }];
      if (d.useBias) w.push({ name: 'bias', shape: [d.filters] });
      return w;
    },
  },
  Conv2DTranspose: {
    create: (c) => new Conv2DTranspose({ ...convConfig(c), outputPadding: c.intOrPair('output_padding') }),
    weights: (l, s) => {
      const d = l as Conv2DTranspose;
      const w = [{ name: 'kernel', shape: [...d.kernelSize, d.filters, lastDim(l, s)] }];
      if (d.useBias) w.push({ name: 'bias', shape: [d.filters] });
      return w;
    },
  },
  BatchNormalization: {
    create: (c, inputShape) => {
      // Keras writes the channel axis as -1, 3 or [3]: all mean the last axis of NHWC
      let axis = c.cfg.axis;
      if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
      if (axis !== undefined && axis !== null && axis !== -1) {
        const last = inputShape === null ? undefined : inputShape.length - 1;
        if (axis !== last) throw new ModelFormatError(`${c.where}: config.axis must be the last axis (-1), got ${show(c.cfg.axis)}`);
      }
      c.unsupported('beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint');
      if (c.bool('renorm') === true) throw new ModelFormatError(`${c.where}: config.renorm is not supported`);
      return new BatchNormalization({
        ...c.base(), momentum: c.num('momentum'), epsilon: c.num('epsilon'), center: c.bool('center'), scale: c.bool('scale'),
        betaInitializer: init(c, 'beta_initializer'), gammaInitializer: init(c, 'gamma_initializer'),
        movingMeanInitializer: init(c, 'moving_mean_initializer'), movingVarianceInitializer: init(c, 'moving_variance_initializer'),
      });
    },
    weights: (l, s) => {
      const b = l as BatchNormalization;
      const ch = lastDim(l, s);
      const w: WeightShape[] = [];
      if (b.scale) w.push({ name: 'gamma', shape: [ch] });
      if (b.center) w.push({ name: 'beta', shape: [ch] });
      w.push({ name: 'moving_mean', shape: [ch], trainable: false }, { name: 'moving_variance', shape: [ch], trainable: false });
      return w;
    },
  },
  Activation: {
    create: (c) => {
      const activation = c.str('activation');
      if (activation === undefined) throw new ModelFormatError(`${c.where}: config.activation is missing`);
      return new Activation({ ...c.base(), activation });
    },
  },
  LeakyReLU: {
    create: (c) => {
      // TensorFlow.js and Keras 2 write alpha, Keras 3 negative_slope; both mean the same slope
      const alpha = c.num('alpha');
      const slope = c.num('negative_slope');
      if (alpha !== undefined && slope !== undefined && alpha !== slope) {
        throw new ModelFormatError(`${c.where}: config.alpha (${alpha}) and config.negative_slope (${slope}) disagree`);
      }
      return new LeakyReLU({ ...c.base(), alpha: alpha ?? slope });
    },
  },
  Dropout: {
    create: (c) => {
      const rate = c.num('rate');
      if (rate === undefined) throw new ModelFormatError(`${c.where}: config.rate is missing`);
      const noise = c.dims('noise_shape', true);
      return new Dropout({ ...c.base(), rate, noiseShape: noise, seed: c.int('seed') });
    },
  },
  SpatialDropout2D: {
    create: (c) => {
      channelsLast(c);
      const rate = c.num('rate');
      if (rate === undefined) throw new ModelFormatError(`${c.where}: config.rate is missing`);
      return new SpatialDropout2D({ ...c.base(), rate, seed: c.int('seed') });
    },
  },
  Flatten: { create: (c) => { channelsLast(c); return new Flatten(c.base()); } },
  Reshape: {
    create: (c) => {
      const t = c.dims('target_shape', false);
      if (t === undefined) throw new ModelFormatError(`${c.where}: config.target_shape is missing`);
      return new Reshape({ ...c.base(), targetShape: t as number[] });
    },
  },
  ZeroPadding2D: {
    create: (c) => {
      channelsLast(c);
      const p = c.cfg.padding;
      const ok = p === undefined || p === null || Number.isSafeInteger(p)
        || (Array.isArray(p) && p.length === 2 && (p.every((v) => Number.isSafeInteger(v))
          || p.every((v) => Array.isArray(v) && v.length === 2 && v.every((u) => Number.isSafeInteger(u)))));
      if (!ok) throw new ModelFormatError(`${c.where}: config.padding must be n, [rows, cols] or [[top, bottom], [left, right]], got ${show(p)}`);
      return new ZeroPadding2D({ ...c.base(), padding: (p ?? undefined) as never });
    },
  },
  MaxPooling2D: { create: (c) => new MaxPooling2D(pooling(c)) },
  AveragePooling2D: { create: (c) => new AveragePooling2D(pooling(c)) },
  GlobalAveragePooling2D: { create: (c) => new GlobalAveragePooling2D(globalPooling(c)) },
  GlobalMaxPooling2D: { create: (c) => new GlobalMaxPooling2D(globalPooling(c)) },
  UpSampling2D: {
    create: (c) => {
      channelsLast(c);
      return new UpSampling2D({ ...c.base(), size: c.intOrPair('size'), interpolation: c.str('interpolation') as never });
    },
  },
  RandomFlip: { create: (c) => new RandomFlip({ ...c.base(), mode: c.str('mode') as never, seed: c.int('seed') }) },
  RandomTranslation: {
    create: (c) => new RandomTranslation({
      ...c.base(), heightFactor: c.num('height_factor'), widthFactor: c.num('width_factor'),
      fillMode: c.str('fill_mode') as never, fillValue: c.num('fill_value'), seed: c.int('seed'),
    }),
  },
};

/** Keras aliases of class names. */
const ALIASES: Record<string, string> = {
  Convolution2D: 'Conv2D', Deconvolution2D: 'Conv2DTranspose', Conv2DTranspose: 'Conv2DTranspose',
  MaxPool2D: 'MaxPooling2D', AvgPool2D: 'AveragePooling2D', GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
};

/** Every layer class name a saved model may use. */
export const layerClassNames: readonly string[] = Object.keys(ENTRIES);

function entry(className: string, where: string): Entry {
  const key = Object.hasOwn(ENTRIES, className) ? className : Object.hasOwn(ALIASES, className) ? ALIASES[className] : undefined;
  if (key === undefined) {
    throw new ModelFormatError(`${where}: unknown layer class '${className.slice(0, 80)}'; known: ${layerClassNames.join(', ')}`);
  }
  return ENTRIES[key];
}

/** Whether a class name is one this registry can build. */
export function isKnownLayerClass(className: string): boolean {
  return Object.hasOwn(ENTRIES, className) || Object.hasOwn(ALIASES, className);
}

/**
 * A layer from its Keras class name and snake_case config. `inputShape` (batch first, when
 * known) lets configs that name axes absolutely (BatchNormalization axis 3) be read.
 * Field type errors throw ModelFormatError; the layer's own argument checks throw ValueError.
 */
export function layerFromConfig(className: string, config: Record<string, unknown>, where: string, inputShape: Shape | null = null): Layer {
  return entry(className, where).create(new ConfigReader(config, where), inputShape);
}

/** The weights this (unbuilt) layer creates for an input shape, without creating them. */
export function plannedWeights(layer: Layer, inputShape: Shape): WeightShape[] {
  const e = entry(layer.className, `layer '${layer.name}'`);
  return e.weights === undefined ? [] : e.weights(layer, inputShape);
}

// Bidirectional makes its two copies from the wrapped layer's config through this registry.
setBidirectionalFactory((className, config) => layerFromConfig(className, config, `bidirectional copy of ${className}`));
