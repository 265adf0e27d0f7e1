// npm run demo: what gradforge does, in a minute. Trains the Keras tutorial MLP on real MNIST
// digits with a progress bar and reports the held-out accuracy.
import * as gf from '../lib';
import { trainMnistMlp } from './mnist-mlp';

async function main(): Promise<void> {
  const info = gf.backendInfo();
  console.log(`gradforge demo - native backend: ${info.numThreads} thread(s), GEMM micro-kernel ${info.gemmKernel}\n`);
  console.log('Training a 784-128-128-10 MLP on 8,000 MNIST digits (10 epochs, Adam, batch 128)...\n');
  const r = await trainMnistMlp({ epochs: 10, verbose: 1 });
  console.log(`\nTest accuracy: ${(100 * r.testAccuracy).toFixed(2)}% on 2,000 held-out digits ` +
    `(test loss ${r.testLoss.toFixed(4)}), trained in ${r.seconds.toFixed(1)} s.`);
}

main().catch((e) => { console.error(e); process.exit(1); });
