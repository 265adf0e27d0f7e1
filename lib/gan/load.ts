/**
 * loadGan: the reverse of gan.save. Reads and checks gan.json, loads both networks, recreates
 * the optimizers from their configs and (when saved) their state, and puts back the epoch count
 * and the training random state, so fit continues as if never interrupted.
 * Every problem with the folder throws ModelFormatError naming the file and the field.
 */
import * as fs from 'fs/promises';
import * as path from 'path';
import { Tensor } from '../tensor';
import { ModelFormatError } from '../errors';
import { loadModel } from '../io';
import { FileSystemHandler } from '../io/file';
import { modelFromArtifacts } from '../io/load';
import { isObject, show } from '../io/format';
import type { Sequential } from '../models/sequential';
import { getOptimizer, Optimizer } from '../optim';
import { GAN } from './gan';
import type { GanConfig } from './config';
import { folderOf, fnv1a, GanJson, GAN_FORMAT, GAN_FORMAT_VERSION, GAN_JSON, NetworkRecord, OPTIMIZERS_ALT_BIN, OPTIMIZERS_BIN, OptimizerStateEntry } from './save';

const MAX_GAN_JSON_BYTES = 16 * 1024 * 1024;

/** Runs fn; an error that is not a ModelFormatError becomes one, prefixed by where. */
function guard<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function readGanJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const st = await fs.stat(file);
    if (st.size > MAX_GAN_JSON_BYTES) throw new ModelFormatError(`${file}: ${st.size} bytes is more than a gan.json may have (${MAX_GAN_JSON_BYTES})`);
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): is this a folder written by gan.save?`);
  }
  let j: unknown;
  try { j = JSON.parse(text); } catch (e) { throw new ModelFormatError(`${file}: not valid JSON (${(e as Error).message})`); }
  if (!isObject(j) || j.format !== GAN_FORMAT) throw new ModelFormatError(`${file}: format must be '${GAN_FORMAT}', got ${show(isObject(j) ? j.format : j)}`);
  if (j.version !== GAN_FORMAT_VERSION) throw new ModelFormatError(`${file}: version ${show(j.version)} is not supported (this gradforge reads version ${GAN_FORMAT_VERSION})`);
  return j;
}

function checkConfig(c: unknown, where: string): GanConfig {
  if (!isObject(c)) throw new ModelFormatError(`${where}: config must be an object, got ${show(c)}`);
  const num = (k: string): number => {
    if (typeof c[k] !== 'number' || !Number.isFinite(c[k])) throw new ModelFormatError(`${where}: config.${k} must be a number, got ${show(c[k])}`);
    return c[k] as number;
  };
  if (c.loss !== 'minimax' && c.loss !== 'wasserstein-gp') throw new ModelFormatError(`${where}: config.loss must be 'minimax' or 'wasserstein-gp', got ${show(c.loss)}`);
  if (c.numClasses !== null && typeof c.numClasses !== 'number') throw new ModelFormatError(`${where}: config.numClasses must be a number or null, got ${show(c.numClasses)}`);
  return {
    latentDim: num('latentDim'), loss: c.loss, labelSmoothing: num('labelSmoothing'),
    discriminatorSteps: num('discriminatorSteps'), gradientPenaltyWeight: num('gradientPenaltyWeight'),
    numClasses: c.numClasses as number | null,
  };
}

function optimizerFrom(j: Record<string, unknown>, role: 'generator' | 'discriminator', where: string): Optimizer {
  const o = isObject(j.optimizers) ? j.optimizers[role] : undefined;
  if (!isObject(o) || typeof o.class_name !== 'string' || !isObject(o.config)) {
    throw new ModelFormatError(`${where}: optimizers.${role} must be {class_name, config}, got ${show(o)}`);
  }
  const cfg = { class_name: o.class_name, config: o.config };
  return guard(`${where}: optimizers.${role}`, () => getOptimizer(cfg));
}

function checkStateEntry(e: unknown, where: string): OptimizerStateEntry {
  const ok = isObject(e) && Number.isSafeInteger(e.iterations) && (e.iterations as number) >= 0
    && Array.isArray(e.slotNames) && e.slotNames.every((s) => typeof s === 'string')
    && Array.isArray(e.params) && e.params.every((p) => isObject(p) && typeof p.name === 'string'
      && Array.isArray(p.shape) && p.shape.every((d) => Number.isSafeInteger(d) && d >= 0));
  if (!ok) throw new ModelFormatError(`${where} must be {iterations, slotNames, params: [{name, shape}]}, got ${show(e)}`);
  return e as unknown as OptimizerStateEntry;
}

/** Float32 slot values for one network's optimizer, taken from `data` at `offset`; returns the new offset. */
function restoreOptimizer(model: Sequential, opt: Optimizer, e: OptimizerStateEntry, data: Float32Array, offset: number, where: string): number {
  const vars = model.trainableWeights;
  const names = vars.map((v) => v.name);
  if (names.length !== e.params.length || e.params.some((p, i) => p.name !== names[i])) {
    throw new ModelFormatError(`${where}: the state is for weights [${e.params.map((p) => p.name).join(', ')}], the model's trainable weights are [${names.join(', ')}]`);
  }
  const weights: Tensor[] = [];
  for (const v of vars) {
    for (let s = 0; s < e.slotNames.length; s++) {
      const n = v.value.size;
      if (offset + n > data.length) throw new ModelFormatError(`${where}: ${OPTIMIZERS_BIN} is too short for the slots gan.json lists`);
      weights.push(new Tensor(data.slice(offset, offset + n), v.shape));
      offset += n;
    }
  }
  guard(where, () => opt.setState({ iterations: e.iterations, slotNames: e.slotNames, weights }, vars.map((v) => v.value)));
  return offset;
}

