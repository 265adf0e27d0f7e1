/**
 * Recurrent layers as Keras 3 has them: SimpleRNN, LSTM, GRU over [batch, time, features],
 * each one native call per direction (lib/ops/rnn.ts).
 *
 * - Weights, Keras's names and layouts: kernel [in, G*units], recurrent_kernel
 *   [units, G*units], bias [G*units] (GRU with resetAfter: [2, 3*units]). Defaults as Keras:
 *   glorotUniform kernels, orthogonal recurrent kernels, zero biases; LSTM's unitForgetBias
 *   starts the forget gate's bias at 1; GRU's resetAfter is true.
 * - returnSequences gives [batch, time, units], otherwise the last step's output
 *   [batch, units]; goBackwards reads the sequence from its end (the output of the first
 *   step taken comes first, as in Keras).
 * - dropout drops input features with one mask per sample for the whole sequence (Keras's
 *   rule), during training only. recurrentDropout likewise drops units of h_{t-1} where it
 *   feeds the recurrent kernel: one [batch, units] mask per call, the same at every step and
 *   for every gate (Keras 3's DropoutRNNCell); GRU's state mix keeps the undropped h_{t-1}.
 *   Both masks come from the seeded RNG (gf.setSeed), the input mask first.
 * - stateful keeps the final states of a batch as the initial states of the next (same batch
 *   size; no gradient flows between batches); resetStates() zeroes them.
 * - Activations: 'tanh', 'sigmoid', 'hard_sigmoid' (Keras 3: relu6(x + 3) / 6),
 *   'hard_sigmoid_legacy' (TensorFlow.js and Keras 2: clip(0.2x + 0.5, 0, 1)), 'relu', 'linear'.
 *   A file written by TensorFlow.js or Keras 2 says 'hard_sigmoid' for the legacy function (its
 *   LSTM/GRU default): the loader reads it so. gradforge writes 'hard_sigmoid_legacy', which
 *   TensorFlow.js does not know (it refuses the file rather than computing something else).
 * - Masks (embedding({maskZero}), masking()): a masked step keeps the previous state and its
 *   output repeats the previous one (Keras 3); with returnSequences the mask goes on.
 *
 * @example
 * const model = gf.sequential([
 *   gf.layers.lstm({ units: 32, inputShape: [20, 8] }),
 *   gf.layers.dense({ units: 1 }),
 * ]);
 */
import { Tensor, allocate } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { rnn, GATES, RnnActivation, RnnCellName } from '../ops/rnn';
import { mul } from '../ops/elementwise';
import { slice, reshape } from '../ops/shape';
import { isGradEnabled } from '../autograd';
import { rngFor } from '../random';
import { Layer, LayerArgs, LayerVariable, CallContext, Initializer, Regularizer, Shape } from './layer';
import { getInitializer, serializeInitializer, InitializerConfig } from './initializers';
import { getRegularizer, serializeRegularizer, RegularizerConfig } from './regularizers';

export interface RecurrentArgs extends LayerArgs {
  units: number;
  /** Default 'tanh'. */
  activation?: string;
  /** Default 'sigmoid' (LSTM, GRU). */
  recurrentActivation?: string;
  useBias?: boolean;
  kernelInitializer?: string | Initializer | InitializerConfig;
  recurrentInitializer?: string | Initializer | InitializerConfig;
  biasInitializer?: string | Initializer | InitializerConfig;
  kernelRegularizer?: string | Regularizer | RegularizerConfig | null;
  recurrentRegularizer?: string | Regularizer | RegularizerConfig | null;
  biasRegularizer?: string | Regularizer | RegularizerConfig | null;
  /** Fraction of input features dropped in training (one mask per sample and sequence). */
  dropout?: number;
  /** Fraction of the units of h_{t-1} dropped where it feeds the recurrent kernel, in training (one mask per call). */
  recurrentDropout?: number;
  returnSequences?: boolean;
  goBackwards?: boolean;
  stateful?: boolean;
}

