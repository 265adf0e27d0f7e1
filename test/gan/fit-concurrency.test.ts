// gan.fit and the networks it trains (issue 10 A): one training loop at a time over the same
// weights, whichever entry point starts it; sampling during gan.fit changes nothing.
import * as gf from '../../lib';
import { gan, GAN } from '../../lib/gan';

function small(seed = 1): GAN {
  gf.setSeed(seed);
  const generator = gf.sequential([gf.layers.dense({ units: 4, activation: 'leakyRelu', inputShape: [2] }), gf.layers.dense({ units: 2 })], { name: 'gen' });
  const discriminator = gf.sequential([gf.layers.dense({ units: 4, activation: 'leakyRelu', inputShape: [2] }), gf.layers.dense({ units: 1 })], { name: 'disc' });
  generator.compile({ optimizer: 'sgd', loss: 'mse' });
  discriminator.compile({ optimizer: 'sgd', loss: 'mse' });
  return gan({
    generator, discriminator, latentDim: 2, seed,
    generatorOptimizer: gf.optimizers.adam({ learningRate: 1e-3 }),
    discriminatorOptimizer: gf.optimizers.adam({ learningRate: 4e-3 }),
  });
}

const x = (): gf.Tensor => gf.randn([12, 2], { seed: 3 });
const bits = (ts: readonly gf.Tensor[]): number[][] => ts.map((t) => Array.from(t.data));
const BUSY = /because another fit\(\) call is ongoing \(gan\.fit of GAN \(generator 'gen', discriminator 'disc'\)\)/;

test('while gan.fit runs: a second gan.fit, model.fit of either network and the train* steps are refused', async () => {
  const g = small();
  const running = g.fit(x(), { epochs: 2, batchSize: 4, verbose: 0 });
  expect(g.isTraining).toBe(true);
  expect(g.generator.isTraining).toBe(true);
  await expect(g.fit(x(), { verbose: 0 })).rejects.toThrow(BUSY);
  await expect(g.generator.fit(gf.randn([4, 2]), gf.randn([4, 2]), { verbose: 0 })).rejects.toThrow(
    /^fit: cannot start training model 'gen' because another fit\(\) call is ongoing \(gan\.fit of GAN/);
  await expect(g.discriminator.fit(gf.randn([4, 2]), gf.randn([4, 1]), { verbose: 0 })).rejects.toThrow(gf.ValueError);
  expect(() => g.trainStep(x())).toThrow(BUSY);
  expect(() => g.trainDiscriminator(x())).toThrow(BUSY);
  expect(() => g.trainGenerator(4)).toThrow(BUSY);
  await running;
  expect(g.isTraining).toBe(false);
  expect(g.generator.isTraining).toBe(false);
  expect(() => g.trainStep(x())).not.toThrow();
});

test('gan.fit is refused while its generator is in a model.fit; a GAN sharing the discriminator is refused too', async () => {
  const g = small();
  const genFit = g.generator.fit(gf.randn([8, 2]), gf.randn([8, 2]), { epochs: 2, batchSize: 2, verbose: 0 });
  await expect(g.fit(x(), { verbose: 0 })).rejects.toThrow(
    /^gan\.fit: cannot start training GAN \(generator 'gen', discriminator 'disc'\) because another fit\(\) call is ongoing \(fit of model 'gen'\): model 'gen' is being trained by it/);
  expect(() => g.trainGenerator(4)).toThrow(gf.ValueError);
  await genFit;
  gf.setSeed(9);
  const otherGenerator = gf.sequential([gf.layers.dense({ units: 2, inputShape: [2] })], { name: 'gen2' });
  const other = gan({ generator: otherGenerator, discriminator: g.discriminator, latentDim: 2, seed: 2 });
  const running = g.fit(x(), { epochs: 1, batchSize: 4, verbose: 0 });
  await expect(other.fit(x(), { verbose: 0 })).rejects.toThrow(/model 'disc' is being trained by it/);
  await running;
  await expect(other.fit(x(), { epochs: 1, verbose: 0 })).resolves.toBeInstanceOf(gf.History);
});

test('a callback that throws ends gan.fit with its error and frees the GAN', async () => {
  const g = small();
  await expect(g.fit(x(), { batchSize: 4, verbose: 0, callbacks: { onBatchBegin: () => { throw new Error('stop here'); } } })).rejects.toThrow('stop here');
  expect(g.isTraining).toBe(false);
  const h = await g.fit(x(), { epochs: 1, batchSize: 4, verbose: 0 });
  expect(h.epoch.length).toBe(1);
});

test('generate and predict from a callback during gan.fit change nothing in training', async () => {
  const plain = small(4);
  await plain.fit(x(), { epochs: 2, batchSize: 4, verbose: 0 });
  const busy = small(4);
  const samples: number[][] = [];
  await busy.fit(x(), {
    epochs: 2, batchSize: 4, verbose: 0, callbacks: {
      onBatchEnd: () => {
        samples.push(Array.from(busy.generate(3).data));
        busy.generator.predict(busy.sampleLatent(2, 0));
        busy.discriminator.predict(x());
      },
    },
  });
  expect(samples.length).toBe(6);
  expect(bits(busy.getWeights())).toEqual(bits(plain.getWeights()));
  expect(busy.randomState()).toEqual(plain.randomState());
});
