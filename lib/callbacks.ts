/**
 * The `gf.callbacks` namespace: training callbacks (History, earlyStopping, schedules ...) and
 * the checkpoint callbacks (modelCheckpoint, backupAndRestore), and sampleGrid for GANs.
 *
 * @example
 * callbacks: [gf.callbacks.earlyStopping({patience: 3}), gf.callbacks.modelCheckpoint('file://./best', {saveBestOnly: true})]
 */
export * from './models/callbacks';
export * from './io/callbacks';
export { sampleGrid, SampleGrid } from './image/sample-grid';
export type { SampleGridArgs } from './image/sample-grid';
