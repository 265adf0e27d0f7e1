// Bad GAN setups and inputs fail at once with errors naming the shapes and values involved.
import * as gf from '../../lib';
import { gan, GanArgs } from '../../lib/gan';

const G = (inDim = 4, outDim = 2): gf.Sequential => gf.sequential([gf.layers.dense({ units: outDim, inputShape: [inDim] })]);
const D = (inDim = 2, out = 1, activation?: string): gf.Sequential => gf.sequential([gf.layers.dense({ units: out, inputShape: [inDim], activation })]);
const args = (over: Partial<GanArgs> = {}): GanArgs => ({ generator: G(), discriminator: D(), latentDim: 4, ...over });

describe('gan() checks the models against each other', () => {
  test('generator output not matching the discriminator input', () => {
    expect(() => gan(args({ discriminator: D(3) }))).toThrow(gf.ShapeError);
    expect(() => gan(args({ discriminator: D(3) }))).toThrow(/discriminator '.*' takes input \[-1, 3\], but it must take \[-1, 2\] \(the generator's output \[-1, 2\]\)/);
  });

  test('latentDim not matching the generator input', () => {
    expect(() => gan(args({ latentDim: 5 }))).toThrow(/generator '.*' takes input \[-1, 4\], but latentDim 5 needs \[-1, 5\]/);
    expect(() => gan(args({ latentDim: 4, numClasses: 3 }))).toThrow(/takes input \[-1, 4\], but latentDim 4 \+ numClasses 3 needs \[-1, 7\]/);
  });

  test('conditional: the discriminator must take the label channels', () => {
    const gImg = gf.sequential([gf.layers.dense({ units: 8, inputShape: [6] }), gf.layers.reshape({ targetShape: [2, 2, 2] })]);
    const dImg = (c: number): gf.Sequential => gf.sequential([gf.layers.flatten({ inputShape: [2, 2, c] }), gf.layers.dense({ units: 1 })]);
    expect(() => gan({ generator: gImg, discriminator: dImg(2), latentDim: 3, numClasses: 3 }))
      .toThrow(/takes input \[-1, 2, 2, 2\], but it must take \[-1, 2, 2, 5\] \(the generator's output \[-1, 2, 2, 2\] plus 3 label channels on the last axis\)/);
    expect(gan({ generator: gImg, discriminator: dImg(5), latentDim: 3, numClasses: 3 }).config.numClasses).toBe(3);
  });

  test('the discriminator must output one value per sample, a logit or a score', () => {
    expect(() => gan(args({ discriminator: D(2, 2) }))).toThrow(/must output one value per sample, \[-1, 1\], got \[-1, 2\]/);
    expect(() => gan(args({ discriminator: D(2, 1, 'softmax') }))).toThrow(/last layer '.*' has activation 'softmax'; with loss 'minimax' it must be 'linear' \(a logit\) or 'sigmoid'/);
    expect(() => gan(args({ discriminator: D(2, 1, 'sigmoid'), loss: 'wasserstein-gp' }))).toThrow(/activation 'sigmoid'; with loss 'wasserstein-gp' it must be 'linear'/);
    expect(gan(args({ discriminator: D(2, 1, 'sigmoid') })).logitsPath).toBe(true);
  });

  test('unbuilt models, the same model twice, the same optimizer twice', () => {
    const unbuilt = gf.sequential([gf.layers.dense({ units: 2 })]);
    expect(() => gan(args({ generator: unbuilt }))).toThrow(/the generator '.*' is not built: give its first layer an inputShape/);
    const m = G(2, 2);
    expect(() => gan({ generator: m, discriminator: m, latentDim: 2 })).toThrow(/two different models/);
    const opt = gf.optimizers.adam();
    expect(() => gan(args({ generatorOptimizer: opt, discriminatorOptimizer: opt }))).toThrow(/two optimizer objects/);
    expect(() => gan({ ...args(), generator: {} as gf.Sequential })).toThrow(/generator must be a Sequential model/);
  });

  test('option values', () => {
    expect(() => gan(args({ latentDim: 0 }))).toThrow(/latentDim must be an integer >= 1, got 0/);
    expect(() => gan(args({ loss: 'hinge' as never }))).toThrow(/loss must be 'minimax' or 'wasserstein-gp', got 'hinge'/);
    expect(() => gan(args({ labelSmoothing: 1 }))).toThrow(/labelSmoothing must be a number in \[0, 1\), got 1/);
    expect(() => gan(args({ labelSmoothing: 0.1, loss: 'wasserstein-gp' }))).toThrow(/labelSmoothing \(0.1\) has no meaning for 'wasserstein-gp'/);
    expect(() => gan(args({ discriminatorSteps: 0 }))).toThrow(/discriminatorSteps must be an integer >= 1, got 0/);
    expect(() => gan(args({ gradientPenaltyWeight: -1, loss: 'wasserstein-gp' }))).toThrow(/gradientPenaltyWeight must be a finite number >= 0, got -1/);
    expect(() => gan(args({ gradientPenaltyWeight: 5 }))).toThrow(/gradientPenaltyWeight applies to loss 'wasserstein-gp' only/);
    expect(() => gan(args({ numClasses: 1 }))).toThrow(/numClasses must be an integer >= 2, got 1/);
    expect(() => gan(args({ seed: Number.NaN }))).toThrow(/seed must be a finite number/);
    expect(() => gan(args({ generatorOptimizer: 'nadam' }))).toThrow(/unknown optimizer 'nadam'/);
  });
});

describe('training inputs', () => {
  test('real samples of the wrong rank or shape', async () => {
    const g = gan(args());
    await expect(g.fit(gf.randn([8, 2, 1]), { verbose: 0 })).rejects.toThrow(/gan.fit: real samples have shape \[8, 2, 1\], but the generator makes \[-1, 2\]/);
    await expect(g.fit(gf.randn([8, 3]), { verbose: 0 })).rejects.toThrow(gf.ShapeError);
    expect(() => g.trainStep(gf.randn([8]))).toThrow(/trainStep: real samples have shape \[8\]/);
    expect(() => g.trainDiscriminator(gf.zeros([0, 2]))).toThrow(/no real samples/);
  });

  test('fit options', async () => {
    const g = gan(args());
    const x = gf.randn([8, 2]);
    await expect(g.fit(x, { epochs: -1, verbose: 0 })).rejects.toThrow(/epochs must be an integer >= 0, got -1/);
    await expect(g.fit(x, { batchSize: 0, verbose: 0 })).rejects.toThrow(/batchSize must be an integer >= 1, got 0/);
    await expect(g.fit(x, { verbose: 3 as never })).rejects.toThrow(/verbose must be 0, 1 or 2/);
    await expect(g.fit(x, { verbose: 0, labels: gf.tensor([0, 1, 0, 1, 0, 1, 0, 1]) })).rejects.toThrow(/labels were given but the GAN is not conditional/);
    await expect(g.fit(x, { verbose: 0, callbacks: [42 as never] })).rejects.toThrow(/a callback must be an object/);
  });
});
