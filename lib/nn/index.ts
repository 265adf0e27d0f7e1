/**
 * The layers and what they are built from: initializers, regularizers, activations.
 *
 * @example
 * import { layers, initializers } from 'gradforge/lib/nn';
 * const d = layers.dense({units: 10, kernelInitializer: initializers.heNormal({seed: 1})});
 */
import { dense } from './dense';
import { activation } from './activation';
import { dropout } from './dropout';
import { flatten } from './flatten';
import { randomFlip, randomTranslation } from './augmentation';
import { reshape, zeroPadding2d } from './reshape';
import { conv2d, conv2dTranspose } from './convolutional';
import { maxPooling2d, averagePooling2d, globalAveragePooling2d, globalMaxPooling2d, upSampling2d } from './pooling';
import { batchNormalization } from './normalization';

export { Layer, LayerVariable, uniqueLayerName } from './layer';
export type { Shape, CallContext, LayerArgs, Initializer, Regularizer } from './layer';
export { Dense, dense } from './dense';
export type { DenseArgs } from './dense';
export { Activation, activation } from './activation';
export type { ActivationArgs } from './activation';
export { Dropout, dropout } from './dropout';
export type { DropoutArgs } from './dropout';
export { Flatten, flatten } from './flatten';
export { Conv2D, conv2d, Conv2DTranspose, conv2dTranspose } from './convolutional';
export type { Conv2DArgs, Conv2DTransposeArgs } from './convolutional';
export { MaxPooling2D, maxPooling2d, AveragePooling2D, averagePooling2d, GlobalAveragePooling2D, globalAveragePooling2d, GlobalMaxPooling2D, globalMaxPooling2d, UpSampling2D, upSampling2d } from './pooling';
export type { Pooling2DArgs, UpSampling2DArgs } from './pooling';
export { BatchNormalization, batchNormalization } from './normalization';
export type { BatchNormalizationArgs } from './normalization';
export { Reshape, reshape, ZeroPadding2D, zeroPadding2d } from './reshape';
export type { ReshapeArgs, ZeroPadding2DArgs } from './reshape';
export { RandomFlip, randomFlip, RandomTranslation, randomTranslation } from './augmentation';
export type { RandomFlipArgs, RandomTranslationArgs, FlipMode, FillMode } from './augmentation';

export * as initializers from './initializers';
export * as regularizers from './regularizers';
export * as activations from './activations';

/** Layer factories, shaped like tfjs' `tf.layers`. */
export const layers = {
  dense, activation, dropout, flatten, reshape, zeroPadding2d, randomFlip, randomTranslation,
  conv2d, conv2dTranspose, maxPooling2d, averagePooling2d, globalAveragePooling2d, globalMaxPooling2d,
  upSampling2d, batchNormalization,
};
