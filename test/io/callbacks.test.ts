// modelCheckpoint (every epoch, best only, every N batches, file name templates) and
// backupAndRestore (an interrupted fit resumes after the last finished epoch).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gf-cb-'));

function data(): [gf.Tensor, gf.Tensor] {
  const x = gf.randn([64, 4], { seed: 6 });
  const labels = Array.from({ length: 64 }, (_, i) => (x.data[i * 4] > 0 ? 1 : 0));
  return [x, gf.toCategorical(labels, 2)];
}

function build(): gf.Sequential {
  gf.setSeed(12);
  const m = gf.sequential([
    gf.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }),
    gf.layers.dropout({ rate: 0.3 }),
    gf.layers.dense({ units: 2, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.05 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

test('formatCheckpointPath: Keras templates', () => {
  expect(gf.callbacks.formatCheckpointPath('m-{epoch:02d}-{val_loss:.2f}', 4, { val_loss: 0.12345 })).toBe('m-05-0.12');
  expect(gf.callbacks.formatCheckpointPath('m-{epoch}-{nope}', 0, {})).toBe('m-1-{nope}');
});

test('modelCheckpoint saves every epoch to templated folders, and saveBestOnly keeps the best', async () => {
  const [x, y] = data();
  const dir = tmp();
  const m = build();
  const snapshots: gf.Tensor[][] = [];
  const h = await m.fit(x, y, {
    epochs: 5, batchSize: 16, verbose: 0, validationSplit: 0.25, seed: 1,
    callbacks: [
      gf.callbacks.modelCheckpoint(`file://${dir}/every-{epoch:02d}`),
      gf.callbacks.modelCheckpoint(path.join(dir, 'best'), { monitor: 'val_loss', saveBestOnly: true, includeOptimizer: true }),
      { onEpochEnd: () => { snapshots.push(m.getWeights()); } },
    ],
  });
  expect(fs.readdirSync(dir).sort()).toEqual(['best', 'every-01', 'every-02', 'every-03', 'every-04', 'every-05']);
  const val = h.history.val_loss;
  const bestEpoch = val.indexOf(Math.min(...val));
  const best = await gf.loadModel(`file://${dir}/best`);
  best.getWeights().forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(snapshots[bestEpoch][i].data)));
  expect(best.optimizer.className).toBe('Adam');
  const third = await gf.loadModel(`file://${dir}/every-03`);
  third.getWeights().forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(snapshots[2][i].data)));
});

test('modelCheckpoint with saveFreq in batches, and bad arguments', async () => {
  const [x, y] = data();
  const saves: number[] = [];
  const handler: gf.io.IOHandler = { save: async (a) => { saves.push(a.weightData!.byteLength); return { modelArtifactsInfo: gf.io.artifactsInfo(a) }; } };
  await build().fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, callbacks: [gf.callbacks.modelCheckpoint(handler, { saveFreq: 3 })] });
  expect(saves.length).toBe(2); // 8 batches: after the 3rd and the 6th
  expect(() => gf.callbacks.modelCheckpoint('x', { saveFreq: 0 })).toThrow(gf.ValueError);
  expect(() => gf.callbacks.modelCheckpoint('x', { mode: 'up' as never })).toThrow(gf.ValueError);
});

test('backupAndRestore: a fit interrupted at epoch 3 resumes at epoch 4 and ends exactly like the uninterrupted run', async () => {
  const [x, y] = data();
  const args = { epochs: 6, batchSize: 16, verbose: 0 as const, shuffle: true, seed: 4 };
  const straight = build();
  const h = await straight.fit(x, y, args);

  const dir = path.join(tmp(), 'backup');
  const interrupted = build();
  const crash = { onEpochEnd: (epoch: number) => { if (epoch === 2) throw new Error('power cut'); } };
  await expect(interrupted.fit(x, y, { ...args, callbacks: [gf.callbacks.backupAndRestore(dir), crash] })).rejects.toThrow('power cut');
  expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(true);

  // a new process would build and compile the model again, then call fit with the same callback
  gf.setSeed(777); // whatever happened to the random generator since, the backup restores it
  const again = build();
  const bar = gf.callbacks.backupAndRestore(dir);
  const epochs: number[] = [];
  const h2 = await again.fit(x, y, { ...args, callbacks: [bar, { onEpochBegin: (e: number) => { epochs.push(e); } }] });
  expect(bar.restoredEpoch).toBe(2);
  expect(epochs).toEqual([3, 4, 5]);
  expect(h2.history.loss).toEqual(h.history.loss.slice(3));
  again.getWeights().forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(straight.getWeights()[i].data)));
  // a finished fit removes the backup, so the next fit starts afresh
  expect(fs.existsSync(path.join(dir, 'model.json'))).toBe(false);
  const fresh = gf.callbacks.backupAndRestore(dir);
  await build().fit(x, y, { ...args, epochs: 1, callbacks: [fresh] });
  expect(fresh.restoredEpoch).toBeNull();
});

test('backupAndRestore refuses a folder that holds a model but no backup state', async () => {
  const dir = tmp();
  const m = build();
  await m.save(`file://${dir}`, { includeOptimizer: true });
  const [x, y] = data();
  await expect(m.fit(x, y, { epochs: 1, verbose: 0, callbacks: [gf.callbacks.backupAndRestore(dir)] })).rejects.toThrow(/is not a backup/);
});
