/**
 * Layer: the base of every layer. A layer owns its weights, creates them in build() from the
 * first input shape it sees, and computes its output in call() with ops. Names are unique
 * Keras-style ('dense', 'dense_1', ...) and weights are named '<layer>/<weight>'
 * ('dense_1/kernel'), as Keras and TensorFlow.js name them.
 *
 * @example
 * class Scale extends gf.layers.Layer {
 *   readonly className = 'Scale';
 *   private s!: gf.LayerVariable;
 *   override build(shape: Shape) { this.s = this.addWeight('scale', [shape[shape.length - 1]!], gf.initializers.ones()); }
 *   call(x: gf.Tensor) { return x.mul(this.s.value); }
 * }
 */
import { Tensor, Device } from '../tensor';
import { backendFor } from '../backend/devices';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { retain, noteWeightWrite } from '../memory';

let initializerOverride: Initializer | null = null;

/**
 * Runs the synchronous `build` with every weight created by `init` instead of its layer's own
 * initializer. Loading uses it: every weight is overwritten from the file, so drawing a large
 * model's random initial values (minutes for 5e8 of them, and draws from the shared random
 * generator) would be wasted. The layers keep their own initializers in their configs.
 */
export function buildWithInitializer<T>(init: Initializer, build: () => T): T {
  const previous = initializerOverride;
  initializerOverride = init;
  try {
    return build();
  } finally {
    initializerOverride = previous;
  }
}

/** A shape whose batch dimension (first) may be unknown: [null, 784]. */
export type Shape = (number | null)[];

/** What a layer's call() is told about the pass it is part of. */
export interface CallContext {
  /** true inside fit (dropout active, batch statistics); false in predict/evaluate. */
  training: boolean;
  /**
   * Set by the model on its last layer when the loss is fused with the output activation
   * (softmax + categorical crossentropy, sigmoid + binary crossentropy): the layer then
   * returns the pre-activation logits.
   */
  logits?: boolean;
  /**
   * The mask of this layer's input, [batch, time] of 1 (keep) and 0 (masked), as Keras passes
   * it: made by embedding({maskZero}) or masking(), carried by the layers that support masks
   * (Dense, Dropout, Activation ...), consumed by the recurrent layers.
   */
  mask?: Tensor | null;
}

/** Something that turns a weight tensor into a penalty added to the loss (l1/l2). */
export interface Regularizer {
  readonly className: string;
  apply(w: Tensor): Tensor;
  getConfig(): Record<string, number>;
}

/** Something that fills a new weight tensor (glorotUniform, zeros ...). */
export interface Initializer {
  readonly className: string;
  create(shape: readonly number[]): Tensor;
  getConfig(): Record<string, unknown>;
}

/** A named weight of a layer. `value` is a leaf tensor the optimizer updates in place. */
export class LayerVariable {
  private trainableValue: boolean;

  constructor(readonly name: string, public value: Tensor, trainable: boolean,
              readonly regularizer: Regularizer | null = null) {
    this.trainableValue = trainable;
    value.setRequiresGrad(trainable);
    // weights outlive the training step that may have built them
    retain(value);
  }

  /** Whether fit updates this weight; a frozen weight gets no gradient computed at all. */
  get trainable(): boolean {
    return this.trainableValue;
  }

  set trainable(on: boolean) {
    this.trainableValue = on;
    this.value.requiresGrad = on;
  }

  /**
   * Moves the value to `device`: a new leaf there with the same values, trainable as before.
   * Optimizer state keyed by the old value stays with the old value (move before training).
   */
  moveTo(device: Device): void {
    if (this.value.device === device) return;
    this.value = this.value.to(device);
    this.value.setRequiresGrad(this.trainableValue);
  }

  get shape(): readonly number[] {
    return this.value.shape;
  }

