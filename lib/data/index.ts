export { mnistDigits } from './mnist';
export type { MnistDigits, MnistDigitsOptions } from './mnist';
export { toCategorical, StandardScaler, trainTestSplit, batchIndices } from './preprocessing';
export type { TrainTestSplitOptions, Split } from './preprocessing';
export { readIdx, parseIdx, encodeIdx } from './idx';
export type { IdxData, IdxArray } from './idx';
export { downloadFile } from './download';
export { timeseriesDataset } from './timeseries';
export type { TimeseriesDatasetOptions, TimeseriesDataset } from './timeseries';
