// Saves into one folder are serialised across processes by a lock file (.gradforge-save.lock):
// several processes saving into one folder while another loads from it never mix two models,
// and the folder always ends loadable. A lock left by a dead process is taken over; a live one
// is waited for, up to a timeout that names the holder.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';
import { SAVE_LOCK, setIoTuning } from '../../lib/io/file';

const fixtures = path.join(__dirname, 'fixtures');
const tmp = (p: string): string => fs.mkdtempSync(path.join(os.tmpdir(), p));

/**
 * Runs a fixture script: `ready` resolves when it says so (see fixtures/start-together.js),
 * `done` to its last stdout line, parsed.
 */
function runChild(script: string, args: string[]): { ready: Promise<void>; done: Promise<Record<string, unknown>> } {
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => { onReady = r; });
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(fixtures, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready$/m.test(out)) onReady();
    });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`${script} exited with ${code}: ${err}`)); return; }
      try { resolve(JSON.parse(out.trim().split('\n').pop()!)); } catch (e) { reject(new Error(`${script}: ${out} ${err}`)); }
    });
  });
  return { ready, done };
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function writeLock(dir: string, info: Record<string, unknown>, ageMs = 0): void {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, SAVE_LOCK);
  fs.writeFileSync(p, JSON.stringify({ time: new Date().toISOString(), token: 'theirs', ...info }));
  if (ageMs > 0) {
    const t = new Date(Date.now() - ageMs);
    fs.utimesSync(p, t, t);
  }
}

const small = (units = 3): gf.Sequential => gf.sequential([gf.layers.dense({ units, inputShape: [4] })]);

