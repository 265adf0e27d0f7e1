// gan.save / loadGan: both networks, the settings, the epoch count, the random state and the
// optimizers' state come back, so a reloaded GAN samples the same and trains on exactly as the
// uninterrupted one.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';
import { gan, GAN, loadGan } from '../../lib/gan';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'gf-gan-'));
const hex = (t: gf.Tensor): string => Buffer.from(new Float32Array(t.data).buffer).toString('hex');

/** The same initial GAN on every call (BatchNormalization in G, so moving statistics must round-trip too). */
function build(): GAN {
  gf.setSeed(21);
  const generator = gf.sequential([
    gf.layers.dense({ units: 8, inputShape: [3] }),
    gf.layers.batchNormalization({ momentum: 0.8 }),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.dense({ units: 2 }),
  ]);
  const discriminator = gf.sequential([gf.layers.dense({ units: 8, activation: 'leakyRelu', inputShape: [2] }), gf.layers.dense({ units: 1 })]);
  return gan({
    generator, discriminator, latentDim: 3, labelSmoothing: 0.1, discriminatorSteps: 2, seed: 5,
    generatorOptimizer: gf.optimizers.adam({ learningRate: 3e-3, beta1: 0.4 }),
    discriminatorOptimizer: gf.optimizers.rmsprop({ learningRate: 1e-3 }),
  });
}

const data = (): gf.Tensor => gf.randn([24, 2], { seed: 9, mean: 2 });

test('save with includeOptimizer, load, continue: the same losses and weights as uninterrupted training', async () => {
  const x = data();
  const a = build();
  const ha = await a.fit(x, { epochs: 3, batchSize: 8, verbose: 0 });

  const b = build();
  await b.fit(x, { epochs: 1, batchSize: 8, verbose: 0 });
  const dir = tmp();
  await b.save(dir, { includeOptimizer: true });
  expect(fs.readdirSync(dir).sort()).toEqual(['discriminator', 'gan.json', 'generator', 'optimizers.bin']);

  const c = await loadGan(dir);
  expect(c.epoch).toBe(1);
  expect(c.config).toEqual(b.config);
  expect(c.generatorOptimizer.iterations).toBe(b.generatorOptimizer.iterations);
  expect(c.discriminatorOptimizer.iterations).toBe(6); // 3 batches x 2 discriminator steps
  expect(c.discriminatorOptimizer.className).toBe('RMSprop');
  expect(hex(c.generate(6, { seed: 2 }))).toBe(hex(b.generate(6, { seed: 2 })));

  const hc = await c.fit(x, { epochs: 2, batchSize: 8, verbose: 0 });
  expect(hc.epoch).toEqual([1, 2]);
  for (const k of ['d_loss', 'g_loss', 'd_real', 'd_fake']) expect(hc.history[k]).toEqual(ha.history[k].slice(1));
  expect(c.getWeights().map(hex)).toEqual(a.getWeights().map(hex));
  expect(c.generatorOptimizer.iterations).toBe(a.generatorOptimizer.iterations);
});

test('without includeOptimizer: networks, settings and optimizer configs, fresh optimizer state', async () => {
  const b = build();
  await b.fit(data(), { epochs: 2, batchSize: 8, verbose: 0 });
  const dir = tmp();
  await b.save(`file://${dir}`);
  expect(fs.existsSync(path.join(dir, 'optimizers.bin'))).toBe(false);
  const c = await loadGan(dir);
  expect(c.epoch).toBe(2);
  expect(c.generatorOptimizer.iterations).toBe(0);
  expect(c.generatorOptimizer.getConfig()).toEqual(b.generatorOptimizer.getConfig());
  expect(c.discriminatorOptimizer.getConfig()).toEqual(b.discriminatorOptimizer.getConfig());
  expect(hex(c.generate(5, { seed: 8 }))).toBe(hex(b.generate(5, { seed: 8 })));
  // each network is an ordinary saved model too
  const g2 = await gf.loadModel(`file://${path.join(dir, 'generator')}`);
  const z = c.sampleLatent(4, 1);
  expect(hex(g2.predict(z))).toBe(hex(b.generator.predict(z)));
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'gan.json'), 'utf8'));
  expect(j.config).toEqual({ latentDim: 3, loss: 'minimax', labelSmoothing: 0.1, discriminatorSteps: 2, gradientPenaltyWeight: 10, numClasses: null });
  expect(j.optimizerState).toBeUndefined();
});

test('a conditional WGAN-GP round-trips its kind', async () => {
  gf.setSeed(3);
  const g = gan({
    generator: gf.sequential([gf.layers.dense({ units: 2, inputShape: [4 + 3] })]),
    discriminator: gf.sequential([gf.layers.dense({ units: 4, activation: 'tanh', inputShape: [2 + 3] }), gf.layers.dense({ units: 1 })]),
    latentDim: 4, numClasses: 3, loss: 'wasserstein-gp', gradientPenaltyWeight: 5, seed: 1,
  });
  g.trainStep(gf.randn([6, 2], { seed: 1 }), [0, 1, 2, 0, 1, 2]);
  const dir = tmp();
  await g.save(dir, { includeOptimizer: true });
  const c = await loadGan(dir);
  expect(c.config).toEqual({ latentDim: 4, loss: 'wasserstein-gp', labelSmoothing: 0, discriminatorSteps: 1, gradientPenaltyWeight: 5, numClasses: 3 });
  expect(hex(c.generate(3, { seed: 4, labels: [2, 1, 0] }))).toBe(hex(g.generate(3, { seed: 4, labels: [2, 1, 0] })));
  expect(c.trainStep(gf.randn([6, 2], { seed: 2 }), [0, 1, 2, 0, 1, 2])).toEqual(g.trainStep(gf.randn([6, 2], { seed: 2 }), [0, 1, 2, 0, 1, 2]));
});

