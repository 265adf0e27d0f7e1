// Sampling (generate, sampleLatent) and the conditional-GAN input contract.
import * as gf from '../../lib';
import { gan, GAN } from '../../lib/gan';

const same = (a: gf.Tensor, b: gf.Tensor): boolean =>
  a.shape.join() === b.shape.join() && Buffer.from(new Float32Array(a.data).buffer).equals(Buffer.from(new Float32Array(b.data).buffer));

function mlpGan(seed = 1): GAN {
  gf.setSeed(seed);
  return gan({
    generator: gf.sequential([
      gf.layers.dense({ units: 6, inputShape: [3] }),
      gf.layers.batchNormalization(),
      gf.layers.leakyRelu(),
      gf.layers.dropout({ rate: 0.5 }),
      gf.layers.dense({ units: 2 }),
    ]),
    discriminator: gf.sequential([gf.layers.dense({ units: 4, activation: 'relu', inputShape: [2] }), gf.layers.dense({ units: 1 })]),
    latentDim: 3,
    seed,
  });
}

describe('generate', () => {
  test('the same seed gives the same samples bit for bit; another seed others', async () => {
    const g = mlpGan();
    await g.fit(gf.randn([32, 2], { seed: 1 }), { epochs: 1, batchSize: 8, verbose: 0 }); // moving statistics away from their initial values
    const a = g.generate(10, { seed: 4 });
    expect(a.shape).toEqual([10, 2]);
    expect(same(g.generate(10, { seed: 4 }), a)).toBe(true);
    expect(same(g.generate(10, { seed: 4, batchSize: 3 }), a)).toBe(true);
    expect(same(g.generate(10, { seed: 5 }), a)).toBe(false);
    // without a seed: the GAN's sampling stream, so two calls differ
    expect(same(g.generate(10), g.generate(10))).toBe(false);
  });

  test('inference mode: generate(n, {seed}) is the generator on sampleLatent(n, seed), dropout off, moving statistics', () => {
    const g = mlpGan();
    g.trainStep(gf.randn([16, 2], { seed: 2 }));
    const z = g.sampleLatent(7, 11);
    expect(z.shape).toEqual([7, 3]);
    expect(same(z, gf.randn([7, 3], { seed: 11 }))).toBe(true); // standard normal, from the seed
    const direct = g.generator.apply(z, { training: false });
    expect(same(g.generate(7, { seed: 11 }), direct)).toBe(true);
    // the training-mode output differs (batch statistics, dropout): generate did not use it
    expect(same(g.generator.apply(z, { training: true }), direct)).toBe(false);
  });

  test('sampling does not disturb training: a GAN that samples between steps trains identically', () => {
    // (one after the other: dropout masks draw from the global generator, which mlpGan seeds)
    const x = gf.randn([8, 2], { seed: 4 });
    const a = mlpGan(3);
    const la = [a.trainStep(x), a.trainStep(x)];
    const b = mlpGan(3);
    const lb = [b.trainStep(x)];
    b.generate(5);
    b.sampleLatent(5);
    b.generate(5, { seed: 1 });
    lb.push(b.trainStep(x));
    expect(lb).toEqual(la);
  });

  test('bad counts and unexpected labels are ValueErrors', () => {
    const g = mlpGan();
    expect(() => g.generate(0)).toThrow(/generate: n must be an integer >= 1, got 0/);
    expect(() => g.generate(2.5)).toThrow(gf.ValueError);
    expect(() => g.sampleLatent(-1)).toThrow(/sampleLatent: n must be an integer >= 1/);
    expect(() => g.generate(2, { labels: [0, 1] })).toThrow(/labels were given but the GAN is not conditional/);
    expect(() => g.generate(2, { batchSize: 0 })).toThrow(/batchSize/);
  });
});

