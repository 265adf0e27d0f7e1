// npm run demo: what gradforge does, in about two minutes. Trains the Keras tutorial MLP on real
// MNIST digits with a progress bar, then the tutorial CNN (convolutions and max-pooling) on the
// same digits, reports each one's held-out accuracy, saves the CNN (TensorFlow.js format),
// loads it back and checks that the reloaded model predicts the same; then trains a small
// DCGAN on the digits for a short while and writes a grid of what its generator draws to
// out/demo/gan-digits.png (examples/dcgan trains it longer, for recognisable digits); last,
// the recurrent layers: an LSTM reads 5,000 IMDB reviews and judges 5,000 others, and a GRU
// forecasts Seattle's temperature a day ahead against the naive "tomorrow = today".
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';
import { trainMnistMlp } from './mnist-mlp';
import { trainMnistCnn } from './mnist-cnn';
import { allMnistDigits, trainDcgan } from './dcgan';
import { trainImdbLstm } from './imdb-lstm';
import { trainWeatherForecast } from './weather-forecast';

const CNN_EPOCHS = 5;
const GAN_DIGITS = 8000;
const GAN_EPOCHS = 5;
const IMDB_REVIEWS = 5000;

async function main(): Promise<void> {
  const info = gf.backendInfo();
  console.log(`gradforge demo - native backend: ${info.numThreads} thread(s), GEMM micro-kernel ${info.gemmKernel}\n`);
  console.log('1/4 Training a 784-128-128-10 MLP on 8,000 MNIST digits (10 epochs, Adam, batch 128)...\n');
  const r = await trainMnistMlp({ epochs: 10, verbose: 1 });
  console.log(`\nMLP test accuracy: ${(100 * r.testAccuracy).toFixed(2)}% on 2,000 held-out digits ` +
    `(test loss ${r.testLoss.toFixed(4)}), trained in ${r.seconds.toFixed(1)} s.\n`);
  console.log(`2/4 Training the tutorial CNN (3 conv + 2 max-pool + 2 dense) on the same digits ` +
    `(${CNN_EPOCHS} epochs, RMSprop, batch 64)...\n`);
  const c = await trainMnistCnn({ epochs: CNN_EPOCHS, verbose: 1 });
  console.log(`\nCNN test accuracy: ${(100 * c.testAccuracy).toFixed(2)}% on 2,000 held-out digits ` +
    `(test loss ${c.testLoss.toFixed(4)}), trained in ${c.seconds.toFixed(1)} s.`);

  const dir = path.join(os.tmpdir(), `gradforge-demo-${process.pid}`);
  await c.model.save(`file://${dir}`);
  const reloaded = await gf.loadModel(`file://${dir}`);
  const { xTest } = gf.datasets.mnistDigits({ flatten: false });
  const before = c.model.predict(xTest).dataSync();
  const after = reloaded.predict(xTest).dataSync();
  let maxDiff = 0;
  for (let i = 0; i < before.length; i++) maxDiff = Math.max(maxDiff, Math.abs(before[i] - after[i]));
  const files = fs.readdirSync(dir).map((f) => `${f} (${fs.statSync(path.join(dir, f)).size.toLocaleString('en-US')} bytes)`);
  console.log(`\nSaved the CNN to ${dir}: ${files.join(', ')}; reloaded it: ` +
    `largest difference between the two models' predictions on 2,000 digits: ${maxDiff}.`);
  fs.rmSync(dir, { recursive: true, force: true });

  console.log(`\n3/4 Training a small DCGAN (generator of transposed convolutions vs a convolutional ` +
    `discriminator) on ${GAN_DIGITS.toLocaleString('en-US')} digits for ${GAN_EPOCHS} epochs...\n`);
  const images = gf.sliceRows(allMnistDigits(), 0, GAN_DIGITS);
  const g = await trainDcgan({ images, epochs: GAN_EPOCHS, verbose: 1 });
  const grid = path.join('out', 'demo', 'gan-digits.png');
  await gf.image.saveGrid(g.gan.generate(64, { seed: 2026 }), grid, { cols: 8 });
  console.log(`\nTrained the GAN in ${g.seconds.toFixed(1)} s; 64 samples of its generator: ${path.resolve(grid)} ` +
    '(a few epochs give strokes and rough digits; npm run example:dcgan trains longer).');

  console.log(`\n4/4 Recurrent layers: Embedding -> LSTM(64) -> Dense on ${IMDB_REVIEWS.toLocaleString('en-US')} IMDB reviews ` +
    '(2 epochs, padded to 200 words), then a GRU forecasting Seattle\'s temperature...\n');
  const imdb = await trainImdbLstm({ epochs: 2, limit: IMDB_REVIEWS, verbose: 1 });
  console.log(`\nLSTM sentiment accuracy: ${(100 * imdb.testAccuracy).toFixed(2)}% on ${IMDB_REVIEWS.toLocaleString('en-US')} unseen reviews ` +
    `in ${imdb.seconds.toFixed(1)} s (npm run example:imdb-lstm trains on all 25,000: about 88%).`);
  const w = await trainWeatherForecast({ verbose: 0 });
  console.log(`GRU forecast of tomorrow's highest temperature over the ${w.testDays} days of 2015: mean absolute error ` +
    `${w.testMae.toFixed(2)} °C, against ${w.naiveMae.toFixed(2)} °C for "tomorrow = today" and ${w.seasonalMae.toFixed(2)} °C ` +
    `for the seasonal mean (${w.epochs} epochs, ${w.seconds.toFixed(1)} s).`);
}

main().catch((e) => { console.error(e); process.exit(1); });