  /** Replaces the value (same shape), e.g. from setWeights or a loaded model. */
  assign(t: Tensor): void {
    if (t.shape.length !== this.value.shape.length || t.shape.some((d, i) => d !== this.value.shape[i])) {
      throw new ShapeError(`assign ${this.name}: shape ${fmtShape(t.shape)} differs from ${fmtShape(this.value.shape)}`);
    }
    // in place, so optimizer state keyed by this tensor stays attached
    noteWeightWrite();
    backendFor(this.value.device).write(this.value.storage, t.cpu().data);
  }
}

export interface LayerArgs {
  /** Unique layer name; generated from the class ('dense', 'dense_1', ...) when omitted. */
  name?: string;
  /** Input shape without the batch dimension, on the first layer of a model. */
  inputShape?: number[];
  /** Input shape with the batch dimension (null for any). */
  batchInputShape?: Shape;
  /** Whether fit updates this layer's weights (default true). */
  trainable?: boolean;
}

const nameCounts = new Map<string, number>();

/** 'Dense' -> 'dense', 'dense_1', ...; 'BatchNormalization' -> 'batch_normalization'; 'Conv2D' -> 'conv2d'. */
export function uniqueLayerName(className: string): string {
  // Keras's to_snake_case: 'MaxPooling2D' -> 'max_pooling2d', 'Conv2DTranspose' -> 'conv2d_transpose'
  const base = className.replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const n = nameCounts.get(base) ?? 0;
  nameCounts.set(base, n + 1);
  return n === 0 ? base : `${base}_${n}`;
}

export abstract class Layer {
  abstract readonly className: string;
  private nameValue: string | undefined;
  private trainableValue = true;
  built = false;
  /** The batch input shape given on construction (first layer of a Sequential). */
  readonly batchInputShape: Shape | undefined;
  private readonly variables: LayerVariable[] = [];
  private lastInputShape: Shape | undefined;

  constructor(args: LayerArgs = {}) {
    this.nameValue = args.name;
    this.trainable = args.trainable ?? true;
    const checkDims = (dims: unknown, what: string): void => {
      if (!Array.isArray(dims) || dims.some((d) => d !== null && (!Number.isInteger(d) || d < 1))) {
        throw new ValueError(`${args.name ?? 'layer'}: ${what} must be an array of positive integers${what === 'batchInputShape' ? ' (or null)' : ''}, got ${JSON.stringify(dims)}`);
      }
    };
    if (args.batchInputShape !== undefined) {
      checkDims(args.batchInputShape, 'batchInputShape');
      this.batchInputShape = [...args.batchInputShape];
    } else if (args.inputShape !== undefined) {
      checkDims(args.inputShape, 'inputShape');
      if (args.inputShape.some((d) => d === null)) throw new ValueError(`${args.name ?? 'layer'}: inputShape entries must be positive integers, got ${JSON.stringify(args.inputShape)}`);
      this.batchInputShape = [null, ...args.inputShape];
    }
  }

  /**
   * Whether fit updates this layer's weights. Freezing a layer also stops autograd from
   * computing its weight gradients (they would be thrown away).
   */
  get trainable(): boolean {
    return this.trainableValue;
  }

  set trainable(on: boolean) {
    this.trainableValue = on;
    for (const v of this.variables) v.value.requiresGrad = on && v.trainable;
  }

  get name(): string {
    // names are handed out on first use so that subclasses' className is available
    if (this.nameValue === undefined) this.nameValue = uniqueLayerName(this.className);
    return this.nameValue;
  }

  /** Creates the weights for an input of this shape. Layers without weights keep the default. */
  build(inputShape: Shape): void {
    void inputShape;
  }

  /** The computation. x has a batch dimension first. */
  abstract call(x: Tensor, ctx: CallContext): Tensor;

  /** The output shape for an input shape (batch dimension included). */
  computeOutputShape(inputShape: Shape): Shape {
    return inputShape;
  }

  /** Builds on first use, checks the input against the built shape, then calls. */
  apply(x: Tensor, ctx: CallContext = { training: false }): Tensor {
    this.prepareInput(x.shape);
    return this.call(x, ctx);
  }

