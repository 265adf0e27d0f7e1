// The losses a GAN step reports (and optimizes) are the ones defined: recomputed here in
// float64 from what the discriminator actually saw (a pass-through layer records its inputs).
import * as gf from '../../lib';
import { gan, gradientPenalty } from '../../lib/gan';

/** A pass-through first layer that records every batch the discriminator sees. */
class Recorder extends gf.Layer {
  readonly className = 'Recorder';
  readonly seen: { x: number[][]; leaf: boolean }[] = [];

  call(x: gf.Tensor): gf.Tensor {
    const cols = x.size / x.shape[0];
    const rows: number[][] = [];
    for (let i = 0; i < x.shape[0]; i++) rows.push(Array.from(x.data.subarray(i * cols, (i + 1) * cols)));
    // the interpolated points of WGAN-GP are the only leaves that require a gradient
    this.seen.push({ x: rows, leaf: x.requiresGrad && x.gradFn === null });
    return x;
  }
}

const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const meanOf = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

function expectRel(actual: number, expected: number, rtol = 2e-5, atol = 1e-6): void {
  if (!(Math.abs(actual - expected) <= atol + rtol * Math.abs(expected))) throw new Error(`got ${actual}, expected ${expected}`);
}

/** G: a small dense net from 3 latent dims to 2; D: recorder then one linear unit with fixed weights. */
function minimaxSetup(dActivation: string, labelSmoothing: number) {
  gf.setSeed(4);
  const generator = gf.sequential([gf.layers.dense({ units: 2, inputShape: [3] })]);
  const rec = new Recorder({ inputShape: [2] });
  const discriminator = gf.sequential([rec, gf.layers.dense({ units: 1, activation: dActivation })]);
  discriminator.layers[1].setWeights([gf.tensor([[0.7], [-1.2]]), gf.tensor([0.3])]);
  const [w, b] = discriminator.layers[1].getWeights().map((t) => Array.from(t.data));
  const logit = (x: number[]): number => x[0] * w[0] + x[1] * w[1] + b[0];
  const g = gan({
    generator, discriminator, latentDim: 3, labelSmoothing, seed: 1,
    // D's rate 0 keeps its weights fixed, so every logit below uses the weights above
    discriminatorOptimizer: gf.optimizers.sgd(0), generatorOptimizer: gf.optimizers.sgd(0.1),
  });
  return { g, rec, logit };
}

describe('minimax', () => {
  test.each([
    ['linear', 0], ['linear', 0.1], ['sigmoid', 0], ['sigmoid', 0.2],
  ])('d_loss = BCE(D(x), 1 - s) + BCE(D(G(z)), 0), g_loss = BCE(D(G(z)), 1) (last activation %s, smoothing %d)', (act, s) => {
    const { g, rec, logit } = minimaxSetup(act as string, s as number);
    const real = gf.randn([6, 2], { seed: 2 });
    const logs = g.trainStep(real);
    // D saw: the real batch and fakes (its step), then new fakes (the generator's step)
    expect(rec.seen.length).toBe(3);
    expect(rec.seen[0].x.flat()).toEqual(Array.from(real.data));
    const [lr, lf, lg] = rec.seen.map((b) => b.x.map(logit));
    const bce = (x: number, z: number): number => z * softplus(-x) + (1 - z) * softplus(x);
    expectRel(logs.d_loss, meanOf(lr.map((x) => bce(x, 1 - (s as number)))) + meanOf(lf.map((x) => bce(x, 0))));
    expectRel(logs.g_loss, meanOf(lg.map((x) => softplus(-x))));
    expectRel(logs.d_real, meanOf(lr.map(sigmoid)));
    expectRel(logs.d_fake, meanOf(lf.map(sigmoid)));
    // the fakes of the two steps are different draws of z
    expect(rec.seen[2].x).not.toEqual(rec.seen[1].x);
  });

  test('a final sigmoid is folded into the loss, not applied twice', () => {
    const lin = minimaxSetup('linear', 0);
    const sig = minimaxSetup('sigmoid', 0);
    const real = gf.randn([5, 2], { seed: 3 });
    expect(sig.g.logitsPath).toBe(true);
    expect(lin.g.logitsPath).toBe(false);
    expect(sig.g.trainStep(real)).toEqual(lin.g.trainStep(real));
  });
});

