// gradforge's public surface: re-exports only.
export { Tensor, tensor, scalar, zeros, ones, full, zerosLike, onesLike, randn, randUniform, arange } from './tensor';
export type { DType, TypedArray, NestedArray, TensorLike, CreateOptions, RandomOptions, Device, DeviceStorage } from './tensor';
export { noGrad, enableGrad, isGradEnabled } from './autograd';
export { gradcheck } from './gradcheck';
export type { GradcheckOptions, GradcheckResult } from './gradcheck';
export { setSeed, Rng } from './random';
export { GradforgeError, ShapeError, DTypeError, ValueError, ModelFormatError, DeviceError, AbortError, QueueFullError, TimeoutError } from './errors';
export { backendInfo, setNumThreads, cuda, memory } from './backend';
export { setMaxTensorBytes, getMaxTensorBytes, tidy } from './memory';
export type { BackendInfo, DeviceStatus, MemoryInfo, CudaMemory } from './backend';
export type { CudaInfo } from '../binding';

export {
  add, sub, mul, div, pow, maximum, minimum, greater, greaterEqual, less, lessEqual, equal,
  neg, exp, log, log1p, sqrt, square, reciprocal, abs, sign, clip, relu, leakyRelu, elu, selu,
  sigmoid, logSigmoid, tanh, softplus, cast,
} from './ops/elementwise';
export { sum, mean, max, min, argmax, argmin } from './ops/reduce';
export { softmax, logSoftmax } from './ops/softmax';
export { matmul, linear } from './ops/matmul';
export type { FusedActivation } from './ops/matmul';
export { conv2d, conv2dTranspose } from './ops/conv';
export type { Conv2dOptions, Conv2dTransposeOptions, Padding } from './ops/conv';
export { maxPool2d, avgPool2d, globalAvgPool2d, globalMaxPool2d, upSampling2d } from './ops/pool';
export type { Pool2dOptions, UpSampling2dOptions } from './ops/pool';
export { batchNorm } from './ops/batchnorm';
export { rnn } from './ops/rnn';
export type { RnnOptions, RnnResult, RnnCellName, RnnActivation } from './ops/rnn';
export type { BatchNormOptions } from './ops/batchnorm';
export { reshape, transpose, slice, pad, concat, stack, gatherRows, gatherRows as gather, sliceRows, expandDims, squeeze, broadcastTo } from './ops/shape';

export * as layers from './nn/layers';
export { Layer, LayerVariable } from './nn/layer';
export type { Shape, CallContext, LayerArgs, Regularizer, Initializer } from './nn/layer';
export * as initializers from './nn/initializers';
export * as regularizers from './nn/regularizers';
export * as losses from './losses';
export * as metrics from './metrics';
export * as optimizers from './optim';
export { Optimizer } from './optim/optimizer';

export { Sequential, sequential } from './models/sequential';
export type { CompileArgs, PredictArgs, PredictAsyncArgs } from './models/sequential';
export { setExecutionPlans, executionPlansEnabled } from './models/plans';
export type { FitArgs } from './models/training';
export * as callbacks from './callbacks';
export { History, Callback } from './models/callbacks';

export * as io from './io';
export * as serving from './serving';
export * as image from './image';
export { gan, GAN, loadGan, GanCallback } from './gan';
export type { GanArgs, GanConfig, GanLoss, GanFitArgs, GenerateArgs, GanStepLogs } from './gan';
export * as ganLosses from './gan/losses';
export { loadModel, modelFromJSON } from './io';
export type { IOHandler, ModelArtifacts, SaveResult, SaveOptions, LoadOptions } from './io';

export * as datasets from './data/datasets';
export * as data from './data';
export * as text from './text';
export { toCategorical } from './data/preprocessing';
