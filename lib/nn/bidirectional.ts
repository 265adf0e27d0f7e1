/**
 * Bidirectional: runs a recurrent layer over the sequence forwards and a copy of it backwards
 * and merges the two outputs, as Keras's Bidirectional does.
 *
 * - The two copies are built from the wrapped layer's config: 'forward_<name>' as given and
 *   'backward_<name>' with goBackwards flipped. Their weights are named
 *   '<wrapper>/forward_<name>/kernel' ... (Keras's names).
 * - With returnSequences the backward copy's outputs are reversed in time before merging, so
 *   step t of both halves belongs to input step t.
 * - mergeMode: 'concat' (default; units doubled), 'sum', 'mul', 'ave'.
 * - A mask reaches both copies; with returnSequences it goes on.
 *
 * @example
 * gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 64 }) })   // [batch, time, f] -> [batch, 128]
 */
import { Tensor } from '../tensor';
import { ValueError, ShapeError, fmtShape } from '../errors';
import { add, mul } from '../ops/elementwise';
import { concat, gatherRows, transpose } from '../ops/shape';
import { Layer, LayerArgs, LayerVariable, CallContext, Shape } from './layer';
import { SimpleRNN, LSTM, GRU } from './recurrent';

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';
type Recurrent = SimpleRNN | LSTM | GRU;

export interface BidirectionalArgs extends LayerArgs {
  /** The recurrent layer to run both ways (its weights are not used: two copies are made). */
  layer: Recurrent;
  mergeMode?: MergeMode;
}

/** Builds a layer from a class name and a Keras config (the registry; set by registry.ts). */
let fromConfig: ((className: string, config: Record<string, unknown>) => Layer) | null = null;
export function setBidirectionalFactory(f: (className: string, config: Record<string, unknown>) => Layer): void {
  fromConfig = f;
}

/** x [N, T, ...] with its time steps in reverse order (a gather, so the gradient flows). */
function reverseTime(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[0] = 1;
  perm[1] = 0;
  const T = x.shape[1];
  const order = Int32Array.from({ length: T }, (_, t) => T - 1 - t);
  return transpose(gatherRows(transpose(x, perm), order), perm);
}

export class Bidirectional extends Layer {
  readonly className = 'Bidirectional';
  readonly mergeMode: MergeMode;
  /** The wrapped layer's class and Keras config (the copies are made from it at build). */
  readonly innerClass: string;
  readonly innerConfig: Record<string, unknown>;
  forwardLayer: Layer | null = null;
  backwardLayer: Layer | null = null;

  constructor(args: BidirectionalArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError('bidirectional: expected {layer, mergeMode?}');
    super(args);
    const inner = args.layer;
    if (!(inner instanceof SimpleRNN || inner instanceof LSTM || inner instanceof GRU)) {
      throw new ValueError('bidirectional: layer must be a simpleRNN, lstm or gru layer');
    }
    if (inner.stateful) throw new ValueError('bidirectional: a stateful inner layer is not supported');
    const mode = args.mergeMode ?? 'concat';
    if (!['concat', 'sum', 'mul', 'ave'].includes(mode)) {
      throw new ValueError(`bidirectional: mergeMode must be 'concat', 'sum', 'mul' or 'ave', got '${String(mode)}'`);
    }
    this.mergeMode = mode;
    this.innerClass = inner.className;
    const cfg = inner.getConfig();
    delete cfg.batch_input_shape;
    this.innerConfig = cfg;
    if (this.batchInputShape === undefined && inner.batchInputShape !== undefined) {
      (this as { batchInputShape: Shape | undefined }).batchInputShape = [...inner.batchInputShape];
    }
  }

  private get returnSequences(): boolean {
    return this.innerConfig.return_sequences === true;
  }

  override build(inputShape: Shape): void {
    if (fromConfig === null) throw new ValueError('bidirectional: the layer registry is not loaded');
    const base = String(this.innerConfig.name);
    const fwd = fromConfig(this.innerClass, { ...this.innerConfig, name: `${this.name}/forward_${base}` });
    const bwd = fromConfig(this.innerClass, {
      ...this.innerConfig, name: `${this.name}/backward_${base}`, go_backwards: !(this.innerConfig.go_backwards === true),
    });
    fwd.ensureBuilt(inputShape);
    bwd.ensureBuilt(inputShape);
    this.forwardLayer = fwd;
    this.backwardLayer = bwd;
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    if (this.forwardLayer === null || this.backwardLayer === null) throw new ValueError(`${this.name}: call before build`);
    if (x.rank !== 3) throw new ShapeError(`${this.name}: expected input [batch, time, features], got ${fmtShape(x.shape)}`);
    const yf = this.forwardLayer.apply(x, ctx);
    let yb = this.backwardLayer.apply(x, ctx);
    if (this.returnSequences) yb = reverseTime(yb);
    switch (this.mergeMode) {
      case 'concat': return concat([yf, yb], -1);
      case 'sum': return add(yf, yb);
      case 'mul': return mul(yf, yb);
      case 'ave': return mul(add(yf, yb), 0.5);
    }
  }

  override get supportsMasking(): boolean { return true; }

  override computeMask(input: Tensor, mask: Tensor | null): Tensor | null {
    void input;
    return this.returnSequences ? mask : null;
  }

  override get weights(): LayerVariable[] {
    return [...(this.forwardLayer?.weights ?? []), ...(this.backwardLayer?.weights ?? [])];
  }

  override get trainableWeights(): LayerVariable[] {
    return this.trainable ? [...(this.forwardLayer?.trainableWeights ?? []), ...(this.backwardLayer?.trainableWeights ?? [])] : [];
  }

  override get nonTrainableWeights(): LayerVariable[] {
    return this.trainable ? [] : this.weights;
  }

  override countParams(): number {
    return this.weights.reduce((n, v) => n + v.value.size, 0);
  }

  override regularizationLoss(): Tensor | null {
    const parts = [this.forwardLayer?.regularizationLoss() ?? null, this.backwardLayer?.regularizationLoss() ?? null].filter((p): p is Tensor => p !== null);
    return parts.length === 0 ? null : parts.length === 1 ? parts[0] : parts[0].add(parts[1]);
  }

  override getWeights(): Tensor[] {
    return this.weights.map((v) => v.value.clone());
  }

  override setWeights(ws: readonly Tensor[]): void {
    const all = this.weights;
    if (!Array.isArray(ws) || ws.length !== all.length) throw new ValueError(`${this.name}.setWeights: expected ${all.length} tensors, got ${Array.isArray(ws) ? ws.length : typeof ws}`);
    ws.forEach((w, i) => all[i].assign(w));
  }

  override computeOutputShape(inputShape: Shape): Shape {
    const units = Number(this.innerConfig.units);
    const out = this.mergeMode === 'concat' ? 2 * units : units;
    return this.returnSequences ? [inputShape[0], inputShape[1], out] : [inputShape[0], out];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      layer: { class_name: this.innerClass, config: this.innerConfig },
      merge_mode: this.mergeMode,
    };
  }
}

/** @example gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 64 }), mergeMode: 'concat' }) */
export function bidirectional(args: BidirectionalArgs): Bidirectional {
  return new Bidirectional(args);
}
