/**
 * Saving a GAN to a folder:
 *   generator/, discriminator/   each a layers-model folder (model.save), loadable alone
 *   gan.json                     settings, epochs done, the training random state, the two
 *                                optimizers' configs and (includeOptimizer) their state's layout
 *   optimizers.bin               (includeOptimizer) the optimizers' slots, float32, in gan.json's order
 * The optimizers belong to the GAN, not to the (uncompiled) models, so their state is written
 * here rather than through model.save's includeOptimizer.
 *
 * gan.json is the single commit point. Each part is written atomically (temporary file, fsync,
 * rename), gan.json last, and gan.json records which weights file of each network (name, size,
 * checksum) and which optimizer-state file belong to it. A network folder keeps its previous
 * weights file on a save (lib/io/file.ts alternates weights.bin / weights.alt.bin), and the
 * optimizer state alternates optimizers.bin / optimizers.alt.bin, so after a crash between the
 * parts loadGan still finds everything the last complete gan.json names: the GAN as it was.
 * A save holds the folder's save lock (lib/io/file.ts) throughout, so saves of GANs into one
 * folder from several processes run one after another.
 */
import * as fs from 'fs/promises';
import * as path from 'path';
import { ValueError } from '../errors';
import { withSaveLock, writeFilesAtomic } from '../io/file';
import { fnv1a } from '../io/checksum';
import { GRADFORGE_VERSION } from '../io/format';
import type { Sequential } from '../models/sequential';
import type { Optimizer } from '../optim/optimizer';
import type { GanConfig } from './config';

export const GAN_JSON = 'gan.json';
export const OPTIMIZERS_BIN = 'optimizers.bin';
export const OPTIMIZERS_ALT_BIN = 'optimizers.alt.bin';
export const GAN_FORMAT = 'gradforge-gan';
export const GAN_FORMAT_VERSION = 1;

/** What saving reads from a GAN. */
export interface SavableGan {
  readonly generator: Sequential;
  readonly discriminator: Sequential;
  readonly generatorOptimizer: Optimizer;
  readonly discriminatorOptimizer: Optimizer;
  readonly config: Readonly<GanConfig>;
  readonly epoch: number;
  randomState(): number[];
  samplingState(): number[];
}

/** One optimizer's state layout in gan.json; its slot data lies in optimizers.bin. */
export interface OptimizerStateEntry {
  iterations: number;
  slotNames: string[];
  /** The trainable weights the slots belong to, in order (each has slotNames.length slots). */
  params: { name: string; shape: number[] }[];
}

/** The weights file of a network folder that a gan.json belongs with. */
export interface NetworkRecord {
  weights: string;
  bytes: number;
  /** FNV-1a (32-bit) of the file's bytes. */
  fnv1a: number;
}

/** gan.json. */
export interface GanJson {
  /** (absent in files from before it existed) */
  networks?: Record<'generator' | 'discriminator', NetworkRecord>;
  /** The optimizer-state file (default optimizers.bin). */
  optimizerFile?: string;
  format: typeof GAN_FORMAT;
  version: number;
  generatedBy: string;
  config: GanConfig;
  epoch: number;
  rng: number[];
  /** The unseeded generate()/sampleLatent() stream (absent in older files). */
  samplingRng?: number[];
  optimizers: Record<'generator' | 'discriminator', { class_name: string; config: Record<string, unknown> }>;
  /** Present when saved with includeOptimizer. */
  optimizerState?: Record<'generator' | 'discriminator', OptimizerStateEntry>;
}

/** The folder of a 'file://dir' or plain path. */
export function folderOf(op: string, dir: unknown): string {
  if (typeof dir !== 'string' || dir.length === 0) throw new ValueError(`${op}: expected a folder path (or 'file://path'), got ${typeof dir === 'string' ? "''" : String(dir)}`);
  const p = dir.startsWith('file://') ? dir.slice('file://'.length) : dir;
  if (p.length === 0) throw new ValueError(`${op}: expected a folder path, got '${dir}'`);
  return path.resolve(p);
}

