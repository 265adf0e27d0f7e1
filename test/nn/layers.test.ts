import { Tensor, tensor, randn, ones } from '../../lib/tensor';
import { setSeed } from '../../lib/random';
import { ShapeError, ValueError } from '../../lib/errors';
import { layers, initializers, regularizers, activations, Dense, Dropout, Flatten, Activation } from '../../lib/nn';
import { computeFans, getInitializer } from '../../lib/nn/initializers';
import { getRegularizer } from '../../lib/nn/regularizers';
import { expectClose, expectGradOk } from '../util/helpers';

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of t.data) { s += v; min = Math.min(min, v); max = Math.max(max, v); }
  const mean = s / t.size;
  let q = 0;
  for (const v of t.data) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / t.size), min, max };
}

describe('Dropout', () => {
  test('identity at inference; zeros and 1/(1-rate) scaling in training', () => {
    setSeed(11);
    const d = layers.dropout({ rate: 0.25 });
    const x = ones([200, 50]);
    expect(d.apply(x, { training: false })).toBe(x);
    const y = d.apply(x, { training: true });
    let zeros = 0;
    for (const v of y.data) {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(1 / 0.75, 6);
    }
    // 10000 Bernoulli(0.25) draws: the fraction is within 4 sigma (0.0173) of 0.25
    expect(Math.abs(zeros / y.size - 0.25)).toBeLessThan(0.0173);
    // expectation preserved
    expect(Math.abs(stats(y).mean - 1)).toBeLessThan(0.03);
  });

  test('masks follow the global seed; a seeded layer is reproducible on its own', () => {
    const x = ones([4, 30]);
    setSeed(5);
    const a = layers.dropout({ rate: 0.5 }).apply(x, { training: true });
    setSeed(5);
    const b = layers.dropout({ rate: 0.5 }).apply(x, { training: true });
    expectClose(a.data, b.data, 0);
    const c1 = layers.dropout({ rate: 0.5, seed: 3 });
    const c2 = layers.dropout({ rate: 0.5, seed: 3 });
    const m1 = c1.apply(x, { training: true });
    expectClose(c2.apply(x, { training: true }).data, m1.data, 0);
    // successive masks of one layer differ
    expect(Array.from(c1.apply(x, { training: true }).data)).not.toEqual(Array.from(m1.data));
  });

  test('the gradient passes through kept units scaled, and is zero at dropped ones', () => {
    const x = randn([5, 6], { seed: 1 }).setRequiresGrad(true);
    const y = layers.dropout({ rate: 0.4, seed: 9 }).apply(x, { training: true });
    y.sum().backward();
    for (let i = 0; i < x.size; i++) {
      const kept = y.data[i] !== 0;
      expect(x.grad!.data[i]).toBeCloseTo(kept ? 1 / 0.6 : 0, 5);
    }
  });

  test('noiseShape broadcasts one mask over an axis', () => {
    const x = ones([2, 5, 8]);
    const y = layers.dropout({ rate: 0.5, noiseShape: [null, 1, null], seed: 4 }).apply(x, { training: true });
    for (let b = 0; b < 2; b++) {
      for (let f = 0; f < 8; f++) {
        const first = y.data[b * 40 + f];
        for (let t = 1; t < 5; t++) expect(y.data[b * 40 + t * 8 + f]).toBe(first);
      }
    }
    expect(() => layers.dropout({ rate: 0.5, noiseShape: [null, 3, null] }).apply(x, { training: true })).toThrow(ShapeError);
  });

  test('rate outside [0, 1) is a ValueError naming it', () => {
    expect(() => layers.dropout({ rate: 1 })).toThrow(ValueError);
    expect(() => layers.dropout({ rate: -0.1 })).toThrow(/-0.1/);
    expect(() => layers.dropout({ rate: NaN })).toThrow(/NaN/);
    expect(layers.dropout({ rate: 0.3 }).getConfig()).toMatchObject({ rate: 0.3, noise_shape: null, seed: null });
  });
});

