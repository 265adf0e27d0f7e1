// gf.layers.simpleRNN / lstm / gru (resetAfter) / bidirectional against PyTorch's nn.RNN /
// nn.LSTM / nn.GRU on random weights: what this proves is that gradforge's layers compute
// PyTorch's (= Keras's) recurrent formulas, forward and backward, once the weights are
// converted between the two layouts — gate order (LSTM i,f,c,o = torch i,f,g,o; GRU z,r,h =
// torch r,z,n), PyTorch's two biases (summed for SimpleRNN/LSTM; GRU's [input; recurrent]
// rows), goBackwards, returnSequences on and off, Bidirectional('concat'), and masks
// (right-padded sequences of different lengths: masked steps carry the state, so the last
// output is PyTorch's pack_padded_sequence h_n for each true length). Compared: the layer's
// output, the gradients of sum(out * wy) for the input, kernel, recurrent kernel and bias, and
// the final h (and c) of gf.rnn per direction. A deliberately wrong mapping (GRU z/r
// swapped, GRU bias rows swapped, LSTM f/c swapped) is shown to fail by a wide margin, so the
// comparison is sensitive to the conversion it checks.
//
// The fixture test/nn/fixtures/torch-rnn.json comes from scripts/torch-rnn-fixtures.py (its
// docstring gives the conversion in full). Regenerate it with
//     unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; /usr/bin/python3 scripts/torch-rnn-fixtures.py
// (PyTorch, CPU, float64; deterministic). Set GF_TORCH_RNN_REPORT=1 to print the differences.
import * as fs from 'fs';
import * as path from 'path';
import * as gf from '../../lib';
import { Tensor } from '../../lib/tensor';
import { Layer, Initializer, buildWithInitializer } from '../../lib/nn/layer';

type Cell = 'simpleRNN' | 'lstm' | 'gru';
interface Case {
  name: string; cell: Cell; returnSequences: boolean; goBackwards: boolean; bidirectional: boolean;
  lengths: number[] | null;
  /** Inputs as integers k meaning k / Q (exact in float32 and float64). */
  x: number[]; weights: number[][]; wy: number[];
  /** PyTorch's float64 results, 12 significant digits, Keras layouts. */
  outShape: number[]; out: number[]; hT: number[][]; cT: number[][] | null; dx: number[]; dWeights: number[][];
}
interface Fixture { Q: number; N: number; T: number; In: number; units: number; cases: Case[] }

const fx = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'torch-rnn.json'), 'utf8')) as Fixture;
const { Q, N, T, In, units: U } = fx;
const GATES: Record<Cell, number> = { simpleRNN: 1, lstm: 4, gru: 3 };
type FDType = 'float32' | 'float64';

/**
 * Tolerances on the max abs difference (every compared value is O(1): |out|, |h| <= 1, the
 * largest gradient in the fixture is a few units).
 * - float32: the inputs are exact in float32, so the difference is float32 rounding (eps
 *   6e-8) in 5 steps of GEMMs with 4 + 6 terms, the activations and the backward pass through
 *   time: a few ulps, grown a few times over by the gradients, <= 3e-7 measured; 1e-5 leaves
 *   room for another GEMM kernel or summation order without hiding a wrong formula (the wrong
 *   mappings below are off by > 1e-2).
 * - float64: the same computation, limited by the fixture's 12 significant digits (5e-12
 *   relative), <= 5e-12 measured; 1e-10.
 */
const TOL: Record<FDType, number> = { float32: 1e-5, float64: 1e-10 };

const q = (ks: number[], shape: number[], dtype: FDType): Tensor => {
  const a = dtype === 'float64' ? new Float64Array(ks.length) : new Float32Array(ks.length);
  ks.forEach((k, i) => { a[i] = k / Q; });
  return gf.tensor(a, shape);
};

function maxDiff(got: ArrayLike<number>, want: readonly number[]): number {
  expect(got.length).toBe(want.length);
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]));
  return Number.isNaN(m) ? Infinity : m;
}