test('three processes saving into one folder while a fourth loads: every load is one writer\'s whole model', async () => {
  const dir = tmp('gf-xproc-');
  // the writers start by finding a stale lock (its holder died), which all three try to take over
  writeLock(dir, { pid: deadPid(), hostname: os.hostname() });
  // the children start together once all have loaded (a loaded machine took over 12 s to
  // start four of them): 8 s of contention from then
  const goFile = `${dir}.go`;
  const children = [
    runChild('load-reader.js', [dir, goFile]),
    ...[1, 2, 3].map((id) => runChild('save-writer.js', [dir, String(id), goFile])),
  ];
  const failed = Promise.all(children.map((c) => c.done));  // a child that dies before it is ready
  await Promise.race([Promise.all(children.map((c) => c.ready)), failed]);
  const startAt = Date.now() + 200;
  fs.writeFileSync(`${goFile}.tmp`, JSON.stringify({ startAt, endAt: startAt + 8000 }));
  fs.renameSync(`${goFile}.tmp`, goFile);
  const [reader, ...writers] = await failed;
  fs.rmSync(goFile, { force: true });
  const saves = writers.map((w) => w.saves as number);
  process.stdout.write(`cross-process saves: ${JSON.stringify(saves)}; loads ${String(reader.loads)}, whole ${String(reader.ok)}\n`);
  // every writer got the lock (none starved) and they contended for it; how often each one won
  // depends on the scheduler (under a loaded CI, 3 of 8 s was seen), so no per-writer quota
  expect(Math.min(...saves)).toBeGreaterThanOrEqual(1);
  expect(saves.reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
  expect({ mixed: reader.mixed, errors: reader.errors, samples: reader.samples }).toEqual({ mixed: 0, errors: 0, samples: [] });
  expect(reader.ok).toBeGreaterThan(20);
  // the folder ends as one writer's last save, whole; no lock or temporary left
  const m = await gf.loadModel(`file://${dir}`);
  const id = Number(/^writer(\d+)$/.exec(m.name)![1]);
  const values = new Set(m.getWeights().flatMap((w) => Array.from(w.data)));
  expect([...values]).toEqual([id * 100000 + saves[id - 1]]);
  expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.alt.bin', 'weights.bin']);
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

test('six savers meeting one dead lock at once, 60 times over: every save succeeds and one model ends in each folder', async () => {
  // All six judge the dead lock stale together. Deleting it was once not conditional: a late
  // saver deleted the lock an earlier one had just made, a third took the lock, and the first
  // one's save failed as "taken over" (this test caught it in 2 of 4 runs before the fix).
  const base = tmp('gf-lock-race-');
  const rounds = 60;
  const dead = deadPid();
  for (let r = 0; r < rounds; r++) writeLock(path.join(base, `r${r}`), { pid: dead, hostname: os.hostname() });
  const goFile = `${base}.go`;
  const children = [1, 2, 3, 4, 5, 6].map((id) => runChild('save-rounds.js', [base, String(id), String(rounds), goFile]));
  const finished = Promise.all(children.map((c) => c.done));
  await Promise.race([Promise.all(children.map((c) => c.ready)), finished]);
  const startAt = Date.now() + 200;
  fs.writeFileSync(`${goFile}.tmp`, JSON.stringify({ startAt, endAt: startAt + rounds * 150 }));
  fs.renameSync(`${goFile}.tmp`, goFile);
  const results = await finished;
  fs.rmSync(goFile, { force: true });
  expect(results.flatMap((c) => c.errors as string[])).toEqual([]);
  for (let r = 0; r < rounds; r++) {
    const dir = path.join(base, `r${r}`);
    expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.alt.bin', 'weights.bin']);
    const m = await gf.loadModel(`file://${dir}`);
    expect(m.name).toMatch(/^writer[1-6]$/);
  }
  fs.rmSync(base, { recursive: true, force: true });
}, 60_000);

test('a lock left by a dead process on this host is taken over at once', async () => {
  const dir = tmp('gf-lock-dead-');
  writeLock(dir, { pid: deadPid(), hostname: os.hostname() });
  const t = Date.now();
  await small().save(`file://${dir}`);
  expect(Date.now() - t).toBeLessThan(5000);
  expect(fs.existsSync(path.join(dir, SAVE_LOCK))).toBe(false);
  await expect(gf.loadModel(`file://${dir}`)).resolves.toBeDefined();
  // so is one of this very pid that this process does not hold (a pid reused after a restart),
  // one from another host that has not been refreshed for lockStaleMs, and an unreadable one as old
  writeLock(dir, { pid: process.pid, hostname: os.hostname() });
  await small().save(`file://${dir}`);
  writeLock(dir, { pid: 1, hostname: 'elsewhere' }, 120_000);
  await small().save(`file://${dir}`);
  fs.writeFileSync(path.join(dir, SAVE_LOCK), '');
  const old = new Date(Date.now() - 120_000);
  fs.utimesSync(path.join(dir, SAVE_LOCK), old, old);
  await small().save(`file://${dir}`);
  expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.alt.bin', 'weights.bin']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a live holder makes a second saver wait, then it proceeds; past the timeout it fails naming the folder and the holder', async () => {
  const dir = tmp('gf-lock-live-');
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    await small(2).save(`file://${dir}`);
    writeLock(dir, { pid: holder.pid, hostname: os.hostname() });
    const b = small(5);
    let done = false;
    const t = Date.now();
    const saving = b.save(`file://${dir}`).then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 700));
    expect(done).toBe(false);
    // the old model is still there, untouched, while the saver waits
    expect((await gf.loadModel(`file://${dir}`)).getWeights()[0].shape).toEqual([4, 2]);
    fs.unlinkSync(path.join(dir, SAVE_LOCK));  // the holder lets go
    await saving;
    expect(Date.now() - t).toBeGreaterThanOrEqual(700);
    expect((await gf.loadModel(`file://${dir}`)).getWeights()[0].shape).toEqual([4, 5]);

    // a holder that stays: the saver gives up after lockTimeoutMs; so for a fresh lock of another host
    const prev = setIoTuning({ lockTimeoutMs: 300 });
    try {
      writeLock(dir, { pid: holder.pid, hostname: os.hostname() });
      await expect(small().save(`file://${dir}`)).rejects.toThrow(new RegExp(`folder ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is locked by another save .*pid ${holder.pid} on ${os.hostname()}.*waited 300 ms`));
      writeLock(dir, { pid: 1, hostname: 'elsewhere' });
      await expect(small().save(`file://${dir}`)).rejects.toThrow(/pid 1 on elsewhere/);
    } finally {
      setIoTuning(prev);
    }
    expect((await gf.loadModel(`file://${dir}`)).getWeights()[0].shape).toEqual([4, 5]);
  } finally {
    holder.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a save whose lock was taken over (it stalled) renames nothing more and fails; the folder keeps the old model', async () => {
  const dir = tmp('gf-lock-stolen-');
  await small(2).save(`file://${dir}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsp = require('fs/promises') as typeof import('fs/promises');
  const realOpen = fsp.open;
  const spy = jest.spyOn(fsp, 'open').mockImplementation(async (p, ...rest) => {
    // while this save writes its weights, another process takes the lock
    if (/\.weights\.(alt\.)?bin\.tmp-/.test(String(p))) writeLock(dir, { pid: 1, hostname: 'elsewhere' });
    return realOpen(p, ...rest);
  });
  try {
    await expect(small(5).save(`file://${dir}`)).rejects.toThrow(/the lock on .* was taken over .*now pid 1 on elsewhere .*holds it/);
  } finally {
    spy.mockRestore();
  }
  expect((await gf.loadModel(`file://${dir}`)).getWeights()[0].shape).toEqual([4, 2]);
  // the other process's lock is left alone
  expect(JSON.parse(fs.readFileSync(path.join(dir, SAVE_LOCK), 'utf8')).hostname).toBe('elsewhere');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('loads take no lock: a folder locked by a live save still loads', async () => {
  const dir = tmp('gf-lock-read-');
  await small(2).save(`file://${dir}`);
  writeLock(dir, { pid: process.ppid, hostname: os.hostname() });
  expect((await gf.loadModel(`file://${dir}`)).getWeights()[0].shape).toEqual([4, 2]);
  fs.rmSync(dir, { recursive: true, force: true });
});
