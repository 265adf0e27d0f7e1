/**
 * Weight initializers, as Keras defines them (same names, defaults, fan computation and
 * distributions), so a layer built here starts from the same distribution as in Keras.
 * Every initializer takes an optional `seed`: with one it draws from a private generator and
 * gives the same values on every create(); without one it draws from the global seedable RNG
 * (lib/random.ts), so `setSeed(n)` makes a whole model reproducible.
 *
 * @example
 * const init = gf.initializers.glorotUniform({seed: 1});
 * const w = init.create([784, 128]);   // U(-sqrt(6/(784+128)), +sqrt(6/(784+128)))
 * gf.initializers.getInitializer('he_normal').create([3, 3, 16, 32]);
 */
import { Tensor, allocate, shapeSize } from '../tensor';
import { ValueError, ShapeError, fmtShape } from '../errors';
import { Rng, rngFor } from '../random';
import type { Initializer } from './layer';

export type { Initializer };

/** Options shared by all initializers. */
export interface InitializerArgs {
  /** Seeds a private generator: every create() then gives the same values. */
  seed?: number;
  /** Storage type of the created tensor (float32 unless told). */
  dtype?: 'float32' | 'float64';
}

/** A Keras-serialized initializer: `{class_name: 'GlorotUniform', config: {seed: null}}`. */
export interface InitializerConfig {
  class_name: string;
  config: Record<string, unknown>;
}

function checkCreateShape(who: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${who}: bad shape ${fmtShape(shape)}: sizes must be integers >= 0`);
  }
}

function checkFinite(who: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${who}: ${name} must be a finite number, got ${v}`);
}

function checkSeed(who: string, seed: number | undefined): void {
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) {
    throw new ValueError(`${who}: seed must be a finite number, got ${seed}`);
  }
}

/**
 * Keras' compute_fans: vectors use their length for both; matrices are [in, out]; higher
 * ranks are convolution kernels [..., in, out] whose receptive field (the product of the
 * leading dimensions) multiplies both fans.
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  if (shape.length === 2) return { fanIn: shape[0], fanOut: shape[1] };
  const receptive = shapeSize(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** Base with the seed/dtype handling every random initializer shares. */
abstract class BaseInitializer implements Initializer {
  abstract readonly className: string;
  readonly seed: number | undefined;
  readonly dtype: 'float32' | 'float64';

  constructor(args: InitializerArgs = {}) {
    checkSeed(this.constructor.name, args.seed);
    this.seed = args.seed;
    this.dtype = args.dtype ?? 'float32';
  }

  create(shape: readonly number[]): Tensor {
    checkCreateShape(this.className, shape);
    const data = allocate(this.dtype, shapeSize(shape));
    // a fresh private generator per call for a seeded initializer (Keras: the same values on
    // every call); the global generator otherwise
    this.fill(data as Float32Array | Float64Array, shape, rngFor(this.seed));
    return new Tensor(data, shape);
  }

  protected abstract fill(out: Float32Array | Float64Array, shape: readonly number[], rng: Rng): void;

  getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

/** All zeros (the default bias initializer). */
export class Zeros extends BaseInitializer {
  readonly className = 'Zeros';
  protected fill(): void { /* allocate already zeroed */ }
  override getConfig(): Record<string, unknown> { return {}; }
}

/** All ones. */
export class Ones extends BaseInitializer {
  readonly className = 'Ones';
  protected fill(out: Float32Array | Float64Array): void { out.fill(1); }
  override getConfig(): Record<string, unknown> { return {}; }
}

/** Every element `value` (Keras default 0). */
export class Constant extends BaseInitializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(args: InitializerArgs & { value?: number } = {}) {
    super(args);
    this.value = args.value ?? 0;
    checkFinite('constant', 'value', this.value);
  }
  protected fill(out: Float32Array | Float64Array): void { out.fill(this.value); }
  override getConfig(): Record<string, unknown> { return { value: this.value }; }
}