/** The Keras-layout shapes of a case's weights, in setWeights order (per direction: kernel, recurrent, bias). */
function weightShapes(c: Case): number[][] {
  const G = GATES[c.cell];
  const one = [[In, G * U], [U, G * U], c.cell === 'gru' ? [2, G * U] : [G * U]];
  return c.bidirectional ? [...one, ...one] : one;
}

/** [batch, time] mask of the case: 1 for steps before each sequence's length. */
function maskOf(c: Case, dtype: FDType): Tensor | null {
  if (c.lengths === null) return null;
  const lengths = c.lengths;
  const m = Array.from({ length: N * T }, (_, i) => (i % T < lengths[Math.floor(i / T)] ? Q : 0));
  return q(m, [N, T], dtype);
}

/** A float64 layer: every weight created float64 (then overwritten by setWeights). */
const zeros64: Initializer = { className: 'Zeros', create: (shape) => gf.zeros(shape, { dtype: 'float64' }), getConfig: () => ({}) };

function makeLayer(c: Case, dtype: FDType): Layer {
  const make = { simpleRNN: gf.layers.simpleRNN, lstm: gf.layers.lstm, gru: gf.layers.gru }[c.cell];
  const inner = make({ units: U, returnSequences: c.returnSequences, goBackwards: c.goBackwards, recurrentActivation: 'sigmoid', ...(c.cell === 'gru' ? { resetAfter: true } : {}) });
  const layer: Layer = c.bidirectional ? gf.layers.bidirectional({ layer: inner, mergeMode: 'concat' }) : inner;
  if (dtype === 'float64') buildWithInitializer(zeros64, () => layer.ensureBuilt([null, T, In]));
  else layer.ensureBuilt([null, T, In]);
  return layer;
}

interface Result { out: Tensor; dx: Tensor; dWeights: Tensor[] }

/**
 * The case through the gradforge layer with `weights` (Keras layout, float values): forward,
 * then backward of sum(out * wy). float32 masks come from a masking() layer (zero padding), as a
 * model would have them; the float64 path hands the mask to the layer directly (masking() makes
 * float32 tensors).
 */
function runLayer(c: Case, dtype: FDType, weights: Tensor[] = c.weights.map((w, i) => q(w, weightShapes(c)[i], dtype))): Result {
  const layer = makeLayer(c, dtype);
  layer.setWeights(weights);
  const x = q(c.x, [N, T, In], dtype).setRequiresGrad(true);
  let input: Tensor = x, mask: Tensor | null = null;
  if (c.lengths !== null) {
    if (dtype === 'float32') {
      const masking = gf.layers.masking({ maskValue: 0 });
      input = masking.apply(x);
      mask = masking.computeMask(x, null);
      expect(Array.from(mask!.data)).toEqual(Array.from(maskOf(c, 'float32')!.data));
    } else {
      mask = maskOf(c, dtype);
    }
  }
  const out = layer.apply(input, { training: false, mask });
  expect(out.shape).toEqual(c.outShape);
  expect(out.dtype).toBe(dtype);
  out.mul(q(c.wy, c.outShape, dtype)).sum().backward();
  const dWeights = layer.trainableWeights.map((v) => v.value.grad!);
  return { out, dx: x.grad!, dWeights };
}

const measured: Record<string, Record<string, number>> = {};
afterAll(() => {
  if (process.env.GF_TORCH_RNN_REPORT) {
    const rows = Object.entries(measured).map(([k, v]) => `${k.padEnd(52)} ${Object.entries(v).map(([a, b]) => `${a} ${b.toExponential(1)}`).join('  ')}`);
    process.stdout.write(`max abs differences from PyTorch:\n${rows.join('\n')}\n`);
  }
});

