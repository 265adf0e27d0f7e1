// One fit at a time per set of weights (issue 10 A): a second fit on a model, or on a model that
// shares a layer with one in training, is refused; the claim is dropped however fit ends; and
// predict / evaluate during a fit see the weights of that moment and leave fit's results
// unchanged, bit for bit.
import * as gf from '../../lib';

const X = (): gf.Tensor => gf.randn([256, 32], { seed: 7 });
const Y = (): gf.Tensor => gf.toCategorical(Array.from({ length: 256 }, (_, i) => (i * 7) % 3), 3);

/** A model whose activations are big enough (64 x 256 float32 = 64 KiB) to go through the buffer pool. */
function model(name: string): gf.Sequential {
  gf.setSeed(1);
  const m = gf.sequential([
    gf.layers.dense({ units: 256, activation: 'relu', inputShape: [32] }),
    gf.layers.batchNormalization(),
    gf.layers.dropout({ rate: 0.3 }),
    gf.layers.dense({ units: 3, activation: 'softmax' }),
  ], { name });
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}

const FIT = { epochs: 2, batchSize: 64, seed: 5, verbose: 0 as const, validationSplit: 0.25 };

const bits = (ts: readonly gf.Tensor[]): number[][] => ts.map((t) => Array.from(t.data));

describe('fit refuses a second training loop on the same weights', () => {
  test('a second fit while the first runs rejects with a ValueError naming the model; the first is unaffected', async () => {
    const m = model('busy_model');
    const x = X();
    const y = Y();
    const first = m.fit(x, y, FIT);
    expect(m.isTraining).toBe(true);
    const second = m.fit(x, y, FIT);
    await expect(second).rejects.toThrow(gf.ValueError);
    await expect(second).rejects.toThrow("fit: cannot start training model 'busy_model' because another fit() call is ongoing (fit of model 'busy_model')");
    const h = await first;
    expect(m.isTraining).toBe(false);

    // the first fit ran exactly as a fit alone does
    const alone = model('alone');
    const h2 = await alone.fit(x, y, FIT);
    expect(h.history).toEqual(h2.history);
    expect(bits(m.getWeights())).toEqual(bits(alone.getWeights()));
    // and the model trains again once it is free
    await expect(m.fit(x, y, { ...FIT, epochs: 1 })).resolves.toBeInstanceOf(gf.History);
  });

  test('a fit started from a callback of a running fit is refused; the outer fit goes on', async () => {
    const m = model('reentrant');
    let inner: unknown = null;
    await m.fit(X(), Y(), {
      ...FIT, epochs: 1, callbacks: {
        onBatchEnd: async (b) => {
          if (b === 0) inner = await m.fit(X(), Y(), FIT).catch((e: unknown) => e);
        },
      },
    });
    expect(inner).toBeInstanceOf(gf.ValueError);
    expect((inner as Error).message).toMatch(/cannot start training model 'reentrant' because another fit\(\) call is ongoing/);
  });

  test('two models sharing a layer: the second fit is refused and names the shared layer', async () => {
    gf.setSeed(2);
    const shared = gf.layers.dense({ units: 4, activation: 'relu', inputShape: [32], name: 'shared_dense' });
    const a = gf.sequential([shared, gf.layers.dense({ units: 3, activation: 'softmax' })], { name: 'model_a' });
    const b = gf.sequential([shared, gf.layers.dense({ units: 3, activation: 'softmax' })], { name: 'model_b' });
    a.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    b.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const fa = a.fit(X(), Y(), { epochs: 1, verbose: 0 });
    await expect(b.fit(X(), Y(), { epochs: 1, verbose: 0 })).rejects.toThrow(
      "fit: cannot start training model 'model_b' because another fit() call is ongoing (fit of model 'model_a'): layer 'shared_dense' is being trained by it");
    await fa;
    await expect(b.fit(X(), Y(), { epochs: 1, verbose: 0 })).resolves.toBeInstanceOf(gf.History);
  });
});

describe('the claim is dropped however fit ends', () => {
  test('a callback that throws ends fit with that error; a new fit then works', async () => {
    const m = model('thrower');
    const boom = new Error('boom from onBatchEnd');
    await expect(m.fit(X(), Y(), { ...FIT, callbacks: { onBatchEnd: () => { throw boom; } } })).rejects.toBe(boom);
    expect(m.isTraining).toBe(false);
    const h = await m.fit(X(), Y(), { ...FIT, epochs: 1 });
    expect(h.epoch).toEqual([0]);
  });

  test('an async callback that rejects, a bad argument and a failing prepareFit release it too', async () => {
    const m = model('failures');
    await expect(m.fit(X(), Y(), { ...FIT, callbacks: { onEpochEnd: async () => { await Promise.resolve(); throw new Error('late'); } } })).rejects.toThrow('late');
    await expect(m.fit(X(), Y(), { epochs: -1 })).rejects.toThrow(/epochs must be an integer >= 0/);
    const prepare = { prepareFit: async (): Promise<gf.FitArgs> => { throw new Error('cannot restore'); } };
    await expect(m.fit(X(), Y(), { ...FIT, callbacks: [prepare as never] })).rejects.toThrow('cannot restore');
    expect(m.isTraining).toBe(false);
    await expect(m.fit(X(), Y(), { ...FIT, epochs: 1 })).resolves.toBeInstanceOf(gf.History);
  });
});

describe('predict and evaluate during fit', () => {
  /** Checks predict/evaluate on m against a twin holding a snapshot of m's weights; returns how often. */
  function checker(m: gf.Sequential, x: gf.Tensor, y: gf.Tensor): { check: () => void; count: () => number } {
    const twin = model('twin');
    twin.build([null, 32]);
    let n = 0;
    return {
      check: (): void => {
        const snapshot = m.getWeights();
        const p = m.predict(x, { batchSize: 64 });
        const e = m.evaluate(x, y, { batchSize: 64 });
        twin.setWeights(snapshot);
        expect(Array.from(p.data)).toEqual(Array.from(twin.predict(x, { batchSize: 64 }).data));
        expect(e).toEqual(twin.evaluate(x, y, { batchSize: 64 }));
        // and nothing about the model moved while they ran
        expect(bits(m.getWeights())).toEqual(bits(snapshot));
        n++;
      },
      count: () => n,
    };
  }

  test('from onBatchEnd and from a concurrent async task: the weights of that moment; fit\'s results unchanged bit for bit', async () => {
    const x = X();
    const y = Y();
    const plain = model('plain');
    const hPlain = await plain.fit(x, y, FIT);

    const busy = model('busy');
    const c = checker(busy, x, y);
    let done = false;
    const fitting = busy.fit(x, y, { ...FIT, callbacks: { onBatchEnd: () => c.check() } }).finally(() => { done = true; });
    let concurrent = 0;
    while (!done) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (done) break;
      c.check();
      concurrent++;
    }
    const hBusy = await fitting;
    expect(concurrent).toBeGreaterThanOrEqual(2);
    expect(c.count()).toBeGreaterThanOrEqual(6 + concurrent); // 3 batches x 2 epochs from the callback
    expect(hBusy.history).toEqual(hPlain.history);
    expect(bits(busy.getWeights())).toEqual(bits(plain.getWeights()));
  });
});
