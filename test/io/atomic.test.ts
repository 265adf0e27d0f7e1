// Atomic saves: a process killed (SIGKILL) in the middle of saving never destroys the model
// that was there before; the folder always loads, with the weights of one whole save.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

const child = path.join(__dirname, 'fixtures', 'save-loop.js');

/** Runs the save loop until it has saved once more, then kills it after a random delay. */
function runAndKill(dir: string, start: number, delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = start - 1;
    let killed = false;
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/saved (\d+)/g)) last = Math.max(last, Number(m[1]));
      if (!killed && last >= start) {
        killed = true;
        setTimeout(() => p.kill('SIGKILL'), delayMs);
      }
    });
    p.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`save loop exited with ${code}: ${err}`));
    });
  });
}

test('SIGKILL during repeated saves always leaves a loadable, whole model', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-atomic-'));
  // a deterministic spread of kill moments, from at once to several saves later
  const delays = [0, 7, 23, 41, 61, 87, 113, 140, 200];
  let start = 1;
  let midSave = 0;
  for (const delay of delays) {
    const last = await runAndKill(dir, start, delay);
    // (a temporary, or the save lock its dead holder left)
    if (fs.readdirSync(dir).some((n) => n.includes('.tmp-') || n === '.gradforge-save.lock')) midSave++;
    const m = await gf.loadModel(`file://${dir}`);
    const values = new Set<number>();
    for (const w of m.getWeights()) for (const v of new Set(w.data)) values.add(v);
    // every weight comes from one save, which is the last reported one or one started after it
    expect(values.size).toBe(1);
    const k = [...values][0];
    expect(k).toBeGreaterThanOrEqual(last);
    expect(k).toBeLessThanOrEqual(last + 1000);
    start = last + 1000 + 1;
  }
  // the kills did land inside saves (temporaries or the lock were left behind)
  expect(midSave).toBeGreaterThan(0);
  // temporaries and the lock left by the killed processes are cleaned up by the next save
  const m = await gf.loadModel(`file://${dir}`);
  await m.save(`file://${dir}`);
  // (model.json, the weights it names, and the previous save's weights, kept for readers)
  expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.alt.bin', 'weights.bin']);
  fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

test('a save that dies before model.json is replaced leaves the previous model whole, even with another architecture', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-commit-'));
  const x = gf.randn([3, 4], { seed: 1 });
  const a = gf.sequential([gf.layers.dense({ units: 3, inputShape: [4] })]);
  const b = gf.sequential([gf.layers.dense({ units: 5, activation: 'relu', inputShape: [4] }), gf.layers.dense({ units: 2 })]);
  await a.save(`file://${dir}`);
  // The process "dies" right after the new weights are in place, before model.json's rename.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsp = require('fs/promises') as typeof import('fs/promises');
  const realRename = fsp.rename;
  const spy = jest.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
    if (String(to).endsWith('model.json')) throw new Error('simulated crash');
    return realRename(from, to);
  });
  try {
    await expect(b.save(`file://${dir}`)).rejects.toThrow('simulated crash');
  } finally {
    spy.mockRestore();
  }
  const afterCrash = await gf.loadModel(`file://${dir}`);
  expect(Array.from(afterCrash.predict(x).data)).toEqual(Array.from(a.predict(x).data));
  // The next save completes and cleans up: model.json and the one weights file it names.
  await b.save(`file://${dir}`);
  const loaded = await gf.loadModel(`file://${dir}`);
  expect(Array.from(loaded.predict(x).data)).toEqual(Array.from(b.predict(x).data));
  const named = (): string => JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest[0].paths[0];
  expect(named()).toBe('weights.alt.bin');
  // the save after that goes back to weights.bin; the previous weights stay for readers
  await a.save(`file://${dir}`);
  expect(named()).toBe('weights.bin');
  expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.alt.bin', 'weights.bin']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('models sharing a folder under different json names never share weights; saves to one folder queue up', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-shared-'));
  const x = gf.randn([2, 4], { seed: 2 });
  const a = gf.sequential([gf.layers.dense({ units: 3, inputShape: [4] })]);
  const b = gf.sequential([gf.layers.dense({ units: 2, inputShape: [4] })]);
  await a.save(`file://${path.join(dir, 'a.json')}`);
  await b.save(`file://${path.join(dir, 'b.json')}`);
  await a.save(`file://${path.join(dir, 'a.json')}`);
  expect(fs.readdirSync(dir).sort()).toEqual(['a.json', 'a.weights.alt.bin', 'a.weights.bin', 'b.json', 'b.weights.bin']);
  expect(Array.from((await gf.loadModel(`file://${path.join(dir, 'b.json')}`)).predict(x).data)).toEqual(Array.from(b.predict(x).data));
  expect(Array.from((await gf.loadModel(`file://${path.join(dir, 'a.json')}`)).predict(x).data)).toEqual(Array.from(a.predict(x).data));
  // ten saves of two models started at once into one folder: every one lands whole, in order
  const c = gf.sequential([gf.layers.dense({ units: 5, inputShape: [4] })]);
  await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : c).save(`file://${path.join(dir, 'm')}`)));
  const last = await gf.loadModel(`file://${path.join(dir, 'm')}`);
  expect(Array.from(last.predict(x).data)).toEqual(Array.from(a.predict(x).data));
  fs.rmSync(dir, { recursive: true, force: true });
});