/** Normal(mean, stddev); Keras defaults mean 0, stddev 0.05. */
export class RandomNormal extends BaseInitializer {
  readonly className = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  constructor(args: InitializerArgs & { mean?: number; stddev?: number } = {}) {
    super(args);
    this.mean = args.mean ?? 0;
    this.stddev = args.stddev ?? 0.05;
    checkFinite('randomNormal', 'mean', this.mean);
    checkFinite('randomNormal', 'stddev', this.stddev);
    if (this.stddev < 0) throw new ValueError(`randomNormal: stddev must be >= 0, got ${this.stddev}`);
  }
  protected fill(out: Float32Array | Float64Array, _s: readonly number[], rng: Rng): void {
    for (let i = 0; i < out.length; i++) out[i] = this.mean + this.stddev * rng.normal();
  }
  override getConfig(): Record<string, unknown> { return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null }; }
}

/** Uniform in [minval, maxval); Keras defaults -0.05, 0.05. */
export class RandomUniform extends BaseInitializer {
  readonly className = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  constructor(args: InitializerArgs & { minval?: number; maxval?: number } = {}) {
    super(args);
    this.minval = args.minval ?? -0.05;
    this.maxval = args.maxval ?? 0.05;
    checkFinite('randomUniform', 'minval', this.minval);
    checkFinite('randomUniform', 'maxval', this.maxval);
    if (this.maxval < this.minval) throw new ValueError(`randomUniform: maxval (${this.maxval}) must be >= minval (${this.minval})`);
  }
  protected fill(out: Float32Array | Float64Array, _s: readonly number[], rng: Rng): void {
    const span = this.maxval - this.minval;
    for (let i = 0; i < out.length; i++) out[i] = this.minval + span * rng.uniform();
  }
  override getConfig(): Record<string, unknown> { return { minval: this.minval, maxval: this.maxval, seed: this.seed ?? null }; }
}

/** A standard normal sample redrawn until it lies within two standard deviations (as TF). */
function truncatedStandardNormal(rng: Rng): number {
  for (;;) {
    const z = rng.normal();
    if (z >= -2 && z <= 2) return z;
  }
}

/** Normal(mean, stddev) with samples beyond 2 stddev redrawn; Keras defaults 0, 0.05. */
export class TruncatedNormal extends BaseInitializer {
  readonly className = 'TruncatedNormal';
  readonly mean: number;
  readonly stddev: number;
  constructor(args: InitializerArgs & { mean?: number; stddev?: number } = {}) {
    super(args);
    this.mean = args.mean ?? 0;
    this.stddev = args.stddev ?? 0.05;
    checkFinite('truncatedNormal', 'mean', this.mean);
    checkFinite('truncatedNormal', 'stddev', this.stddev);
    if (this.stddev < 0) throw new ValueError(`truncatedNormal: stddev must be >= 0, got ${this.stddev}`);
  }
  protected fill(out: Float32Array | Float64Array, _s: readonly number[], rng: Rng): void {
    for (let i = 0; i < out.length; i++) out[i] = this.mean + this.stddev * truncatedStandardNormal(rng);
  }
  override getConfig(): Record<string, unknown> { return { mean: this.mean, stddev: this.stddev, seed: this.seed ?? null }; }
}

export type FanMode = 'fan_in' | 'fan_out' | 'fan_avg';
export type VarianceDistribution = 'truncated_normal' | 'untruncated_normal' | 'uniform';

export interface VarianceScalingArgs extends InitializerArgs {
  scale?: number;
  mode?: FanMode;
  distribution?: VarianceDistribution;
}

/**
 * Keras VarianceScaling: variance scale / fan (fan by mode). The glorot/he/lecun initializers
 * are fixed settings of it.
 */
export class VarianceScaling extends BaseInitializer {
  readonly className: string;
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: VarianceDistribution;

  /** `className` is for the named presets (GlorotUniform ...); leave it out. */
  constructor(args: VarianceScalingArgs = {}, className = 'VarianceScaling') {
    super(args);
    this.className = className;
    this.scale = args.scale ?? 1;
    this.mode = args.mode ?? 'fan_in';
    this.distribution = args.distribution ?? 'truncated_normal';
    if (!(this.scale > 0) || !Number.isFinite(this.scale)) throw new ValueError(`varianceScaling: scale must be a positive number, got ${this.scale}`);
    if (!['fan_in', 'fan_out', 'fan_avg'].includes(this.mode)) {
      throw new ValueError(`varianceScaling: mode must be 'fan_in', 'fan_out' or 'fan_avg', got '${this.mode}'`);
    }
    if (!['truncated_normal', 'untruncated_normal', 'uniform'].includes(this.distribution)) {
      throw new ValueError(`varianceScaling: distribution must be 'truncated_normal', 'untruncated_normal' or 'uniform', got '${this.distribution}'`);
    }
  }

