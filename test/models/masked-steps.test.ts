// Losses and metrics over masked time steps, as Keras computes them: a model whose output
// carries a mask (embedding({maskZero}) -> recurrent layer with returnSequences -> Dense) weighs
// each step's loss and metric by the mask, so padded steps count for nothing:
//   loss   = sum(loss_step * sampleWeight * mask) / sum(mask)        (0 when nothing counts)
//   metric = mean over the unmasked steps, across the batches of an epoch.
// The strongest check is the last test: changing the targets of masked steps leaves a whole
// fit unchanged, bit for bit; without the masking the loss history would differ.
import * as gf from '../../lib';
import { ShapeError } from '../../lib/errors';
import { binaryCrossentropy, meanSquaredError, sparseCategoricalCrossentropy } from '../../lib/losses';
import * as metrics from '../../lib/metrics';
import { expectGradOk } from '../util/helpers';

const f64 = (v: number[] | number[][] | number[][][]): gf.Tensor => gf.tensor(v, undefined, { dtype: 'float64' });

describe('losses with a mask', () => {
  // predictions [2 samples, 3 steps, 2 features]; mask keeps 4 of the 6 steps
  const yPred = f64([[[0.1, 0.9], [0.4, 0.2], [0.8, 0.3]], [[0.5, 0.5], [0.7, 0.1], [0.2, 0.6]]]);
  const yTrue = f64([[[0, 1], [1, 0], [1, 1]], [[1, 0], [0, 0], [0, 1]]]);
  const mask = f64([[1, 1, 0], [0, 1, 1]]);

  test('meanSquaredError is the mean over the unmasked steps of the per-step loss', () => {
    let s = 0, n = 0;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        if (mask.data[b * 3 + t] === 0) continue;
        let step = 0;
        for (let f = 0; f < 2; f++) step += (yPred.data[(b * 3 + t) * 2 + f] - yTrue.data[(b * 3 + t) * 2 + f]) ** 2;
        s += step / 2;
        n++;
      }
    }
    expect(meanSquaredError(yTrue, yPred, { mask }).item()).toBeCloseTo(s / n, 12);
    // and it differs from the unmasked mean, so the mask is really applied
    expect(Math.abs(meanSquaredError(yTrue, yPred).item() - s / n)).toBeGreaterThan(1e-3);
  });

  test('sample weights multiply the mask: sum(loss * w * mask) / sum(mask)', () => {
    const w = f64([2, 0.5]);
    const perStep = (b: number, t: number): number => {
      let v = 0;
      for (let f = 0; f < 2; f++) v += (yPred.data[(b * 3 + t) * 2 + f] - yTrue.data[(b * 3 + t) * 2 + f]) ** 2;
      return v / 2;
    };
    const want = (2 * (perStep(0, 0) + perStep(0, 1)) + 0.5 * (perStep(1, 1) + perStep(1, 2))) / 4;
    expect(meanSquaredError(yTrue, yPred, { mask, sampleWeight: w }).item()).toBeCloseTo(want, 12);
  });

  test('sparse categorical cross-entropy over [batch, steps] labels skips masked steps, and their gradient is zero', () => {
    const labels = gf.tensor([[1, 0, 1], [0, 0, 1]], undefined, { dtype: 'int32' });
    const logits = f64([[[0.3, -0.2], [1, 2], [0.5, 0.1]], [[-1, 1], [0.2, 0.4], [2, -2]]]).setRequiresGrad(true);
    const loss = sparseCategoricalCrossentropy(labels, logits, { fromLogits: true, mask });
    const ce = (b: number, t: number): number => {
      const x = [logits.data[(b * 3 + t) * 2], logits.data[(b * 3 + t) * 2 + 1]];
      const lse = Math.log(Math.exp(x[0]) + Math.exp(x[1]));
      return lse - x[labels.data[b * 3 + t]];
    };
    expect(loss.item()).toBeCloseTo((ce(0, 0) + ce(0, 1) + ce(1, 1) + ce(1, 2)) / 4, 12);
    loss.backward();
    const g = logits.grad!.data;
    for (const step of [2, 3]) {           // (0, 2) and (1, 0) are masked
      expect(g[step * 2]).toBe(0);
      expect(g[step * 2 + 1]).toBe(0);
    }
    expect(Math.abs(g[0])).toBeGreaterThan(1e-3);
    expectGradOk((x) => sparseCategoricalCrossentropy(labels, x, { fromLogits: true, mask }), [f64([[[0.3, -0.2], [1, 2], [0.5, 0.1]], [[-1, 1], [0.2, 0.4], [2, -2]]])]);
    expectGradOk((p) => binaryCrossentropy(yTrue, p, { mask }), [yPred]);
  });

  test('a mask that keeps nothing gives 0, not NaN; a mask of the wrong shape is a ShapeError naming both shapes', () => {
    expect(meanSquaredError(yTrue, yPred, { mask: f64([[0, 0, 0], [0, 0, 0]]) }).item()).toBe(0);
    expect(() => meanSquaredError(yTrue, yPred, { mask: f64([[1, 1], [1, 1]]) })).toThrow(ShapeError);
    expect(() => meanSquaredError(yTrue, yPred, { mask: f64([[1, 1], [1, 1]]) })).toThrow(/mask shape \[2, 2\].*\[2, 3\]/);
  });
});

