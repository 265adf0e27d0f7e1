/**
 * Memory handlers: save a model into plain objects (for a database or an object store) and
 * load it back from them.
 *
 * @example
 * const {modelTopology, weightSpecs, weightData} = await model.save(gf.io.toMemory());
 * const copy = await gf.loadModel(gf.io.fromMemory({modelTopology, weightSpecs, weightData}));
 */
import { ValueError } from '../errors';
import { artifactsInfo, IOHandler, ModelArtifacts, SaveResult, WeightSpec } from './types';

/** A handler whose save resolves to the artifacts themselves (and keeps the last ones). */
export class MemoryHandler implements IOHandler {
  artifacts: ModelArtifacts | null = null;

  constructor(artifacts?: ModelArtifacts) {
    this.artifacts = artifacts ?? null;
  }

  async save(artifacts: ModelArtifacts): Promise<SaveResult> {
    this.artifacts = artifacts;
    return { ...artifacts, modelArtifactsInfo: artifactsInfo(artifacts) };
  }

  async load(): Promise<ModelArtifacts> {
    if (this.artifacts === null) throw new ValueError('fromMemory: nothing to load (no artifacts given or saved)');
    return this.artifacts;
  }
}

/**
 * A save target that hands the artifacts back: `const a = await model.save(gf.io.toMemory())`.
 */
export function toMemory(): MemoryHandler {
  return new MemoryHandler();
}

/**
 * A load source from artifacts `{modelTopology, weightSpecs, weightData, trainingConfig?}`,
 * or from the three parts given separately (as tfjs's tf.io.fromMemory).
 */
export function fromMemory(artifacts: Partial<ModelArtifacts> | Record<string, unknown>, weightSpecs?: WeightSpec[], weightData?: ArrayBuffer): MemoryHandler {
  if (artifacts === null || typeof artifacts !== 'object') throw new ValueError('fromMemory: expected {modelTopology, weightSpecs, weightData}');
  if (weightSpecs !== undefined || weightData !== undefined || !('modelTopology' in artifacts)) {
    return new MemoryHandler({ modelTopology: artifacts as Record<string, unknown>, weightSpecs, weightData });
  }
  return new MemoryHandler(artifacts as ModelArtifacts);
}
