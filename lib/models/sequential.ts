/**
 * Sequential: a stack of layers, each feeding the next, trained Keras-style with
 * compile / fit / evaluate / predict, and described by summary().
 *
 * @example
 * const model = gf.sequential([
 *   gf.layers.dense({units: 128, activation: 'relu', inputShape: [784]}),
 *   gf.layers.dense({units: 10, activation: 'softmax'}),
 * ]);
 * model.compile({optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy']});
 * const history = await model.fit(x, y, {epochs: 5, batchSize: 128, validationSplit: 0.1});
 * const [loss, acc] = model.evaluate(xTest, yTest);
 */
import { Tensor, TypedArray, Device } from '../tensor';
import { backendFor, checkDevice } from '../backend';
import { noGrad, isGradEnabled } from '../autograd';
import { DeviceError, ShapeError, ValueError, fmtShape } from '../errors';
import { Layer, Shape, CallContext, LayerVariable, uniqueLayerName } from '../nn/layer';
import { Conv2D } from '../nn/convolutional';
import { MaxPooling2D } from '../nn/pooling';
import { getLoss, LossFn, categoricalCrossentropy, sparseCategoricalCrossentropy, binaryCrossentropy } from '../losses';
import { getMetric, MetricFn } from '../metrics';
import { getOptimizer, Optimizer } from '../optim';
import { concat, sliceRows } from '../ops/shape';
import { softmax } from '../ops/softmax';
import { withScope } from '../memory';
import { sigmoid } from '../ops/elementwise';
import { History } from './callbacks';
import { fitLoop, FitArgs, trainOnBatch } from './training';
import { ModelPlans, PlannableModel, PlanStatus } from './plans';
import { TrainingPart, claimTraining, isClaimed } from './training-guard';
import { getHandler } from '../io/router';
import { modelToArtifacts, modelTopology } from '../io/serialize';
import type { IOHandler, SaveOptions, SaveResult } from '../io/types';

export interface CompileArgs {
  /** 'sgd' | 'adam' | 'rmsprop' | 'adagrad' or an optimizer object. */
  optimizer: string | Optimizer;
  /** A loss name ('categoricalCrossentropy', 'mse', ...) or a loss function. */
  loss: string | LossFn;
  /** Metric names ('accuracy', 'mse', 'mae') or functions. */
  metrics?: string | MetricFn | (string | MetricFn)[];
}

export interface SequentialArgs {
  name?: string;
  layers?: Layer[];
}

export interface PredictArgs {
  batchSize?: number;
}

export interface PredictAsyncArgs extends PredictArgs {
  /** Aborting it rejects the call with an AbortError (a queued batch never starts). */
  signal?: AbortSignal;
}

/** A compiled model's loss, metrics and optimizer, resolved from the compile arguments. */
export interface CompiledState {
  optimizer: Optimizer;
  loss: LossFn;
  lossName: string;
  metrics: { name: string; fn: MetricFn }[];
}

export class Sequential {
  readonly name: string;
  readonly layers: Layer[] = [];
  /**
   * Set by a callback to end fit: after the current batch when set in onBatchBegin/onBatchEnd
   * (the epoch's end still runs: validation, onEpochEnd), after the epoch when set in
   * onEpochEnd, as in Keras and TensorFlow.js.
   */
  stopTraining = false;
  private compiled: CompiledState | null = null;
  private builtInputShape: Shape | null = null;
  private placed: Device = 'cpu';
  private readonly plans = new ModelPlans();
  // what the plan cache records and replays: predict's forward, and evaluate's (logits when
  // the loss is fused with the last activation); `layers` lets it notice a changed model
  private readonly outputsForward = this.plannable(false);
  private readonly logitsForward = this.plannable(true);
  // the variables of the layers they were listed from: a replay reads their storage each time
  private weightVars: { layers: Layer[]; vars: LayerVariable[] } | null = null;