describe('metrics with a mask', () => {
  test('accuracies and mse count only the unmasked rows', () => {
    const probs = gf.tensor([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]]);           // argmax 0, 1, 0
    const labels = gf.tensor([[0, 0, 1]], undefined, { dtype: 'int32' });     // hit, miss, miss
    const mask = gf.tensor([[1, 0, 1]]);
    expect(metrics.sparseCategoricalAccuracy(labels, probs, false, mask)).toBeCloseTo(0.5, 12);
    expect(metrics.sparseCategoricalAccuracy(labels, probs, false, gf.tensor([[1, 0, 0]]))).toBe(1);
    expect(metrics.sparseCategoricalAccuracy(labels, probs)).toBeCloseTo(1 / 3, 12);
    const oneHot = gf.tensor([[[1, 0], [1, 0], [0, 1]]]);
    expect(metrics.categoricalAccuracy(oneHot, probs, false, mask)).toBeCloseTo(0.5, 12);
    const p1 = gf.tensor([[[0.7], [0.2], [0.4]]]), t1 = gf.tensor([[[1], [1], [1]]]);
    expect(metrics.binaryAccuracy(t1, p1, false, mask)).toBeCloseTo(0.5, 12);
    expect(metrics.meanSquaredError(t1, p1, false, mask)).toBeCloseTo((0.09 + 0.36) / 2, 6);
    expect(metrics.sparseCategoricalAccuracy(labels, probs, false, gf.tensor([[0, 0, 0]]))).toBe(0);
    expect(() => metrics.binaryAccuracy(t1, p1, false, gf.tensor([1, 0]))).toThrow(ShapeError);
  });
});

describe('a sequence-labelling model with maskZero', () => {
  // Tag every token of a padded sequence: label 1 if the token id is even. Sequences are
  // pre-padded with 0 (masked) to T steps; padded steps get the targets the test chooses.
  const n = 48, T = 7, vocab = 9;
  function data(padLabel: (i: number, t: number) => number): { x: gf.Tensor; y: gf.Tensor; kept: number } {
    const x = new Int32Array(n * T), y = new Int32Array(n * T);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const len = 1 + (i % T);
      for (let t = 0; t < T; t++) {
        if (t < T - len) { y[i * T + t] = padLabel(i, t); continue; }
        const id = 1 + ((i * 5 + t * 3) % (vocab - 1));
        x[i * T + t] = id;
        y[i * T + t] = id % 2 === 0 ? 1 : 0;
        kept++;
      }
    }
    return { x: gf.tensor(x, [n, T], { dtype: 'int32' }), y: gf.tensor(y, [n, T], { dtype: 'int32' }), kept };
  }
  function model(): gf.Sequential {
    gf.setSeed(11);
    const m = gf.sequential([
      gf.layers.embedding({ inputDim: vocab, outputDim: 4, maskZero: true, inputShape: [T] }),
      gf.layers.lstm({ units: 6, returnSequences: true }),
      gf.layers.dense({ units: 2, activation: 'softmax' }),
    ]);
    m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.03 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    return m;
  }

  test('the targets of masked steps change nothing: same history and weights, bit for bit', async () => {
    const a = data(() => 0), b = data((i, t) => (i + t) % 2);
    const ma = model(), mb = model();
    const ha = await ma.fit(a.x, a.y, { epochs: 3, batchSize: 16, verbose: 0, seed: 3 });
    const hb = await mb.fit(b.x, b.y, { epochs: 3, batchSize: 16, verbose: 0, seed: 3 });
    expect(hb.history.loss).toEqual(ha.history.loss);
    expect(hb.history.acc ?? hb.history.accuracy).toEqual(ha.history.acc ?? ha.history.accuracy);
    const wa = ma.getWeights(), wb = mb.getWeights();
    wa.forEach((w, k) => expect(Array.from(wb[k].data)).toEqual(Array.from(w.data)));
    // the padding labels differ, so an unmasked loss would have differed
    const probs = ma.predict(a.x);
    const unmaskedA = sparseCategoricalCrossentropy(a.y, probs).item();
    const unmaskedB = sparseCategoricalCrossentropy(b.y, probs).item();
    expect(Math.abs(unmaskedA - unmaskedB)).toBeGreaterThan(1e-3);
  });

  test('evaluate gives the loss and accuracy over the unmasked steps, whatever the batch size; the model learns the task', async () => {
    const d = data(() => 1);
    const m = model();
    await m.fit(d.x, d.y, { epochs: 25, batchSize: 16, verbose: 0, seed: 4 });
    const probs = m.predict(d.x);
    let hits = 0, ce = 0;
    for (let i = 0; i < n * T; i++) {
      if (d.x.data[i] === 0) continue;
      const p = [probs.data[2 * i], probs.data[2 * i + 1]];
      const label = d.y.data[i];
      if ((p[1] > p[0] ? 1 : 0) === label) hits++;
      ce -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, p[label] / (p[0] + p[1]))));
    }
    const [loss, acc] = m.evaluate(d.x, d.y, { batchSize: n });
    expect(acc).toBeCloseTo(hits / d.kept, 6);
    expect(loss).toBeCloseTo(ce / d.kept, 4);
    expect(acc).toBeGreaterThan(0.95);
    // batches keep different numbers of steps: the accuracy is still over all kept steps
    const [, acc5] = m.evaluate(d.x, d.y, { batchSize: 5 });
    expect(acc5).toBeCloseTo(hits / d.kept, 6);
  });
});