export interface LSTMArgs extends RecurrentArgs {
  /** Start the forget gate's bias at 1 (default true, as Keras). */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends RecurrentArgs {
  /** Apply the reset gate after the recurrent product (default true: Keras 3, cuDNN). */
  resetAfter?: boolean;
}

// 'hard_sigmoid' is Keras 3's relu6(x + 3) / 6; 'hard_sigmoid_legacy' is TensorFlow.js's and
// Keras 2's clip(0.2 x + 0.5, 0, 1), what tfjs writes as 'hard_sigmoid' (the loader maps it).
const NATIVE_ACTIVATION: Record<string, RnnActivation> = {
  tanh: 'tanh', sigmoid: 'sigmoid', hard_sigmoid: 'hardSigmoid', hard_sigmoid_legacy: 'hardSigmoidLegacy',
  relu: 'relu', linear: 'linear',
};

function nativeActivation(layer: string, key: string, name: string): RnnActivation {
  const a = NATIVE_ACTIVATION[name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()];
  if (a === undefined) {
    throw new ValueError(`${layer}: ${key} '${name}' is not supported by the recurrent kernels (use tanh, sigmoid, hard_sigmoid, hard_sigmoid_legacy, relu or linear)`);
  }
  return a;
}

const KERAS_NAME: Record<RnnActivation, string> = {
  tanh: 'tanh', sigmoid: 'sigmoid', hardSigmoid: 'hard_sigmoid', hardSigmoidLegacy: 'hard_sigmoid_legacy', relu: 'relu', linear: 'linear',
};

/** An inverted-dropout mask from the seeded RNG: each element 0 (probability rate) or 1/(1-rate). */
function dropoutMask(dtype: Tensor['dtype'], shape: number[], rate: number): Tensor {
  const keep = 1 - rate;
  const m = allocate(dtype, shape.reduce((a, b) => a * b, 1));
  const rng = rngFor();
  for (let i = 0; i < m.length; i++) m[i] = rng.uniform() < keep ? 1 / keep : 0;
  return new Tensor(m, shape);
}

abstract class RecurrentLayer extends Layer {
  abstract readonly cell: RnnCellName;
  readonly units: number;
  readonly activation: RnnActivation;
  readonly recurrentActivation: RnnActivation;
  readonly useBias: boolean;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly kernelRegularizer: Regularizer | null;
  readonly recurrentRegularizer: Regularizer | null;
  readonly biasRegularizer: Regularizer | null;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly returnSequences: boolean;
  readonly goBackwards: boolean;
  readonly stateful: boolean;
  kernel: LayerVariable | null = null;
  recurrentKernel: LayerVariable | null = null;
  bias: LayerVariable | null = null;
  /** The states a stateful layer carries to its next batch. */
  private states: { h: Tensor; c: Tensor | null } | null = null;

  // (the constructor's messages name the kind: the layer's name comes from its class, whose
  // fields are not set until this constructor returns)
  protected constructor(kind: string, args: RecurrentArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError(`${kind}: expected an options object {units, ...}`);
    super(args);
    if (!Number.isInteger(args.units) || args.units <= 0) throw new ValueError(`${kind}: units must be a positive integer, got ${String(args.units)}`);
    this.units = args.units;
    this.activation = nativeActivation(kind, 'activation', args.activation ?? 'tanh');
    this.recurrentActivation = nativeActivation(kind, 'recurrentActivation', args.recurrentActivation ?? 'sigmoid');
    this.useBias = args.useBias ?? true;
    this.kernelInitializer = getInitializer(args.kernelInitializer ?? 'glorotUniform');
    this.recurrentInitializer = getInitializer(args.recurrentInitializer ?? 'orthogonal');
    this.biasInitializer = getInitializer(args.biasInitializer ?? 'zeros');
    this.kernelRegularizer = getRegularizer(args.kernelRegularizer);
    this.recurrentRegularizer = getRegularizer(args.recurrentRegularizer);
    this.biasRegularizer = getRegularizer(args.biasRegularizer);
    const rate = (key: string, v: unknown): number => {
      if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new ValueError(`${kind}: ${key} must be in [0, 1), got ${String(v)}`);
      return v;
    };
    this.dropout = rate('dropout', args.dropout ?? 0);
    this.recurrentDropout = rate('recurrentDropout', args.recurrentDropout ?? 0);
    this.returnSequences = args.returnSequences ?? false;
    this.goBackwards = args.goBackwards ?? false;
    this.stateful = args.stateful ?? false;
    if (this.batchInputShape !== undefined) this.checkShape(this.batchInputShape, kind);
  }

