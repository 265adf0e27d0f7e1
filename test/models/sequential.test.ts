import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { PassThrough } from 'stream';

function linearData(n: number, seed: number): { x: Tensor; y: Tensor } {
  // y = 2 x0 - 3 x1 + 0.5
  const x = gf.randn([n, 2], { seed });
  const y = gf.matmul(x, gf.tensor([[2], [-3]])).add(0.5);
  return { x, y };
}

function captureStream(): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('Sequential', () => {
  test('linear regression recovers its coefficients with sgd', async () => {
    gf.setSeed(1);
    const { x, y } = linearData(256, 3);
    const model = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]);
    model.compile({ optimizer: gf.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    const h = await model.fit(x, y, { epochs: 30, batchSize: 32, verbose: 0 });
    expect(h.history.loss.length).toBe(30);
    expect(h.history.loss[29]).toBeLessThan(1e-6);
    const [kernel, bias] = model.getWeights();
    expect(kernel.data[0]).toBeCloseTo(2, 3);
    expect(kernel.data[1]).toBeCloseTo(-3, 3);
    expect(bias.data[0]).toBeCloseTo(0.5, 3);
  });

  test('history has val_ keys with validationSplit and validationData; evaluate returns loss and metrics', async () => {
    gf.setSeed(2);
    const x = gf.randn([200, 4], { seed: 5 });
    const labels = x.slice([0, 0], [-1, 1]).greater(0).reshape([200]).cast('int32');
    const model = gf.sequential([
      gf.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }),
      gf.layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const y = gf.toCategorical(labels, 2);
    const h = await model.fit(x, y, { epochs: 3, batchSize: 16, validationSplit: 0.25, verbose: 0 });
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    const h2 = await model.fit(x, y, { epochs: 2, validationData: [x, y], verbose: 0 });
    expect(h2.epoch).toEqual([0, 1]);
    const r = model.evaluate(x, y, { batchSize: 7 });
    expect(r.length).toBe(2);
    expect(r[1]).toBeGreaterThanOrEqual(0);
    expect(r[1]).toBeLessThanOrEqual(1);
    // evaluate in batches that do not divide 200 agrees with one big batch
    const r2 = model.evaluate(x, y, { batchSize: 200 });
    expect(r[0]).toBeCloseTo(r2[0], 5);
    expect(r[1]).toBeCloseTo(r2[1], 6);
    expect(h2.history.val_loss[1]).toBeCloseTo(r2[0], 5);
  });

  test('fit with the same seed repeats exactly (shuffle, init, dropout)', async () => {
    const run = async (): Promise<number[]> => {
      gf.setSeed(9);
      const model = gf.sequential([
        gf.layers.dense({ units: 16, activation: 'relu', inputShape: [3] }),
        gf.layers.dropout({ rate: 0.3 }),
        gf.layers.dense({ units: 1 }),
      ]);
      model.compile({ optimizer: 'rmsprop', loss: 'mse' });
      const h = await model.fit(gf.randn([64, 3], { seed: 1 }), gf.randn([64, 1], { seed: 2 }), { epochs: 3, batchSize: 8, verbose: 0, seed: 4 });
      return h.history.loss;
    };
    expect(await run()).toEqual(await run());
  });

  test('predict works in batches that do not divide the data and matches apply', () => {
    gf.setSeed(3);
    const model = gf.sequential([gf.layers.dense({ units: 3, activation: 'softmax', inputShape: [5] })]);
    const x = gf.randn([37, 5], { seed: 8 });
    const p = model.predict(x, { batchSize: 8 });
    expect(p.shape).toEqual([37, 3]);
    const direct = gf.noGrad(() => model.apply(x));
    for (let i = 0; i < p.size; i++) expect(p.data[i]).toBeCloseTo(direct.data[i], 6);
    for (let r = 0; r < 37; r++) expect(p.data[r * 3] + p.data[r * 3 + 1] + p.data[r * 3 + 2]).toBeCloseTo(1, 5);
  });

  test('summary prints the Keras table with output shapes and parameter counts', () => {
    const model = gf.sequential([
      gf.layers.dense({ units: 128, activation: 'relu', inputShape: [784], name: 'hidden' }),
      gf.layers.dropout({ rate: 0.2, name: 'drop' }),
      gf.layers.dense({ units: 10, activation: 'softmax', name: 'out' }),
    ], { name: 'mlp' });
    const lines: string[] = [];
    const text = model.summary(65, (l) => lines.push(l));
    expect(lines.join('\n')).toBe(text);
    expect(text).toContain('Model: "mlp"');
    expect(text).toMatch(/hidden \(Dense\)\s+\(None, 128\)\s+100480/);
    expect(text).toMatch(/drop \(Dropout\)\s+\(None, 128\)\s+0/);
    expect(text).toMatch(/out \(Dense\)\s+\(None, 10\)\s+1290/);
    expect(text).toContain('Total params: 101,770');
    expect(text).toContain('Trainable params: 101,770');
    expect(text).toContain('Non-trainable params: 0');
  });

  test('layer names are unique and Keras-style; weights named layer/kernel', () => {
    const a = gf.layers.dense({ units: 2, inputShape: [3] });
    const b = gf.layers.dense({ units: 2 });
    const m = gf.sequential([a, b]);
    expect(a.name).not.toBe(b.name);
    expect(m.weights.map((w) => w.name)).toEqual([`${a.name}/kernel`, `${a.name}/bias`, `${b.name}/kernel`, `${b.name}/bias`]);
  });

  test('progress: one line per epoch on a non-TTY stream, a redrawn bar on a TTY', async () => {
    gf.setSeed(5);
    const { x, y } = linearData(64, 1);
    const model = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]);
    model.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['mae'] });
    const plain = captureStream();
    await model.fit(x, y, { epochs: 2, batchSize: 16, stream: plain.stream });
    const lines = plain.text().trim().split('\n');
    expect(lines.length).toBe(2);
    expect(lines[0]).toMatch(/^Epoch 1\/2 - \d+s \d+ms\/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}$/);
    const tty = captureStream();
    tty.stream.isTTY = true;
    await model.fit(x, y, { epochs: 1, batchSize: 16, stream: tty.stream });
    const t = tty.text();
    expect(t).toContain('Epoch 1/1\n');
    expect(t).toMatch(/\r4\/4 \[=+\] - \d+s \d+ms\/step - loss: /);
    const silent = captureStream();
    await model.fit(x, y, { epochs: 1, verbose: 0, stream: silent.stream });
    expect(silent.text()).toBe('');
  });

  test('callbacks see every hook in order; earlyStopping stops and restores the best weights', async () => {
    gf.setSeed(6);
    const { x, y } = linearData(32, 2);
    const model = gf.sequential([gf.layers.dense({ units: 1, inputShape: [2] })]);
    model.compile({ optimizer: gf.optimizers.sgd({ learningRate: 0.01 }), loss: 'mse' });
    const events: string[] = [];
    await model.fit(x, y, {
      epochs: 2, batchSize: 16, verbose: 0, callbacks: [{
        onTrainBegin: () => { events.push('trainBegin'); },
        onEpochBegin: (e) => { events.push(`epochBegin ${e}`); },
        onBatchEnd: (b, logs) => { events.push(`batchEnd ${b} ${typeof logs?.loss}`); },
        onEpochEnd: async (e, logs) => { await Promise.resolve(); events.push(`epochEnd ${e} ${logs?.loss !== undefined}`); },
        onTrainEnd: () => { events.push('trainEnd'); },
      }],
    });
    expect(events).toEqual(['trainBegin', 'epochBegin 0', 'batchEnd 0 number', 'batchEnd 1 number', 'epochEnd 0 true',
      'epochBegin 1', 'batchEnd 0 number', 'batchEnd 1 number', 'epochEnd 1 true', 'trainEnd']);

    // a monitored value that gets worse after epoch 1: stop after `patience` more epochs
    const fake = [5, 1, 2, 3, 4, 5, 6];
    let best: Tensor[] = [];
    const es = gf.callbacks.earlyStopping({ monitor: 'fake', patience: 2, restoreBestWeights: true });
    const h = await model.fit(x, y, {
      epochs: 7, verbose: 0, callbacks: [
        { onEpochEnd: (e, logs) => { if (logs) logs.fake = fake[e]; if (e === 1) best = model.getWeights(); } },
        es,
      ],
    });
    expect(h.epoch).toEqual([0, 1, 2, 3]);
    expect(es.stoppedEpoch).toBe(3);
    expect(es.bestEpoch).toBe(1);
    const now = model.getWeights();
    now.forEach((w, i) => expect(Array.from(w.data)).toEqual(Array.from(best[i].data)));
  });

  test('bad input gets clear errors', async () => {
    const model = gf.sequential([gf.layers.dense({ units: 2, inputShape: [3] })]);
    const x = gf.zeros([4, 3]);
    const y = gf.zeros([4, 2]);
    await expect(model.fit(x, y)).rejects.toThrow(/call compile\(\{optimizer, loss\}\) first/);
    expect(() => model.compile({ optimizer: 'adamm', loss: 'mse' })).toThrow(/adamm/);
    expect(() => model.compile({ optimizer: 'adam', loss: 'msee' })).toThrow(/msee/);
    model.compile({ optimizer: 'adam', loss: 'mse' });
    await expect(model.fit(x, gf.zeros([5, 2]), { verbose: 0 })).rejects.toThrow('fit: x and y have different numbers of samples: x [4, 3], y [5, 2]');
    await expect(model.fit(x, y, { validationSplit: 1.5, verbose: 0 })).rejects.toThrow('fit: validationSplit must be in (0, 1), got 1.5');
    await expect(model.fit(x, y, { validationSplit: 0, verbose: 0 })).rejects.toThrow(/validationSplit must be in \(0, 1\)/);
    await expect(model.fit(x, y, { batchSize: 0, verbose: 0 })).rejects.toThrow(/batchSize must be an integer >= 1, got 0/);
    await expect(model.fit(gf.zeros([0, 3]), gf.zeros([0, 2]), { verbose: 0 })).rejects.toThrow(/no samples/);
    await expect(model.fit(gf.zeros([4, 5]), y, { verbose: 0 })).rejects.toThrow(/input shape \[4, 5\] does not match the model's input \[-1, 3\]/);
    await expect(model.fit(x, gf.zeros([4, 3]), { verbose: 0 })).rejects.toThrow(gf.ShapeError);
    expect(() => model.predict(gf.zeros([0, 3]))).toThrow(/predict: x is empty/);
    expect(() => gf.sequential([gf.layers.dense({ units: 2 })]).summary()).toThrow(/not built yet/);
  });
});

test('fit of a model with no trainable weights runs and reports the loss, changing nothing (as Keras)', async () => {
  const m = gf.sequential([gf.layers.dense({ units: 2, inputShape: [3], trainable: false })]);
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  const before = m.getWeights().map((w) => Array.from(w.data));
  const h = await m.fit(gf.ones([4, 3]), gf.zeros([4, 2]), { epochs: 2, verbose: 0 });
  expect(h.history.loss[0]).toBeGreaterThan(0);
  expect(h.history.loss[1]).toBe(h.history.loss[0]);
  expect(m.getWeights().map((w) => Array.from(w.data))).toEqual(before);
});