  constructor(args: SequentialArgs = {}) {
    this.name = args.name ?? uniqueLayerName('Sequential');
    const layers = args.layers ?? [];
    if (!Array.isArray(layers)) throw new ValueError(`${this.name}: layers must be an array, got ${String(layers)}`);
    for (const l of layers) this.add(l);
  }

  /** Appends a layer (builds it when the input shape is known). */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new ValueError(`${this.name}.add: expected a layer, got ${String(layer)}`);
    if (this.layers.length > 0 && layer.batchInputShape !== undefined) {
      throw new ValueError(`${this.name}.add: only the first layer takes inputShape (layer ${layer.name} has one)`);
    }
    if (this.layers.includes(layer)) throw new ValueError(`${this.name}.add: layer ${layer.name} is already in the model`);
    this.layers.push(layer);
    this.plans.clear();
    const first = this.layers[0].batchInputShape;
    if (first !== undefined) this.build(first);
  }

  /** Builds every layer for a batch input shape such as [null, 784]. */
  build(batchInputShape: Shape): void {
    let shape: Shape = [...batchInputShape];
    for (const l of this.layers) {
      l.ensureBuilt(shape);
      shape = l.computeOutputShape(shape);
    }
    this.builtInputShape = [...batchInputShape];
    // layers make their weights on the CPU: a model moved before it was built moves them now
    if (this.placed !== 'cpu') for (const v of this.weights) v.moveTo(this.placed);
  }

  /** Whether a fit is training this model now (its own fit, or gan.fit of a GAN it is part of). */
  get isTraining(): boolean {
    return isClaimed(this);
  }

  /** @internal what a training loop over this model claims: the model and its layers. */
  trainingParts(): TrainingPart[] {
    return [{ target: this, label: `model '${this.name}'` }, ...this.layers.map((l) => ({ target: l, label: `layer '${l.name}'` }))];
  }

  get built(): boolean {
    return this.builtInputShape !== null;
  }

  /** The batch input shape, e.g. [null, 784]; null before the model is built. */
  get inputShape(): Shape | null {
    return this.builtInputShape;
  }

  /** The batch output shape, e.g. [null, 10]. */
  get outputShape(): Shape {
    if (this.builtInputShape === null) throw new ValueError(`${this.name}: the model is not built yet (give the first layer an inputShape, or call fit/predict)`);
    return this.layers.reduce<Shape>((s, l) => l.computeOutputShape(s), this.builtInputShape);
  }

  /**
   * Moves the weights to `device` (Keras/PyTorch's model.to), and with them where fit,
   * evaluate and predict compute: they move each batch there, and predict hands back CPU
   * tensors. Weights made later (a model built at its first call) are made there. Move before
   * compiling and training: an optimizer's state stays with the weights it was made for.
   * Throws DeviceError, saying why, for a device that is not available.
   * @example model.to('cuda');
   */
  to(device: Device): this {
    checkDevice(`${this.name}.to`, device);
    if (device === this.placed && this.weights.every((v) => v.value.device === device)) return this;
    const status = backendFor(device).status();
    if (!status.available) throw new DeviceError(`${this.name}.to('${device}'): ${status.reason}`);
    for (const v of this.weights) v.moveTo(device);
    this.placed = device;
    this.plans.clear();
    return this;
  }

  /** Where the weights are and the model computes ('cpu' unless moved with to()). */
  get device(): Device {
    return this.placed;
  }

  get weights(): LayerVariable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  get trainableWeights(): LayerVariable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  get nonTrainableWeights(): LayerVariable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  getWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.getWeights());
  }

  setWeights(ws: readonly Tensor[]): void {
    const need = this.weights.length;
    if (!Array.isArray(ws)) throw new ValueError(`${this.name}.setWeights: expected an array of ${need} Tensors`);
    if (ws.length !== need) throw new ValueError(`${this.name}.setWeights: expected ${need} tensors, got ${ws.length}`);
    let k = 0;
    for (const l of this.layers) {
      const n = l.weights.length;
      l.setWeights(ws.slice(k, k + n));
      k += n;
    }
  }

  /**
   * Runs the layers on x and records gradients (unless inside noGrad). This is the low-level
   * forward pass; fit/evaluate/predict use it.
   */
  apply(x: Tensor, ctx: CallContext = { training: false }): Tensor {
    return this.applyWithMask(x, ctx).output;
  }

  /**
   * apply, and the mask that reached the output (null when none did): fit and evaluate weigh
   * the loss and metrics by it, as Keras does, so padded steps of a returnSequences output
   * count for nothing.
   */
  applyWithMask(x: Tensor, ctx: CallContext = { training: false }): { output: Tensor; mask: Tensor | null } {
    if (this.layers.length === 0) throw new ValueError(`${this.name}: the model has no layers`);
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    const want = this.builtInputShape!;
    if (want.length !== x.rank || want.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
      throw new ShapeError(`${this.name}: input shape ${fmtShape(x.shape)} does not match the model's input ${fmtShape(want.map((d) => d ?? -1))} (batch first; -1 is any)`);
    }
    // cast where x is (a CPU batch is cast before it moves), then move
    const asFloat = x.dtype === 'float32' ? x : x.cast('float32');
    let h = asFloat.device === this.placed ? asFloat : asFloat.to(this.placed);
    // the mask travels with the activations, as in Keras: made by embedding({maskZero}) or
    // masking(), carried by the layers that support it, consumed by the recurrent layers
    let mask: Tensor | null = null;
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i];
      const last = i === this.layers.length - 1;
      const input = h;
      const next = this.layers[i + 1];
      // Inference: a convolution and the max pooling after it run as one kernel (the
      // convolution's output is pooled from cache, never stored whole); same bits.
      if (!isGradEnabled() && mask === null && l instanceof Conv2D && l.fusesMaxPool() && next instanceof MaxPooling2D) {
        h = l.applyMaxPooled(input, next);
        i++;
        continue;
      }
      h = l.apply(input, { training: ctx.training, logits: last && ctx.logits === true, mask });
      mask = l.computeMask(input, mask);
    }
    return { output: h, mask };
  }

  compile(args: CompileArgs): void {
    if (args === null || typeof args !== 'object') throw new ValueError('compile: expected {optimizer, loss, metrics?}');
    if (args.loss === undefined) throw new ValueError('compile: a loss is required');
    if (args.optimizer === undefined) throw new ValueError('compile: an optimizer is required');
    const optimizer = getOptimizer(args.optimizer);
    const loss = typeof args.loss === 'string' ? getLoss(args.loss) : args.loss;
    const lossName = typeof args.loss === 'string' ? args.loss : args.loss.name || 'loss';
    const given = args.metrics === undefined ? [] : Array.isArray(args.metrics) ? args.metrics : [args.metrics];
    const metrics = given.map((m) => {
      if (typeof m === 'string') return { name: m, fn: getMetric(m, lossName) };
      if (typeof m !== 'function') throw new ValueError(`compile: a metric must be a name or a function, got ${String(m)}`);
      // a user's metric sees probabilities, as in Keras, even when the loss works on logits
      const fn: MetricFn = (yTrue, yPred, fromLogits, mask) => m(yTrue, fromLogits ? this.activateLogits(yPred) : yPred, false, mask);
      return { name: m.name || 'metric', fn };
    });
    this.compiled = { optimizer, loss, lossName, metrics };
  }

  get optimizer(): Optimizer {
    return this.requireCompiled('optimizer').optimizer;
  }

  /** @internal the resolved compile state, for the training loop. */
  requireCompiled(op: string): CompiledState {
    if (this.compiled === null) throw new ValueError(`${this.name}.${op}: call compile({optimizer, loss}) first`);
    return this.compiled;
  }

  /**
   * Whether the loss can be computed from the last layer's logits: softmax + (sparse)
   * categorical crossentropy, or sigmoid + binary crossentropy. This is what Keras does so
   * that a saturated softmax never produces log(0).
   */
  fusedOutput(): boolean {
    const c = this.compiled;
    const last = this.layers[this.layers.length - 1] as Layer & { activationName?: string };
    if (c === null || last === undefined) return false;
    if (last.activationName === 'softmax') return c.loss === categoricalCrossentropy || c.loss === sparseCategoricalCrossentropy;
    if (last.activationName === 'sigmoid') return c.loss === binaryCrossentropy;
    return false;
  }

  /** The last layer's activation applied to logits (for outputs produced with ctx.logits). */
  private activateLogits(logits: Tensor): Tensor {
    const last = this.layers[this.layers.length - 1] as Layer & { activationName?: string };
    return last.activationName === 'sigmoid' ? sigmoid(logits) : softmax(logits);
  }

  /**
   * Trains for a number of epochs; resolves to the History.
   *
   * One fit at a time: while a fit runs (it awaits between batches, so other async code runs
   * meanwhile), a second fit of this model, or of any model or GAN that shares a layer with
   * it, rejects with a ValueError ("cannot start training ... because another fit() call is
   * ongoing"), as in TensorFlow.js. predict and evaluate may run during a fit, from a callback
   * or from other async code: they see the weights as they are at that moment (after the last
   * finished batch) and leave fit's results unchanged, bit for bit.
   * @example await model.fit(x, y, {epochs: 10, batchSize: 128, validationSplit: 0.1})
   */
  async fit(x: Tensor, y: Tensor, args: FitArgs = {}): Promise<History> {
    const release = claimTraining('fit', `model '${this.name}'`, this.trainingParts());
    try {
      // a callback that restores saved training state (backupAndRestore) may move the start
      const given = args?.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
      for (const cb of given) {
        const prepare = (cb as { prepareFit?: (model: Sequential, a: FitArgs) => Promise<FitArgs> } | null)?.prepareFit;
        if (typeof prepare === 'function') args = await prepare.call(cb, this, args);
      }
      return await fitLoop(this, x, y, args);
    } finally {
      release();
    }
  }

  /**
   * Loss and metrics on (x, y) in batches, with dropout off: [loss, ...metrics]. Allowed during
   * a fit (see fit): it uses the weights of that moment and changes nothing.
   * @example const [loss, acc] = model.evaluate(xTest, yTest)
   */
  evaluate(x: Tensor, y: Tensor, args: PredictArgs = {}): number[] {
    const c = this.requireCompiled('evaluate');
    checkXY('evaluate', x, y);
    const batchSize = checkBatchSize('evaluate', args.batchSize ?? 32);
    const n = x.shape[0];
    const fused = this.fusedOutput();
    // the loss is a mean per batch weighted by the batch's size, each metric a mean over
    // what its batches counted (the unmasked steps, with a mask), as Keras's trackers
    const totals = new Array<number>(1 + c.metrics.length).fill(0);
    const counts = new Array<number>(1 + c.metrics.length).fill(0);
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        withScope(() => {
          const xb = sliceRows(x, start, end);
          const yb = sliceRows(y, start, end);
          const { output, mask } = this.plans.forward(xb, fused ? 'logits' : 'outputs', fused ? this.logitsForward : this.outputsForward);
          const step = batchStatistics(c, yb, output, mask, fused);
          step.values.forEach((v, k) => { totals[k] += v * step.weights[k]; counts[k] += step.weights[k]; });
        });
      }
      const reg = this.regularizationLoss();
      if (reg !== null) totals[0] += reg.item() * n;
    });
    return totals.map((t, k) => (counts[k] > 0 ? t / counts[k] : 0));
  }

  /**
   * The model's outputs for x, computed in batches with dropout off. Allowed during a fit (see
   * fit): it uses the weights of that moment and changes nothing.
   * @example const probs = model.predict(xTest)     // [n, 10]
   */
  predict(x: Tensor, args: PredictArgs = {}): Tensor {
    if (!(x instanceof Tensor)) throw new ValueError('predict: x must be a Tensor');
    if (x.rank === 0) throw new ShapeError('predict: x needs a batch dimension, got a scalar');
    const batchSize = checkBatchSize('predict', args.batchSize ?? 32);
    const n = x.shape[0];
    if (n === 0) throw new ShapeError(`predict: x is empty (shape ${fmtShape(x.shape)})`);
    // one batch: one scope (a replay allocates nothing it would recycle)
    if (n <= batchSize) return noGrad(() => withScope(() => this.plans.forward(x, 'outputs', this.outputsForward).output.cpu(), (p) => [p]));
    return noGrad(() => withScope(() => {
      const parts: Tensor[] = [];
      for (let start = 0; start < n; start += batchSize) {
        parts.push(withScope(() => this.plans.forward(sliceRows(x, start, Math.min(n, start + batchSize)), 'outputs', this.outputsForward).output.cpu(), (p) => [p]));
      }
      return parts.length === 1 ? parts[0] : concat(parts, 0);
    }, (result) => [result]));
  }

  /**
   * predict without blocking the event loop: each batch replays the model's execution plan on
   * libuv's thread pool, and the result is bit-identical to predict's. The first call for an
   * input shape records the plan, which runs that batch op by op on the calling thread, as does
   * a model that plans cannot replay (see predictPlanStatus). Several calls may run at once;
   * each reads the weights as they were when it was called (a fit running meanwhile changes
   * nothing it computes). An aborted signal rejects with gf.AbortError: at once when already
   * aborted, else before its next batch starts.
   * @example const probs = await model.predictAsync(x, {signal: AbortSignal.timeout(100)})
   */
  async predictAsync(x: Tensor, args: PredictAsyncArgs = {}): Promise<Tensor> {
    if (!(x instanceof Tensor)) throw new ValueError('predictAsync: x must be a Tensor');
    if (x.rank === 0) throw new ShapeError('predictAsync: x needs a batch dimension, got a scalar');
    const batchSize = checkBatchSize('predictAsync', args.batchSize ?? 32);
    const n = x.shape[0];
    if (n === 0) throw new ShapeError(`predictAsync: x is empty (shape ${fmtShape(x.shape)})`);
    const parts: Tensor[] = [];
    let held = performance.now();
    for (let start = 0; start < n; start += batchSize) {
      const xb = sliceRows(x, start, Math.min(n, start + batchSize));
      // the synchronous part (lookup, recording, a tiny plan) in a scope; a pool run holds no
      // pooled storage
      const r = noGrad(() => withScope(() => this.plans.forwardAsync(xb, 'outputs', this.outputsForward, args.signal),
        (v) => (v instanceof Tensor ? [v] : [])));
      if (r instanceof Tensor) {
        parts.push(r.cpu());
        // batches computed here: let the event loop run every millisecond
        if (start + batchSize < n && performance.now() - held > 1) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          held = performance.now();
        }
      } else {
        parts.push(await r);
        held = performance.now();
      }
    }
    return parts.length === 1 ? parts[0] : noGrad(() => concat(parts, 0));
  }

  /**
   * The outputs for one batch (predict with the whole of x as the batch), as in Keras.
   * @example const y = model.predictOnBatch(xb)
   */
  predictOnBatch(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new ValueError('predictOnBatch: x must be a Tensor');
    return this.predict(x, { batchSize: Math.max(1, x.rank === 0 ? 1 : x.shape[0]) });
  }

  /**
   * [loss, ...metrics] on one batch with dropout off (evaluate with the whole of x as the
   * batch), as Keras's test_on_batch; always an array, like evaluate.
   * @example const [loss, acc] = model.testOnBatch(xb, yb)
   */
  testOnBatch(x: Tensor, y: Tensor): number[] {
    checkXY('testOnBatch', x, y);
    return this.evaluate(x, y, { batchSize: x.shape[0] });
  }

  /**
   * One gradient step on the batch (x, y), through the same path as fit (autograd, the
   * compiled loss and optimizer); returns [loss, ...metrics] of the batch as computed before
   * the step, as Keras's train_on_batch. Refused while a fit trains this model.
   * @example for (const [xb, yb] of batches) console.log(model.trainOnBatch(xb, yb))
   */
  trainOnBatch(x: Tensor, y: Tensor, args: { sampleWeight?: Tensor } = {}): number[] {
    return trainOnBatch(this, x, y, args.sampleWeight);
  }

  /** The forward the plan cache records and replays (outputs, or logits for a fused loss). */
  private plannable(logits: boolean): PlannableModel {
    return {
      run: (x) => this.applyWithMask(x, { training: false, logits }),
      weightArrays: () => this.weightArrays(),
      layers: () => this.layers,
      device: () => this.placed,
    };
  }

  /** The storage of every weight, trainable or not, as the plans bind it. */
  private weightArrays(): TypedArray[] {
    let w = this.weightVars;
    // a layer builds its weights at its first call: list them again until every layer is built
    if (w === null || w.layers.length !== this.layers.length || w.layers.some((l, i) => l !== this.layers[i]) || !this.layers.every((l) => l.built)) {
      w = { layers: [...this.layers], vars: this.weights };
      this.weightVars = w;
    }
    return w.vars.map((v) => v.value.data);
  }

  /**
   * @internal Whether predict's batches of this shape replay an execution plan, and if not,
   * why (null before the first predict of that shape).
   */
  predictPlanStatus(batchShape: readonly number[]): PlanStatus | null {
    return this.plans.status('outputs', batchShape);
  }

  /**
   * Saves the model in the TensorFlow.js layers-model format: to a folder ('file://path':
   * model.json + weights.bin, written atomically), to memory (gf.io.toMemory(): resolves to
   * the artifacts), or to any IOHandler. includeOptimizer also saves the compile config and
   * the optimizer's state, so a loaded model resumes training exactly.
   * @example await model.save('file://./models/mnist', {includeOptimizer: true})
   */
  async save(target: string | IOHandler, opts: SaveOptions = {}): Promise<SaveResult> {
    const handler = getHandler(target, `${this.name}.save`);
    if (typeof handler.save !== 'function') throw new ValueError(`${this.name}.save: the handler has no save()`);
    return handler.save(modelToArtifacts(this, opts));
  }

  /**
   * The Keras-style topology `{class_name: 'Sequential', config: {name, layers}, ...}`
   * (JSON.stringify(model) writes it); gf.modelFromJSON rebuilds the model from it.
   * @example const copy = gf.modelFromJSON(model.toJSON())
   */
  toJSON(): Record<string, unknown> {
    return modelTopology(this);
  }

  /** The summed weight penalties of all layers, or null. */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const l of this.layers) {
      const r = l.regularizationLoss();
      if (r !== null) total = total === null ? r : total.add(r);
    }
    return total;
  }

  /**
   * Prints (and returns) the Keras table: layer, output shape, parameter count.
   * @example model.summary()
   */
  summary(lineLength = 65, printFn: (line: string) => void = console.log): string {
    if (!this.built) throw new ValueError(`${this.name}.summary: the model is not built yet: give the first layer an inputShape, or call fit/predict first`);
    const rows: [string, string, string][] = [];
    let shape: Shape = this.builtInputShape!;
    for (const l of this.layers) {
      shape = l.computeOutputShape(shape);
      const s = `(${shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${shape.length === 1 ? ',' : ''})`;
      rows.push([`${l.name} (${l.className})`, s, String(l.countParams())]);
    }
    // columns as wide as Keras's for lineLength, wider when a name or shape needs it
    const cols = [
      Math.max(Math.floor(lineLength * 0.45), ...rows.map((r) => r[0].length + 3)),
      Math.max(Math.floor(lineLength * 0.3), ...rows.map((r) => r[1].length + 2)),
    ];
    const width = Math.max(lineLength, cols[0] + cols[1] + 10);
    const row = (a: string, b: string, c: string): string => ` ${a.padEnd(cols[0] - 1)}${b.padEnd(cols[1])}${c}`;
    const lines: string[] = [];
    lines.push(`Model: "${this.name}"`);
    lines.push('_'.repeat(width));
    lines.push(row('Layer (type)', 'Output Shape', 'Param #'));
    lines.push('='.repeat(width));
    rows.forEach((r, i) => {
      lines.push(row(...r));
      if (i < rows.length - 1) lines.push('');
    });
    lines.push('='.repeat(width));
    const total = this.countParams();
    const trainable = this.trainableWeights.reduce((n, v) => n + v.value.size, 0);
    lines.push(`Total params: ${total.toLocaleString('en-US')}`);
    lines.push(`Trainable params: ${trainable.toLocaleString('en-US')}`);
    lines.push(`Non-trainable params: ${(total - trainable).toLocaleString('en-US')}`);
    lines.push('_'.repeat(width));
    const text = lines.map((l) => l.trimEnd()).join('\n');
    printFn(text);
    return text;
  }
}

