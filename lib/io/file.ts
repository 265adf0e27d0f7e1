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
 * share weights. model.json records each weights file's size and FNV-1a checksum
 * (weightsChecksums, which TensorFlow.js ignores); loading verifies them.
 *
 * Saves into one folder are serialised, in this process (a queue) and across processes: a save
 * holds the lock file .gradforge-save.lock (created atomically, holding pid, hostname, time and
 * a token) from choosing the weights name to model.json's rename, and refreshes its time while
 * it holds it. A lock whose holder died (its pid is gone on this host) or that has not been
 * refreshed for lockStaleMs (60 s) is taken over: it is deleted only by the saver holding a guard
 * file beside it (.gradforge-save.lock.takeover, created with O_EXCL), after reading it again
 * under the guard, so of several savers that judged one lock stale only one deletes it and none
 * deletes the lock another has made since. A save that finds the
 * lock taken over from it (it stalled past lockStaleMs) renames nothing more and fails. A
 * saver waits at most lockTimeoutMs (30 s), then fails naming the folder and the holder.
 * Loads take no lock: model.json is the commit point.
 *
 * Loading opens model.json, then every weights file it names, then checks that model.json is
 * still the same file; if a save replaced it in between, it starts again. The open files are
 * the snapshot it reads (a save renames new files in, never rewrites one), so a load sees one
 * save's whole model. It checks model.json, every weight path (no escaping the folder), the
 * total the manifest needs against this machine's memory, and every file's size against the
 * manifest before allocating or reading any weights. Sharded weights (group1-shard1of3.bin ...)
 * are read in manifest order. Files are read and written in chunks of at most chunkBytes (1 GiB;
 * one Node read or write may not pass 2 GiB), and gf.loadModel reads the weights straight into
 * the model's own tensors.
 *
 * @example
 * await model.save('file://./models/mnist');
 * const m = await gf.loadModel('file://./models/mnist');
 */
import * as fs from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { GradforgeError, ModelFormatError, ValueError } from '../errors';
import { FNV1A_INIT, fnv1a } from './checksum';
import { FileChecksum, MAX_MODEL_JSON_BYTES, ModelJson, modelJsonFor, parseModelJson, resolveWeightPath, toArrayBuffer } from './format';
import { artifactsInfo, IOHandler, ModelArtifacts, SaveResult, WeightSpec } from './types';

/** Knobs of the file handler (tests make them small). */
export interface IoTuning {
  /** The most bytes one read or write call moves (default 1 GiB). */
  chunkBytes: number;
  /** How long a save waits for another process's lock on the folder (default 30 s). */
  lockTimeoutMs: number;
  /** A lock not refreshed for this long is taken over (default 60 s). */
  lockStaleMs: number;
}

const tuning: IoTuning = { chunkBytes: 2 ** 30, lockTimeoutMs: 30_000, lockStaleMs: 60_000 };

/** Changes some knobs (internal; for tests); returns the previous values, to put them back. */
export function setIoTuning(t: Partial<IoTuning>): IoTuning {
  const prev = { ...tuning };
  for (const k of ['chunkBytes', 'lockTimeoutMs', 'lockStaleMs'] as const) {
    const v = t[k];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1 || (k === 'chunkBytes' && v > 2 ** 30)) throw new ValueError(`setIoTuning: ${k} must be an integer in [1, ${k === 'chunkBytes' ? 2 ** 30 : 'inf'}], got ${String(v)}`);
    tuning[k] = v;
  }
  return prev;
}

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

/** Writes all of data at position 0, at most chunkBytes per call, looping on short writes. */
async function writeAll(fh: fs.FileHandle, data: Uint8Array | ArrayBuffer): Promise<void> {
  const buf: ArrayBufferLike = data instanceof ArrayBuffer ? data : data.buffer;
  const base = data instanceof ArrayBuffer ? 0 : data.byteOffset;
  const len = data.byteLength;
  for (let off = 0; off < len;) {
    const n = Math.min(tuning.chunkBytes, len - off);
    const { bytesWritten } = await fh.write(new Uint8Array(buf, base + off, n), 0, n, off);
    if (!(bytesWritten > 0)) throw new Error(`write made no progress at byte ${off} of ${len}`);
    off += bytesWritten;
  }
}

