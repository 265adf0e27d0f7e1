// includeOptimizer: the compile config and the optimizer's state travel with the model, so
// training resumed from a checkpoint follows exactly the loss curve of an uninterrupted run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

function data(): [gf.Tensor, gf.Tensor] {
  const x = gf.randn([96, 6], { seed: 5 });
  const labels = Array.from({ length: 96 }, (_, i) => (x.data[i * 6] + x.data[i * 6 + 1] > 0 ? 1 : 0) + (x.data[i * 6 + 2] > 0.5 ? 1 : 0));
  return [x, gf.toCategorical(labels, 3)];
}

function build(optimizer: gf.Optimizer | string): gf.Sequential {
  gf.setSeed(3);
  const m = gf.sequential([
    gf.layers.dense({ units: 16, activation: 'relu', inputShape: [6] }),
    gf.layers.batchNormalization(),
    gf.layers.dropout({ rate: 0.3 }),
    gf.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

describe.each<[string, () => gf.Optimizer]>([
  ['adam', () => gf.optimizers.adam({ learningRate: 0.01 })],
  ['sgd with nesterov momentum', () => gf.optimizers.sgd({ learningRate: 0.05, momentum: 0.9, nesterov: true })],
  ['rmsprop', () => gf.optimizers.rmsprop({ learningRate: 0.01 })],
  ['adagrad', () => gf.optimizers.adagrad({ learningRate: 0.1 })],
  ['adam on an exponential-decay schedule', () => gf.optimizers.adam({ learningRate: gf.optimizers.schedules.exponentialDecay({ initialLearningRate: 0.02, decaySteps: 3, decayRate: 0.7 }) })],
  ['sgd on a piecewise-constant schedule', () => gf.optimizers.sgd({ learningRate: gf.optimizers.schedules.piecewiseConstantDecay({ boundaries: [4, 8], values: [0.1, 0.05, 0.01] }) })],
])('%s', (_name, makeOpt) => {
  test('4 epochs straight == 2 epochs, save, load, 2 more epochs (bit for bit; dropout masks continue)', async () => {
    const [x, y] = data();
    // shuffled: each epoch's order depends only on the random state at its start, and loading
    // leaves the global generator alone, so the cut is invisible
    const fitArgs = { batchSize: 16, verbose: 0 as const, validationSplit: 0.25, shuffle: true };

    const straight = build(makeOpt());
    const h4 = await straight.fit(x, y, { ...fitArgs, epochs: 4, seed: 42 });

    const first = build(makeOpt());
    const h2 = await first.fit(x, y, { ...fitArgs, epochs: 2, seed: 42 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-resume-'));
    await first.save(`file://${dir}`, { includeOptimizer: true });
    const resumed = await gf.loadModel(`file://${dir}`);
    expect(resumed.optimizer.className).toBe(first.optimizer.className);
    expect(resumed.optimizer.iterations).toBe(first.optimizer.iterations);
    expect(resumed.optimizer.getConfig()).toEqual(first.optimizer.getConfig());
    if (first.optimizer.schedule === null) expect(resumed.optimizer.learningRate).toBe(first.optimizer.learningRate);
    // no seed: dropout continues from the global generator, which loading leaves alone
    const hRest = await resumed.fit(x, y, { ...fitArgs, epochs: 4, initialEpoch: 2 });

    expect(Object.keys(hRest.history)).toEqual(Object.keys(h4.history));
    for (const key of Object.keys(h4.history)) {
      expect([...h2.history[key], ...hRest.history[key]]).toEqual(h4.history[key]);
    }
    const xt = gf.randn([5, 6], { seed: 9 });
    expect(Array.from(resumed.predict(xt).data)).toEqual(Array.from(straight.predict(xt).data));
  });

  test('shuffled: fit 2 epochs + fit 2 epochs (seeded) == the same with a save/load in between', async () => {
    const [x, y] = data();
    const fitArgs = { batchSize: 16, verbose: 0 as const, validationSplit: 0.25 };
    const straight = build(makeOpt());
    await straight.fit(x, y, { ...fitArgs, epochs: 2, seed: 42 });
    const want = await straight.fit(x, y, { ...fitArgs, epochs: 2, seed: 43 });

    const first = build(makeOpt());
    await first.fit(x, y, { ...fitArgs, epochs: 2, seed: 42 });
    const a = await first.save(gf.io.toMemory(), { includeOptimizer: true });
    const resumed = await gf.loadModel(gf.io.fromMemory(a));
    const got = await resumed.fit(x, y, { ...fitArgs, epochs: 2, seed: 43 });
    expect(got.history).toEqual(want.history);
  });
});

test('without includeOptimizer there is no trainingConfig and the model comes back uncompiled', async () => {
  const m = build('adam');
  const a = await m.save(gf.io.toMemory());
  expect(a.trainingConfig).toBeUndefined();
  expect(a.weightSpecs!.some((s) => s.group === 'optimizer')).toBe(false);
  const m2 = await gf.loadModel(gf.io.fromMemory(a));
  expect(() => m2.optimizer).toThrow(/compile/);
});

test('optimizer weights: names, order and dtypes as Keras 3', async () => {
  const m = build('adam');
  const [x, y] = data();
  await m.fit(x, y, { epochs: 1, batchSize: 32, verbose: 0 });
  const a = await m.save(gf.io.toMemory(), { includeOptimizer: true });
  const opt = a.weightSpecs!.filter((s) => s.group === 'optimizer');
  const [k0, b0] = m.trainableWeights.map((w) => w.name.replace(/\//g, '_'));
  expect(opt.slice(0, 5).map((s) => [s.name, s.dtype])).toEqual([
    ['adam/iterations', 'int32'], [`adam/${k0}_momentum`, 'float32'], [`adam/${k0}_velocity`, 'float32'],
    [`adam/${b0}_momentum`, 'float32'], [`adam/${b0}_velocity`, 'float32'],
  ]);
  expect(a.trainingConfig!.optimizer_config.class_name).toBe('Adam');
});