/**
 * A Sequential model from a list of layers.
 * @example const model = gf.sequential([gf.layers.dense({units: 1, inputShape: [3]})]);
 */
export function sequential(layers: Layer[] | SequentialArgs = [], args: { name?: string } = {}): Sequential {
  if (Array.isArray(layers)) return new Sequential({ name: args.name, layers });
  if (layers !== null && typeof layers === 'object') return new Sequential({ name: layers.name ?? args.name, layers: layers.layers });
  throw new ValueError(`sequential: expected an array of layers or {layers, name}, got ${String(layers)}`);
}

/** A batch's loss and metrics, each with the weight it carries in an epoch's mean. */
export interface BatchStatistics {
  values: number[];
  weights: number[];
}

/**
 * The loss and metrics of one batch's output. The loss weighs as many as the batch has
 * samples; a metric over a masked output weighs as many steps as the mask keeps, so that an
 * epoch's figure is the mean over every unmasked step (Keras's MeanMetricWrapper with the mask
 * as sample weight). loss may be given already computed (fit differentiates it).
 */
export function batchStatistics(c: CompiledState, yb: Tensor, out: Tensor, mask: Tensor | null, fused: boolean, loss?: number): BatchStatistics {
  const m = mask ?? undefined;
  const n = yb.shape[0];
  const values = [loss ?? c.loss(yb.to(out.device), out, { fromLogits: fused, mask: m }).item()];
  const weights = [n];
  let kept = n;
  // the metrics are computed in JavaScript: on CPU copies of what is on a device
  const mc = m?.cpu();
  if (mc !== undefined) {
    kept = 0;
    for (let i = 0; i < mc.data.length; i++) kept += mc.data[i];
  }
  const yc = c.metrics.length > 0 ? yb.cpu() : yb;
  const oc = c.metrics.length > 0 ? out.cpu() : out;
  noGrad(() => {
    for (const metric of c.metrics) {
      values.push(metric.fn(yc, oc, fused, mc));
      weights.push(kept);
    }
  });
  return { values, weights };
}

export function rangeIndices(start: number, end: number): Int32Array {
  const idx = new Int32Array(end - start);
  for (let i = 0; i < idx.length; i++) idx[i] = start + i;
  return idx;
}

export function checkBatchSize(op: string, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`${op}: batchSize must be an integer >= 1, got ${batchSize}`);
  return batchSize;
}

export function checkXY(op: string, x: Tensor, y: Tensor): void {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new ValueError(`${op}: x and y must be Tensors`);
  if (x.rank === 0 || y.rank === 0) throw new ShapeError(`${op}: x and y need a batch dimension, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`);
  if (x.shape[0] !== y.shape[0]) {
    throw new ShapeError(`${op}: x and y have different numbers of samples: x ${fmtShape(x.shape)}, y ${fmtShape(y.shape)}`);
  }
  if (x.shape[0] === 0) throw new ShapeError(`${op}: no samples (x has shape ${fmtShape(x.shape)})`);
}