/** Writes data to a new temporary file next to `finalName` and flushes it; returns its path. */
async function writeTemp(dir: string, finalName: string, data: string | Uint8Array | ArrayBuffer): Promise<string> {
  const tmp = tempName(dir, finalName);
  const fh = await fs.open(tmp, 'wx', 0o644);
  try {
    await writeAll(fh, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/** A temporary name for `finalName` in dir, which removeStaleTemps recognises. */
function tempName(dir: string, finalName: string): string {
  return path.join(dir, `.${finalName}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
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
  /** Called before each rename; throwing stops the save there (the save lock's check). */
  beforeRename?: () => Promise<void>;
}

/**
 * Writes files into `dir` atomically, each under a temporary name first; renames them in the
 * given order (put the file that references the others last), flushing the folder after each
 * rename so they reach the disk in that order.
 */
export async function writeFilesAtomic(dir: string, files: { name: string; data: string | Uint8Array | ArrayBuffer }[],
  opts: WriteFilesOptions = {}): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  if (opts.cleanStaleTemps ?? true) await removeStaleTemps(dir);
  const temps: string[] = [];
  try {
    for (const f of files) temps.push(await writeTemp(dir, f.name, f.data));
    // the temporaries' directory entries must be durable before they replace the old files
    await syncDir(dir);
    for (let i = 0; i < files.length; i++) {
      if (opts.beforeRename !== undefined) await opts.beforeRename();
      await fs.rename(temps[i], path.join(dir, files[i].name));
      temps[i] = '';
      await syncDir(dir);
    }
  } finally {
    for (const t of temps) if (t !== '') await fs.unlink(t).catch(() => undefined);
  }
}

// ---- the save lock ------------------------------------------------------------------------

/** The lock file a save holds in its folder (see the top of this file). */
export const SAVE_LOCK = '.gradforge-save.lock';

interface LockInfo {
  pid: number;
  hostname: string;
  time: string;
  token: string;
}

interface SeenLock {
  /** The file's text, to recognise the same lock again. */
  text: string;
  info: LockInfo | null;
  mtimeMs: number;
  /** The file itself (its inode): the same text can come back in a new lock file, the inode cannot while this one exists. */
  ino: number;
}

/** Lock files this process holds, by path, with their tokens. */
const heldLocks = new Map<string, string>();

function parseLock(text: string): LockInfo | null {
  try {
    const j = JSON.parse(text) as Partial<LockInfo>;
    if (Number.isSafeInteger(j.pid) && typeof j.hostname === 'string' && typeof j.token === 'string') return j as LockInfo;
  } catch { /* a lock being written, or not ours */ }
  return null;
}

/** The lock at p, or null when there is none. */
async function readLock(p: string): Promise<SeenLock | null> {
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(p, 'r');
    const st = await fh.stat();
    const text = st.size > 4096 ? '' : await fh.readFile('utf8');
    return { text, info: parseLock(text), mtimeMs: st.mtimeMs, ino: st.ino };
  } catch (e) {
    if (errCode(e) === 'ENOENT') return null;
    throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

function describeLock(l: SeenLock): string {
  if (l.info === null) return `an unreadable lock (${JSON.stringify(l.text.slice(0, 60))}, last refreshed ${new Date(l.mtimeMs).toISOString()})`;
  return `pid ${l.info.pid} on ${l.info.hostname} (since ${l.info.time}, last refreshed ${new Date(l.mtimeMs).toISOString()})`;
}

/** Whether a lock's holder is gone: dead on this host, a leftover of this pid, or silent too long. */
function isStale(l: SeenLock, lockPath: string): boolean {
  if (Date.now() - l.mtimeMs > tuning.lockStaleMs) return true;
  const i = l.info;
  if (i === null || i.hostname !== os.hostname()) return false;  // cannot check the holder: age only
  if (i.pid === process.pid) return heldLocks.get(lockPath) !== i.token;  // (saves of one folder queue up in this process)
  return !alive(i.pid);
}

/** Creates the lock file with its whole content at once (hard link of a written file); false when it exists. */
async function tryCreateLock(dir: string, lockPath: string, text: string): Promise<boolean> {
  const tmp = tempName(dir, SAVE_LOCK.slice(1));
  await fs.writeFile(tmp, text, { flag: 'wx' });
  try {
    await fs.link(tmp, lockPath);
    return true;
  } catch (e) {
    if (errCode(e) === 'EEXIST') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'].includes(errCode(e) ?? '')) throw e;
    // no hard links here: O_EXCL (a reader may see the file empty for a moment; it then goes by age)
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(lockPath, 'wx');
    } catch (e2) {
      if (errCode(e2) === 'EEXIST') return false;
      throw e2;
    }
    try { await fh.writeFile(text); } finally { await fh.close(); }
    return true;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

/** A takeover guard older than this was left by a saver that died while holding it (it holds it for a few ms). */
const kTakeoverGuardStaleMs = 10_000;

/**
 * Takes a stale lock away. Deleting by path is not conditional: two savers that had both judged
 * one dead lock stale could each delete "it", the second deleting the lock the first had just
 * made, and a third's create then took the lock from under the first (its save failed as taken
 * over - seen in CI when three writers met a dead lock at once; the inode the dead lock freed
 * comes back in the next lock file, so an inode check before a rename aside did not tell them
 * apart either). So a stale lock is deleted only under the guard, after reading it again: if it
 * is not the very lock judged stale (its text holds a random token; an alive holder refreshes
 * its time), it is left alone.
 */
async function removeStaleLock(lockPath: string, seen: SeenLock): Promise<void> {
  const guard = `${lockPath}.takeover`;
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(guard, 'wx');
  } catch (e) {
    if (errCode(e) !== 'EEXIST') throw e;
    // another saver is taking it over: wait for it; a guard its saver left behind goes by its holder or its age
    const st = await fs.stat(guard).catch(() => null);
    const holder = Number(await fs.readFile(guard, 'utf8').catch(() => ''));
    const dead = Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && !alive(holder);
    if (st !== null && (dead || Date.now() - st.mtimeMs > kTakeoverGuardStaleMs)) await fs.unlink(guard).catch(() => undefined);
    await sleep(1);
    return;
  }
  try {
    try { await fh.writeFile(String(process.pid)); } finally { await fh.close(); }
    const now = await readLock(lockPath);
    if (now !== null && now.ino === seen.ino && now.text === seen.text && now.mtimeMs === seen.mtimeMs) {
      await fs.unlink(lockPath).catch((e: unknown) => { if (errCode(e) !== 'ENOENT') throw e; });
    }
  } finally {
    await fs.unlink(guard).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The held lock: check() throws if another process took it over; release() lets it go. */
interface SaveLock {
  check(): Promise<void>;
  release(): Promise<void>;
}

async function acquireSaveLock(dir: string): Promise<SaveLock> {
  await fs.mkdir(dir, { recursive: true });
  const lockPath = path.join(dir, SAVE_LOCK);
  const token = randomBytes(8).toString('hex');
  const text = JSON.stringify({ pid: process.pid, hostname: os.hostname(), time: new Date().toISOString(), token });
  const deadline = Date.now() + tuning.lockTimeoutMs;
  let delay = 2;
  for (;;) {
    if (await tryCreateLock(dir, lockPath, text)) break;
    const seen = await readLock(lockPath);
    if (seen === null) continue;  // released just now
    if (isStale(seen, lockPath)) {
      await removeStaleLock(lockPath, seen);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new GradforgeError(`save: the folder ${dir} is locked by another save (${SAVE_LOCK}: ${describeLock(seen)}); waited ${tuning.lockTimeoutMs} ms. If no save is running there, delete ${lockPath}`);
    }
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 100);
  }
  heldLocks.set(lockPath, token);
  // keep the lock fresh while the save runs, so that nobody takes it for stale
  const beat = setInterval(() => {
    const now = new Date();
    fs.utimes(lockPath, now, now).catch(() => undefined);
  }, Math.max(1, Math.min(1000, Math.floor(tuning.lockStaleMs / 4))));
  beat.unref();
  const ours = async (): Promise<SeenLock | null> => {
    const l = await readLock(lockPath);
    return l !== null && l.info?.token === token ? l : null;
  };
  return {
    async check(): Promise<void> {
      const l = await ours();
      if (l === null) {
        const now = await readLock(lockPath).catch(() => null);
        throw new GradforgeError(`save: the lock on ${dir} was taken over (this save stalled for more than ${tuning.lockStaleMs} ms); now ${now === null ? 'nobody' : describeLock(now)} holds it. Nothing more was renamed; model.json is still a whole model`);
      }
    },
    async release(): Promise<void> {
      clearInterval(beat);
      heldLocks.delete(lockPath);
      if ((await ours().catch(() => null)) !== null) await fs.unlink(lockPath).catch(() => undefined);
    },
  };
}

/**
 * Runs fn holding the folder's save lock (one save into `dir` at a time, across processes);
 * fn gets the lock's check, to call before each rename.
 */
export async function withSaveLock<T>(dir: string, fn: (check: () => Promise<void>) => Promise<T>): Promise<T> {
  const folder = path.resolve(dir);
  return oneAtATime(`lock:${folder}`, async () => {
    const lock = await acquireSaveLock(folder);
    try {
      return await fn(() => lock.check());
    } finally {
      await lock.release();
    }
  });
}

// ---- reading ------------------------------------------------------------------------------

/** One open weights file of a load's snapshot. */
interface OpenWeightFile {
  fh: fs.FileHandle;
  path: string;
  size: number;
  checksum: FileChecksum | undefined;
}

/**
 * Where a run of the weights' bytes goes, in manifest order: a part of an ArrayBuffer (a typed
 * array will do), or null to read and drop them.
 */
export type WeightSink = { buffer: ArrayBufferLike; byteOffset: number; byteLength: number } | { buffer: null; byteLength: number };

/** A model folder opened for loading: its model.json, and weights still on disk. */
export interface OpenedModel {
  /** Everything but weightData. */
  artifacts: ModelArtifacts;
  /** The bytes of all the weights (the specs' total). */
  weightBytes: number;
  /**
   * Reads all the weights into the sinks, in order (their byteLengths add up to weightBytes),
   * checking sizes and checksums; closes the files.
   */
  readWeights(sinks: readonly WeightSink[]): Promise<void>;
  /** Closes the files without reading (after a failure elsewhere). */
  close(): Promise<void>;
}

const MAX_OPEN_ATTEMPTS = 50;
/** Bytes checksummed between two turns of the event loop when saving. */
const HASH_SLICE = 2 ** 26;

async function closeAll(fhs: readonly fs.FileHandle[]): Promise<void> {
  for (const fh of fhs) await fh.close().catch(() => undefined);
}

async function readWeightFiles(files: readonly OpenWeightFile[], sinks: readonly WeightSink[], where: string): Promise<void> {
  const want = files.reduce((n, f) => n + f.size, 0);
  const have = sinks.reduce((n, s) => n + s.byteLength, 0);
  if (want !== have) throw new Error(`${where}: internal: the files hold ${want} bytes, the sinks take ${have}`);
  let si = 0;
  let done = 0;
  let scratch: Uint8Array | null = null;
  for (const f of files) {
    let h = FNV1A_INIT;
    for (let pos = 0; pos < f.size;) {
      while (sinks[si].byteLength === done) { si++; done = 0; }
      const s = sinks[si];
      const n = Math.min(tuning.chunkBytes, f.size - pos, s.byteLength - done);
      let view: Uint8Array;
      if (s.buffer === null) {
        if (scratch === null || scratch.length < n) scratch = new Uint8Array(Math.min(tuning.chunkBytes, Math.max(n, 1 << 16)));
        view = scratch.subarray(0, n);
      } else {
        view = new Uint8Array(s.buffer, s.byteOffset + done, n);
      }
      let got: number;
      try {
        got = (await f.fh.read(view, 0, n, pos)).bytesRead;
      } catch (e) {
        throw new ModelFormatError(`${where}: weight file ${f.path} cannot be read (${errCode(e) ?? (e as Error).message})`);
      }
      if (got === 0) throw new ModelFormatError(`${where}: weight file ${f.path} changed size while being read`);
      if (f.checksum !== undefined) h = fnv1a(got === n ? view : view.subarray(0, got), h);
      pos += got;
      done += got;
    }
    const extra = await f.fh.read(Buffer.alloc(1), 0, 1, f.size);
    if (extra.bytesRead !== 0) throw new ModelFormatError(`${where}: weight file ${f.path} changed size while being read`);
    if (f.checksum !== undefined && h !== f.checksum.fnv1a) {
      throw new ModelFormatError(`${where}: weight file ${f.path} is damaged: its FNV-1a checksum is ${h}, model.json records ${f.checksum.fnv1a}`);
    }
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
    const data = toArrayBuffer(artifacts.weightData, `save ${this.modelJsonPath}`);
    return oneAtATime(this.modelJsonPath, () => withSaveLock(this.dir, async (check) => {
      const [primary, alternate] = weightNames(path.basename(this.modelJsonPath));
      const current = await this.referencedWeightFiles();
      const weightsName = current.has(primary) ? alternate : primary;
      let h = FNV1A_INIT;
      for (let off = 0; off < data.byteLength; off += HASH_SLICE) {
        h = fnv1a(new Uint8Array(data, off, Math.min(HASH_SLICE, data.byteLength - off)), h);
        await new Promise(setImmediate);  // (lets the lock's refresh run during a long checksum)
      }
      const json = JSON.stringify(modelJsonFor(artifacts, [weightsName], { [weightsName]: { bytes: data.byteLength, fnv1a: h } }));
      // weights first (under a name the current model.json does not use), model.json last:
      // its rename is the moment the new model replaces the old one
      await writeFilesAtomic(this.dir, [
        { name: weightsName, data },
        { name: path.basename(this.modelJsonPath), data: json },
      ], { beforeRename: check });
      return { modelArtifactsInfo: artifactsInfo({ ...artifacts, weightData: data }) };
    }));
  }

  /**
   * Deletes the saved model: the model json first (without it the folder holds no model), then
   * the two weights files this handler writes for it. Other files in the folder are left alone.
   */
  async remove(): Promise<void> {
    await oneAtATime(this.modelJsonPath, () => withSaveLock(this.dir, async () => {
      await fs.rm(this.modelJsonPath, { force: true });
      for (const name of weightNames(path.basename(this.modelJsonPath))) await fs.rm(path.join(this.dir, name), { force: true });
    }));
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
    const m = await this.open();
    let buf: ArrayBuffer;
    try {
      buf = new ArrayBuffer(m.weightBytes);
    } catch (e) {
      await m.close();
      throw new ModelFormatError(`${this.modelJsonPath}: cannot allocate ${m.weightBytes} bytes for the weights (${(e as Error).message})`);
    }
    await m.readWeights([{ buffer: buf, byteOffset: 0, byteLength: buf.byteLength }]);
    return { ...m.artifacts, weightData: buf };
  }

  /**
   * Opens the model for loading (internal; gf.loadModel reads the weights straight into the
   * model's tensors): model.json read and checked, the weights files open and their sizes
   * checked, nothing read from them yet. See the top of this file for the snapshot.
   */
  async open(): Promise<OpenedModel> {
    for (let attempt = 1; ; attempt++) {
      const m = await this.tryOpen(attempt === MAX_OPEN_ATTEMPTS);
      if (m !== null) return m;
      await sleep(attempt);
    }
  }

  /** One attempt of open(); null when model.json was replaced meanwhile. */
  private async tryOpen(last: boolean): Promise<OpenedModel | null> {
    const where = this.modelJsonPath;
    let jfh: fs.FileHandle;
    try {
      jfh = await fs.open(where, 'r');
    } catch (e) {
      throw new ModelFormatError(`model file ${where} cannot be read (${errCode(e) ?? (e as Error).message})`);
    }
    const handles: fs.FileHandle[] = [jfh];
    try {
      const st = await jfh.stat();
      if (!st.isFile()) throw new ModelFormatError(`model file ${where} is not a file`);
      if (st.size > MAX_MODEL_JSON_BYTES) throw new ModelFormatError(`${where}: ${st.size} bytes is more than a model.json may have (${MAX_MODEL_JSON_BYTES})`);
      let text: string;
      try {
        text = await jfh.readFile('utf8');
      } catch (e) {
        throw new ModelFormatError(`${where}: cannot be read (${errCode(e) ?? (e as Error).message})`);
      }
      const j: ModelJson = parseModelJson(text, where);
      // every weights file opened (then its contents cannot change under us: saves rename)
      const groups: OpenWeightFile[][] = [];
      let problem: ModelFormatError | null = null;
      for (let g = 0; g < j.weightsManifest.length && problem === null; g++) {
        const files: OpenWeightFile[] = [];
        for (const [k, p] of j.weightsManifest[g].paths.entries()) {
          const full = resolveWeightPath(this.dir, p, `${where}: weightsManifest[${g}].paths[${k}]`);
          let fh: fs.FileHandle;
          try {
            fh = await fs.open(full, 'r');
          } catch (e) {
            problem = new ModelFormatError(`${where}: weight file ${full} cannot be read (${errCode(e) ?? (e as Error).message})`);
            break;
          }
          handles.push(fh);
          const fst = await fh.stat();
          if (!fst.isFile()) {
            problem = new ModelFormatError(`${where}: weight file ${full} is not a file`);
            break;
          }
          const checksum = j.checksums?.[p];
          if (j.checksums !== undefined && checksum === undefined) {
            problem = new ModelFormatError(`${where}: weightsChecksums has no entry for the weight file ${JSON.stringify(p)}`);
            break;
          }
          files.push({ fh, path: full, size: fst.size, checksum });
        }
        groups.push(files);
      }
      // model.json still the file we read? (a save renames a new one over it)
      const now = await fs.stat(where).catch(() => null);
      if (now === null || now.ino !== st.ino || now.dev !== st.dev) {
        if (last) throw new ModelFormatError(`${where}: model.json was replaced by a save each of ${MAX_OPEN_ATTEMPTS} times it was opened`);
        await closeAll(handles);
        return null;
      }
      if (problem !== null) throw problem;
      let total = 0;
      groups.forEach((files, g) => {
        const bytes = files.reduce((n, f) => n + f.size, 0);
        if (bytes !== j.groupBytes[g]) {
          throw new ModelFormatError(`${where}: weightsManifest[${g}]: the weight files hold ${bytes} bytes, the manifest's weights need ${j.groupBytes[g]}`);
        }
        total += bytes;
      });
      const files = groups.flat();
      for (const f of files) {
        if (f.checksum !== undefined && f.checksum.bytes !== f.size) {
          throw new ModelFormatError(`${where}: weight file ${f.path} holds ${f.size} bytes, weightsChecksums records ${f.checksum.bytes}`);
        }
      }
      const weightSpecs: WeightSpec[] = j.weightsManifest.flatMap((g) => g.weights);
      const artifacts: ModelArtifacts = {
        modelTopology: j.modelTopology,
        weightSpecs,
        format: j.format,
        generatedBy: j.generatedBy,
        convertedBy: j.convertedBy,
        trainingConfig: j.trainingConfig,
        userDefinedMetadata: j.userDefinedMetadata,
      };
      await jfh.close().catch(() => undefined);
      handles.shift();
      let closed = false;
      const close = async (): Promise<void> => {
        if (!closed) { closed = true; await closeAll(handles); }
      };
      return {
        artifacts,
        weightBytes: total,
        async readWeights(sinks: readonly WeightSink[]): Promise<void> {
          try {
            await readWeightFiles(files, sinks, where);
          } finally {
            await close();
          }
        },
        close,
      };
    } catch (e) {
      await closeAll(handles);
      throw e;
    }
  }
}

/**
 * A handler for a model folder.
 * @example await model.save(gf.io.fileSystem('./models/mnist'));
 */
export function fileSystem(p: string): FileSystemHandler {
  return new FileSystemHandler(p);
}
