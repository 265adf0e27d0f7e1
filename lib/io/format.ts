/**
 * The layers-model format's checks and byte layout: weight specs (names, shapes, dtypes,
 * sizes), model.json's structure, weight file paths, and the little-endian encoding of
 * tensors. Everything read from outside goes through here before anything is allocated;
 * every failure is a ModelFormatError saying what is wrong and where.
 *
 * It is not: the topology (topology.ts) or the file system (file.ts).
 */
import * as path from 'path';
import * as os from 'os';
import { constants as bufferConstants } from 'buffer';
import { ModelFormatError } from '../errors';
import { isChecksum } from './checksum';
import type { ModelArtifacts, WeightSpec, WeightsManifestEntry, TrainingConfig } from './types';

/** The library version written into model.json's generatedBy. */
export const GRADFORGE_VERSION = '0.1.0';

/**
 * One tensor may hold at most this many elements: the longest typed array this Node allows
 * (2^32 in Node 20; what `new Float32Array(n)` accepts).
 */
export const MAX_TENSOR_ELEMENTS = bufferConstants.MAX_LENGTH;

/**
 * All weights together may take at most this many bytes: this machine's memory. A manifest
 * that needs more is refused before anything is allocated or read.
 */
export function maxWeightBytes(): number {
  return os.totalmem();
}

/** '2.18 GB' style rendering of a byte count, for messages. */
export function showBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} B`;
}

function tooMuchMemory(where: string, bytes: number): ModelFormatError {
  const mem = maxWeightBytes();
  return new ModelFormatError(`${where}: the weights take ${bytes} bytes (${showBytes(bytes)}), more than this machine's memory (${mem} bytes, ${showBytes(mem)}); refusing to allocate them`);
}
/** A model.json larger than this is refused before it is read. */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
/** Limits on counts that no real model reaches. */
export const MAX_WEIGHTS = 100_000;
export const MAX_RANK = 8;

if (os.endianness() !== 'LE') {
  // typed arrays use the platform's byte order; the format is little-endian
  throw new Error('gradforge io: big-endian platforms are not supported');
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A short rendering of a value for messages (never throws, never huge). */
export function show(v: unknown): string {
  let s: string;
  try { s = JSON.stringify(v) ?? String(v); } catch { s = Object.prototype.toString.call(v); }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function bytesPerElement(dtype: string): number {
  return dtype === 'float32' || dtype === 'int32' ? 4 : 0;
}

/** Checks one weight spec; returns its byte count. */
export function checkWeightSpec(spec: unknown, where: string): number {
  if (!isObject(spec)) throw new ModelFormatError(`${where}: a weight spec must be {name, shape, dtype}, got ${show(spec)}`);
  const { name, shape, dtype, group, quantization } = spec;
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024) {
    throw new ModelFormatError(`${where}: weight name must be a non-empty string, got ${show(name)}`);
  }
  const at = `${where} (weight '${name}')`;
  if (quantization !== undefined && quantization !== null) {
    throw new ModelFormatError(`${at}: quantized weights are not supported`);
  }
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new ModelFormatError(`${at}: dtype must be 'float32' or 'int32', got ${show(dtype)}`);
  }
  if (group !== undefined && group !== null && typeof group !== 'string') {
    throw new ModelFormatError(`${at}: group must be a string, got ${show(group)}`);
  }
  if (!Array.isArray(shape) || shape.length > MAX_RANK) {
    throw new ModelFormatError(`${at}: shape must be an array of at most ${MAX_RANK} integers, got ${show(shape)}`);
  }
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) throw new ModelFormatError(`${at}: shape ${show(shape)} must hold integers >= 0`);
    n *= d as number;
    if (n > MAX_TENSOR_ELEMENTS) {
      throw new ModelFormatError(`${at}: shape ${show(shape)} has more than ${MAX_TENSOR_ELEMENTS} elements; refusing to allocate it`);
    }
  }
  return n * 4;
}