  /** The uniform bound or normal stddev this initializer uses for a shape. */
  spread(shape: readonly number[]): number {
    const { fanIn, fanOut } = computeFans(shape);
    const fan = this.mode === 'fan_in' ? fanIn : this.mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2;
    const s = this.scale / Math.max(1, fan);
    if (this.distribution === 'uniform') return Math.sqrt(3 * s);
    // 0.8796... is the stddev of a standard normal truncated to [-2, 2]: dividing by it
    // keeps the variance at s after truncation (Keras' constant)
    if (this.distribution === 'truncated_normal') return Math.sqrt(s) / 0.87962566103423978;
    return Math.sqrt(s);
  }

  protected fill(out: Float32Array | Float64Array, shape: readonly number[], rng: Rng): void {
    const k = this.spread(shape);
    if (this.distribution === 'uniform') {
      for (let i = 0; i < out.length; i++) out[i] = k * (2 * rng.uniform() - 1);
    } else if (this.distribution === 'truncated_normal') {
      for (let i = 0; i < out.length; i++) out[i] = k * truncatedStandardNormal(rng);
    } else {
      for (let i = 0; i < out.length; i++) out[i] = k * rng.normal();
    }
  }

  override getConfig(): Record<string, unknown> {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, seed: this.seed ?? null };
  }
}

/** A named VarianceScaling preset; its Keras config is just the seed. */
class PresetVarianceScaling extends VarianceScaling {
  constructor(className: string, scale: number, mode: FanMode, distribution: VarianceDistribution, args: InitializerArgs) {
    super({ ...args, scale, mode, distribution }, className);
  }
  override getConfig(): Record<string, unknown> {
    return { seed: this.seed ?? null };
  }
}

/** U(-l, l), l = sqrt(6 / (fanIn + fanOut)). The default kernel initializer. */
export class GlorotUniform extends PresetVarianceScaling {
  constructor(args: InitializerArgs = {}) { super('GlorotUniform', 1, 'fan_avg', 'uniform', args); }
}
/** Truncated normal, stddev sqrt(2 / (fanIn + fanOut)). */
export class GlorotNormal extends PresetVarianceScaling {
  constructor(args: InitializerArgs = {}) { super('GlorotNormal', 1, 'fan_avg', 'truncated_normal', args); }
}
/** Truncated normal, stddev sqrt(2 / fanIn) (for relu). */
export class HeNormal extends PresetVarianceScaling {
  constructor(args: InitializerArgs = {}) { super('HeNormal', 2, 'fan_in', 'truncated_normal', args); }
}
/** U(-l, l), l = sqrt(6 / fanIn). */
export class HeUniform extends PresetVarianceScaling {
  constructor(args: InitializerArgs = {}) { super('HeUniform', 2, 'fan_in', 'uniform', args); }
}
/** Truncated normal, stddev sqrt(1 / fanIn) (for selu). */
export class LecunNormal extends PresetVarianceScaling {
  constructor(args: InitializerArgs = {}) { super('LecunNormal', 1, 'fan_in', 'truncated_normal', args); }
}
/** U(-l, l), l = sqrt(3 / fanIn). */
export class LecunUniform extends PresetVarianceScaling {
  constructor(args: InitializerArgs = {}) { super('LecunUniform', 1, 'fan_in', 'uniform', args); }
}

/**
 * A (semi-)orthogonal matrix times `gain`: the Q of the QR decomposition of a normal sample,
 * signs fixed so the diagonal of R is positive (Keras' algorithm). Shapes of rank > 2 are
 * flattened to [prod(leading), last].
 */
export class Orthogonal extends BaseInitializer {
  readonly className = 'Orthogonal';
  readonly gain: number;
  constructor(args: InitializerArgs & { gain?: number } = {}) {
    super(args);
    this.gain = args.gain ?? 1;
    checkFinite('orthogonal', 'gain', this.gain);
  }