describe.each(['float32', 'float64'] as const)('%s', (dtype) => {
  test.each(fx.cases.map((c) => [c.name, c] as const))('%s: output and gradients match PyTorch', (name, c) => {
    const r = runLayer(c, dtype);
    const d: Record<string, number> = { out: maxDiff(r.out.data, c.out), dx: maxDiff(r.dx.data, c.dx) };
    const labels = ['dKernel', 'dRecurrent', 'dBias'];
    expect(r.dWeights.length).toBe(c.dWeights.length);
    r.dWeights.forEach((g, i) => {
      const key = `${labels[i % 3]}${c.bidirectional ? (i < 3 ? '.fwd' : '.bwd') : ''}`;
      expect(g.shape).toEqual(weightShapes(c)[i]);
      d[key] = maxDiff(g.data, c.dWeights[i]);
    });
    measured[`${dtype} ${name}`] = d;
    for (const [k, v] of Object.entries(d)) {
      if (!(v < TOL[dtype])) throw new Error(`${name} (${dtype}): ${k} differs from PyTorch by ${v}`);
    }
  });

  test.each(fx.cases.map((c) => [c.name, c] as const))('%s: gf.rnn final h (and c) per direction match PyTorch', (name, c) => {
    const shapes = weightShapes(c);
    const x = q(c.x, [N, T, In], dtype);
    const d: Record<string, number> = {};
    c.hT.forEach((want, dir) => {
      const [k, r, b] = [0, 1, 2].map((i) => q(c.weights[3 * dir + i], shapes[3 * dir + i], dtype));
      const res = gf.rnn(x, k, r, b, {
        cell: c.cell, activation: 'tanh', recurrentActivation: 'sigmoid', resetAfter: true,
        goBackwards: dir === 1 ? !c.goBackwards : c.goBackwards, mask: maskOf(c, dtype),
      });
      const tag = c.bidirectional ? (dir === 0 ? '.fwd' : '.bwd') : '';
      d[`hT${tag}`] = maxDiff(res.hT.data, want);
      if (c.cT !== null) d[`cT${tag}`] = maxDiff(res.cT!.data, c.cT[dir]);
    });
    Object.assign(measured[`${dtype} ${name}`] ??= {}, d);
    for (const [k, v] of Object.entries(d)) {
      if (!(v < TOL[dtype])) throw new Error(`${name} (${dtype}): ${k} differs from PyTorch by ${v}`);
    }
  });
});

/** Moves the gate blocks of each row of a [rows, G*U] Keras matrix: new block k = old block order[k]. */
function permuteGates(w: number[], G: number, order: number[]): number[] {
  const cols = G * U, out = new Array<number>(w.length);
  for (let r = 0; r < w.length / cols; r++) {
    for (let k = 0; k < G; k++) for (let u = 0; u < U; u++) out[r * cols + k * U + u] = w[r * cols + order[k] * U + u];
  }
  return out;
}

describe('sensitivity: a wrong layout conversion is caught by a wide margin', () => {
  const byName = (n: string): Case => {
    const c = fx.cases.find((k) => k.name === n);
    if (c === undefined) throw new Error(`no fixture case '${n}'`);
    return c;
  };
  const outDiff = (c: Case, ws: number[][]): number =>
    maxDiff(runLayer(c, 'float64', ws.map((w, i) => q(w, weightShapes(c)[i], 'float64'))).out.data, c.out);

  test.each([
    ['GRU z and r swapped (torch r,z,n order kept)', 'gru returnSequences', (ws: number[][]) => ws.map((w) => permuteGates(w, 3, [1, 0, 2]))],
    ['GRU input and recurrent bias rows swapped', 'gru returnSequences', (ws: number[][]) => [ws[0], ws[1], [...ws[2].slice(3 * U), ...ws[2].slice(0, 3 * U)]]],
    ['LSTM f and c swapped', 'lstm returnSequences', (ws: number[][]) => ws.map((w) => permuteGates(w, 4, [0, 2, 1, 3]))],
  ] as const)('%s', (what, name, wrong) => {
    const c = byName(name);
    expect(outDiff(c, c.weights)).toBeLessThan(TOL.float64);   // the right mapping
    const d = outDiff(c, wrong(c.weights));
    measured[`wrong mapping: ${what}`] = { out: d };
    expect(d).toBeGreaterThan(1e-2);
  });
});
