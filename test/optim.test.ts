import { Tensor, tensor } from '../lib/tensor';
import { ShapeError, ValueError } from '../lib/errors';
import { sgd, adam, rmsprop, adagrad, getOptimizer, SGD, Adam, RMSprop, Adagrad, Optimizer } from '../lib/optim';
import { expectClose } from './util/helpers';

// ----- plain-JS references of Keras 3's update rules (float64) -----

type Step = (p: number[], g: number[], t: number) => void;

function refSgd(lr: number, momentum: number, nesterov: boolean): Step {
  let v: number[] | null = null;
  return (p, g) => {
    v ??= p.map(() => 0);
    for (let i = 0; i < p.length; i++) {
      if (momentum === 0) { p[i] -= lr * g[i]; continue; }
      v[i] = momentum * v[i] - lr * g[i];
      p[i] += nesterov ? momentum * v[i] - lr * g[i] : v[i];
    }
  };
}

function refAdam(lr: number, b1: number, b2: number, eps: number): Step {
  let m: number[] | null = null;
  let v: number[] | null = null;
  return (p, g, t) => {
    m ??= p.map(() => 0);
    v ??= p.map(() => 0);
    const alpha = lr * Math.sqrt(1 - b2 ** t) / (1 - b1 ** t);
    for (let i = 0; i < p.length; i++) {
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
      p[i] -= alpha * m[i] / (Math.sqrt(v[i]) + eps);
    }
  };
}

function refRmsprop(lr: number, rho: number, eps: number): Step {
  let ms: number[] | null = null;
  return (p, g) => {
    ms ??= p.map(() => 0);
    for (let i = 0; i < p.length; i++) {
      ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
      p[i] -= lr * g[i] / Math.sqrt(ms[i] + eps);
    }
  };
}

function refAdagrad(lr: number, init: number, eps: number): Step {
  let acc: number[] | null = null;
  return (p, g) => {
    acc ??= p.map(() => init);
    for (let i = 0; i < p.length; i++) {
      acc[i] += g[i] * g[i];
      p[i] -= lr * g[i] / Math.sqrt(acc[i] + eps);
    }
  };
}

/** Gradient sequence: deterministic, varied in sign and size, step-dependent. */
function gradAt(step: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.7 * step) * (1 + i % 3) + 0.1 * step);
}

/** Runs opt and the reference side by side for `steps` steps on float64 parameters. */
function compare(opt: Optimizer, ref: Step, steps = 6, n = 7): void {
  const init = Array.from({ length: n }, (_, i) => 0.5 - 0.15 * i);
  const p = tensor(init, [n], { dtype: 'float64' });
  const q = [...init];
  for (let t = 1; t <= steps; t++) {
    const g = gradAt(t, n);
    opt.applyGradients([{ param: p, grad: tensor(g, [n], { dtype: 'float64' }) }]);
    ref(q, g, t);
    expectClose(p.data, q, 1e-12, 1e-9);
  }
  expect(opt.iterations).toBe(steps);
}

describe('updates match the Keras 3 formulas over several steps', () => {
  test('sgd: plain, momentum, nesterov', () => {
    compare(sgd(), refSgd(0.01, 0, false));
    compare(sgd({ learningRate: 0.1, momentum: 0.9 }), refSgd(0.1, 0.9, false));
    compare(sgd({ learningRate: 0.05, momentum: 0.8, nesterov: true }), refSgd(0.05, 0.8, true));
  });

  test('adam (default and custom hyperparameters)', () => {
    compare(adam(), refAdam(0.001, 0.9, 0.999, 1e-7));
    compare(adam({ learningRate: 0.01, beta1: 0.5, beta2: 0.9, epsilon: 1e-3 }), refAdam(0.01, 0.5, 0.9, 1e-3));
  });

  test('rmsprop', () => {
    compare(rmsprop(), refRmsprop(0.001, 0.9, 1e-7));
    compare(rmsprop({ learningRate: 0.01, rho: 0.5 }), refRmsprop(0.01, 0.5, 1e-7));
  });

  test('adagrad (accumulator starts at 0.1)', () => {
    compare(adagrad(), refAdagrad(0.001, 0.1, 1e-7));
    compare(adagrad({ learningRate: 0.1, initialAccumulatorValue: 0.5 }), refAdagrad(0.1, 0.5, 1e-7));
  });

  test('float32 parameters agree with the reference to float32 precision', () => {
    const p = tensor([0.5, -0.25, 1]);
    const q = [0.5, -0.25, 1];
    const opt = adam({ learningRate: 0.01 });
    const ref = refAdam(0.01, 0.9, 0.999, 1e-7);
    for (let t = 1; t <= 5; t++) {
      const g = gradAt(t, 3);
      opt.applyGradients([{ param: p, grad: tensor(g) }]);
      ref(q, g, t);
    }
    expectClose(p.data, q, 1e-6, 1e-5);
  });

  test('each parameter keeps its own state', () => {
    const a = tensor([1, 2], [2], { dtype: 'float64' });
    const b = tensor([3], [1], { dtype: 'float64' });
    const opt = sgd({ learningRate: 0.1, momentum: 0.9 });
    const ra = refSgd(0.1, 0.9, false);
    const rb = refSgd(0.1, 0.9, false);
    const qa = [1, 2];
    const qb = [3];
    for (let t = 1; t <= 3; t++) {
      opt.applyGradients([{ param: a, grad: tensor([t, -t], [2], { dtype: 'float64' }) }, { param: b, grad: tensor([2 * t], [1], { dtype: 'float64' }) }]);
      ra(qa, [t, -t], t);
      rb(qb, [2 * t], t);
    }
    expectClose(a.data, qa, 1e-12);
    expectClose(b.data, qb, 1e-12);
  });

  test('minimizes a quadratic', () => {
    const w = tensor([5, -3], [2], { requiresGrad: true });
    const opt = adam({ learningRate: 0.1 });
    for (let i = 0; i < 300; i++) {
      w.zeroGrad();
      w.sub(tensor([1, 2])).square().sum().backward();
      opt.applyGradients([{ param: w, grad: w.grad! }]);
    }
    expectClose(w.data, [1, 2], 1e-2);
  });
});

