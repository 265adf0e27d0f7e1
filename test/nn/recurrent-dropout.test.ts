// recurrentDropout of gf.layers.simpleRNN / lstm / gru (Keras 3's DropoutRNNCell): one
// [batch, units] mask per call from the seeded RNG, the same at every step and for every gate,
// applied to h_{t-1} only where it meets the recurrent kernel (GRU's state mix keeps the
// undropped h_{t-1}); training only. Checked against a step-by-step JavaScript transcription
// of Keras's cells fed the very mask the layer drew (the RNG replayed from the same seed),
// for every cell and both GRU variants, with input dropout, a padding mask and goBackwards;
// inference is unchanged; the model trains; the config round-trips, Bidirectional's copies
// inherit it.
import * as gf from '../../lib';
import { ValueError } from '../../lib/errors';
import { rngFor } from '../../lib/random';
import { kerasRnnReference } from '../util/keras-rnn';
import { risingAndFalling } from '../util/helpers';

type Cell = 'simpleRNN' | 'lstm' | 'gru';

/** Keras's cells (test/util/keras-rnn) with the input mask xm [N][F] applied to x first, as Keras's input dropout does. */
function keras(cell: Cell, resetAfter: boolean, x: number[][][], W: number[][], R: number[][], b: number[] | number[][],
               xm: number[][] | null, hm: number[][] | null, seqMask: number[][] | null, goBackwards: boolean): number[][][] {
  const dropped = xm === null ? x : x.map((row, n) => row.map((step) => step.map((v, f) => v * xm[n][f])));
  return kerasRnnReference(cell, dropped, W, R, b, {
    resetAfter, goBackwards, mask: seqMask ?? undefined, recurrentMask: hm ?? undefined,
  }).y;
}

/** The masks the layer draws after gf.setSeed(seed): the input mask [N][F] first, then the recurrent one [N][U]. */
function replayMasks(seed: number, N: number, F: number, U: number, dropout: number, recurrentDropout: number): { xm: number[][] | null; hm: number[][] | null } {
  gf.setSeed(seed);
  const rng = rngFor();
  const draw = (rows: number, cols: number, rate: number): number[][] => Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => (rng.uniform() < 1 - rate ? Math.fround(1 / (1 - rate)) : 0)));
  const xm = dropout > 0 ? draw(N, F, dropout) : null;
  const hm = recurrentDropout > 0 ? draw(N, U, recurrentDropout) : null;
  return { xm, hm };
}

const CELLS: [Cell, boolean][] = [['simpleRNN', false], ['lstm', false], ['gru', true], ['gru', false]];
const make = (cell: Cell, resetAfter: boolean, args: gf.layers.GRUArgs): gf.layers.SimpleRNN | gf.layers.LSTM | gf.layers.GRU =>
  cell === 'simpleRNN' ? gf.layers.simpleRNN(args) : cell === 'lstm' ? gf.layers.lstm(args) : gf.layers.gru({ ...args, resetAfter });

