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
  const delays = [0, 7, 23, 61, 140];
  let start = 1;
  let midSave = 0;
  for (const delay of delays) {
    const last = await runAndKill(dir, start, delay);
    if (fs.readdirSync(dir).some((n) => n.includes('.tmp-'))) midSave++;
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
  // the kills did land inside saves (temporaries were left behind)
  expect(midSave).toBeGreaterThan(0);
  // temporaries left by the killed processes are cleaned up by the next save
  const m = await gf.loadModel(`file://${dir}`);
  await m.save(`file://${dir}`);
  expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
  fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);
