// The network that is not training is left exactly as it was: no weight, no moving statistic,
// no gradient and no optimizer step of it changes during the other network's step.
import * as gf from '../../lib';
import { gan, GAN, GanLoss } from '../../lib/gan';

/** Every weight's bytes (trainable and not), keyed by name. */
function bits(m: gf.Sequential): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of m.weights) out[v.name] = Buffer.from(new Float32Array(v.value.data).buffer).toString('hex');
  return out;
}

function changed(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((k) => before[k] !== after[k]);
}

function grads(m: gf.Sequential): (gf.Tensor | null)[] {
  return m.weights.map((v) => v.value.grad);
}

/** Both networks with BatchNormalization (not the WGAN-GP critic, which may not have it) and dropout. */
function build(loss: GanLoss): GAN {
  gf.setSeed(12);
  const generator = gf.sequential([
    gf.layers.dense({ units: 8, inputShape: [3] }),
    gf.layers.batchNormalization({ momentum: 0.5 }),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.dense({ units: 2 }),
  ]);
  const discriminator = gf.sequential([
    gf.layers.dense({ units: 8, inputShape: [2] }),
    ...(loss === 'minimax' ? [gf.layers.batchNormalization({ momentum: 0.5 })] : []),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.dropout({ rate: 0.25 }),
    gf.layers.dense({ units: 1 }),
  ]);
  return gan({ generator, discriminator, latentDim: 3, loss, seed: 3 });
}

const real = (): gf.Tensor => gf.randn([16, 2], { seed: 5, mean: 1 });

describe.each(['minimax', 'wasserstein-gp'] as GanLoss[])('%s', (loss) => {
  test('a discriminator step changes the discriminator only', () => {
    const g = build(loss);
    const gBefore = bits(g.generator);
    const dBefore = bits(g.discriminator);
    g.trainDiscriminator(real());
    expect(changed(gBefore, bits(g.generator))).toEqual([]);
    // every weight of D moved, and (minimax) its own step advanced its statistics; the critic's
    // output bias is the exception: mean D(fake) - mean D(real) does not depend on it
    const dChanged = changed(dBefore, bits(g.discriminator));
    const outputBias = g.discriminator.weights[g.discriminator.weights.length - 1].name;
    for (const v of g.discriminator.weights) if (loss === 'minimax' || v.name !== outputBias) expect(dChanged).toContain(v.name);
    expect(g.discriminatorOptimizer.iterations).toBe(1);
    expect(g.generatorOptimizer.iterations).toBe(0);
    expect(grads(g.generator).every((t) => t === null)).toBe(true);
    expect(grads(g.discriminator).every((t) => t === null)).toBe(true);
  });

  test('a generator step changes the generator only (gradients flow through D, D is not stepped)', () => {
    const g = build(loss);
    g.trainDiscriminator(real()); // so that D's optimizer has state that a stray step would use
    const gBefore = bits(g.generator);
    const dBefore = bits(g.discriminator);
    const dSlots = g.discriminatorOptimizer.getState(g.discriminator.trainableWeights.map((v) => v.value)).weights.map((t) => Array.from(t.data));
    g.trainGenerator(16);
    expect(changed(dBefore, bits(g.discriminator))).toEqual([]);
    const gChanged = changed(gBefore, bits(g.generator));
    for (const v of g.generator.weights) expect(gChanged).toContain(v.name);
    expect(g.generatorOptimizer.iterations).toBe(1);
    expect(g.discriminatorOptimizer.iterations).toBe(1);
    const dSlotsAfter = g.discriminatorOptimizer.getState(g.discriminator.trainableWeights.map((v) => v.value)).weights.map((t) => Array.from(t.data));
    expect(dSlotsAfter).toEqual(dSlots);
    expect(grads(g.discriminator).every((t) => t === null)).toBe(true);
    expect(grads(g.generator).every((t) => t === null)).toBe(true);
    // freezing is temporary: D's weights require gradients again for its own next step
    expect(g.discriminator.trainableWeights.every((v) => v.value.requiresGrad)).toBe(true);
  });
});

test('trainStep with discriminatorSteps 3: three D updates per G update', () => {
  gf.setSeed(2);
  const g = gan({
    generator: gf.sequential([gf.layers.dense({ units: 2, inputShape: [2] })]),
    discriminator: gf.sequential([gf.layers.dense({ units: 4, activation: 'relu', inputShape: [2] }), gf.layers.dense({ units: 1 })]),
    latentDim: 2, discriminatorSteps: 3, seed: 1,
  });
  const logs = g.trainStep(real());
  expect(Object.keys(logs).sort()).toEqual(['d_fake', 'd_loss', 'd_real', 'g_loss']);
  expect(g.discriminatorOptimizer.iterations).toBe(3);
  expect(g.generatorOptimizer.iterations).toBe(1);
});

test('an exception inside a step leaves D unfrozen', () => {
  const g = build('minimax');
  // a NaN learning rate makes the generator's optimizer throw after D was frozen
  g.generatorOptimizer.learningRate = Number.NaN;
  const dBefore = bits(g.discriminator);
  expect(() => g.trainGenerator(4)).toThrow(/learningRate/);
  expect(g.discriminator.trainableWeights.every((v) => v.value.requiresGrad)).toBe(true);
  expect(changed(dBefore, bits(g.discriminator))).toEqual([]);
});