describe.each(CELLS)('%s (resetAfter %s)', (cell, resetAfter) => {
  const N = 3, T = 5, F = 2, U = 4;
  const x = gf.randn([N, T, F], { seed: 11 });

  test.each([
    [0, 0.5, false, false], [0.3, 0.4, false, false], [0.2, 0.5, true, true],
  ])('training output equals Keras\'s cell with the same masks (dropout %s, recurrentDropout %s, goBackwards %s, padding mask %s)',
    (dropout, recurrentDropout, goBackwards, padded) => {
      const layer = make(cell, resetAfter, { units: U, dropout, recurrentDropout, goBackwards, returnSequences: true });
      layer.apply(x);  // builds
      const seqMask = padded ? gf.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0]]) : null;
      gf.setSeed(5);
      const y = layer.apply(x, { training: true, mask: seqMask });
      const { xm, hm } = replayMasks(5, N, F, U, dropout, recurrentDropout);
      expect(hm!.flat().some((v) => v === 0) && hm!.flat().some((v) => v !== 0)).toBe(true);  // the mask drops some, keeps some
      const [k, r, b] = layer.getWeights().map((w) => w.toArray());
      const want = keras(cell, resetAfter, x.toArray() as number[][][], k as number[][], r as number[][], b as number[] | number[][],
        xm, hm, seqMask ? seqMask.toArray() as number[][] : null, goBackwards);
      want.flat(2).forEach((v, i) => expect(y.data[i]).toBeCloseTo(v, 5));
    });

  test('inference is not dropped; training is, with a new mask per call, the same for every step', () => {
    const layer = make(cell, resetAfter, { units: U, recurrentDropout: 0.5, returnSequences: true });
    const plain = make(cell, resetAfter, { units: U, returnSequences: true });
    layer.apply(x); plain.apply(x);
    plain.setWeights(layer.getWeights());
    expect(Array.from(layer.apply(x).data)).toEqual(Array.from(plain.apply(x).data));
    expect(Array.from(layer.apply(x, { training: false }).data)).toEqual(Array.from(plain.apply(x, { training: true }).data));
    const a = Array.from(layer.apply(x, { training: true }).data), b = Array.from(layer.apply(x, { training: true }).data);
    expect(a).not.toEqual(Array.from(plain.apply(x).data));
    expect(a).not.toEqual(b);  // another call, another mask
    // The first step starts from h0 = 0, so a mask on h_{t-1} cannot change it (nor can dropout without input dropout).
    const first = Array.from(plain.apply(x).data).filter((_, i) => Math.floor(i / U) % T === 0);
    expect(a.filter((_, i) => Math.floor(i / U) % T === 0)).toEqual(first);
  });
});

test('gradients flow through the dropped recurrence, and a model with recurrentDropout learns', async () => {
  gf.setSeed(7);
  const n = 128, T = 8;
  const { x, y } = risingAndFalling(n, T);
  for (const cell of ['lstm', 'gru', 'simpleRNN'] as const) {
    const m = gf.sequential([make(cell, true, { units: 8, recurrentDropout: 0.25, inputShape: [T, 1] }), gf.layers.dense({ units: 1, activation: 'sigmoid' })]);
    m.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.02 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
    const before = m.layers[0].getWeights()[1].data.slice();
    await m.fit(x, y, { epochs: 30, batchSize: 32, verbose: 0, seed: 1 });
    expect(Array.from(m.layers[0].getWeights()[1].data)).not.toEqual(Array.from(before));  // the recurrent kernel was trained
    const [, acc] = m.evaluate(x, y);
    expect(acc).toBeGreaterThanOrEqual(0.95);
  }
});

test('config: recurrent_dropout is written and read back; Bidirectional\'s copies inherit it', async () => {
  const m = gf.sequential([
    gf.layers.gru({ units: 3, recurrentDropout: 0.25, returnSequences: true, inputShape: [4, 2], name: 'gru' }),
    gf.layers.bidirectional({ layer: gf.layers.lstm({ units: 2, recurrentDropout: 0.5 }), name: 'bi' }),
  ]);
  expect(m.layers[0].getConfig()).toMatchObject({ recurrent_dropout: 0.25, dropout: 0 });
  const bi = m.layers[1] as gf.layers.Bidirectional;
  expect((bi.forwardLayer as gf.layers.LSTM).recurrentDropout).toBe(0.5);
  expect((bi.backwardLayer as gf.layers.LSTM).recurrentDropout).toBe(0.5);
  const mem = gf.io.toMemory();
  await m.save(mem);
  const back = await gf.loadModel(gf.io.fromMemory(mem.artifacts!));
  expect((back.layers[0] as gf.layers.GRU).recurrentDropout).toBe(0.25);
  expect(((back.layers[1] as gf.layers.Bidirectional).backwardLayer as gf.layers.LSTM).recurrentDropout).toBe(0.5);
  const x = gf.randn([2, 4, 2], { seed: 3 });
  expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));  // inference: no dropout
});

test('bad rates are ValueErrors naming the layer', () => {
  expect(() => gf.layers.gru({ units: 2, recurrentDropout: 1 })).toThrow(ValueError);
  expect(() => gf.layers.lstm({ units: 2, recurrentDropout: -0.1 })).toThrow(/lstm: recurrentDropout must be in \[0, 1\), got -0.1/);
  expect(() => gf.layers.simpleRNN({ units: 2, recurrentDropout: NaN })).toThrow(/simpleRNN: recurrentDropout must be in \[0, 1\)/);
});