describe('Flatten and Activation', () => {
  test('flatten keeps the batch and row-major order', () => {
    const f = layers.flatten({ inputShape: [2, 3, 2] });
    const x = randn([4, 2, 3, 2], { seed: 2 });
    const y = f.apply(x);
    expect(y.shape).toEqual([4, 12]);
    expectClose(y.data, x.data, 0);
    expect(f.computeOutputShape([null, 2, 3, 2])).toEqual([null, 12]);
    expect(f.computeOutputShape([null, null, 3])).toEqual([null, null]);
    expect(f.className).toBe('Flatten');
    expect(f).toBeInstanceOf(Flatten);
  });

  test('activation layer applies the named function and honours logits for softmax only', () => {
    const x = tensor([[-1, 0.5, 2], [3, -2, 0]]);
    const relu = layers.activation({ activation: 'relu' });
    expectClose(relu.apply(x).data, [0, 0.5, 2, 3, 0, 0]);
    expectClose(relu.apply(x, { training: false, logits: true }).data, [0, 0.5, 2, 3, 0, 0]);
    const sm = layers.activation({ activation: 'softmax' });
    expect(sm.activationName).toBe('softmax');
    expect(sm.apply(x, { training: false, logits: true })).toBe(x);
    expectClose(sm.apply(x).data, x.softmax().data, 1e-7);
    expect(sm).toBeInstanceOf(Activation);
    expect(() => layers.activation({ activation: 'bogus' })).toThrow(/unknown activation 'bogus'; known: linear, relu/);
  });

  test('activation functions match their formulas', () => {
    const v = [-3, -0.5, 0.25, 2, 7];
    const x = tensor(v, [5], { dtype: 'float64' });
    const f = (name: string): number[] => Array.from(activations.getActivation(name)(x).data);
    const sig = (z: number): number => 1 / (1 + Math.exp(-z));
    expectClose(f('linear'), v, 0);
    expectClose(f('relu6'), v.map((z) => Math.min(6, Math.max(0, z))));
    expectClose(f('elu'), v.map((z) => (z > 0 ? z : Math.exp(z) - 1)));
    expectClose(f('selu'), v.map((z) => 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * (Math.exp(z) - 1))));
    expectClose(f('sigmoid'), v.map(sig));
    expectClose(f('hard_sigmoid'), v.map((z) => Math.min(1, Math.max(0, z / 6 + 0.5))));
    expectClose(f('hardSigmoid'), v.map((z) => Math.min(1, Math.max(0, z / 6 + 0.5))));
    expectClose(f('tanh'), v.map(Math.tanh));
    expectClose(f('softplus'), v.map((z) => Math.log1p(Math.exp(z))));
    expectClose(f('softsign'), v.map((z) => z / (1 + Math.abs(z))));
    expectClose(f('leaky_relu'), v.map((z) => (z > 0 ? z : 0.2 * z)));
    expectClose(f('swish'), v.map((z) => z * sig(z)));
    // exact GELU, 0.5 x (1 + erf(x / sqrt 2)) with Python's math.erf
    expectClose(f('gelu'), [-0.00404969409489031, -0.15426876936299344, 0.14967658142073093, 1.9544997361036416, 6.999999999991041], 1e-6);
    const sm = f('softmax');
    const e = v.map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    expectClose(sm, e.map((q) => q / z));
  });

  test('activation gradients (gradcheck)', () => {
    const x = randn([7], { seed: 3, dtype: 'float64' });
    for (const name of ['selu', 'softsign', 'swish', 'gelu', 'hard_sigmoid', 'softmax']) {
      expectGradOk((t) => activations.getActivation(name)(t), [x]);
    }
  });
});