describe('gradient clipping', () => {
  const run = (opt: Optimizer, grads: number[][]): number[][] => {
    const params = grads.map((g) => tensor(g.map(() => 0), [g.length], { dtype: 'float64' }));
    opt.applyGradients(params.map((p, i) => ({ param: p, grad: tensor(grads[i], [grads[i].length], { dtype: 'float64' }) })));
    // plain sgd with lr 1: the update is minus the clipped gradient
    return params.map((p) => Array.from(p.data, (v) => -v));
  };

  test('clipvalue clips each element', () => {
    expect(run(sgd({ learningRate: 1, clipvalue: 0.5 }), [[0.2, -3, 0.9]])).toEqual([[0.2, -0.5, 0.5]]);
  });

  test('clipnorm rescales each gradient to the norm', () => {
    const [a, b] = run(sgd({ learningRate: 1, clipnorm: 1 }), [[3, 4], [0.3, 0.4]]);
    expectClose(a, [0.6, 0.8], 1e-12);
    expectClose(b, [0.3, 0.4], 1e-12); // under the norm: unchanged
  });

  test('globalClipnorm rescales all gradients together', () => {
    const [a, b] = run(sgd({ learningRate: 1, globalClipnorm: 6.5 }), [[3, 4], [12, 0]]);
    // global norm 13 -> factor 0.5
    expectClose(a, [1.5, 2], 1e-12);
    expectClose(b, [6, 0], 1e-12);
  });

  test('only one clipping option at a time, as Keras 3', () => {
    expect(() => sgd({ learningRate: 1, clipvalue: 4, clipnorm: 5 })).toThrow(/set only one of clipnorm, clipvalue and globalClipnorm; got clipnorm=5, clipvalue=4/);
    const [a] = run(sgd({ learningRate: 1, clipvalue: 4 }), [[30, -40, 1]]);
    expectClose(a, [4, -4, 1], 1e-12);
  });

  test('the caller\'s gradient tensor is not modified', () => {
    const g = tensor([10, -10], [2], { dtype: 'float64' });
    sgd({ clipvalue: 1 }).applyGradients([{ param: tensor([0, 0], [2], { dtype: 'float64' }), grad: g }]);
    expectClose(g.data, [10, -10], 0);
  });
});