  protected fill(out: Float32Array | Float64Array, shape: readonly number[], rng: Rng): void {
    if (shape.length < 2) throw new ShapeError(`orthogonal: needs a shape of rank >= 2, got ${fmtShape(shape)}`);
    const cols = shape[shape.length - 1];
    const rows = out.length / Math.max(1, cols);
    if (out.length === 0) return;
    // QR of a tall n x k normal matrix by modified Gram-Schmidt (columns), in float64; the
    // Gram-Schmidt R has a positive diagonal, which is Keras' sign convention
    const n = Math.max(rows, cols);
    const k = Math.min(rows, cols);
    const q = new Float64Array(n * k); // column-major: column j at q[j*n .. j*n+n)
    for (let i = 0; i < q.length; i++) q[i] = rng.normal();
    for (let j = 0; j < k; j++) {
      const cj = q.subarray(j * n, (j + 1) * n);
      for (let p = 0; p < j; p++) {
        const cp = q.subarray(p * n, (p + 1) * n);
        let dot = 0;
        for (let i = 0; i < n; i++) dot += cp[i] * cj[i];
        for (let i = 0; i < n; i++) cj[i] -= dot * cp[i];
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += cj[i] * cj[i];
      norm = Math.sqrt(norm);
      for (let i = 0; i < n; i++) cj[i] /= norm;
    }
    // rows >= cols: the result is Q (rows x cols); otherwise Q^T (cols x rows ... transposed)
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = rows >= cols ? q[c * n + r] : q[r * n + c];
        out[r * cols + c] = this.gain * v;
      }
    }
  }

  override getConfig(): Record<string, unknown> { return { gain: this.gain, seed: this.seed ?? null }; }
}

// ----- factories (tfjs-style lowerCamelCase) -----

/** @example gf.initializers.zeros().create([3]) */
export const zeros = (args: InitializerArgs = {}): Zeros => new Zeros(args);
/** @example gf.initializers.ones().create([3]) */
export const ones = (args: InitializerArgs = {}): Ones => new Ones(args);
/** @example gf.initializers.constant({value: 0.1}).create([10]) */
export const constant = (args: InitializerArgs & { value?: number } = {}): Constant => new Constant(args);
/** @example gf.initializers.randomNormal({stddev: 0.01, seed: 1}) */
export const randomNormal = (args: InitializerArgs & { mean?: number; stddev?: number } = {}): RandomNormal => new RandomNormal(args);
/** @example gf.initializers.randomUniform({minval: -0.1, maxval: 0.1}) */
export const randomUniform = (args: InitializerArgs & { minval?: number; maxval?: number } = {}): RandomUniform => new RandomUniform(args);
/** @example gf.initializers.truncatedNormal({stddev: 0.02}) */
export const truncatedNormal = (args: InitializerArgs & { mean?: number; stddev?: number } = {}): TruncatedNormal => new TruncatedNormal(args);
/** @example gf.initializers.varianceScaling({scale: 2, mode: 'fan_in', distribution: 'uniform'}) */
export const varianceScaling = (args: VarianceScalingArgs = {}): VarianceScaling => new VarianceScaling(args);
/** @example gf.initializers.glorotUniform({seed: 42}).create([784, 128]) */
export const glorotUniform = (args: InitializerArgs = {}): GlorotUniform => new GlorotUniform(args);
/** @example gf.initializers.glorotNormal() */
export const glorotNormal = (args: InitializerArgs = {}): GlorotNormal => new GlorotNormal(args);
/** @example gf.initializers.heNormal()   // for relu layers */
export const heNormal = (args: InitializerArgs = {}): HeNormal => new HeNormal(args);
/** @example gf.initializers.heUniform() */
export const heUniform = (args: InitializerArgs = {}): HeUniform => new HeUniform(args);
/** @example gf.initializers.leCunNormal()   // for selu layers */
export const leCunNormal = (args: InitializerArgs = {}): LecunNormal => new LecunNormal(args);
/** @example gf.initializers.leCunUniform() */
export const leCunUniform = (args: InitializerArgs = {}): LecunUniform => new LecunUniform(args);
/** @example gf.initializers.orthogonal({gain: 1}) */
export const orthogonal = (args: InitializerArgs & { gain?: number } = {}): Orthogonal => new Orthogonal(args);

