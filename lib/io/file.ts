/**
 * The file:// handler: a model is a folder with model.json and its weights file.
 *
 * Saving is atomic with model.json as the single commit point. Each file is written under a
 * temporary name in the same folder, flushed (fsync), then renamed into place, and the folder
 * itself is flushed after each rename. The new weights never replace the file the current
 * model.json names: they go to the other of two names, weights.bin and weights.alt.bin (a save
 * over a saved model writes weights.alt.bin, the next one weights.bin again), then model.json
 * is renamed over the old one. A crash at any moment therefore leaves a model.json whose
 * weights file is complete: the old model or the new one. The previous weights file is kept
 * (the next save overwrites it), so a reader in another process that read model.json just
 * before a save still finds the weights it names. A model json with another name, a.json,
 * alternates between a.weights.bin and a.weights.alt.bin, so models sharing a folder never
 * share weights. Saves to one folder from this process run one at a time.
 *
 * Loading checks model.json, every weight path (no escaping the folder) and every file's size
 * against the manifest before reading any weights. Sharded weights (group1-shard1of3.bin ...)
 * are read in manifest order.
 *
 * @example
 * await model.save('file://./models/mnist');
 * const m = await gf.loadModel('file://./models/mnist');
 */
import * as fs from 'fs/promises';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { ModelFormatError, ValueError } from '../errors';
import { MAX_MODEL_JSON_BYTES, modelJsonFor, parseModelJson, resolveWeightPath } from './format';
import { artifactsInfo, IOHandler, ModelArtifacts, SaveResult, WeightSpec } from './types';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** Where a save over a model whose model.json names weights.bin puts the new weights. */
export const WEIGHTS_BIN_ALT = 'weights.alt.bin';

/** The two weight file names a model json alternates between (see the top of this file). */
function weightNames(jsonName: string): [string, string] {
  if (jsonName === MODEL_JSON) return [WEIGHTS_BIN, WEIGHTS_BIN_ALT];
  const stem = jsonName.replace(/\.json$/, '');
  return [`${stem}.${WEIGHTS_BIN}`, `${stem}.${WEIGHTS_BIN_ALT}`];
}

const savesInFlight = new Map<string, Promise<unknown>>();

/** Runs fn after every earlier call for the same key has settled (one save per folder at a time). */
async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (savesInFlight.get(key) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  savesInFlight.set(key, tail);
  try {
    return await run;
  } finally {
    if (savesInFlight.get(key) === tail) savesInFlight.delete(key);
  }
}

