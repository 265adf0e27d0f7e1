/**
 * TimeDistributed: applies one layer to every time step of a sequence, as Keras's
 * TimeDistributed does. An input [N, T, ...] is folded to [N*T, ...], the wrapped layer runs
 * once on that (one call, not a loop over T), and its output is unfolded to [N, T, ...out].
 *
 * - The weights are the wrapped layer's (trainable, regularizers, getWeights/setWeights all
 *   go to it). A layer built here names its weights after the wrapper,
 *   '<wrapper>/<weight>' ('time_distributed/kernel'), as TensorFlow.js and Keras 2 do, so
 *   saved files load in TensorFlow.js; a layer already built keeps its own names.
 * - Masks: the mask of the input goes on unchanged (Keras 3: the output mask is the input
 *   mask), so a masked lstm({returnSequences}) -> timeDistributed(dense) keeps it. The wrapped
 *   layer gets no mask: it sees single steps, which a [batch, time] mask does not fit.
 * - As the model's last layer, a wrapped softmax/sigmoid is fused with the loss like a plain
 *   Dense's (the wrapper exposes the wrapped layer's activationName).
 *
 * @example
 * gf.sequential([
 *   gf.layers.lstm({ units: 32, returnSequences: true, inputShape: [20, 8] }),
 *   gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 5, activation: 'softmax' }) }),
 * ]);   // [batch, 20, 8] -> [batch, 20, 5]
 */
import { Tensor } from '../tensor';
import { ValueError, fmtShape } from '../errors';
import { reshape } from '../ops/shape';
import { Layer, LayerArgs, LayerVariable, CallContext, Shape } from './layer';

export interface TimeDistributedArgs extends LayerArgs {
  /** The layer applied to every time step; its input is one step, [batch, ...]. */
  layer: Layer;
}

const showShape = (s: Shape): string => fmtShape(s.map((d) => d ?? -1));

/**
 * Builds `inner` with its weights named '<scope>/<weight>'. Layer.addWeight names a weight
 * after the layer's `name`, so while the layer builds, `name` reads as the scope (an own
 * property over the prototype's getter, removed afterwards; the layer keeps its own name).
 */
function buildInScope(inner: Layer, scope: string, shape: Shape): void {
  Object.defineProperty(inner, 'name', { value: scope, configurable: true });
  try {
    inner.ensureBuilt(shape);
  } finally {
    delete (inner as { name?: string }).name;
  }
}

export class TimeDistributed extends Layer {
  readonly className = 'TimeDistributed';
  /** The wrapped layer (the one given, not a copy). */
  readonly layer: Layer;

  constructor(args: TimeDistributedArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError('timeDistributed: expected an options object {layer}');
    super(args);
    const inner: unknown = args.layer;
    if (!(inner instanceof Layer)) {
      throw new ValueError(`${this.name}: layer must be a gradforge Layer (such as gf.layers.dense({units: 8})), got ${inner === null ? 'null' : typeof inner}`);
    }
    if (inner.batchInputShape !== undefined) {
      // the wrapped layer's input is one step, with no time axis: the sequence's shape belongs here
      throw new ValueError(`${this.name}: give inputShape [time, ...] to timeDistributed, not to the wrapped layer '${inner.name}' (it has ${showShape(inner.batchInputShape)})`);
    }
    this.layer = inner;
    if (args.trainable !== undefined) inner.trainable = args.trainable;
    if (this.batchInputShape !== undefined) this.stepShape(this.batchInputShape);
  }

  /** The wrapped layer's input shape for a sequence shape: [N, T, ...] -> [N, ...]. */
  stepShape(inputShape: Shape): Shape {
    if (inputShape.length < 3) {
      throw new ValueError(`${this.name}: TimeDistributed needs an input [batch, time, ...] of rank >= 3, got ${showShape(inputShape)}`);
    }
    return [inputShape[0], ...inputShape.slice(2)];
  }

  override get trainable(): boolean {
    return super.trainable;
  }

  /** Freezing the wrapper freezes the wrapped layer (and so its weights' gradients). */
  override set trainable(on: boolean) {
    super.trainable = on;
    // the base constructor sets trainable before this.layer exists
    const inner = this.layer as Layer | undefined;
    if (inner !== undefined) inner.trainable = on;
  }

  /** The wrapped layer's activation, so a model fuses a final softmax/sigmoid with its loss. */
  get activationName(): string | undefined {
    const a = (this.layer as Layer & { activationName?: unknown }).activationName;
    return typeof a === 'string' ? a : undefined;
  }

  override build(inputShape: Shape): void {
    const step = this.stepShape(inputShape);
    if (!this.layer.built) buildInScope(this.layer, this.name, step);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    if (x.rank < 3) throw new ValueError(`${this.name}: TimeDistributed needs an input [batch, time, ...] of rank >= 3, got ${fmtShape(x.shape)}`);
    const [n, t] = x.shape;
    const folded = reshape(x, [n * t, ...x.shape.slice(2)]);
    const y = this.layer.apply(folded, { training: ctx.training, logits: ctx.logits, mask: null });
    return reshape(y, [n, t, ...y.shape.slice(1)]);
  }

  override get supportsMasking(): boolean { return true; }

  override computeMask(input: Tensor, mask: Tensor | null): Tensor | null {
    void input;
    return mask;
  }

  override computeOutputShape(inputShape: Shape): Shape {
    const out = this.layer.computeOutputShape(this.stepShape(inputShape));
    return [inputShape[0], inputShape[1], ...out.slice(1)];
  }

  override get weights(): LayerVariable[] {
    return this.layer.weights;
  }

  override get trainableWeights(): LayerVariable[] {
    return this.trainable ? this.layer.trainableWeights : [];
  }

  override get nonTrainableWeights(): LayerVariable[] {
    return this.trainable ? this.layer.nonTrainableWeights : this.layer.weights;
  }

  override countParams(): number {
    return this.layer.countParams();
  }

  override regularizationLoss(): Tensor | null {
    return this.trainable ? this.layer.regularizationLoss() : null;
  }

  override getWeights(): Tensor[] {
    return this.layer.getWeights();
  }

  override setWeights(ws: readonly Tensor[]): void {
    const need = this.layer.weights.length;
    if (!Array.isArray(ws) || ws.length !== need || ws.some((w) => !(w instanceof Tensor))) {
      throw new ValueError(`${this.name}.setWeights: expected an array of ${need} Tensors (the weights of '${this.layer.name}'), got ${Array.isArray(ws) ? `${ws.length} items` : typeof ws}`);
    }
    this.layer.setWeights(ws);
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      layer: { class_name: this.layer.className, config: this.layer.getConfig() },
    };
  }
}

/** @example gf.layers.timeDistributed({ layer: gf.layers.dense({ units: 10 }) })   // [N, T, f] -> [N, T, 10] */
export function timeDistributed(args: TimeDistributedArgs): TimeDistributed {
  return new TimeDistributed(args);
}