  /** The bias's shape (Keras's layout); the loader plans weights with it too. */
  abstract biasShape(): number[];
  protected resetAfter(): boolean { return false; }
  protected initialBias(): Tensor { return this.biasInitializer.create(this.biasShape()); }

  private checkShape(shape: Shape, who: string = this.name): number {
    if (shape.length !== 3) {
      throw new ShapeError(`${who}: a recurrent layer needs input [batch, time, features] (rank 3), got ${fmtShape(shape.map((d) => d ?? -1))}`);
    }
    const f = shape[2];
    if (f === null || !Number.isInteger(f) || f <= 0) throw new ShapeError(`${who}: the number of features must be known, got ${fmtShape(shape.map((d) => d ?? -1))}`);
    return f;
  }

  override build(inputShape: Shape): void {
    const features = this.checkShape(inputShape);
    const gu = GATES[this.cell] * this.units;
    this.kernel = this.addWeight('kernel', [features, gu], this.kernelInitializer, this.kernelRegularizer);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, gu], this.recurrentInitializer, this.recurrentRegularizer);
    if (this.useBias) {
      const init = this.initialBias();
      this.bias = this.addWeight('bias', init.shape, { className: this.biasInitializer.className, create: () => init, getConfig: () => this.biasInitializer.getConfig() }, this.biasRegularizer);
    }
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    if (this.kernel === null || this.recurrentKernel === null) throw new ValueError(`${this.name}: call before build`);
    if (x.rank !== 3 || x.shape[2] !== this.kernel.value.shape[0]) {
      throw new ShapeError(`${this.name}: expected input [batch, time, ${this.kernel.value.shape[0]}], got ${fmtShape(x.shape)}`);
    }
    const [N, T, F] = x.shape;
    let input = x.dtype === 'int32' ? x.cast('float32') : x;
    if (ctx.training && this.dropout > 0) input = mul(input, dropoutMask(input.dtype, [N, 1, F], this.dropout));
    // one mask per call, fixed over the steps (Keras 3's get_recurrent_dropout_mask)
    const recurrentMask = ctx.training && this.recurrentDropout > 0 ? dropoutMask(input.dtype, [N, this.units], this.recurrentDropout) : null;
    let h0: Tensor | null = null, c0: Tensor | null = null;
    if (this.stateful && this.states !== null) {
      if (this.states.h.shape[0] !== N) {
        throw new ShapeError(`${this.name}: a stateful layer keeps the batch size of its first batch (${this.states.h.shape[0]}), got a batch of ${N}; call resetStates() to start over`);
      }
      h0 = this.states.h;
      c0 = this.states.c;
    }
    const mask = ctx.mask ?? null;
    if (mask !== null && (mask.rank !== 2 || mask.shape[0] !== N || mask.shape[1] !== T)) {
      throw new ShapeError(`${this.name}: the input mask must be [batch, time] = [${N}, ${T}], got ${fmtShape(mask.shape)}`);
    }
    const { y, hT, cT } = rnn(input, this.kernel.value, this.recurrentKernel.value, this.bias?.value ?? null, {
      cell: this.cell, activation: this.activation, recurrentActivation: this.recurrentActivation,
      resetAfter: this.resetAfter(), goBackwards: this.goBackwards, h0, c0, mask, recurrentMask,
    });
    if (this.stateful) this.states = { h: hT, c: cT };
    if (this.returnSequences) return y;
    // no step: the initial state. Without gradients hT itself: it is y's last step bit for bit
    // (masked steps carry their output here, zeroOutputForMask is off) and the kernel wrote
    // it, so an execution plan can replay it
    if (T === 0 || !isGradEnabled()) return hT;
    // the last step's output, as a slice of y so the gradient flows (it equals hT)
    return reshape(slice(y, [0, T - 1, 0], [N, 1, this.units]), [N, this.units]);
  }

  /** Consumes the mask: a masked step keeps the previous state and repeats its output. */
  override get supportsMasking(): boolean { return true; }

  /** The mask goes on with the sequence (returnSequences) and ends with the last step. */
  override computeMask(input: Tensor, mask: Tensor | null): Tensor | null {
    void input;
    return this.returnSequences ? mask : null;
  }

  /** Zeroes the states a stateful layer carries between batches. */
  resetStates(): void {
    this.states = null;
  }

  override computeOutputShape(inputShape: Shape): Shape {
    this.checkShape(inputShape);
    return this.returnSequences ? [inputShape[0], inputShape[1], this.units] : [inputShape[0], this.units];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      units: this.units,
      activation: KERAS_NAME[this.activation],
      recurrent_activation: KERAS_NAME[this.recurrentActivation],
      use_bias: this.useBias,
      kernel_initializer: serializeInitializer(this.kernelInitializer),
      recurrent_initializer: serializeInitializer(this.recurrentInitializer),
      bias_initializer: serializeInitializer(this.biasInitializer),
      kernel_regularizer: serializeRegularizer(this.kernelRegularizer),
      recurrent_regularizer: serializeRegularizer(this.recurrentRegularizer),
      bias_regularizer: serializeRegularizer(this.biasRegularizer),
      activity_regularizer: null,
      kernel_constraint: null,
      recurrent_constraint: null,
      bias_constraint: null,
      dropout: this.dropout,
      recurrent_dropout: this.recurrentDropout,
      return_sequences: this.returnSequences,
      return_state: false,
      go_backwards: this.goBackwards,
      stateful: this.stateful,
      unroll: false,
    };
  }
}

