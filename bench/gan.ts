// bench/gan: how good are the DCGAN's digits? A CNN classifier trained on real digits judges
// 1,000 generated ones.
//   npm run bench:gan                       trains examples/dcgan's GAN (20 epochs, ~8 min here)
//   npm run bench:gan -- --epochs=5         shorter
//   npm run bench:gan -- --model=out/dcgan/model   judges a GAN saved by the example instead
//
// Figures (the same for real held-out digits, as the ceiling, and for the untrained generator,
// as the floor):
// - mean max-class confidence: how sure the judge is of each image's class (real digits ~0.99);
// - class histogram of the judge's argmax: mode collapse shows as a skewed histogram;
// - classifier-based Inception Score exp(E_x KL(p(y|x) || p(y))): high when every image is
//   confidently one digit and all ten digits appear (at most 10).
// Writes bench/results/gan.json and bench/results/gan-samples.png (64 samples: look at it).
import * as path from 'path';
import * as gf from '../lib';
import { trainMnistCnn } from '../examples/mnist-cnn';
import { allMnistDigits, dcganDiscriminator, dcganGenerator, LATENT_DIM, trainDcgan } from '../examples/dcgan';
import { root, writeResults } from './util';

const JUDGED = 1000;

interface Judgement {
  meanConfidence: number;
  histogram: number[];
  inceptionScore: number;
  /** max bin / mean bin of the histogram (1 = perfectly even) */
  histogramSkew: number;
}

/** The judge's verdict on images in [0, 1], [n, 28, 28, 1]. */
function judge(classifier: gf.Sequential, images: gf.Tensor): Judgement {
  const p = classifier.predict(images, { batchSize: 250 });  // softmax rows [n, 10]
  const n = p.shape[0];
  const k = p.shape[1];
  const marginal = new Float64Array(k);
  const histogram = new Array<number>(k).fill(0);
  let confidence = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 0; j < k; j++) {
      const v = p.data[i * k + j];
      marginal[j] += v / n;
      if (v > p.data[i * k + best]) best = j;
    }
    histogram[best]++;
    confidence += p.data[i * k + best] / n;
  }
  let kl = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const v = Math.max(p.data[i * k + j], 1e-12);
      kl += (v * Math.log(v / Math.max(marginal[j], 1e-12))) / n;
    }
  }
  return {
    meanConfidence: confidence, histogram, inceptionScore: Math.exp(kl),
    histogramSkew: Math.max(...histogram) / (n / k),
  };
}

const fromTanh = (x: gf.Tensor): gf.Tensor => gf.div(gf.add(x, 1), 2);

function show(label: string, j: Judgement): void {
  console.log(`${label.padEnd(26)} confidence ${j.meanConfidence.toFixed(3)}  IS ${j.inceptionScore.toFixed(2)}  ` +
    `histogram [${j.histogram.join(' ')}] (max/mean ${j.histogramSkew.toFixed(2)})`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const started = Date.now();

  console.log('training the judge (the tutorial CNN, 3 epochs on 8,000 real digits) ...');
  const judgeRun = await trainMnistCnn({ epochs: 3, verbose: 0 });
  const classifier = judgeRun.model;
  console.log(`judge: ${(100 * judgeRun.testAccuracy).toFixed(2)}% on 2,000 held-out real digits (${judgeRun.seconds.toFixed(0)} s)`);

  const real = gf.sliceRows(gf.datasets.mnistDigits({ flatten: false }).xTest, 0, JUDGED);
  gf.setSeed(99);
  const untrained = gf.gan({ generator: dcganGenerator(), discriminator: dcganDiscriminator(), latentDim: LATENT_DIM });

  let gan: gf.GAN;
  let epochs: number;
  let trainSeconds: number | null = null;
  const modelDir = opt('model');
  if (modelDir !== undefined) {
    gan = await gf.loadGan(modelDir);
    epochs = gan.epoch;
    console.log(`judging the GAN saved in ${modelDir} (${epochs} epochs)`);
  } else {
    epochs = Number(opt('epochs') ?? 20);
    console.log(`training the DCGAN of examples/dcgan for ${epochs} epochs on 10,000 digits ...`);
    const r = await trainDcgan({ images: allMnistDigits(), epochs, verbose: 2 });
    gan = r.gan;
    trainSeconds = r.seconds;
    console.log(`trained in ${r.seconds.toFixed(0)} s (${(r.seconds / epochs).toFixed(1)} s/epoch)`);
  }

  const generated = fromTanh(gan.generate(JUDGED, { seed: 12345 }));
  const results = {
    real: judge(classifier, real),
    generated: judge(classifier, generated),
    untrainedGenerator: judge(classifier, fromTanh(untrained.generate(JUDGED, { seed: 12345 }))),
  };
  console.log('');
  show('real held-out digits', results.real);
  show(`DCGAN, ${epochs} epochs`, results.generated);
  show('untrained generator', results.untrainedGenerator);

  const png = path.join(root, 'bench', 'results', 'gan-samples.png');
  await gf.image.saveGrid(gan.generate(64, { seed: 2026 }), png, { cols: 8 });
  const file = writeResults('gan', {
    date: new Date().toISOString(),
    command: `node dist/bench/gan.js ${args.join(' ')}`.trim(),
    epochs, trainSeconds, judgeTestAccuracy: judgeRun.testAccuracy, judged: JUDGED, ...results,
    seconds: (Date.now() - started) / 1000,
  });
  console.log(`\nwrote ${path.relative(root, file)} and ${path.relative(root, png)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
