// gan.fit: epoch logs, the same callback hooks as model.fit (with the GAN as the callback's
// model), the progress display, checkpoints, and per-step memory recycling.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Writable } from 'stream';
import * as gf from '../../lib';
import { gan, GAN, GanCallback, loadGan } from '../../lib/gan';
import { pooledBufferBytes } from '../../lib/memory';

function small(seed = 1): GAN {
  gf.setSeed(seed);
  return gan({
    generator: gf.sequential([gf.layers.dense({ units: 4, activation: 'leakyRelu', inputShape: [2] }), gf.layers.dense({ units: 2 })]),
    discriminator: gf.sequential([gf.layers.dense({ units: 4, activation: 'leakyRelu', inputShape: [2] }), gf.layers.dense({ units: 1 })]),
    latentDim: 2,
    seed,
    generatorOptimizer: gf.optimizers.adam({ learningRate: 1e-3 }),
    discriminatorOptimizer: gf.optimizers.adam({ learningRate: 4e-3 }),
  });
}

const x = (): gf.Tensor => gf.randn([10, 2], { seed: 3 });

test('History: one entry per epoch for d_loss, g_loss, d_real, d_fake; epochs continue across fits', async () => {
  const g = small();
  const h1 = await g.fit(x(), { epochs: 2, batchSize: 4, verbose: 0 });
  expect(h1.epoch).toEqual([0, 1]);
  expect(Object.keys(h1.history).sort()).toEqual(['d_fake', 'd_loss', 'd_real', 'g_loss']);
  for (const v of Object.values(h1.history)) expect(v.length).toBe(2);
  // d_real and d_fake are probabilities for minimax
  for (const v of [...h1.history.d_real, ...h1.history.d_fake]) expect(v > 0 && v < 1).toBe(true);
  expect(g.epoch).toBe(2);
  expect(g.generatorOptimizer.iterations).toBe(6); // 3 batches (4, 4, 2) per epoch
  const h2 = await g.fit(x(), { epochs: 1, batchSize: 4, verbose: 0 });
  expect(h2.epoch).toEqual([2]);
});

test('hooks run in fit\'s order; batch logs are running means whose last value is the epoch log', async () => {
  const g = small();
  const calls: string[] = [];
  const batchLogs: gf.callbacks.Logs[] = [];
  const epochLogs: gf.callbacks.Logs[] = [];
  await g.fit(x(), {
    epochs: 2, batchSize: 4, verbose: 0, callbacks: {
      onTrainBegin: () => { calls.push('trainBegin'); },
      onEpochBegin: (e) => { calls.push(`epochBegin ${e}`); },
      onBatchBegin: (b, l) => { calls.push(`batchBegin ${b} size ${l?.size}`); },
      onBatchEnd: (b, l) => { calls.push(`batchEnd ${b}`); batchLogs.push(l!); },
      onEpochEnd: (e, l) => { calls.push(`epochEnd ${e}`); epochLogs.push(l!); },
      onTrainEnd: () => { calls.push('trainEnd'); },
    },
  });
  const epoch = (e: number): string[] => [`epochBegin ${e}`, 'batchBegin 0 size 4', 'batchEnd 0', 'batchBegin 1 size 4', 'batchEnd 1', 'batchBegin 2 size 2', 'batchEnd 2', `epochEnd ${e}`];
  expect(calls).toEqual(['trainBegin', ...epoch(0), ...epoch(1), 'trainEnd']);
  for (const k of ['d_loss', 'g_loss', 'd_real', 'd_fake']) {
    expect(batchLogs[2][k]).toBe(epochLogs[0][k]);
    expect(batchLogs[5][k]).toBe(epochLogs[1][k]);
  }
  expect(batchLogs[0].batch).toBe(0);
});

test('a GanCallback gets the GAN: it can generate at epoch end and stop training', async () => {
  const g = small();
  const shapes: number[][] = [];
  class Sampler extends GanCallback {
    override onEpochEnd(epoch: number): void {
      shapes.push([...this.gan!.generate(3, { seed: 1 }).shape]);
      if (epoch === 1) this.gan!.stopTraining = true;
    }
  }
  const h = await g.fit(x(), { epochs: 5, batchSize: 5, verbose: 0, callbacks: [new Sampler()] });
  expect(shapes).toEqual([[3, 2], [3, 2]]);
  expect(h.epoch).toEqual([0, 1]);
  expect(g.epoch).toBe(2);
});

test('fit\'s own callbacks work on a GAN: learningRateScheduler scales both rates, modelCheckpoint saves loadable GANs', async () => {
  const g = small();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-gan-fit-'));
  await g.fit(x(), {
    epochs: 2, batchSize: 5, verbose: 0, callbacks: [
      gf.callbacks.learningRateScheduler((epoch, lr) => (epoch === 0 ? lr : lr / 2)),
      gf.callbacks.modelCheckpoint(path.join(dir, 'epoch-{epoch}'), { includeOptimizer: true }),
    ],
  });
  expect(g.generatorOptimizer.learningRate).toBeCloseTo(5e-4, 12);
  expect(g.discriminatorOptimizer.learningRate).toBeCloseTo(2e-3, 12);
  const saved = await loadGan(path.join(dir, 'epoch-2'));
  expect(saved.epoch).toBe(2);
  expect(saved.discriminatorOptimizer.iterations).toBe(4);
  expect(fs.existsSync(path.join(dir, 'epoch-1', 'gan.json'))).toBe(true);
  // backupAndRestore knows one Sequential model only: refused with the alternative named
  await expect(g.fit(x(), { verbose: 0, callbacks: [gf.callbacks.backupAndRestore(path.join(dir, 'backup'))] }))
    .rejects.toThrow(/backupAndRestore saves a single model; for a GAN use modelCheckpoint/);
});

test('verbose 2 prints one line per epoch with the four numbers', async () => {
  const g = small();
  let out = '';
  const stream = new Writable({ write(chunk, _enc, done) { out += String(chunk); done(); } });
  await g.fit(x(), { epochs: 2, batchSize: 5, verbose: 2, stream });
  const lines = out.trim().split('\n');
  expect(lines.length).toBe(2);
  expect(lines[0]).toMatch(/^Epoch 1\/2 - .* - d_loss: \d+\.\d{4} - g_loss: \d+\.\d{4} - d_real: \d\.\d{4} - d_fake: \d\.\d{4}$/);
  expect(lines[1]).toMatch(/^Epoch 2\/2 /);
});

test('each step runs in a memory scope: its large buffers are recycled, and the pool stops growing', async () => {
  gf.setSeed(4);
  // [16, 1024] float32 activations are 64 KiB: large enough to be pooled
  const g = gan({
    generator: gf.sequential([gf.layers.dense({ units: 1024, inputShape: [8] })]),
    discriminator: gf.sequential([gf.layers.dense({ units: 1, inputShape: [1024] })]),
    latentDim: 8, seed: 1,
  });
  const data = gf.randn([32, 1024], { seed: 1 });
  await g.fit(data, { epochs: 1, batchSize: 16, verbose: 0 });
  const after1 = pooledBufferBytes();
  expect(after1).toBeGreaterThan(0);
  await g.fit(data, { epochs: 3, batchSize: 16, verbose: 0 });
  expect(pooledBufferBytes()).toBe(after1);
});