export class SimpleRNN extends RecurrentLayer {
  readonly className = 'SimpleRNN';
  readonly cell = 'simpleRNN' as const;
  constructor(args: RecurrentArgs) { super('simpleRNN', args); }
  biasShape(): number[] { return [this.units]; }
  override getConfig(): Record<string, unknown> {
    const c = super.getConfig();
    delete c.recurrent_activation;
    return c;
  }
}

export class LSTM extends RecurrentLayer {
  readonly className = 'LSTM';
  readonly cell = 'lstm' as const;
  readonly unitForgetBias: boolean;
  constructor(args: LSTMArgs) {
    super('lstm', args);
    this.unitForgetBias = args.unitForgetBias ?? true;
  }
  biasShape(): number[] { return [4 * this.units]; }
  protected override initialBias(): Tensor {
    const b = super.initialBias();
    if (!this.unitForgetBias) return b;
    // Keras: the forget gate's slice [units, 2*units) starts at 1, whatever biasInitializer
    (b.data as Float32Array).fill(1, this.units, 2 * this.units);
    return b;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), unit_forget_bias: this.unitForgetBias, implementation: 2 };
  }
}

export class GRU extends RecurrentLayer {
  readonly className = 'GRU';
  readonly cell = 'gru' as const;
  readonly resetAfterFlag: boolean;
  constructor(args: GRUArgs) {
    super('gru', args);
    this.resetAfterFlag = args.resetAfter ?? true;
  }
  protected override resetAfter(): boolean { return this.resetAfterFlag; }
  biasShape(): number[] { return this.resetAfterFlag ? [2, 3 * this.units] : [3 * this.units]; }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), reset_after: this.resetAfterFlag, implementation: 2 };
  }
}

/** @example gf.layers.simpleRNN({ units: 16, inputShape: [10, 4] }) */
export function simpleRNN(args: RecurrentArgs): SimpleRNN { return new SimpleRNN(args); }
/** @example gf.layers.lstm({ units: 64, returnSequences: true, inputShape: [100, 8] }) */
export function lstm(args: LSTMArgs): LSTM { return new LSTM(args); }
/** @example gf.layers.gru({ units: 64, inputShape: [100, 8] }) */
export function gru(args: GRUArgs): GRU { return new GRU(args); }