/** Checks a list of weight specs; returns the total byte count. */
export function checkWeightSpecs(specs: unknown, where: string): number {
  if (!Array.isArray(specs)) throw new ModelFormatError(`${where}: weights must be an array, got ${show(specs)}`);
  if (specs.length > MAX_WEIGHTS) throw new ModelFormatError(`${where}: ${specs.length} weights is more than ${MAX_WEIGHTS}`);
  let total = 0;
  specs.forEach((s, i) => { total += checkWeightSpec(s, `${where}[${i}]`); });
  if (total > maxWeightBytes()) throw tooMuchMemory(where, total);
  return total;
}

/**
 * A weight file path from a manifest, resolved inside `dir`: relative, no '..', no NUL,
 * and the resolved path must stay inside the folder.
 */
export function resolveWeightPath(dir: string, p: unknown, where: string): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 1024) {
    throw new ModelFormatError(`${where}: a weight path must be a non-empty string, got ${show(p)}`);
  }
  let rel = p;
  try { rel = decodeURIComponent(p); } catch { /* not URL-encoded */ }
  const bad = rel.includes('\0') || path.isAbsolute(rel) || path.win32.isAbsolute(rel) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(rel)
    || rel.split(/[\\/]/).some((seg) => seg === '..');
  const base = path.resolve(dir);
  const full = path.resolve(base, rel);
  const inside = base.endsWith(path.sep) ? base : base + path.sep;
  if (bad || !full.startsWith(inside) || full.length === inside.length) {
    throw new ModelFormatError(`${where}: weight path ${show(p)} escapes the model folder ${base}`);
  }
  return full;
}