describe('loadGan rejects what it cannot trust', () => {
  test('no gan.json, bad JSON, another format', async () => {
    const dir = tmp();
    await expect(loadGan(dir)).rejects.toThrow(gf.ModelFormatError);
    await expect(loadGan(dir)).rejects.toThrow(/gan.json cannot be read \(ENOENT\): is this a folder written by gan.save\?/);
    fs.writeFileSync(path.join(dir, 'gan.json'), '{not json');
    await expect(loadGan(dir)).rejects.toThrow(/gan.json: not valid JSON/);
    fs.writeFileSync(path.join(dir, 'gan.json'), JSON.stringify({ format: 'layers-model' }));
    await expect(loadGan(dir)).rejects.toThrow(/gan.json: format must be 'gradforge-gan', got "layers-model"/);
    await expect(loadGan('')).rejects.toThrow(gf.ValueError);
  });

  test('bad fields and missing or short optimizer state', async () => {
    const b = build();
    const dir = tmp();
    await b.save(dir, { includeOptimizer: true });
    const file = path.join(dir, 'gan.json');
    const good = fs.readFileSync(file, 'utf8');
    const edit = (f: (j: Record<string, unknown>) => void): void => {
      const j = JSON.parse(good);
      f(j);
      fs.writeFileSync(file, JSON.stringify(j));
    };
    edit((j) => { (j.config as Record<string, unknown>).loss = 'hinge'; });
    await expect(loadGan(dir)).rejects.toThrow(/config.loss must be 'minimax' or 'wasserstein-gp', got "hinge"/);
    edit((j) => { (j.config as Record<string, unknown>).latentDim = 7; });
    await expect(loadGan(dir)).rejects.toThrow(/gan.json: gan: the generator '.*' takes input \[-1, 3\], but latentDim 7 needs \[-1, 7\]/);
    edit((j) => { j.epoch = -1; });
    await expect(loadGan(dir)).rejects.toThrow(/epoch must be an integer >= 0, got -1/);
    edit((j) => { j.rng = [0, 0, 0, 0]; });
    await expect(loadGan(dir)).rejects.toThrow(/gan.json: rng: Rng.setState/);
    edit((j) => { (j.optimizers as Record<string, unknown>).generator = { class_name: 'Nadam', config: {} }; });
    await expect(loadGan(dir)).rejects.toThrow(/optimizers.generator: getOptimizer: unknown optimizer 'nadam'/);
    fs.writeFileSync(file, good);
    const bin = path.join(dir, 'optimizers.bin');
    const bytes = fs.readFileSync(bin);
    fs.writeFileSync(bin, bytes.subarray(0, bytes.length - 8));
    await expect(loadGan(dir)).rejects.toThrow(/optimizers.bin is too short|holds \d+ values, gan.json's optimizer state needs/);
    fs.rmSync(bin);
    await expect(loadGan(dir)).rejects.toThrow(/optimizers.bin cannot be read \(ENOENT\) but gan.json lists optimizer state/);
  });
});

test('gan.json is the single commit point: a save that dies before it leaves the previous GAN whole', async () => {
  const x = data();
  const g = build();
  await g.fit(x, { epochs: 1, batchSize: 8, verbose: 0 });
  const dir = tmp();
  await g.save(dir, { includeOptimizer: true });
  const before = { weights: g.getWeights().map(hex), samples: hex(g.generate(4, { seed: 1 })), iters: g.generatorOptimizer.iterations };
  await g.fit(x, { epochs: 2, batchSize: 8, verbose: 0 });
  // the process "dies" after both networks and the optimizer state are written, before gan.json
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fsp = require('fs/promises') as typeof import('fs/promises');
  const realRename = fsp.rename;
  const spy = jest.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
    if (String(to).endsWith('gan.json')) throw new Error('simulated crash');
    return realRename(from, to);
  });
  try {
    await expect(g.save(dir, { includeOptimizer: true })).rejects.toThrow('simulated crash');
  } finally {
    spy.mockRestore();
  }
  const back = await loadGan(dir);
  expect(back.epoch).toBe(1);
  expect(back.generatorOptimizer.iterations).toBe(before.iters);
  expect(back.getWeights().map(hex)).toEqual(before.weights);
  expect(hex(back.generate(4, { seed: 1 }))).toBe(before.samples);
  // the next save completes and loads as the trained-on GAN
  await g.save(dir, { includeOptimizer: true });
  const after = await loadGan(dir);
  expect(after.epoch).toBe(3);
  expect(after.getWeights().map(hex)).toEqual(g.getWeights().map(hex));
  // a weights file changed behind gan.json's back is refused, not loaded as something else
  const named = JSON.parse(fs.readFileSync(path.join(dir, 'gan.json'), 'utf8')).networks.generator.weights as string;
  const f = path.join(dir, 'generator', named);
  const bytes = fs.readFileSync(f);
  bytes[0] ^= 1;
  fs.writeFileSync(f, bytes);
  await expect(loadGan(dir)).rejects.toThrow(/generator\/weights(\.alt)?\.bin is not the file this gan.json was saved with/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the unseeded sampling stream is saved: a loaded GAN draws what the saved one would have drawn next', async () => {
  const g = build();
  g.generate(2);  // move the stream on
  const dir = tmp();
  await g.save(dir);
  const loaded = await loadGan(dir);
  expect(hex(loaded.generate(3))).toBe(hex(g.generate(3)));
  fs.rmSync(dir, { recursive: true, force: true });
});
