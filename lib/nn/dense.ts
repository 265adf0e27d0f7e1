/**
 * Dense: y = activation(x W + b), W of shape [in, units] and b of shape [units] (Keras'
 * layout and names 'kernel'/'bias'). An input of rank > 2 is multiplied along its last axis
 * at every leading position ([batch, steps, in] -> [batch, steps, units]), as Keras does.
 *
 * @example
 * const layer = gf.layers.dense({units: 10, activation: 'softmax', inputShape: [784]});
 * const y = layer.apply(x);           // [batch, 784] -> [batch, 10]
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { linear } from '../ops/matmul';
import { Shape, CallContext } from './layer';
import { KernelLayer, KernelLayerArgs } from './kernel-layer';

export { FUSABLE_ACTIVATIONS } from './kernel-layer';

export interface DenseArgs extends KernelLayerArgs {
  /** Output size (a positive integer). */
  units: number;
}

export class Dense extends KernelLayer {
  readonly className = 'Dense';
  /** A mask on the input passes through unchanged (works per time step). */
  override get supportsMasking(): boolean { return true; }
  readonly units: number;

  constructor(args: DenseArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError('dense: expected an options object {units, ...}');
    super(args);
    if (!Number.isInteger(args.units) || args.units <= 0) {
      throw new ValueError(`dense: units must be a positive integer, got ${args.units}`);
    }
    this.units = args.units;
    if (this.batchInputShape !== undefined) checkInputShape(this.name, this.batchInputShape);
  }

  override build(inputShape: Shape): void {
    this.addKernelAndBias([checkInputShape(this.name, inputShape), this.units], this.units);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const kernel = this.kernel;
    if (kernel === null) throw new ValueError(`${this.name}: call before build`);
    const inDim = kernel.shape[0];
    if (x.rank < 2 || x.shape[x.rank - 1] !== inDim) {
      throw new ShapeError(`${this.name}: expected input [..., ${inDim}] (rank >= 2), got ${fmtShape(x.shape)}`);
    }
    const bias = this.bias === null ? null : this.bias.value;
    // the bias, and relu, ride in the GEMM's store; other activations run as their own op
    if (this.activationName === 'relu' || this.activationName === 'linear') {
      return linear(x, kernel.value, bias, this.activationName);
    }
    return this.activate(linear(x, kernel.value, bias, 'linear'), ctx);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.name, inputShape);
    return [...inputShape.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      dtype: 'float32',
      units: this.units,
      ...this.kernelConfig(),
    };
  }
}

/** The known last dimension of a Dense input shape, or a ShapeError. */
function checkInputShape(name: string, shape: Shape): number {
  if (shape.length < 2) {
    throw new ShapeError(`${name}: Dense needs an input of rank >= 2 (batch first), got ${fmtShape(shape.map((d) => d ?? -1))}`);
  }
  const last = shape[shape.length - 1];
  if (last === null || !Number.isInteger(last) || last <= 0) {
    throw new ShapeError(`${name}: the last input dimension must be a known positive integer, got ${fmtShape(shape.map((d) => d ?? -1))}`);
  }
  return last;
}

/**
 * A densely connected layer.
 * @example gf.layers.dense({units: 128, activation: 'relu', inputShape: [784]})
 */
export function dense(args: DenseArgs): Dense {
  return new Dense(args);
}
