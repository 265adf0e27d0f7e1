/**
 * Embedding: integer ids [batch, ...] -> vectors [batch, ..., outputDim], row id of a learned
 * table `embeddings` [inputDim, outputDim] (Keras's layout and name). Its gradient adds each
 * output row's gradient into the row it came from (a scatter-add), so ids that repeat get
 * the sum, as in Keras and PyTorch.
 *
 * Ids may come as int32 or as integral floats (Keras casts). An id outside [0, inputDim) is a
 * ShapeError naming the layer, the id and where it was.
 *
 * maskZero: id 0 is padding. The layer then makes a mask (1 where the id is not 0) that the
 * model carries to the recurrent layers, which skip masked steps (Keras's mask_zero); with
 * maskZero the vocabulary's real ids start at 1, so inputDim counts the padding id too.
 *
 * @example
 * const layer = gf.layers.embedding({ inputDim: 10000, outputDim: 64, inputShape: [200] });
 * const y = layer.apply(ids);   // int32 [batch, 200] -> float32 [batch, 200, 64]
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { gatherRows, reshape } from '../ops/shape';
import { Layer, LayerArgs, LayerVariable, CallContext, Initializer, Regularizer, Shape } from './layer';
import { getInitializer, randomUniform, serializeInitializer, InitializerConfig } from './initializers';
import { getRegularizer, serializeRegularizer, RegularizerConfig } from './regularizers';

export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: ids are in [0, inputDim). */
  inputDim: number;
  /** Size of each vector. */
  outputDim: number;
  /** Default: uniform in [-0.05, 0.05] (Keras's 'uniform'). */
  embeddingsInitializer?: string | Initializer | InitializerConfig;
  embeddingsRegularizer?: string | Regularizer | RegularizerConfig | null;
  /** Id 0 is padding: make a mask for the layers after this one (default false). */
  maskZero?: boolean;
  /** Sequence length (Keras's input_length): the same as inputShape [inputLength]. */
  inputLength?: number;
}

function positiveInt(name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) <= 0) throw new ValueError(`embedding: ${name} must be a positive integer, got ${String(v)}`);
  return v as number;
}

export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer: Regularizer | null;
  readonly maskZero: boolean;
  /** Set by build(). */
  embeddings: LayerVariable | null = null;

  constructor(args: EmbeddingArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError('embedding: expected an options object {inputDim, outputDim, ...}');
    const withShape = args.inputLength !== undefined && args.inputShape === undefined
      ? { ...args, inputShape: [positiveInt('inputLength', args.inputLength)] } : args;
    super(withShape);
    this.inputDim = positiveInt('inputDim', args.inputDim);
    this.outputDim = positiveInt('outputDim', args.outputDim);
    this.maskZero = args.maskZero ?? false;
    this.embeddingsInitializer = getInitializer(args.embeddingsInitializer ?? randomUniform({ minval: -0.05, maxval: 0.05 }));
    this.embeddingsRegularizer = getRegularizer(args.embeddingsRegularizer);
  }

  override build(inputShape: Shape): void {
    void inputShape;
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], this.embeddingsInitializer, this.embeddingsRegularizer);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    const table = this.embeddings;
    if (table === null) throw new ValueError(`${this.name}: call before build`);
    if (x.rank < 1) throw new ShapeError(`${this.name}: expected ids of shape [batch, ...], got ${fmtShape(x.shape)}`);
    const ids = x.dataSync();  // ids on a device are read back: they are checked here
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.inputDim) {
        throw new ShapeError(`${this.name}: id ${v} at flat position ${i} of input ${fmtShape(x.shape)} is outside [0, ${this.inputDim}) (inputDim ${this.inputDim})`);
      }
    }
    const rows = gatherRows(table.value, x.dtype === 'int32' ? (ids as Int32Array) : Int32Array.from(ids));
    return reshape(rows, [...x.shape, this.outputDim]);
  }

  /** With maskZero, 1 where the id is not 0, of the input's shape. */
  override computeMask(input: Tensor, mask: Tensor | null): Tensor | null {
    void mask;
    if (!this.maskZero) return null;
    const ids = input.dataSync();
    const m = new Float32Array(ids.length);
    for (let i = 0; i < ids.length; i++) m[i] = ids[i] !== 0 ? 1 : 0;
    // with the activations: the loss and the metrics weigh a device output by it
    return new Tensor(m, input.shape).to(input.device);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape, this.outputDim];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      input_dim: this.inputDim,
      output_dim: this.outputDim,
      embeddings_initializer: serializeInitializer(this.embeddingsInitializer),
      embeddings_regularizer: serializeRegularizer(this.embeddingsRegularizer),
      activity_regularizer: null,
      embeddings_constraint: null,
      mask_zero: this.maskZero,
    };
  }
}

/**
 * An embedding layer.
 * @example gf.layers.embedding({ inputDim: 10000, outputDim: 64, inputShape: [200] })
 */
export function embedding(args: EmbeddingArgs): Embedding {
  return new Embedding(args);
}
