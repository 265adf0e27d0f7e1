// A tiny GAN learns a 1-D Gaussian: the generated samples' mean and spread approach the data's.
// (This test passed with each of seeds 1-8 while it was written: after 1,000 steps the means
// were within 0.13 of 3 and the standard deviations 0.38-0.65; it runs with one fixed seed.)
import * as gf from '../../lib';
import { gan } from '../../lib/gan';

function meanStd(t: gf.Tensor): { mean: number; std: number } {
  let s = 0;
  for (const v of t.data) s += v;
  const mean = s / t.size;
  let q = 0;
  for (const v of t.data) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / t.size) };
}

test('minimax GAN on N(3, 0.5): generated mean within 0.3 of 3, std within 0.25 of 0.5', async () => {
  const seed = 3;
  gf.setSeed(seed);
  const real = gf.randn([512, 1], { mean: 3, stddev: 0.5, seed: 100 + seed });
  const generator = gf.sequential([
    gf.layers.dense({ units: 16, activation: 'leakyRelu', inputShape: [4] }),
    gf.layers.dense({ units: 1 }),
  ]);
  const discriminator = gf.sequential([
    gf.layers.dense({ units: 32, activation: 'leakyRelu', inputShape: [1] }),
    gf.layers.dense({ units: 32, activation: 'leakyRelu' }),
    gf.layers.dense({ units: 1 }),
  ]);
  const opt = (): gf.Optimizer => gf.optimizers.adam({ learningRate: 2e-3, beta1: 0.5 });
  const g = gan({ generator, discriminator, latentDim: 4, seed, generatorOptimizer: opt(), discriminatorOptimizer: opt() });
  const before = meanStd(g.generate(2000, { seed: 9 }));
  // far from the target at the start, so passing below means something was learned
  expect(Math.abs(before.mean - 3)).toBeGreaterThan(1);
  const history = await g.fit(real, { epochs: 125, batchSize: 64, verbose: 0 });
  expect(g.generatorOptimizer.iterations).toBe(1000);
  const after = meanStd(g.generate(2000, { seed: 9 }));
  expect(Math.abs(after.mean - 3)).toBeLessThan(0.3);
  expect(Math.abs(after.std - 0.5)).toBeLessThan(0.25);
  // near equilibrium the discriminator cannot tell: D(x) and D(G(z)) both near 1/2
  const last = (k: string): number => history.history[k][history.history[k].length - 1];
  expect(Math.abs(last('d_real') - 0.5)).toBeLessThan(0.15);
  expect(Math.abs(last('d_fake') - 0.5)).toBeLessThan(0.15);
});
