// The tutorial CNN (see mnist-cnn.ts) on Fashion-MNIST: 60,000 28x28 grayscale images of
// clothing in 10 classes to train on, 10,000 to test on. 5 epochs of RMSprop, batch 64; Keras
// reaches about 91% test accuracy with this model.
//   npm run example:fashion-mnist-cnn
// The data: on Debian/Ubuntu `apt-get install dataset-fashion-mnist` (installs the four IDX
// files in /usr/share/datasets/fashion-mnist), or put the four standard files in the cache
// folder ($GRADFORGE_DATA_DIR/fashion-mnist, default ~/.cache/gradforge/fashion-mnist); with
// neither, the loader downloads them there.
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';
import { tutorialCnn } from './mnist-cnn';

export interface FashionResult {
  testLoss: number;
  testAccuracy: number;
  seconds: number;
}

const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

function howToGetTheData(): string {
  const cache = path.join(process.env.GRADFORGE_DATA_DIR ?? path.join(os.homedir(), '.cache', 'gradforge'), 'fashion-mnist');
  return 'Fashion-MNIST is not available on this machine. To get it, either\n' +
    '  - on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist   (files go to /usr/share/datasets/fashion-mnist), or\n' +
    `  - put the four standard IDX files (${FILES.join(', ')})\n` +
    `    from https://github.com/zalandoresearch/fashion-mnist in ${cache}\n` +
    '    (set GRADFORGE_DATA_DIR to use another cache root), or\n' +
    '  - run this again with internet access: the loader downloads them there and checks their MD5 sums.';
}

export async function trainFashionMnistCnn(opts: { epochs?: number; verbose?: 0 | 1 | 2 } = {}): Promise<FashionResult> {
  const { train, test } = await gf.datasets.fashionMnist();   // images [n, 28, 28, 1] in [0, 1]
  const started = Date.now();
  gf.setSeed(1234);
  const model = tutorialCnn();
  model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  if (opts.verbose !== 0) model.summary();
  await model.fit(train.images, train.labelsOneHot, {
    epochs: opts.epochs ?? 5, batchSize: 64, validationData: [test.images, test.labelsOneHot], verbose: opts.verbose ?? 1,
  });
  const [testLoss, testAccuracy] = model.evaluate(test.images, test.labelsOneHot);
  return { testLoss, testAccuracy, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  let r: FashionResult;
  try {
    r = await trainFashionMnistCnn();
  } catch (e) {
    if (e instanceof gf.ValueError && /^fashion-mnist: files not found/.test(e.message)) {
      console.error(`${e.message}\n\n${howToGetTheData()}`);
      process.exit(2);
    }
    throw e;
  }
  console.log(`test loss ${r.testLoss.toFixed(4)}, test accuracy ${(100 * r.testAccuracy).toFixed(2)}% on the 10,000 Fashion-MNIST test images ` +
    `(trained in ${r.seconds.toFixed(1)} s)`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
