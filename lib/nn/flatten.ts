/**
 * Flatten: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...] (channels-last order, as Keras).
 * A rank-1 input [batch] becomes [batch, 1]. Shares storage with its input (a reshape).
 *
 * @example
 * model.add(gf.layers.flatten({inputShape: [28, 28, 1]}));   // -> [batch, 784]
 */
import { Tensor } from '../tensor';
import { reshape } from '../ops/shape';
import { Layer, LayerArgs, Shape, CallContext } from './layer';

export class Flatten extends Layer {
  readonly className = 'Flatten';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    void ctx;
    const batch = x.rank === 0 ? 1 : x.shape[0];
    const rest = x.shape.slice(1).reduce((n, d) => n * d, 1);
    return reshape(x, [batch, rest]);
  }

  override computeOutputShape(inputShape: Shape): Shape {
    const rest = inputShape.slice(1);
    // an unknown non-batch dimension makes the flattened size unknown too
    const size = rest.some((d) => d === null) ? null : (rest as number[]).reduce((n, d) => n * d, 1);
    return [inputShape[0] ?? null, size];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), dtype: 'float32', data_format: 'channels_last' };
  }
}

/**
 * A flatten layer.
 * @example gf.layers.flatten()
 */
export function flatten(args: LayerArgs = {}): Flatten {
  return new Flatten(args);
}