function optimizerState(model: Sequential, opt: Optimizer, chunks: Float32Array[]): OptimizerStateEntry {
  const vars = model.trainableWeights;
  const state = opt.getState(vars.map((v) => v.value));
  for (const w of state.weights) chunks.push(w.data instanceof Float32Array ? w.data : Float32Array.from(w.data));
  return {
    iterations: state.iterations,
    slotNames: [...state.slotNames],
    params: vars.map((v) => ({ name: v.name, shape: [...v.shape] })),
  };
}

/** FNV-1a, 32 bits (lib/io/checksum.ts): a cheap check that a weights file is the one a gan.json was written with. */
export { fnv1a };

/** Saves one network into folder/role and describes the weights file it now names. */
async function saveNetwork(model: Sequential, folder: string, role: 'generator' | 'discriminator'): Promise<NetworkRecord> {
  const dir = path.join(folder, role);
  await model.save(`file://${dir}`);
  const j = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
  const weights = j.weightsManifest[0].paths[0];
  const bytes = await fs.readFile(path.join(dir, weights));
  return { weights, bytes: bytes.byteLength, fnv1a: fnv1a(bytes) };
}

/** The optimizer-state file the current gan.json names, if any. */
async function currentOptimizerFile(folder: string): Promise<string | null> {
  try {
    const j = JSON.parse(await fs.readFile(path.join(folder, GAN_JSON), 'utf8')) as Partial<GanJson>;
    return typeof j.optimizerFile === 'string' ? j.optimizerFile : j.optimizerState !== undefined ? OPTIMIZERS_BIN : null;
  } catch {
    return null;
  }
}

function concatFloats(chunks: readonly Float32Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Float32Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  // little-endian on every platform Node runs on, as weights.bin
  return new Uint8Array(out.buffer);
}

/** Writes the GAN to `dir` (see the file comment). */
export async function saveGan(gan: SavableGan, dir: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
  const folder = folderOf('gan.save', dir);
  if (opts === null || typeof opts !== 'object') throw new ValueError('gan.save: options must be an object such as {includeOptimizer: true}');
  await withSaveLock(folder, (check) => saveGanLocked(gan, folder, opts, check));
}

/** saveGan's work, holding the folder's save lock (check: before each rename). */
async function saveGanLocked(gan: SavableGan, folder: string, opts: { includeOptimizer?: boolean }, check: () => Promise<void>): Promise<void> {
  const networks = {
    generator: await saveNetwork(gan.generator, folder, 'generator'),
    discriminator: await saveNetwork(gan.discriminator, folder, 'discriminator'),
  };
  const json: GanJson = {
    format: GAN_FORMAT,
    version: GAN_FORMAT_VERSION,
    generatedBy: `gradforge ${GRADFORGE_VERSION}`,
    config: { ...gan.config },
    epoch: gan.epoch,
    rng: gan.randomState(),
    samplingRng: gan.samplingState(),
    optimizers: {
      generator: { class_name: gan.generatorOptimizer.className, config: gan.generatorOptimizer.getConfig() },
      discriminator: { class_name: gan.discriminatorOptimizer.className, config: gan.discriminatorOptimizer.getConfig() },
    },
    networks,
  };
  const files: { name: string; data: string | Uint8Array }[] = [];
  if (opts.includeOptimizer === true) {
    const chunks: Float32Array[] = [];
    json.optimizerState = {
      generator: optimizerState(gan.generator, gan.generatorOptimizer, chunks),
      discriminator: optimizerState(gan.discriminator, gan.discriminatorOptimizer, chunks),
    };
    // never the file the current gan.json names: until gan.json is replaced, it stays valid
    json.optimizerFile = (await currentOptimizerFile(folder)) === OPTIMIZERS_BIN ? OPTIMIZERS_ALT_BIN : OPTIMIZERS_BIN;
    files.push({ name: json.optimizerFile, data: concatFloats(chunks) });
  }
  files.push({ name: GAN_JSON, data: JSON.stringify(json) });
  await writeFilesAtomic(folder, files, { beforeRename: check });
}