describe('bookkeeping, validation, config, state', () => {
  test('pairs with a null gradient are skipped; iterations counts calls', () => {
    const p = tensor([1, 2]);
    const q = tensor([3]);
    const opt = sgd({ learningRate: 1 });
    opt.applyGradients([{ param: p, grad: null }, { param: q, grad: tensor([1]) }]);
    expectClose(p.data, [1, 2], 0);
    expectClose(q.data, [2], 0);
    expect(opt.iterations).toBe(1);
  });

  test('a gradient of another shape is a ShapeError with both shapes', () => {
    expect(() => adam().applyGradients([{ param: tensor([1, 2]), grad: tensor([1, 2, 3]) }]))
      .toThrow(/adam: gradient shape \[3\] differs from parameter shape \[2\]/);
    expect(() => adam().applyGradients([{ param: tensor([1, 2]), grad: tensor([1, 2, 3]) }])).toThrow(ShapeError);
  });

  test('bad hyperparameters are ValueErrors naming the optimizer and the value', () => {
    expect(() => sgd({ learningRate: NaN })).toThrow(/sgd: learningRate must be a number in \[0, Infinity\], got NaN/);
    expect(() => adam({ learningRate: -1 })).toThrow(/adam: learningRate.*got -1/);
    expect(() => adam({ beta1: 1 })).toThrow(/adam: beta1 must be a number in \[0, 1\), got 1/);
    expect(() => adam({ beta2: -0.1 })).toThrow(ValueError);
    expect(() => sgd({ momentum: 1.5 })).toThrow(/sgd: momentum.*1.5/);
    expect(() => rmsprop({ rho: 1 })).toThrow(/rmsprop: rho/);
    expect(() => adagrad({ initialAccumulatorValue: -1 })).toThrow(/adagrad: initialAccumulatorValue/);
    expect(() => adam({ epsilon: NaN })).toThrow(/epsilon/);
    expect(() => sgd({ clipnorm: 0 })).toThrow(/clipnorm must be a number in \(0/);
    expect(() => sgd({ clipnorm: 1, globalClipnorm: 1 })).toThrow(/set only one of/);
    const opt = sgd();
    opt.learningRate = NaN;
    expect(() => opt.applyGradients([{ param: tensor([1]), grad: tensor([1]) }])).toThrow(/sgd: learningRate.*NaN/);
  });

  test('defaults and getConfig follow Keras', () => {
    expect(sgd().getConfig()).toMatchObject({ name: 'SGD', learning_rate: 0.01, momentum: 0, nesterov: false, clipnorm: null, clipvalue: null, global_clipnorm: null });
    expect(adam().getConfig()).toMatchObject({ name: 'adam', learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7 });
    expect(rmsprop().getConfig()).toMatchObject({ name: 'rmsprop', learning_rate: 0.001, rho: 0.9, epsilon: 1e-7 });
    expect(adagrad().getConfig()).toMatchObject({ name: 'adagrad', learning_rate: 0.001, initial_accumulator_value: 0.1, epsilon: 1e-7 });
    expect(sgd({ clipnorm: 2 }).getConfig().clipnorm).toBe(2);
  });

  test('getOptimizer resolves names, instances and Keras configs', () => {
    expect(getOptimizer('adam')).toBeInstanceOf(Adam);
    expect(getOptimizer('SGD')).toBeInstanceOf(SGD);
    expect(getOptimizer('rmsprop')).toBeInstanceOf(RMSprop);
    expect(getOptimizer('Adagrad')).toBeInstanceOf(Adagrad);
    const o = adam({ learningRate: 0.5 });
    expect(getOptimizer(o)).toBe(o);
    const fromCfg = getOptimizer({ class_name: 'Adam', config: adam({ learningRate: 0.02, beta1: 0.8 }).getConfig() }) as Adam;
    expect(fromCfg.learningRate).toBe(0.02);
    expect(fromCfg.beta1).toBe(0.8);
    expect(() => getOptimizer('adamw9000')).toThrow(/unknown optimizer 'adamw9000'; known: sgd, adam, rmsprop, adagrad/);
  });

  test('getState/setState round-trip continues training identically', () => {
    const make = (): Tensor[] => [tensor([0.5, -1], [2], { dtype: 'float64' }), tensor([2], [1], { dtype: 'float64' })];
    const step = (opt: Optimizer, ps: Tensor[], t: number): void => opt.applyGradients(ps.map((p) => ({
      param: p, grad: tensor(gradAt(t, p.size), [p.size], { dtype: 'float64' }),
    })));
    const a = adam({ learningRate: 0.05 });
    const pa = make();
    for (let t = 1; t <= 3; t++) step(a, pa, t);
    const state = a.getState(pa);
    expect(state.iterations).toBe(3);
    expect(state.slotNames).toEqual(['momentum', 'velocity']);
    expect(state.weights.map((w) => w.shape)).toEqual([[2], [2], [1], [1]]);

    const b = adam({ learningRate: 0.05 });
    const pb = pa.map((p) => p.clone());
    b.setState(state, pb);
    for (let t = 4; t <= 6; t++) {
      step(a, pa, t);
      step(b, pb, t);
    }
    expectClose(pb[0].data, pa[0].data, 0);
    expectClose(pb[1].data, pa[1].data, 0);
    expect(b.iterations).toBe(6);

    expect(sgd().getState(pa).weights).toEqual([]);
    expect(sgd({ momentum: 0.9 }).getState(pa).slotNames).toEqual(['momentum']);
    expect(adagrad().getState([pa[1]]).weights[0].data[0]).toBeCloseTo(0.1, 7);
    expect(() => b.setState({ ...state, weights: state.weights.slice(1) }, pb)).toThrow(/expected 4 tensors/);
    expect(() => b.setState(state, [pb[1], pb[0]])).toThrow(ShapeError);
  });
});
