// gf.callbacks.sampleGrid: a PNG grid of the same latent batch every N epochs of gan.fit.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

function tinyGan(): gf.GAN {
  gf.setSeed(3);
  const generator = gf.sequential([
    gf.layers.dense({ units: 16, activation: 'tanh', inputShape: [4] }),
    gf.layers.reshape({ targetShape: [4, 4, 1] }),
  ]);
  const discriminator = gf.sequential([
    gf.layers.flatten({ inputShape: [4, 4, 1] }),
    gf.layers.dense({ units: 1 }),
  ]);
  return gf.gan({ generator, discriminator, latentDim: 4, seed: 3 });
}

test('writes a grid of the fixed latent batch after every `every`-th epoch', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-samples-'));
  const g = tinyGan();
  const real = gf.randUniform([32, 4, 4, 1], { minval: -1, maxval: 1, seed: 4 });
  const cb = gf.callbacks.sampleGrid(path.join(dir, 'samples'), { every: 2, n: 6, seed: 9, grid: { cols: 3, padding: 1 } });
  await g.fit(real, { epochs: 4, batchSize: 8, verbose: 0, callbacks: [cb] });
  expect(fs.readdirSync(path.join(dir, 'samples')).sort()).toEqual(['epoch-002.png', 'epoch-004.png']);
  // the last grid is exactly the generator's current samples for that seed
  const png = gf.image.decodePng(fs.readFileSync(path.join(dir, 'samples', 'epoch-004.png')));
  const want = gf.image.toGrid(g.generate(6, { seed: 9 }), { cols: 3, padding: 1 });
  expect([png.width, png.height]).toEqual([want.width, want.height]);
  for (let i = 0; i < want.width * want.height; i++) expect(png.pixels[4 * i]).toBe(want.pixels[i]);
  // and the generator changed between the two grids (training went on)
  const first = gf.image.decodePng(fs.readFileSync(path.join(dir, 'samples', 'epoch-002.png')));
  expect(Buffer.compare(Buffer.from(first.pixels), Buffer.from(png.pixels))).not.toBe(0);
  expect(cb.written.map((p) => path.basename(p))).toEqual(['epoch-002.png', 'epoch-004.png']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('is refused by model.fit and checks its options', async () => {
  const m = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]);
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-samples-'));
  await expect(m.fit(gf.zeros([4, 2]), gf.zeros([4, 1]), { epochs: 1, verbose: 0, callbacks: [gf.callbacks.sampleGrid(dir)] }))
    .rejects.toThrow(/sampleGrid: this callback samples a GAN/);
  expect(() => gf.callbacks.sampleGrid(dir, { every: 0 })).toThrow('sampleGrid: every must be an integer >= 1, got 0');
  expect(() => gf.callbacks.sampleGrid(dir, { n: 4, labels: [1, 2] })).toThrow(/labels has 2 entries for n = 4/);
  fs.rmSync(dir, { recursive: true, force: true });
});
