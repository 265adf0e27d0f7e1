import * as gf from '../../lib';

describe('learning-rate schedules', () => {
  const s = gf.optimizers.schedules;

  test('formulas match Keras', () => {
    const e = s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    expect(e.at(0)).toBeCloseTo(0.1, 12);
    expect(e.at(5)).toBeCloseTo(0.1 * Math.SQRT1_2, 12);
    expect(e.at(20)).toBeCloseTo(0.025, 12);
    const st = s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true });
    expect(st.at(9)).toBeCloseTo(0.1, 12);
    expect(st.at(10)).toBeCloseTo(0.05, 12);
    const p = s.piecewiseConstantDecay({ boundaries: [3, 6], values: [1, 0.5, 0.1] });
    expect([0, 3, 4, 6, 7, 100].map((k) => p.at(k))).toEqual([1, 1, 0.5, 0.5, 0.1, 0.1]);
    const it = s.inverseTimeDecay({ initialLearningRate: 1, decaySteps: 1, decayRate: 0.5 });
    expect(it.at(2)).toBeCloseTo(0.5, 12);
    const c = s.cosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 });
    expect(c.at(0)).toBeCloseTo(1, 12);
    expect(c.at(5)).toBeCloseTo(0.55, 12);
    expect(c.at(50)).toBeCloseTo(0.1, 12);
  });

  test('an optimizer follows its schedule step by step', () => {
    const opt = gf.optimizers.sgd({ learningRate: s.piecewiseConstantDecay({ boundaries: [1], values: [1, 0.1] }) });
    const w = gf.tensor([0], undefined, { requiresGrad: true });
    const g = gf.tensor([1]);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      opt.applyGradients([{ param: w, grad: g }]);
      seen.push(opt.learningRate);
    }
    // steps 0 and 1 use 1, later steps 0.1: w = -(1 + 1 + 0.1 + 0.1)
    expect(seen).toEqual([1, 1, 0.1, 0.1]);
    expect(w.data[0]).toBeCloseTo(-2.2, 6);
    expect(opt.getConfig().learning_rate).toEqual({ class_name: 'PiecewiseConstantDecay', config: { boundaries: [1], values: [1, 0.1] } });
  });

  test('bad schedule arguments are rejected', () => {
    expect(() => s.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).toThrow(/decaySteps must be a finite number > 0, got 0/);
    expect(() => s.piecewiseConstantDecay({ boundaries: [2, 1], values: [1, 2, 3] })).toThrow(/boundaries must increase/);
    expect(() => s.piecewiseConstantDecay({ boundaries: [1], values: [1] })).toThrow(/one more value than boundaries/);
  });
});

describe('learning-rate callbacks', () => {
  function tiny(): gf.Sequential {
    gf.setSeed(1);
    const m = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]);
    m.compile({ optimizer: gf.optimizers.sgd({ learningRate: 0.1 }), loss: 'mse' });
    return m;
  }
  const x = gf.randn([16, 2], { seed: 1 });
  const y = gf.randn([16, 1], { seed: 2 });

  test('reduceLROnPlateau lowers the rate after `patience` epochs without improvement, honouring cooldown and minLr', async () => {
    const m = tiny();
    const fake = [1, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1];
    const rates: number[] = [];
    await m.fit(x, y, {
      epochs: 8, verbose: 0, callbacks: [
        { onEpochEnd: (e, logs) => { if (logs) logs.fake = fake[e]; } },
        gf.callbacks.reduceLROnPlateau({ monitor: 'fake', factor: 0.5, patience: 2, cooldown: 1, minLr: 0.02 }),
        { onEpochEnd: () => { rates.push(m.optimizer.learningRate); } },
      ],
    });
    // Keras's bookkeeping: best at epoch 1; epochs 2, 3 bad -> 0.05 at epoch 3 (cooldown 1);
    // epoch 4 spends the cooldown and counts as bad again, epoch 5 -> 0.025; epochs 6, 7 the
    // same -> 0.0125, floored at minLr 0.02
    expect(rates).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02]);
  });

  test('learningRateScheduler sets the rate per epoch', async () => {
    const m = tiny();
    const rates: number[] = [];
    await m.fit(x, y, {
      epochs: 3, verbose: 0, callbacks: [
        gf.callbacks.learningRateScheduler((epoch, lr) => (epoch === 0 ? lr : lr / 10)),
        { onEpochEnd: () => { rates.push(m.optimizer.learningRate); } },
      ],
    });
    expect(rates[0]).toBeCloseTo(0.1, 12);
    expect(rates[1]).toBeCloseTo(0.01, 12);
    expect(rates[2]).toBeCloseTo(0.001, 12);
    await expect(m.fit(x, y, { epochs: 1, verbose: 0, callbacks: [gf.callbacks.learningRateScheduler(() => NaN)] }))
      .rejects.toThrow(/returned NaN for epoch 0/);
  });
});

describe('classWeight and sampleWeight in fit', () => {
  test('a weight of 0 removes samples from training; classWeight equals the matching sampleWeight', async () => {
    const x = gf.randn([8, 3], { seed: 3 });
    const labels = gf.tensor([0, 1, 0, 1, 0, 1, 0, 1], undefined, { dtype: 'int32' });
    const y = gf.toCategorical(labels, 2);
    const train = async (opts: gf.FitArgs, xs = x, ys = y): Promise<number[]> => {
      gf.setSeed(4);
      const m = gf.sequential([gf.layers.dense({ units: 2, activation: 'softmax', inputShape: [3] })]);
      m.compile({ optimizer: gf.optimizers.sgd({ learningRate: 0.5 }), loss: 'categoricalCrossentropy' });
      await m.fit(xs, ys, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0, ...opts });
      return Array.from(m.getWeights()[0].data);
    };
    const byClass = await train({ classWeight: { 1: 0 } });
    const bySample = await train({ sampleWeight: gf.tensor([1, 0, 1, 0, 1, 0, 1, 0]) });
    byClass.forEach((v, i) => expect(v).toBeCloseTo(bySample[i], 6));
    // dropping class-1 samples by weight moves the weights like training on class 0 alone
    // with the loss still divided by all 8 samples (Keras' sum_over_batch_size): half the step
    const plain = await train({});
    expect(plain.some((v, i) => Math.abs(v - byClass[i]) > 1e-4)).toBe(true);
  });

  test('bad weights are clear errors', async () => {
    const m = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = gf.zeros([4, 2]);
    const y = gf.zeros([4, 1]);
    await expect(m.fit(x, y, { sampleWeight: gf.ones([3]), verbose: 0 })).rejects.toThrow('fit: sampleWeight must have shape [4] (one weight per sample), got [3]');
    await expect(m.fit(x, y, { sampleWeight: gf.tensor([1, -1, 1, 1]), verbose: 0 })).rejects.toThrow(/sampleWeight\[1\] is -1/);
    await expect(m.fit(x, y, { classWeight: { 0: NaN }, verbose: 0 })).rejects.toThrow(/classWeight\[0\] is NaN/);
  });
});
