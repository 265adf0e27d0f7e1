/**
 * SlotOptimizer: what sgd, adam, rmsprop and adagrad share. It validates hyperparameters,
 * skips parameters without a gradient, clips gradients (by value, by norm, or by global norm:
 * one of them, as Keras 3 allows), keeps per-parameter slot arrays (moments, accumulators) in a Map keyed by the
 * parameter tensor on the parameter's device, and hands each parameter to an in-place step
 * kernel of that device's backend. Subclasses only name their slots and call their kernel.
 * Clipping is computed in JavaScript: it needs the gradients on the CPU.
 *
 * @example
 * class Plain extends SlotOptimizer {
 *   readonly className = 'Plain';
 *   constructor() { super('plain', {}, 0.01); }
 *   get slotNames() { return []; }
 *   protected step(k, p, g) { k.sgdStep(p, g, new Float32Array(0), this.learningRate, 0, false); }
 *   getConfig() { return this.baseConfig('plain'); }
 * }
 */
import { Tensor, FloatArray, FloatDType, DeviceStorage } from '../tensor';
import { backendFor, backendOf, FloatStorage, Kernels } from '../backend';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Optimizer, OptimizerArgs, OptimizerState, ParamGrad } from './optimizer';
import { noteWeightWrite } from '../memory';

/** What gradient clipping needs of a device, for gradient i of the step. */
interface ClipOps<G> {
  clip(g: G, i: number, cv: number): G;
  sumSquares(g: G, i: number): number;
  scale(g: G, i: number, f: number): G;
}

export type { OptimizerArgs, OptimizerState, ParamGrad };

/** A parameter and its gradient, where the gradient may be missing (then it is skipped). */
export interface MaybeParamGrad {
  param: Tensor;
  grad: Tensor | null | undefined;
}