/** Parsed and checked model.json. */
export interface ModelJson {
  modelTopology: Record<string, unknown>;
  weightsManifest: WeightsManifestEntry[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  trainingConfig?: TrainingConfig;
  userDefinedMetadata?: Record<string, unknown>;
  /** Bytes each manifest group's files must hold together. */
  groupBytes: number[];
  /** Each weights file's size and checksum by its manifest path (files gradforge saved). */
  checksums?: Record<string, FileChecksum>;
}

/** Parses model.json text and checks its structure and weights manifest. */
export function parseModelJson(text: string, where: string): ModelJson {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(j)) throw new ModelFormatError(`${where}: expected a JSON object, got ${show(j)}`);
  const format = j.format;
  if (format !== undefined && format !== null && format !== 'layers-model') {
    throw new ModelFormatError(`${where}: format must be 'layers-model', got ${show(format)} (graph models are not supported)`);
  }
  if (!isObject(j.modelTopology)) throw new ModelFormatError(`${where}: modelTopology must be an object, got ${show(j.modelTopology)}`);
  const manifest = j.weightsManifest ?? [];
  if (!Array.isArray(manifest) || manifest.length > MAX_WEIGHTS) {
    throw new ModelFormatError(`${where}: weightsManifest must be an array of {paths, weights}, got ${show(manifest)}`);
  }
  const groupBytes: number[] = [];
  let total = 0;
  let count = 0;
  manifest.forEach((g, i) => {
    const at = `${where}: weightsManifest[${i}]`;
    if (!isObject(g)) throw new ModelFormatError(`${at} must be {paths, weights}, got ${show(g)}`);
    if (!Array.isArray(g.paths) || g.paths.length > 10_000 || g.paths.some((p) => typeof p !== 'string')) {
      throw new ModelFormatError(`${at}.paths must be an array of file names, got ${show(g.paths)}`);
    }
    const bytes = checkWeightSpecs(g.weights, `${at}.weights`);
    if (bytes > 0 && g.paths.length === 0) throw new ModelFormatError(`${at}: ${bytes} bytes of weights but no paths`);
    count += (g.weights as unknown[]).length;
    total += bytes;
    if (count > MAX_WEIGHTS) throw new ModelFormatError(`${where}: more than ${MAX_WEIGHTS} weights`);
    if (total > maxWeightBytes()) throw tooMuchMemory(where, total);
    groupBytes.push(bytes);
  });
  const checksums = parseChecksums(j[WEIGHTS_CHECKSUMS], `${where}: ${WEIGHTS_CHECKSUMS}`);
  const opt = (k: string): string | undefined => {
    const v = j[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ModelFormatError(`${where}: ${k} must be a string, got ${show(v)}`);
    return v;
  };
  const tc = j.trainingConfig;
  if (tc !== undefined && tc !== null && !isObject(tc)) throw new ModelFormatError(`${where}: trainingConfig must be an object, got ${show(tc)}`);
  const meta = j.userDefinedMetadata;
  if (meta !== undefined && meta !== null && !isObject(meta)) throw new ModelFormatError(`${where}: userDefinedMetadata must be an object, got ${show(meta)}`);
  return {
    modelTopology: j.modelTopology,
    weightsManifest: manifest as WeightsManifestEntry[],
    format: opt('format'),
    generatedBy: opt('generatedBy'),
    convertedBy: opt('convertedBy') ?? null,
    trainingConfig: (tc ?? undefined) as TrainingConfig | undefined,
    userDefinedMetadata: (meta ?? undefined) as Record<string, unknown> | undefined,
    groupBytes,
    checksums,
  };
}

/**
 * model.json's key (gradforge's; TensorFlow.js ignores it) that records each weights file's
 * size and FNV-1a checksum, by the path the manifest gives: `{"weights.bin": {bytes, fnv1a}}`.
 */
export const WEIGHTS_CHECKSUMS = 'weightsChecksums';

/** A weights file's size and FNV-1a (32-bit) checksum, as model.json records them. */
export interface FileChecksum {
  bytes: number;
  fnv1a: number;
}

function parseChecksums(v: unknown, where: string): Record<string, FileChecksum> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new ModelFormatError(`${where} must be {"<weights file>": {bytes, fnv1a}}, got ${show(v)}`);
  const out: Record<string, FileChecksum> = {};
  for (const [name, c] of Object.entries(v)) {
    if (!isObject(c) || !Number.isSafeInteger(c.bytes) || (c.bytes as number) < 0 || !isChecksum(c.fnv1a)) {
      throw new ModelFormatError(`${where}[${show(name)}] must be {bytes, fnv1a}, got ${show(c)}`);
    }
    out[name] = { bytes: c.bytes as number, fnv1a: c.fnv1a };
  }
  return out;
}

/**
 * The model.json object for a set of artifacts whose weights go to `paths` (with `checksums`,
 * each file's size and checksum).
 */
export function modelJsonFor(a: ModelArtifacts, paths: string[], checksums?: Record<string, FileChecksum>): Record<string, unknown> {
  const j: Record<string, unknown> = {
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy ?? `gradforge ${GRADFORGE_VERSION}`,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths, weights: a.weightSpecs ?? [] }],
  };
  if (a.trainingConfig !== undefined) j.trainingConfig = a.trainingConfig;
  if (a.userDefinedMetadata !== undefined) j.userDefinedMetadata = a.userDefinedMetadata;
  if (checksums !== undefined) j[WEIGHTS_CHECKSUMS] = checksums;
  return j;
}

/** The most bytes one typed-array copy handles (a Uint8Array view is at most 2^32 long). */
const COPY_CHUNK = 2 ** 30;

/** Copies n bytes between array buffers, in chunks (a buffer may be longer than any Uint8Array). */
export function copyBytes(dst: ArrayBuffer, dstOff: number, src: ArrayBufferLike, srcOff: number, n: number): void {
  for (let done = 0; done < n;) {
    const k = Math.min(COPY_CHUNK, n - done);
    new Uint8Array(dst, dstOff + done, k).set(new Uint8Array(src, srcOff + done, k));
    done += k;
  }
}

/**
 * Whether v is an ArrayBuffer, also one made in another realm (a vm context, jest's sandbox,
 * a worker's transfer), where instanceof is false.
 */