async function readOptimizersBin(file: string): Promise<Float32Array> {
  let buf: Buffer;
  try { buf = await fs.readFile(file); } catch (e) { throw new ModelFormatError(`${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) but gan.json lists optimizer state`); }
  if (buf.byteLength % 4 !== 0) throw new ModelFormatError(`${file}: ${buf.byteLength} bytes is not a whole number of float32 values`);
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

function checkRecord(r: unknown, where: string): NetworkRecord {
  const ok = isObject(r) && typeof r.weights === 'string' && path.basename(r.weights) === r.weights
    && Number.isSafeInteger(r.bytes) && Number.isSafeInteger(r.fnv1a);
  if (!ok) throw new ModelFormatError(`${where} must be {weights: a file name, bytes, fnv1a}, got ${show(r)}`);
  return r as unknown as NetworkRecord;
}

/**
 * One network, with the weights gan.json was written with: the file the gan.json records, which
 * is the one its model.json names, or (after a crash between the network's save and gan.json's)
 * the previous weights file that the folder keeps. Its size and checksum must match.
 */
async function loadNetwork(folder: string, role: 'generator' | 'discriminator', record: NetworkRecord | null, where: string): Promise<Sequential> {
  const dir = path.join(folder, role);
  if (record === null) return loadModel(`file://${dir}`, { compile: false });  // an older gan.json
  // model.json checked and its weights files' sizes, but those are not read: the weights are
  // the file gan.json names, checked against gan.json's checksum below
  const opened = await new FileSystemHandler(dir).open();
  await opened.close();
  const artifacts = opened.artifacts;
  let owned: ArrayBuffer;
  try {
    const buf = await fs.readFile(path.join(dir, record.weights));
    owned = new ArrayBuffer(buf.byteLength);
    new Uint8Array(owned).set(buf);
  } catch (e) {
    throw new ModelFormatError(`${where}: ${role}/${record.weights} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const bytes = new Uint8Array(owned);
  if (bytes.byteLength !== record.bytes || fnv1a(bytes) !== record.fnv1a) {
    throw new ModelFormatError(`${where}: ${role}/${record.weights} is not the file this gan.json was saved with (${bytes.byteLength} bytes, checksum ${fnv1a(bytes)}; expected ${record.bytes}, ${record.fnv1a}): saves were interrupted twice in a row`);
  }
  const expected = opened.weightBytes;
  if (bytes.byteLength !== expected) {
    throw new ModelFormatError(`${where}: ${role}/${record.weights} holds ${bytes.byteLength} bytes, ${role}/model.json's weights need ${expected}`);
  }
  artifacts.weightData = owned;
  return modelFromArtifacts(artifacts, { compile: false }, `${where}: ${role}`);
}

/**
 * Loads a GAN saved by gan.save: both networks, settings, epoch count, random state and, when
 * saved with includeOptimizer, the optimizers' state (so training continues exactly).
 * @example const g = await gf.loadGan('./dcgan'); await g.fit(x, {epochs: 5});
 */
export async function loadGan(dir: string): Promise<GAN> {
  const folder = folderOf('loadGan', dir);
  const file = path.join(folder, GAN_JSON);
  const j = await readGanJson(file);
  const config = checkConfig(j.config, file);
  const epoch = j.epoch;
  if (!Number.isSafeInteger(epoch) || (epoch as number) < 0) throw new ModelFormatError(`${file}: epoch must be an integer >= 0, got ${show(epoch)}`);
  const nets = (j as Partial<GanJson>).networks;
  if (nets !== undefined && !isObject(nets)) throw new ModelFormatError(`${file}: networks must be an object, got ${show(nets)}`);
  const record = (role: 'generator' | 'discriminator'): NetworkRecord | null =>
    nets === undefined ? null : checkRecord((nets as Record<string, unknown>)[role], `${file}: networks.${role}`);
  const generator = await loadNetwork(folder, 'generator', record('generator'), file);
  const discriminator = await loadNetwork(folder, 'discriminator', record('discriminator'), file);
  const g = guard(file, () => new GAN({
    generator, discriminator, ...config, numClasses: config.numClasses ?? undefined,
    gradientPenaltyWeight: config.loss === 'wasserstein-gp' ? config.gradientPenaltyWeight : undefined,
    generatorOptimizer: optimizerFrom(j, 'generator', file),
    discriminatorOptimizer: optimizerFrom(j, 'discriminator', file),
    seed: 0, // replaced by the saved state below; a seed keeps loading off the global generator
  }));
  g.epoch = epoch as number;
  guard(`${file}: rng`, () => g.setRandomState(j.rng as number[]));
  if (j.samplingRng !== undefined) guard(`${file}: samplingRng`, () => g.setSamplingState(j.samplingRng as number[]));
  const st = (j as Partial<GanJson>).optimizerState;
  if (st !== undefined) {
    if (!isObject(st)) throw new ModelFormatError(`${file}: optimizerState must be an object, got ${show(st)}`);
    const gs = checkStateEntry(st.generator, `${file}: optimizerState.generator`);
    const ds = checkStateEntry(st.discriminator, `${file}: optimizerState.discriminator`);
    const optFile = (j as Partial<GanJson>).optimizerFile ?? OPTIMIZERS_BIN;
    if (optFile !== OPTIMIZERS_BIN && optFile !== OPTIMIZERS_ALT_BIN) throw new ModelFormatError(`${file}: optimizerFile must be '${OPTIMIZERS_BIN}' or '${OPTIMIZERS_ALT_BIN}', got ${show(optFile)}`);
    const data = await readOptimizersBin(path.join(folder, optFile));
    let off = restoreOptimizer(g.generator, g.generatorOptimizer, gs, data, 0, `${file}: optimizerState.generator`);
    off = restoreOptimizer(g.discriminator, g.discriminatorOptimizer, ds, data, off, `${file}: optimizerState.discriminator`);
    if (off !== data.length) throw new ModelFormatError(`${file}: ${OPTIMIZERS_BIN} holds ${data.length} values, gan.json's optimizer state needs ${off}`);
  }
  return g;
}
