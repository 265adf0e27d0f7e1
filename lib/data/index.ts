export { mnistDigits } from './mnist';
export type { MnistDigits, MnistDigitsOptions } from './mnist';
export { toCategorical, StandardScaler, trainTestSplit, batchIndices } from './preprocessing';
export type { TrainTestSplitOptions, Split } from './preprocessing';