/** Throws a ValueError naming the optimizer unless v is finite and within the bounds. */
export function checkHyper(opt: string, name: string, v: unknown, lo: number, hi: number,
                           loOpen = false, hiOpen = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v)
    && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) {
    const range = `${loOpen ? '(' : '['}${lo}, ${hi === Infinity ? 'Infinity' : hi}${hiOpen ? ')' : ']'}`;
    throw new ValueError(`${opt}: ${name} must be a number in ${range}, got ${String(v)}`);
  }
  return v as number;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function newLike(dtype: string, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Optimizer arguments from what a user passed: an options object, or a bare learning rate
 * (`gf.optimizers.sgd(0.1)`, as tfjs's `tf.train.sgd(0.1)`).
 */
export function optimizerArgs<T extends OptimizerArgs>(opt: string, args: T | number | undefined): T {
  if (args === undefined) return {} as T;
  if (typeof args === 'number') return { learningRate: args } as T;
  if (args === null || typeof args !== 'object') throw new ValueError(`${opt}: expected options {learningRate, ...} or a learning rate, got ${String(args)}`);
  return args;
}

export abstract class SlotOptimizer extends Optimizer {
  readonly clipnorm: number | undefined;
  readonly globalClipnorm: number | undefined;
  readonly clipvalue: number | undefined;
  /**
   * Slot storages per parameter (on its device), in slotNames order. Insertion order is
   * first-seen order.
   */
  protected readonly slots = new Map<Tensor, FloatStorage[]>();
  /** A short lower-case name for messages ('adam'). */
  protected readonly label: string;

  protected constructor(label: string, args: OptimizerArgs, defaultLearningRate: number) {
    super(args.learningRate ?? defaultLearningRate);
    this.label = label;
    checkHyper(label, 'learningRate', this.learningRate, 0, Infinity);
    const clip = (name: string, v: number | undefined): number | undefined =>
      (v === undefined || v === null ? undefined : checkHyper(label, name, v, 0, Infinity, true));
    this.clipnorm = clip('clipnorm', args.clipnorm);
    this.globalClipnorm = clip('globalClipnorm', args.globalClipnorm);
    this.clipvalue = clip('clipvalue', args.clipvalue);
    if ([this.clipnorm, this.globalClipnorm, this.clipvalue].filter((v) => v !== undefined).length > 1) {
      // Keras 3 refuses combinations too: which clipping wins would be arbitrary
      throw new ValueError(`${label}: set only one of clipnorm, clipvalue and globalClipnorm; got clipnorm=${this.clipnorm}, clipvalue=${this.clipvalue}, globalClipnorm=${this.globalClipnorm}`);
    }
  }

  /** Names of this optimizer's per-parameter slots (Keras' variable names). */
  abstract get slotNames(): readonly string[];

  /** Initial value of a new slot (Keras: zeros; adagrad's accumulator starts elsewhere). */
  protected slotInit(slot: number): number {
    void slot;
    return 0;
  }

  /**
   * One in-place update of p from g with the parameter's slots, by `kernels` (the backend of
   * the parameter's device); t is the 1-based step.
   */
  protected abstract step(kernels: Kernels, p: FloatStorage, g: FloatStorage, slots: FloatStorage[], t: number): void;

  /** The parameter's slots, created on first use on the parameter's device. */
  protected slotsFor(param: Tensor): FloatStorage[] {
    let s = this.slots.get(param);
    if (s === undefined) {
      const be = backendFor(param.device);
      s = this.slotNames.map((_, k) => {
        const v = this.slotInit(k);
        const a = be.allocateLasting(param.dtype as FloatDType, param.size, `${this.label} slot`);
        if (v !== 0) be.write(a, newLike(param.dtype, param.size).fill(v));
        return a;
      });
      this.slots.set(param, s);
    }
    return s;
  }

  /**
   * Clips the gradients and updates every parameter in place; pairs whose grad is null are
   * skipped. Increments `iterations` once per call (Keras).
   * @example opt.applyGradients([{param: w, grad: w.grad}])
   */
  applyGradients(pairs: readonly (ParamGrad | MaybeParamGrad)[]): void {
    noteWeightWrite();
    if (this.schedule !== null) this.learningRate = this.schedule.at(this.iterations);
    checkHyper(this.label, 'learningRate', this.learningRate, 0, Infinity);
    if (!Array.isArray(pairs)) throw new ValueError(`${this.label}.applyGradients: expected an array of {param, grad}`);
    const live: { param: Tensor; grad: Tensor }[] = [];
    pairs.forEach((pg, i) => {
      if (pg === null || typeof pg !== 'object' || !(pg.param instanceof Tensor)) {
        throw new ValueError(`${this.label}.applyGradients: entry ${i} is not {param: Tensor, grad}`);
      }
      const { param, grad } = pg;
      if (grad === null || grad === undefined) return;
      if (param.dtype === 'int32') throw new DTypeError(`${this.label}: parameter ${i} is int32 of shape ${fmtShape(param.shape)}; only float parameters can be trained`);
      if (!(grad instanceof Tensor)) throw new ValueError(`${this.label}.applyGradients: gradient ${i} is not a Tensor`);
      if (!sameShape(param.shape, grad.shape)) {
        throw new ShapeError(`${this.label}: gradient shape ${fmtShape(grad.shape)} differs from parameter shape ${fmtShape(param.shape)} (entry ${i})`);
      }
      // the kernels need one array type per call; a float64 gradient of a float32 parameter
      // (or the reverse) is converted
      live.push({ param, grad: grad.dtype === param.dtype ? grad : grad.cast(param.dtype) });
    });
    const clipping = this.clipvalue !== undefined || this.clipnorm !== undefined || this.globalClipnorm !== undefined;
    const grads: FloatStorage[] = clipping
      ? (live.every((l) => l.grad.device === 'cpu')
        ? this.clipGradients(live.map((l) => l.grad.data as FloatArray))
        : this.clipDeviceGradients(live.map((l) => l.grad)))
      : live.map((l) => l.grad.storage as FloatStorage);
    const t = this.iterations + 1;
    live.forEach((l, i) => {
      const be = backendOf(this.label, [l.param, l.grad]);
      this.step(be.kernels, l.param.storage as FloatStorage, grads[i], this.slotsFor(l.param), t);
    });
    this.iterations = t;
  }

  /**
   * clipvalue (elementwise), clipnorm (each gradient's L2 norm) or globalClipnorm (the
   * norm of all gradients together), over one device's primitives. They copy before
   * changing: the inputs may be param.grad.
   */
  private clipWith<G>(grads: G[], ops: ClipOps<G>): G[] {
    let out = grads;
    const cv = this.clipvalue;
    if (cv !== undefined) out = out.map((g, i) => ops.clip(g, i, cv));
    const cn = this.clipnorm;
    if (cn !== undefined) {
      out = out.map((g, i) => {
        const norm = Math.sqrt(ops.sumSquares(g, i));
        return norm > cn ? ops.scale(g, i, cn / norm) : g;
      });
    }
    const gn = this.globalClipnorm;
    if (gn !== undefined) {
      const norm = Math.sqrt(out.reduce((s, g, i) => s + ops.sumSquares(g, i), 0));
      if (norm > gn) out = out.map((g, i) => ops.scale(g, i, gn / norm));
    }
    return out;
  }

  /** Clipping on the CPU, in JavaScript (the sums of squares in float64). */
  protected clipGradients(grads: FloatArray[]): FloatArray[] {
    return this.clipWith(grads, {
      clip: (g, _i, cv) => g.map((v) => Math.min(cv, Math.max(-cv, v))),
      sumSquares: (g) => {
        let s = 0;
        for (let i = 0; i < g.length; i++) s += g[i] * g[i];
        return s;
      },
      scale: (g, _i, f) => g.map((v) => v * f),
    });
  }

  /**
   * Clipping of gradients in device memory, with that device's kernels (the clip, square,
   * sum and scale of binding.d.ts); each norm is read back as one number. The sums run in
   * float32 there (the CPU's in float64), so a norm at the threshold may round to the other side.
   */
  protected clipDeviceGradients(grads: Tensor[]): FloatStorage[] {
    const be = backendOf(this.label, grads);
    const k = be.kernels;
    const map = (op: 'clip' | 'scale', i: number, g: FloatStorage, alpha: number, beta: number): FloatStorage => {
      const c = be.allocateOutput(grads[i].dtype as FloatDType, grads[i].size, 'clip');
      k.unary(op, g, c, alpha, beta);
      return c;
    };
    return this.clipWith(grads.map((g) => g.storage as FloatStorage), {
      clip: (g, i, cv) => map('clip', i, g, -cv, cv),
      sumSquares: (g, i) => {
        const n = grads[i].size, dt = grads[i].dtype as FloatDType;
        if (n === 0) return 0;
        const t = be.scratch(dt, n, 'clip');
        const s = be.allocateOutput(dt, 1, 'clip');
        k.unary('square', g, t, 0, 0);
        k.reduce('sum', t, 1, n, 1, s);
        be.release(t);
        return be.download(s as DeviceStorage)[0];
      },
      scale: (g, i, f) => map('scale', i, g, f, 0),
    });
  }

  getState(params?: readonly Tensor[]): OptimizerState {
    const list = params ?? [...this.slots.keys()];
    const weights: Tensor[] = [];
    for (const p of list) {
      if (!(p instanceof Tensor) || p.dtype === 'int32') throw new ValueError(`${this.label}.getState: parameters must be float Tensors`);
      const be = backendFor(p.device);
      for (const s of this.slotsFor(p)) weights.push(new Tensor(be.copy(s), p.shape));
    }
    return { iterations: this.iterations, slotNames: [...this.slotNames], weights };
  }

  setState(state: OptimizerState, params: readonly Tensor[]): void {
    if (state === null || typeof state !== 'object' || !Array.isArray(state.weights)) {
      throw new ValueError(`${this.label}.setState: expected {iterations, slotNames, weights}`);
    }
    const it = state.iterations;
    if (!Number.isInteger(it) || it < 0) throw new ValueError(`${this.label}.setState: iterations must be an integer >= 0, got ${it}`);
    const k = this.slotNames.length;
    if (state.weights.length !== params.length * k) {
      throw new ValueError(`${this.label}.setState: expected ${params.length * k} tensors (${params.length} parameters x ${k} slots [${this.slotNames.join(', ')}]), got ${state.weights.length}`);
    }
    // check everything before changing anything, so a bad state leaves the optimizer intact
    params.forEach((p, i) => {
      for (let j = 0; j < k; j++) {
        const w = state.weights[i * k + j];
        if (!(w instanceof Tensor) || !sameShape(w.shape, p.shape)) {
          throw new ShapeError(`${this.label}.setState: slot '${this.slotNames[j]}' of parameter ${i} has shape ${w instanceof Tensor ? fmtShape(w.shape) : String(w)}, parameter has ${fmtShape(p.shape)}`);
        }
      }
    });
    params.forEach((p, i) => {
      const slots = this.slotsFor(p);
      const be = backendFor(p.device);
      for (let j = 0; j < k; j++) be.write(slots[j], state.weights[i * k + j].cpu().data);
    });
    this.iterations = it;
  }

  /** The Keras config entries every optimizer has. */
  protected baseConfig(name: string): Record<string, unknown> {
    return {
      name,
      learning_rate: this.schedule === null ? this.learningRate
        : { class_name: this.schedule.className, config: this.schedule.getConfig() },
      weight_decay: null,
      clipnorm: this.clipnorm ?? null,
      global_clipnorm: this.globalClipnorm ?? null,
      clipvalue: this.clipvalue ?? null,
      use_ema: false,
    };
  }
}