describe('wasserstein-gp', () => {
  // critic: x (2) -> tanh(x W1 + b1) (3) -> . w2 + b2
  const W1 = [[0.8, -0.5, 0.3], [0.2, 0.9, -1.1]];
  const b1 = [0.1, -0.2, 0.05];
  const w2 = [1.3, -0.7, 0.9];
  const b2 = [0.25];
  type Theta = { W1: number[][]; b1: number[]; w2: number[]; b2: number[] };

  function critic(t: Theta, x: number[]): number {
    let s = t.b2[0];
    for (let j = 0; j < 3; j++) s += t.w2[j] * Math.tanh(x[0] * t.W1[0][j] + x[1] * t.W1[1][j] + t.b1[j]);
    return s;
  }

  /** ||grad_x D(x)|| by central differences (no analytic formula to share a mistake with). */
  function inputGradNorm(t: Theta, x: number[]): number {
    const h = 1e-5;
    let sq = 0;
    for (let k = 0; k < 2; k++) {
      const xp = [...x];
      const xm = [...x];
      xp[k] += h;
      xm[k] -= h;
      sq += ((critic(t, xp) - critic(t, xm)) / (2 * h)) ** 2;
    }
    return Math.sqrt(sq);
  }

  function criticLoss(t: Theta, real: number[][], fake: number[][], xhat: number[][], lambda: number): number {
    const wd = meanOf(fake.map((x) => critic(t, x))) - meanOf(real.map((x) => critic(t, x)));
    return wd + lambda * meanOf(xhat.map((x) => (inputGradNorm(t, x) - 1) ** 2));
  }

  function setup(lr: number) {
    gf.setSeed(6);
    const generator = gf.sequential([gf.layers.dense({ units: 2, inputShape: [4] })]);
    const rec = new Recorder({ inputShape: [2] });
    const discriminator = gf.sequential([rec, gf.layers.dense({ units: 3, activation: 'tanh' }), gf.layers.dense({ units: 1 })]);
    discriminator.layers[1].setWeights([gf.tensor(W1), gf.tensor(b1)]);
    discriminator.layers[2].setWeights([gf.tensor(w2.map((v) => [v])), gf.tensor(b2)]);
    const g = gan({
      generator, discriminator, latentDim: 4, loss: 'wasserstein-gp', seed: 2,
      discriminatorOptimizer: gf.optimizers.sgd(lr), generatorOptimizer: gf.optimizers.sgd(0.1),
    });
    const ws = discriminator.getWeights().map((t) => Array.from(t.data));
    const theta: Theta = { W1: [ws[0].slice(0, 3), ws[0].slice(3, 6)], b1: ws[1], w2: ws[2], b2: ws[3] };
    return { g, rec, discriminator, theta };
  }

  test('d_loss = mean D(fake) - mean D(real) + 10 mean((||grad D(x_hat)|| - 1)^2), x_hat on the real-fake segments', () => {
    const { g, rec, theta } = setup(0);
    const real = gf.randn([5, 2], { seed: 7 });
    const logs = g.trainDiscriminator(real);
    expect(rec.seen.map((s) => s.leaf)).toEqual([false, false, true]);
    const [r, f, xh] = rec.seen.map((s) => s.x);
    expect(r.flat()).toEqual(Array.from(real.data));
    // each x_hat row is eps r + (1 - eps) f, one eps in [0, 1] for both coordinates
    xh.forEach((x, i) => {
      const eps = (x[0] - f[i][0]) / (r[i][0] - f[i][0]);
      expect(eps).toBeGreaterThanOrEqual(0);
      expect(eps).toBeLessThanOrEqual(1);
      expect(Math.abs(eps * r[i][1] + (1 - eps) * f[i][1] - x[1])).toBeLessThan(1e-5);
    });
    // the points are not all at one end: the penalty is evaluated between the distributions
    expect(new Set(xh.map((x) => x[0].toFixed(4))).size).toBe(5);
    const penalty = meanOf(xh.map((x) => (inputGradNorm(theta, x) - 1) ** 2));
    expect(penalty).toBeGreaterThan(0.01); // so that a missing penalty term would be seen
    expectRel(logs.d_loss, criticLoss(theta, r, f, xh, 10), 1e-4, 1e-5);
    expectRel(logs.d_real, meanOf(r.map((x) => critic(theta, x))), 1e-5);
    expectRel(logs.d_fake, meanOf(f.map((x) => critic(theta, x))), 1e-5);
  });

  test('the critic step follows the gradient of the whole loss, penalty included (gradients of gradients)', () => {
    const lr = 0.05;
    const { g, rec, discriminator, theta } = setup(lr);
    g.trainDiscriminator(gf.randn([5, 2], { seed: 8 }));
    const [r, f, xh] = rec.seen.map((s) => s.x);
    const after = discriminator.getWeights().map((t) => Array.from(t.data));
    const before = [theta.W1.flat(), theta.b1, theta.w2, theta.b2];
    const h = 1e-6;
    const loss = (): number => criticLoss(theta, r, f, xh, 10);
    const slots: [number[], number][] = [];
    theta.W1.forEach((row) => row.forEach((_, j) => slots.push([row, j])));
    theta.b1.forEach((_, j) => slots.push([theta.b1, j]));
    theta.w2.forEach((_, j) => slots.push([theta.w2, j]));
    slots.push([theta.b2, 0]);
    const stepped = after.flat();
    const start = before.flat();
    slots.forEach(([arr, j], k) => {
      const o = arr[j];
      arr[j] = o + h;
      const p = loss();
      arr[j] = o - h;
      const m = loss();
      arr[j] = o;
      const numeric = (p - m) / (2 * h);
      const applied = (start[k] - stepped[k]) / lr;
      if (!(Math.abs(applied - numeric) <= 2e-4 + 2e-3 * Math.abs(numeric))) {
        throw new Error(`weight ${k}: step/lr ${applied}, numeric gradient ${numeric}`);
      }
    });
  });

  test('g_loss = -mean D(G(z))', () => {
    const { g, rec, theta } = setup(0);
    const gLoss = g.trainGenerator(4);
    expect(rec.seen.length).toBe(1);
    expectRel(gLoss, -meanOf(rec.seen[0].x.map((x) => critic(theta, x))), 1e-5);
  });

  test('a critic with BatchNormalization is refused: it cannot be differentiated twice', () => {
    const critic = gf.sequential([gf.layers.dense({ units: 3, inputShape: [2] }), gf.layers.batchNormalization(), gf.layers.dense({ units: 1 })]);
    expect(() => gan({ generator: gf.sequential([gf.layers.dense({ units: 2, inputShape: [2] })]), discriminator: critic, latentDim: 2, loss: 'wasserstein-gp' }))
      .toThrow(/wasserstein-gp.*'batch_normalization\w*' \(BatchNormalization\)/);
    // and the penalty itself names the op when given one
    expect(() => gradientPenalty((x) => critic.apply(x, { training: true }), gf.randn([4, 2], { seed: 1 })))
      .toThrow(/gradientPenalty: WGAN-GP differentiates the critic twice.*batchNorm: gradients of gradients/);
  });
});