/** Keras class names and aliases -> constructor from a Keras config. */
const REGISTRY: Record<string, (cfg: Record<string, unknown>) => Initializer> = {
  Zeros: (c) => new Zeros(common(c)),
  Ones: (c) => new Ones(common(c)),
  Constant: (c) => new Constant({ ...common(c), value: num(c.value) }),
  RandomNormal: (c) => new RandomNormal({ ...common(c), mean: num(c.mean), stddev: num(c.stddev) }),
  RandomUniform: (c) => new RandomUniform({ ...common(c), minval: num(c.minval), maxval: num(c.maxval) }),
  TruncatedNormal: (c) => new TruncatedNormal({ ...common(c), mean: num(c.mean), stddev: num(c.stddev) }),
  VarianceScaling: (c) => new VarianceScaling({
    ...common(c), scale: num(c.scale),
    mode: typeof c.mode === 'string' ? (c.mode as FanMode) : undefined,
    distribution: typeof c.distribution === 'string'
      // Keras 2 wrote 'normal' for what is now 'truncated_normal'
      ? (c.distribution === 'normal' ? 'truncated_normal' : c.distribution as VarianceDistribution) : undefined,
  }),
  GlorotUniform: (c) => new GlorotUniform(common(c)),
  GlorotNormal: (c) => new GlorotNormal(common(c)),
  HeNormal: (c) => new HeNormal(common(c)),
  HeUniform: (c) => new HeUniform(common(c)),
  LecunNormal: (c) => new LecunNormal(common(c)),
  LecunUniform: (c) => new LecunUniform(common(c)),
  Orthogonal: (c) => new Orthogonal({ ...common(c), gain: num(c.gain) }),
  // Keras 3 writes this class name for the recurrent layers' default recurrent_initializer
  OrthogonalInitializer: (c) => new Orthogonal({ ...common(c), gain: num(c.gain) }),
};

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function common(c: Record<string, unknown>): InitializerArgs {
  return { seed: typeof c.seed === 'number' ? c.seed : undefined };
}

/** 'glorot_uniform', 'glorotUniform', 'GlorotUniform', 'leCunNormal' -> 'glorotuniform' etc. */
function canonical(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

const BY_CANONICAL = new Map<string, string>(Object.keys(REGISTRY).map((k) => [canonical(k), k]));

/** Every name getInitializer accepts (Keras snake_case; camelCase and class names also work). */
export const initializerNames: readonly string[] = [
  'zeros', 'ones', 'constant', 'random_normal', 'random_uniform', 'truncated_normal', 'variance_scaling',
  'glorot_uniform', 'glorot_normal', 'he_normal', 'he_uniform', 'lecun_normal', 'lecun_uniform', 'orthogonal',
];

/**
 * An initializer from a Keras name ('glorot_uniform', 'glorotUniform', 'GlorotUniform'), a
 * Keras config `{class_name, config}`, or an Initializer (returned as is).
 * @example getInitializer('he_normal').create([784, 256])
 */
export function getInitializer(init: string | Initializer | InitializerConfig): Initializer {
  if (typeof init === 'string') {
    const key = BY_CANONICAL.get(canonical(init));
    if (key === undefined) {
      throw new ValueError(`getInitializer: unknown initializer '${init}'; known: ${initializerNames.join(', ')}`);
    }
    return REGISTRY[key]({});
  }
  if (init !== null && typeof init === 'object') {
    if ('create' in init && typeof init.create === 'function') return init;
    if ('class_name' in init && typeof init.class_name === 'string') {
      const key = BY_CANONICAL.get(canonical(init.class_name));
      if (key === undefined) {
        throw new ValueError(`getInitializer: unknown initializer class '${init.class_name}'; known: ${Object.keys(REGISTRY).join(', ')}`);
      }
      return REGISTRY[key](init.config ?? {});
    }
  }
  throw new ValueError(`getInitializer: expected a name, an Initializer or {class_name, config}, got ${String(init)}`);
}

/** The Keras serialization of an initializer: `{class_name, config}`. */
export function serializeInitializer(init: Initializer): InitializerConfig {
  return { class_name: init.className, config: init.getConfig() };
}
