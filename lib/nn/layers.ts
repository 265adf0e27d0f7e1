/**
 * The `gf.layers` namespace: layer factories (tfjs-style) and the layer classes.
 *
 * @example
 * const model = gf.sequential({layers: [
 *   gf.layers.flatten({inputShape: [28, 28, 1]}),
 *   gf.layers.dense({units: 128, activation: 'relu'}),
 *   gf.layers.dropout({rate: 0.2}),
 *   gf.layers.dense({units: 10, activation: 'softmax'}),
 * ]});
 */
export { Layer, LayerVariable } from './layer';
export { Dense, dense } from './dense';
export { Embedding, embedding } from './embedding';
export { Masking, masking } from './masking';
export { Bidirectional, bidirectional } from './bidirectional';
export type { BidirectionalArgs, MergeMode } from './bidirectional';
export { TimeDistributed, timeDistributed } from './time-distributed';
export type { TimeDistributedArgs } from './time-distributed';
export type { MaskingArgs } from './masking';
export { SimpleRNN, LSTM, GRU, simpleRNN, lstm, gru } from './recurrent';
export type { RecurrentArgs, LSTMArgs, GRUArgs } from './recurrent';
export type { EmbeddingArgs } from './embedding';
export type { DenseArgs } from './dense';
export { Activation, activation } from './activation';
export type { ActivationArgs } from './activation';
export { LeakyReLU, leakyRelu } from './leaky-relu';
export type { LeakyReLUArgs } from './leaky-relu';
export { Dropout, dropout, SpatialDropout2D, spatialDropout2d } from './dropout';
export type { DropoutArgs, SpatialDropout2DArgs } from './dropout';
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