const TEMP_RE = /^\.(.+)\.tmp-(\d+)-[0-9a-f]+$/;

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** Writes data to a new temporary file next to `finalName` and flushes it; returns its path. */
async function writeTemp(dir: string, finalName: string, data: string | Uint8Array): Promise<string> {
  const tmp = path.join(dir, `.${finalName}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/** Flushes a folder's entries (renames) to disk where the platform allows it. */
async function syncDir(dir: string): Promise<void> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Windows cannot open folders; some file systems refuse fsync on them
    if (!['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP'].includes(errCode(e) ?? '')) throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM';
  }
}

/** Removes temporaries left by saves whose process died (a crash mid-save). */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try { names = await fs.readdir(dir); } catch { return; }
  for (const n of names) {
    const m = TEMP_RE.exec(n);
    if (m === null) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !alive(pid)) await fs.unlink(path.join(dir, n)).catch(() => undefined);
  }
}

export interface WriteFilesOptions {
  /**
   * Remove temporaries of this module left in `dir` by processes that died mid-save (default
   * true). Off for folders that are not model folders (a PNG saved into any folder).
   */
  cleanStaleTemps?: boolean;
}

/**
 * Writes files into `dir` atomically, each under a temporary name first; renames them in the
 * given order (put the file that references the others last), flushing the folder after each
 * rename so they reach the disk in that order.
 */
export async function writeFilesAtomic(dir: string, files: { name: string; data: string | Uint8Array }[],
  opts: WriteFilesOptions = {}): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  if (opts.cleanStaleTemps ?? true) await removeStaleTemps(dir);
  const temps: string[] = [];
  try {
    for (const f of files) temps.push(await writeTemp(dir, f.name, f.data));
    // the temporaries' directory entries must be durable before they replace the old files
    await syncDir(dir);
    for (let i = 0; i < files.length; i++) {
      await fs.rename(temps[i], path.join(dir, files[i].name));
      temps[i] = '';
      await syncDir(dir);
    }
  } finally {
    for (const t of temps) if (t !== '') await fs.unlink(t).catch(() => undefined);
  }
}

async function statOrFail(p: string, what: string): Promise<import('fs').Stats> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) throw new ModelFormatError(`${what} ${p} is not a file`);
    return st;
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    throw new ModelFormatError(`${what} ${p} cannot be read (${errCode(e) ?? (e as Error).message})`);
  }
}

/** Reads exactly `length` bytes of a file into `into` at `offset`. */
async function readExactly(p: string, into: Uint8Array, offset: number, length: number): Promise<void> {
  const fh = await fs.open(p, 'r');
  try {
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(into, offset + got, length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const extra = await fh.read(Buffer.alloc(1), 0, 1, length);
    if (got !== length || extra.bytesRead !== 0) throw new ModelFormatError(`weight file ${p} changed size while being read`);
  } finally {
    await fh.close();
  }
}

/** Saves and loads a model folder (model.json + weights.bin). */
export class FileSystemHandler implements IOHandler {
  /** The folder. */
  readonly dir: string;
  /** model.json's path (a path ending in .json names it directly when loading). */
  readonly modelJsonPath: string;

  constructor(p: string) {
    if (typeof p !== 'string' || p.length === 0) throw new ValueError(`file handler: expected a folder path, got ${String(p)}`);
    if (p.endsWith('.json')) {
      this.dir = path.resolve(path.dirname(p));
      this.modelJsonPath = path.resolve(p);
    } else {
      this.dir = path.resolve(p);
      this.modelJsonPath = path.join(this.dir, MODEL_JSON);
    }
  }

  async save(artifacts: ModelArtifacts): Promise<SaveResult> {
    return oneAtATime(this.modelJsonPath, async () => {
      const [primary, alternate] = weightNames(path.basename(this.modelJsonPath));
      const current = await this.referencedWeightFiles();
      const weightsName = current.has(primary) ? alternate : primary;
      const json = JSON.stringify(modelJsonFor(artifacts, [weightsName]));
      const data = new Uint8Array(artifacts.weightData ?? new ArrayBuffer(0));
      // weights first (under a name the current model.json does not use), model.json last:
      // its rename is the moment the new model replaces the old one
      await writeFilesAtomic(this.dir, [
        { name: weightsName, data },
        { name: path.basename(this.modelJsonPath), data: json },
      ]);
      return { modelArtifactsInfo: artifactsInfo(artifacts) };
    });
  }

  /**
   * Deletes the saved model: the model json first (without it the folder holds no model), then
   * the two weights files this handler writes for it. Other files in the folder are left alone.
   */
  async remove(): Promise<void> {
    await oneAtATime(this.modelJsonPath, async () => {
      await fs.rm(this.modelJsonPath, { force: true });
      for (const name of weightNames(path.basename(this.modelJsonPath))) await fs.rm(path.join(this.dir, name), { force: true });
    });
  }

  /** The weight files (names in this folder) that the current model json names; none when unreadable. */
  private async referencedWeightFiles(): Promise<Set<string>> {
    const names = new Set<string>();
    try {
      const st = await fs.stat(this.modelJsonPath);
      if (!st.isFile() || st.size > MAX_MODEL_JSON_BYTES) return names;
      const j = JSON.parse(await fs.readFile(this.modelJsonPath, 'utf8')) as { weightsManifest?: unknown };
      if (!Array.isArray(j.weightsManifest)) return names;
      for (const g of j.weightsManifest as { paths?: unknown }[]) {
        if (g === null || typeof g !== 'object' || !Array.isArray(g.paths)) continue;
        for (const p of g.paths) {
          if (typeof p !== 'string') continue;
          const q = path.normalize(p);  // './weights.bin' names weights.bin too
          if (q === path.basename(q)) names.add(q);
        }
      }
    } catch {
      // no model json yet, or one that cannot be parsed: nothing in the folder is a model
    }
    return names;
  }

  async load(): Promise<ModelArtifacts> {
    const where = this.modelJsonPath;
    const st = await statOrFail(this.modelJsonPath, 'model file');
    if (st.size > MAX_MODEL_JSON_BYTES) throw new ModelFormatError(`${where}: ${st.size} bytes is more than a model.json may have (${MAX_MODEL_JSON_BYTES})`);
    let text: string;
    try {
      text = await fs.readFile(this.modelJsonPath, 'utf8');
    } catch (e) {
      throw new ModelFormatError(`${where}: cannot be read (${errCode(e) ?? (e as Error).message})`);
    }
    const j = parseModelJson(text, where);
    // every path and size first, then one buffer for all the weights
    const groups: { files: { path: string; size: number }[]; bytes: number }[] = [];
    let total = 0;
    for (let g = 0; g < j.weightsManifest.length; g++) {
      const files: { path: string; size: number }[] = [];
      let bytes = 0;
      for (const [k, p] of j.weightsManifest[g].paths.entries()) {
        const full = resolveWeightPath(this.dir, p, `${where}: weightsManifest[${g}].paths[${k}]`);
        const fst = await statOrFail(full, `${where}: weight file`);
        files.push({ path: full, size: fst.size });
        bytes += fst.size;
      }
      if (bytes !== j.groupBytes[g]) {
        throw new ModelFormatError(`${where}: weightsManifest[${g}]: the weight files hold ${bytes} bytes, the manifest's weights need ${j.groupBytes[g]}`);
      }
      groups.push({ files, bytes });
      total += bytes;
    }
    const buf = new Uint8Array(total);
    let off = 0;
    for (const g of groups) {
      for (const f of g.files) {
        await readExactly(f.path, buf, off, f.size).catch((e: unknown) => {
          if (e instanceof ModelFormatError) throw e;
          throw new ModelFormatError(`${where}: weight file ${f.path} cannot be read (${errCode(e) ?? (e as Error).message})`);
        });
        off += f.size;
      }
    }
    const weightSpecs: WeightSpec[] = j.weightsManifest.flatMap((g) => g.weights);
    return {
      modelTopology: j.modelTopology,
      weightSpecs,
      weightData: buf.buffer,
      format: j.format,
      generatedBy: j.generatedBy,
      convertedBy: j.convertedBy,
      trainingConfig: j.trainingConfig,
      userDefinedMetadata: j.userDefinedMetadata,
    };
  }
}

/**
 * A handler for a model folder.
 * @example await model.save(gf.io.fileSystem('./models/mnist'));
 */
export function fileSystem(p: string): FileSystemHandler {
  return new FileSystemHandler(p);
}