describe('initializers', () => {
  test('computeFans follows Keras (conv kernels multiply by the receptive field)', () => {
    expect(computeFans([784, 128])).toEqual({ fanIn: 784, fanOut: 128 });
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(computeFans([10])).toEqual({ fanIn: 10, fanOut: 10 });
    expect(computeFans([])).toEqual({ fanIn: 1, fanOut: 1 });
  });

  test('glorotUniform: bound sqrt(6/(fanIn+fanOut)), variance bound^2/3', () => {
    const w = initializers.glorotUniform({ seed: 1 }).create([300, 200]);
    const bound = Math.sqrt(6 / 500);
    const s = stats(w);
    expect(s.max).toBeLessThanOrEqual(bound);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(s.mean)).toBeLessThan(0.003);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 3);
  });

  test('he/lecun/glorot normal: truncated at 2 sigma, std sqrt(scale/fan)', () => {
    const cases: [initializers.Initializer, number][] = [
      [initializers.heNormal({ seed: 2 }), Math.sqrt(2 / 400)],
      [initializers.leCunNormal({ seed: 3 }), Math.sqrt(1 / 400)],
      [initializers.glorotNormal({ seed: 4 }), Math.sqrt(2 / 650)],
    ];
    for (const [init, std] of cases) {
      const w = init.create([400, 250]);
      const s = stats(w);
      // the truncation constant restores the target variance after truncation
      expect(Math.abs(s.std / std - 1)).toBeLessThan(0.01);
      expect(s.max).toBeLessThanOrEqual(2 * std / 0.87962566103423978 + 1e-6);
    }
    const hu = stats(initializers.heUniform({ seed: 5 }).create([3, 3, 8, 16]));
    expect(hu.max).toBeLessThanOrEqual(Math.sqrt(6 / 72));
    const lu = stats(initializers.leCunUniform({ seed: 5 }).create([50, 40]));
    expect(lu.max).toBeLessThanOrEqual(Math.sqrt(3 / 50));
  });

  test('simple initializers and defaults', () => {
    expectClose(initializers.zeros().create([3]).data, [0, 0, 0], 0);
    expectClose(initializers.ones().create([2]).data, [1, 1], 0);
    expectClose(initializers.constant({ value: 2.5 }).create([2]).data, [2.5, 2.5], 0);
    const rn = stats(initializers.randomNormal({ seed: 1 }).create([20000]));
    expect(rn.std).toBeCloseTo(0.05, 2);
    const ru = stats(initializers.randomUniform({ seed: 1 }).create([20000]));
    expect(ru.min).toBeGreaterThanOrEqual(-0.05);
    expect(ru.max).toBeLessThanOrEqual(0.05);
    const tn = stats(initializers.truncatedNormal({ seed: 1, stddev: 1 }).create([20000]));
    expect(tn.max).toBeLessThanOrEqual(2);
    expect(tn.min).toBeGreaterThanOrEqual(-2);
  });

  test('orthogonal gives orthonormal columns (or rows)', () => {
    for (const shape of [[6, 4], [3, 5]]) {
      const w = initializers.orthogonal({ seed: 7 }).create(shape);
      const [r, c] = shape;
      const small = Math.min(r, c);
      for (let a = 0; a < small; a++) {
        for (let b = 0; b < small; b++) {
          let dot = 0;
          for (let k = 0; k < Math.max(r, c); k++) {
            dot += r >= c ? w.data[k * c + a] * w.data[k * c + b] : w.data[a * c + k] * w.data[b * c + k];
          }
          expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
        }
      }
    }
  });

  test('seeded initializers are reproducible; unseeded ones follow setSeed', () => {
    const a = initializers.glorotUniform({ seed: 42 }).create([5, 5]);
    const b = initializers.glorotUniform({ seed: 42 }).create([5, 5]);
    expectClose(a.data, b.data, 0);
    setSeed(9);
    const c = initializers.heNormal().create([4, 4]);
    const d = initializers.heNormal().create([4, 4]);
    setSeed(9);
    expectClose(initializers.heNormal().create([4, 4]).data, c.data, 0);
    expect(Array.from(d.data)).not.toEqual(Array.from(c.data));
    // two dense layers built after the same seed get the same kernel
    setSeed(3);
    const k1 = layers.dense({ units: 3 });
    k1.apply(ones([1, 4]));
    setSeed(3);
    const k2 = layers.dense({ units: 3 });
    k2.apply(ones([1, 4]));
    expectClose(k1.getWeights()[0].data, k2.getWeights()[0].data, 0);
  });

  test('getInitializer resolves camelCase, snake_case, class names and configs', () => {
    expect(getInitializer('glorotUniform').className).toBe('GlorotUniform');
    expect(getInitializer('glorot_uniform').className).toBe('GlorotUniform');
    expect(getInitializer('he_normal').className).toBe('HeNormal');
    expect(getInitializer('leCunUniform').className).toBe('LecunUniform');
    expect(getInitializer('lecun_normal').className).toBe('LecunNormal');
    const rn = getInitializer({ class_name: 'RandomNormal', config: { mean: 1, stddev: 0.5, seed: 3 } });
    expect(rn.getConfig()).toEqual({ mean: 1, stddev: 0.5, seed: 3 });
    const inst = initializers.ones();
    expect(getInitializer(inst)).toBe(inst);
    expect(() => getInitializer('glorot_magic')).toThrow(/unknown initializer 'glorot_magic'; known: .*glorot_uniform/);
    expect(() => initializers.randomUniform({ minval: 1, maxval: 0 })).toThrow(ValueError);
  });
});

