/**
 * Saving and loading models in the TensorFlow.js layers-model format (`gf.io`), plus
 * loadModel / modelFromJSON.
 *
 * @example
 * await model.save('file://./models/mnist');                  // model.json + weights.bin
 * const m = await gf.loadModel('file://./models/mnist');
 * const a = await model.save(gf.io.toMemory());               // {modelTopology, weightSpecs, weightData}
 * const m2 = await gf.loadModel(gf.io.fromMemory(a));
 */
import type { Sequential } from '../models/sequential';
import { getHandler } from './router';
import { loadFromHandler, LoadOptions } from './load';
import type { IOHandler } from './types';

export { getHandler } from './router';

export type { IOHandler, ModelArtifacts, ModelArtifactsInfo, SaveResult, SaveOptions, WeightSpec, WeightsManifestEntry, TrainingConfig, WeightDType } from './types';
export { artifactsInfo } from './types';
export { fileSystem, FileSystemHandler, writeFilesAtomic } from './file';
export { toMemory, fromMemory, MemoryHandler } from './memory';
export { modelFromArtifacts, modelFromJSON } from './load';
export type { LoadOptions } from './load';
export { modelToArtifacts, modelTopology } from './serialize';

/**
 * Loads a model saved by model.save (or by TensorFlow.js / its converter).
 * @example const m = await gf.loadModel('file://./models/mnist');
 */
export async function loadModel(source: string | IOHandler, opts: LoadOptions = {}): Promise<Sequential> {
  return loadFromHandler(getHandler(source, 'loadModel'), opts);
}
