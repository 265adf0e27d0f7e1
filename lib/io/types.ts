/**
 * The shapes of saved models, as TensorFlow.js names them: ModelArtifacts (what a handler
 * saves and loads), weight specs, the model.json weights manifest, and the IOHandler
 * interface that a user implements to store models elsewhere (a database, an object store).
 *
 * @example
 * const handler: gf.io.IOHandler = {
 *   async save(artifacts) { await db.put('model', artifacts); return {modelArtifactsInfo: gf.io.artifactsInfo(artifacts)}; },
 *   async load() { return db.get('model'); },
 * };
 * await model.save(handler);
 * const again = await gf.loadModel(handler);
 */

/** The dtypes a weight file may hold. */
export type WeightDType = 'float32' | 'int32';

/** One tensor in a weights file: its name ('dense_1/kernel'), shape and dtype. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDType;
  /** 'optimizer' for optimizer state (iterations, slots); absent for the model's weights. */
  group?: string;
}

/** One entry of model.json's weightsManifest: files whose bytes, concatenated, hold `weights`. */
export interface WeightsManifestEntry {
  paths: string[];
  weights: WeightSpec[];
}

/** The compile state as Keras / TensorFlow.js save it. */
export interface TrainingConfig {
  loss: string | string[] | Record<string, string>;
  metrics?: string[] | null;
  optimizer_config: { class_name: string; config: Record<string, unknown> };
  loss_weights?: unknown;
  sample_weight_mode?: unknown;
  weighted_metrics?: unknown;
}

/** What a handler saves and loads: the topology, the weight specs and their bytes. */
export interface ModelArtifacts {
  /** `{class_name: 'Sequential', config: {name, layers}, keras_version, backend}`. */
  modelTopology: Record<string, unknown>;
  weightSpecs?: WeightSpec[];
  /** Little-endian bytes of the tensors in weightSpecs order. */
  weightData?: ArrayBuffer;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: Record<string, unknown>;
}

/** Sizes of what was saved. */
export interface ModelArtifactsInfo {
  dateSaved: Date;
  modelTopologyType: 'JSON';
  modelTopologyBytes: number;
  weightSpecsBytes: number;
  weightDataBytes: number;
}

/** What save resolves to; the memory handler adds the artifacts themselves. */
export interface SaveResult extends Partial<ModelArtifacts> {
  modelArtifactsInfo: ModelArtifactsInfo;
}

/** Where models are saved and loaded: implement either or both. */
export interface IOHandler {
  save?(artifacts: ModelArtifacts): Promise<SaveResult>;
  load?(): Promise<ModelArtifacts>;
}

/** Options of model.save. */
export interface SaveOptions {
  /** Save the compile config and the optimizer's state (iterations, moments) too. */
  includeOptimizer?: boolean;
}

/** The sizes of a set of artifacts (for SaveResult). */
export function artifactsInfo(a: ModelArtifacts): ModelArtifactsInfo {
  const bytes = (v: unknown): number => (v === undefined ? 0 : Buffer.byteLength(JSON.stringify(v), 'utf8'));
  return {
    dateSaved: new Date(),
    modelTopologyType: 'JSON',
    modelTopologyBytes: bytes(a.modelTopology),
    weightSpecsBytes: bytes(a.weightSpecs),
    weightDataBytes: a.weightData?.byteLength ?? 0,
  };
}