describe('regularizers', () => {
  test('penalty = l1 sum|w| + l2 sum w^2 with Keras defaults 0.01', () => {
    const w = tensor([[1, -2], [0.5, 3]]);
    expect(regularizers.l1().apply(w).item()).toBeCloseTo(0.01 * 6.5, 6);
    expect(regularizers.l2().apply(w).item()).toBeCloseTo(0.01 * 14.25, 6);
    expect(regularizers.l1l2({ l1: 0.1, l2: 0.2 }).apply(w).item()).toBeCloseTo(0.65 + 2.85, 5);
    expect(regularizers.l1l2({ l1: 0, l2: 0 }).apply(w).item()).toBe(0);
    expect(regularizers.l2({ l2: 0.3 }).getConfig()).toEqual({ l2: 0.3 });
  });

  test('the penalty gradient is correct (gradcheck)', () => {
    const w = randn([3, 4], { seed: 1, dtype: 'float64' });
    expectGradOk((t) => regularizers.l1l2({ l1: 0.3, l2: 0.7 }).apply(t), [w]);
  });

  test('getRegularizer resolves names and configs; bad factors throw', () => {
    expect(getRegularizer(undefined)).toBeNull();
    expect(getRegularizer('l1')!.className).toBe('L1');
    expect(getRegularizer('l1_l2')!.getConfig()).toEqual({ l1: 0.01, l2: 0.01 });
    expect(getRegularizer({ class_name: 'L2', config: { l2: 0.5 } })!.getConfig()).toEqual({ l2: 0.5 });
    expect(() => getRegularizer('l3')).toThrow(/unknown regularizer 'l3'/);
    expect(() => regularizers.l2({ l2: -1 })).toThrow(/l2 must be a finite number >= 0, got -1/);
  });
});

describe('layer names', () => {
  test('unique Keras-style names: dense, dense_1, ...', () => {
    const a = new Dense({ units: 1 });
    const b = new Dense({ units: 1 });
    const num = (n: string): number => (n === 'dense' ? 0 : Number(n.slice('dense_'.length)));
    expect(a.name).toMatch(/^dense(_\d+)?$/);
    expect(num(b.name)).toBe(num(a.name) + 1);
    const d = new Dropout({ rate: 0.1 });
    expect(d.name).toMatch(/^dropout(_\d+)?$/);
    expect(new Activation({ activation: 'relu' }).name).toMatch(/^activation(_\d+)?$/);
    expect(new Dense({ units: 1, name: 'head' }).name).toBe('head');
  });
});