function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return v instanceof ArrayBuffer || Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** Weight data given as an ArrayBuffer, a view of one (Buffer, Uint8Array), or a list of them (tfjs 4). */
export function toArrayBuffer(data: unknown, where: string): ArrayBuffer {
  if (data === undefined || data === null) return new ArrayBuffer(0);
  if (isArrayBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) {
    const out = new ArrayBuffer(data.byteLength);
    copyBytes(out, 0, data.buffer, data.byteOffset, data.byteLength);
    return out;
  }
  if (Array.isArray(data) && data.every((d) => isArrayBuffer(d) || ArrayBuffer.isView(d))) {
    const parts = data.map((d: ArrayBuffer | ArrayBufferView) => (isArrayBuffer(d) ? { buf: d as ArrayBufferLike, off: 0, n: d.byteLength } : { buf: d.buffer, off: d.byteOffset, n: d.byteLength }));
    const total = parts.reduce((n, p) => n + p.n, 0);
    if (total > maxWeightBytes()) throw tooMuchMemory(`${where}: weightData`, total);
    const out = new ArrayBuffer(total);
    let off = 0;
    for (const p of parts) { copyBytes(out, off, p.buf, p.off, p.n); off += p.n; }
    return out;
  }
  throw new ModelFormatError(`${where}: weightData must be an ArrayBuffer (or a Buffer / typed array), got ${Object.prototype.toString.call(data)}`);
}

/**
 * Checks a full set of artifacts (from any handler): topology object, weight specs, and the
 * weight data's length against the specs. Returns the data as one ArrayBuffer.
 */
export function checkArtifacts(a: unknown, where: string): { artifacts: ModelArtifacts; data: ArrayBuffer } {
  const { artifacts, bytes } = checkArtifactsWithoutData(a, where);
  const data = toArrayBuffer(artifacts.weightData, where);
  if (data.byteLength !== bytes) {
    throw new ModelFormatError(`${where}: weightData holds ${data.byteLength} bytes, the weight specs need ${bytes}`);
  }
  return { artifacts, data };
}

/** checkArtifacts without the weight data (still on disk): returns the bytes the specs need. */
export function checkArtifactsWithoutData(a: unknown, where: string): { artifacts: ModelArtifacts; bytes: number } {
  if (!isObject(a)) throw new ModelFormatError(`${where}: expected model artifacts {modelTopology, weightSpecs, weightData}, got ${show(a)}`);
  if (!isObject(a.modelTopology)) throw new ModelFormatError(`${where}: modelTopology must be an object, got ${show(a.modelTopology)}`);
  const specs = a.weightSpecs ?? [];
  const bytes = checkWeightSpecs(specs, `${where}: weightSpecs`);
  const tc = a.trainingConfig;
  if (tc !== undefined && tc !== null && !isObject(tc)) throw new ModelFormatError(`${where}: trainingConfig must be an object, got ${show(tc)}`);
  return { artifacts: { ...(a as unknown as ModelArtifacts), weightSpecs: specs as WeightSpec[], trainingConfig: (tc ?? undefined) as TrainingConfig | undefined }, bytes };
}

/** The typed-array views of each spec's bytes in `data` (specs already checked). */
export function splitWeights(specs: readonly WeightSpec[], data: ArrayBuffer): (Float32Array | Int32Array)[] {
  let off = 0;
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const view = s.dtype === 'int32' ? new Int32Array(data, off, n) : new Float32Array(data, off, n);
    off += n * 4;
    return view;
  });
}

/** Concatenates tensors' bytes (float32 or int32 arrays) into one ArrayBuffer. */
export function concatWeights(arrays: readonly (Float32Array | Int32Array)[]): ArrayBuffer {
  const total = arrays.reduce((n, a) => n + a.byteLength, 0);
  const out = new ArrayBuffer(total);
  let off = 0;
  for (const a of arrays) {
    copyBytes(out, off, a.buffer, a.byteOffset, a.byteLength);
    off += a.byteLength;
  }
  return out;
}