  /**
   * apply's first half: builds on first use for this input shape (batch first), else checks
   * it against the built one. A model that runs two layers in one kernel calls it for both.
   */
  prepareInput(inputShape: readonly number[]): void {
    const shape: Shape = [null, ...inputShape.slice(1)];
    if (!this.built) {
      this.build(shape);
      this.built = true;
      this.lastInputShape = shape;
    } else if (this.lastInputShape !== undefined) {
      const want = this.lastInputShape;
      if (want.length !== shape.length || want.some((d, i) => d !== null && d !== shape[i])) {
        throw new ShapeError(`${this.name}: expected input shape ${fmtShape(want.map((d) => d ?? -1))} (batch first), got ${fmtShape(inputShape)}`);
      }
    }
  }

  /**
   * Whether the layer passes a mask on from its input to its output unchanged (Keras's
   * supports_masking). Layers that neither carry nor make a mask drop it, as in Keras 3.
   */
  get supportsMasking(): boolean {
    return false;
  }

  /** The mask of this layer's output, given its input and that input's mask. */
  computeMask(input: Tensor, mask: Tensor | null): Tensor | null {
    void input;
    return this.supportsMasking ? mask : null;
  }

  /** Builds from a shape without running (Sequential does this to know output shapes). */
  ensureBuilt(inputShape: Shape): void {
    if (!this.built) {
      this.build(inputShape);
      this.built = true;
      this.lastInputShape = [null, ...inputShape.slice(1)];
    }
  }

  /** Creates and registers a weight named '<layer name>/<name>'. */
  protected addWeight(name: string, shape: readonly number[], init: Initializer,
                      regularizer: Regularizer | null = null, trainable = true): LayerVariable {
    const value = (initializerOverride ?? init).create(shape);
    if (value.shape.length !== shape.length || value.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${this.name}/${name}: initializer ${init.className} made ${fmtShape(value.shape)}, not ${fmtShape(shape)}`);
    }
    const v = new LayerVariable(`${this.name}/${name}`, value, trainable, regularizer);
    v.value.requiresGrad = trainable && this.trainable;
    this.variables.push(v);
    return v;
  }

  /** Every weight, in creation order (the order getWeights/setWeights and saving use). */
  get weights(): LayerVariable[] {
    return [...this.variables];
  }

  get trainableWeights(): LayerVariable[] {
    return this.trainable ? this.variables.filter((v) => v.trainable) : [];
  }

  get nonTrainableWeights(): LayerVariable[] {
    return this.trainable ? this.variables.filter((v) => !v.trainable) : [...this.variables];
  }

  countParams(): number {
    return this.variables.reduce((n, v) => n + v.value.size, 0);
  }

  /** The sum of the weight regularization penalties, or null when there are none. */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const v of this.variables) {
      if (v.regularizer === null || !v.trainable || !this.trainable) continue;
      const p = v.regularizer.apply(v.value);
      total = total === null ? p : total.add(p);
    }
    return total;
  }

  getWeights(): Tensor[] {
    return this.variables.map((v) => v.value.clone());
  }

  setWeights(ws: readonly Tensor[]): void {
    if (!Array.isArray(ws) || ws.some((w) => !(w instanceof Tensor))) {
      throw new ValueError(`${this.name}.setWeights: expected an array of ${this.variables.length} Tensors`);
    }
    if (ws.length !== this.variables.length) {
      throw new ValueError(`${this.name}.setWeights: expected ${this.variables.length} tensors, got ${ws.length}`);
    }
    ws.forEach((w, i) => this.variables[i].assign(w));
  }

  /** Keras-style config: the constructor arguments that recreate this layer. */
  getConfig(): Record<string, unknown> {
    const cfg: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape !== undefined) cfg.batch_input_shape = this.batchInputShape;
    return cfg;
  }
}