describe('conditional GAN (numClasses 3, 4x4 images with 1 channel)', () => {
  /** Records the batches a model's first layer sees. */
  class Recorder extends gf.Layer {
    readonly className = 'Recorder';
    readonly seen: gf.Tensor[] = [];
    call(x: gf.Tensor): gf.Tensor {
      this.seen.push(x.clone());
      return x;
    }
  }

  function build(): { g: GAN; gRec: Recorder; dRec: Recorder } {
    gf.setSeed(7);
    const gRec = new Recorder({ inputShape: [5 + 3] });
    const dRec = new Recorder({ inputShape: [4, 4, 1 + 3] });
    const generator = gf.sequential([gRec, gf.layers.dense({ units: 16, activation: 'tanh' }), gf.layers.reshape({ targetShape: [4, 4, 1] })]);
    const discriminator = gf.sequential([dRec, gf.layers.conv2d({ filters: 2, kernelSize: 3 }), gf.layers.flatten(), gf.layers.dense({ units: 1 })]);
    return { g: gan({ generator, discriminator, latentDim: 5, numClasses: 3, seed: 2 }), gRec, dRec };
  }

  test('G sees concat(z, oneHot(label)); D sees the image plus the one-hot label in 3 extra channels at every pixel', () => {
    const { g, gRec, dRec } = build();
    const images = gf.randn([4, 4, 4, 1], { seed: 3 });
    const labels = gf.tensor([2, 0, 1, 2], [4], { dtype: 'int32' });
    g.trainStep(images, labels);
    // G ran twice (fakes for D, then its own step), D three times (real, fake, fake)
    expect(gRec.seen.length).toBe(2);
    expect(dRec.seen.length).toBe(3);
    for (const zin of gRec.seen) {
      expect(zin.shape).toEqual([4, 8]);
      for (let i = 0; i < 4; i++) expect(Array.from(zin.data.subarray(i * 8 + 5, i * 8 + 8))).toEqual([0, 1, 2].map((c) => (c === labels.data[i] ? 1 : 0)));
    }
    for (const x of dRec.seen) {
      expect(x.shape).toEqual([4, 4, 4, 4]);
      for (let i = 0; i < 4; i++) {
        for (let p = 0; p < 16; p++) {
          const px = Array.from(x.data.subarray((i * 16 + p) * 4, (i * 16 + p + 1) * 4));
          expect(px.slice(1)).toEqual([0, 1, 2].map((c) => (c === labels.data[i] ? 1 : 0)));
        }
      }
    }
    // the first D batch is the real images in channel 0
    const ch0 = Array.from({ length: 64 }, (_, k) => dRec.seen[0].data[k * 4]);
    expect(ch0).toEqual(Array.from(images.data));
  });

  test('generate: labels required and checked; the same seed and labels give the same images, other labels others', () => {
    const { g } = build();
    const a = g.generate(3, { seed: 1, labels: [0, 1, 2] });
    expect(a.shape).toEqual([3, 4, 4, 1]);
    expect(same(g.generate(3, { seed: 1, labels: gf.tensor([0, 1, 2], [3], { dtype: 'int32' }) }), a)).toBe(true);
    expect(same(g.generate(3, { seed: 1, labels: [2, 1, 0] }), a)).toBe(false);
    expect(() => g.generate(3, { seed: 1 })).toThrow(/generate: this GAN is conditional \(numClasses 3\): pass labels/);
    expect(() => g.generate(3, { labels: [0, 1] })).toThrow(/generate: expected 3 labels \(one per sample\), got 2/);
    expect(() => g.generate(2, { labels: [0, 3] })).toThrow(/generate: label 1 is 3; labels must be class indices in \[0, 3\)/);
    expect(() => g.generate(2, { labels: [0, 1.5] })).toThrow(/label 1 is 1.5/);
    expect(() => g.generate(2, { labels: gf.tensor([[0, 1]]) })).toThrow(/generate: labels must have shape \[2\]/);
  });

  test('fit: labels required, one per image', async () => {
    const { g } = build();
    const images = gf.randn([6, 4, 4, 1], { seed: 1 });
    await expect(g.fit(images, { verbose: 0 })).rejects.toThrow(/gan.fit: this GAN is conditional \(numClasses 3\): pass labels/);
    await expect(g.fit(images, { verbose: 0, labels: gf.tensor([0, 1, 2], [3], { dtype: 'int32' }) })).rejects.toThrow(/gan.fit: labels must have shape \[6\]/);
    const h = await g.fit(images, { verbose: 0, batchSize: 4, epochs: 2, labels: gf.tensor([0, 1, 2, 0, 1, 2], [6], { dtype: 'int32' }) });
    expect(h.history.d_loss.length).toBe(2);
    expect(h.history.d_loss.every(Number.isFinite)).toBe(true);
  });
});
