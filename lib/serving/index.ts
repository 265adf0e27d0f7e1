/**
 * Serving helpers: `gf.serving.batcher` merges concurrent small requests into batches for
 * one model (dynamic micro-batching, as TF Serving and Triton do).
 *
 * @example
 * const b = gf.serving.batcher(model, {maxBatchSize: 32, maxDelayMs: 2, maxQueue: 256});
 * const y = await b.predict(x);
 */
export { Batcher, batcher } from './batcher';
export type { BatchModel, BatcherOptions, BatcherPredictOptions, BatcherStats, ResolvedBatcherOptions } from './batcher';
