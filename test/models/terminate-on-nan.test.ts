// A loss that turns NaN (issue 10 B): fit warns once per call whatever its verbosity
// (process.emitWarning), and gf.callbacks.terminateOnNaN() stops training at that batch, as
// Keras' TerminateOnNaN does.
import * as gf from '../../lib';
import { gan } from '../../lib/gan';

function linearModel(lr: number): gf.Sequential {
  gf.setSeed(1);
  const m = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })], { name: 'diverging' });
  m.compile({ optimizer: gf.optimizers.sgd(lr), loss: 'mse' });
  return m;
}

/** 40 samples; row `nanRow` of x holds a NaN (none when -1). */
function data(nanRow = -1): [gf.Tensor, gf.Tensor] {
  const x = gf.randn([40, 2], { seed: 2 });
  if (nanRow >= 0) x.data[nanRow * 2] = NaN;
  const y = gf.tensor(Array.from({ length: 40 }, (_, i) => [100 * x.data[2 * i] - 50 * x.data[2 * i + 1]]));
  return [x, y];
}

let warn: jest.SpyInstance;
let log: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => {
  warn.mockRestore();
  log.mockRestore();
});

const warnings = (): string[] => warn.mock.calls.map((c) => String(c[0]));

describe('a warning when the loss is NaN', () => {
  test('inputs with a NaN: one warning per fit call even with verbose 0, with type and code, training goes on', async () => {
    const m = linearModel(0.01);
    const [x, y] = data(13); // in the second batch of 5 (batchSize 8, no shuffle)
    const h = await m.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
    expect(h.epoch).toEqual([0, 1, 2]); // Keras keeps going without terminateOnNaN
    expect(warnings()).toEqual(["fit: the loss of model 'diverging' is NaN at epoch 1/3, step 2/5"]);
    expect(warn.mock.calls[0][1]).toMatchObject({ type: 'GradforgeWarning', code: 'GRADFORGE_NONFINITE_LOSS' });
    expect(String(warn.mock.calls[0][1].detail)).toMatch(/terminateOnNaN/);
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(warn).toHaveBeenCalledTimes(2); // the next call warns again
  });

  test('a finite run does not warn', async () => {
    const m = linearModel(0.01);
    const [x, y] = data();
    await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('gf.callbacks.terminateOnNaN()', () => {
  test('a NaN in the inputs: stops at that batch, prints Keras\'s line, the epoch still ends', async () => {
    const m = linearModel(0.01);
    const [x, y] = data(13);
    const t = gf.callbacks.terminateOnNaN();
    expect(t).toBeInstanceOf(gf.callbacks.TerminateOnNaN);
    const batches: number[] = [];
    const h = await m.fit(x, y, { epochs: 5, batchSize: 8, shuffle: false, verbose: 0, callbacks: [t, { onBatchEnd: (b) => { batches.push(b); } }] });
    expect(batches).toEqual([0, 1]);
    expect(log.mock.calls.map((c) => c[0])).toEqual(['Batch 1: Invalid loss, terminating training']);
    expect(t.stoppedAt).toEqual({ epoch: 0, batch: 1 });
    expect(h.epoch).toEqual([0]);
    expect(Number.isNaN(h.history.loss[0])).toBe(true);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  test('a huge learning rate: the loss overflows and training stops at the first non-finite batch', async () => {
    const m = linearModel(1e6);
    const [x, y] = data();
    const losses: number[] = [];
    const h = await m.fit(x, y, {
      epochs: 50, batchSize: 4, verbose: 0,
      callbacks: [gf.callbacks.terminateOnNaN(), { onBatchEnd: (_b, l) => { losses.push(l!.loss); } }],
    });
    const last = losses[losses.length - 1];
    expect(Number.isFinite(last)).toBe(false);
    expect(losses.slice(0, -1).every(Number.isFinite)).toBe(true);
    expect(h.epoch.length).toBeLessThan(50);
    expect(log.mock.calls.length).toBe(1);
    expect(log.mock.calls[0][0]).toMatch(/^Batch \d+: Invalid loss, terminating training$/);
    expect(warnings().length).toBe(1);
    expect(warnings()[0]).toMatch(/^fit: the loss of model 'diverging' is (NaN|Infinity) at epoch \d+\/50, step \d+\/10$/);
  });

  test('gan.fit: a NaN real sample stops training at that batch; the warning names d_loss and g_loss', async () => {
    gf.setSeed(3);
    const g = gan({
      generator: gf.sequential([gf.layers.dense({ units: 2, inputShape: [2] })]),
      discriminator: gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]),
      latentDim: 2, seed: 3,
    });
    const x = gf.randn([12, 2], { seed: 4 });
    x.data[9] = NaN; // row 4: the second batch of 4
    const batches: number[] = [];
    const h = await g.fit(x, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0, callbacks: [gf.callbacks.terminateOnNaN(), { onBatchEnd: (b) => { batches.push(b); } }] });
    expect(batches).toEqual([0, 1]);
    expect(h.epoch).toEqual([0]);
    expect(log.mock.calls.map((c) => c[0])).toEqual(['Batch 1: Invalid loss, terminating training']);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/^gan\.fit: d_loss is NaN and g_loss is .* at epoch 1\/3, step 2\/3$/);
  });
});
