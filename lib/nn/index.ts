/**
 * The layers and what they are built from: initializers, regularizers, activations. The layer
 * list itself lives in ./layers (what `gf.layers` is).
 *
 * @example
 * import { layers, initializers } from 'gradforge/lib/nn';
 * const d = layers.dense({units: 10, kernelInitializer: initializers.heNormal({seed: 1})});
 */
export * from './layers';
export * as layers from './layers';
export { uniqueLayerName } from './layer';
export type { Shape, CallContext, LayerArgs, Initializer, Regularizer } from './layer';
export * as initializers from './initializers';
export * as regularizers from './regularizers';
export * as activations from './activations';
