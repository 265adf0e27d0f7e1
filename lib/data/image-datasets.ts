/**
 * datasets.mnist() and datasets.fashionMnist(): the full 60,000 + 10,000 image sets from the
 * standard IDX files. Each loader looks in a cache folder, then in /usr/share/datasets/<name>
 * (where Debian's dataset-fashion-mnist package puts Fashion-MNIST), then downloads the files
 * from a base URL into the cache, verifying their MD5 checksums.
 *
 * @example
 * const {train, test} = await gf.datasets.fashionMnist();
 * train.images;        // float32 [60000, 28, 28, 1] in [0, 1]
 * train.labels;        // int32 [60000]
 * train.labelsOneHot;  // float32 [60000, 10]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import { readIdx } from './idx';
import { downloadFile } from './download';
import { toCategorical } from './preprocessing';

export interface ImageSplit {
  /** float32 [n, 28, 28, 1], pixels scaled to [0, 1]. */
  images: Tensor;
  /** int32 [n] class indices. */
  labels: Tensor;
  /** float32 [n, 10] one-hot rows. */
  labelsOneHot: Tensor;
}

export interface ImageDataset {
  train: ImageSplit;
  test: ImageSplit;
}

export interface ImageDatasetOptions {
  /** Where downloads go and are looked for first (default $GRADFORGE_DATA_DIR/<name> or ~/.cache/gradforge/<name>). */
  cacheDir?: string;
  /** System folder searched second (default /usr/share/datasets/<name>). */
  systemDir?: string;
  /** Base URL of the four standard files (default: the data set's public mirror). */
  baseUrl?: string;
  /** Download missing files (default true). */
  download?: boolean;
  /** MD5 of each downloaded file by name (defaults: the standard files' published checksums). */
  checksums?: Record<string, string>;
  /** Load only the first n training samples (handy for quick experiments). */
  trainLimit?: number;
}

export const IDX_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;

interface DatasetSpec {
  name: string;
  baseUrl: string;
  md5: Record<string, string>;
}

const MNIST: DatasetSpec = {
  name: 'mnist',
  baseUrl: 'https://storage.googleapis.com/cvdf-datasets/mnist/',
  md5: {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
  },
};

const FASHION_MNIST: DatasetSpec = {
  name: 'fashion-mnist',
  baseUrl: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
  md5: {
    'train-images-idx3-ubyte.gz': '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    'train-labels-idx1-ubyte.gz': '25c81989df183df01b3e8a0aad5dffbe',
    't10k-images-idx3-ubyte.gz': 'bef4ecab320f06d8554ea6380940ec79',
    't10k-labels-idx1-ubyte.gz': 'bb300cfdad3c16e7a12a480ee83cd310',
  },
};

function defaultCacheDir(name: string): string {
  const root = process.env.GRADFORGE_DATA_DIR ?? path.join(os.homedir(), '.cache', 'gradforge');
  return path.join(root, name);
}

/** The path of each file, from the first folder that has all four; null when none has. */
function findComplete(dirs: string[]): string | null {
  for (const dir of dirs) {
    if (IDX_FILES.every((f) => fs.existsSync(path.join(dir, f)))) return dir;
  }
  return null;
}

function toSplit(imagesPath: string, labelsPath: string, limit?: number): ImageSplit {
  const img = readIdx(imagesPath);
  const lab = readIdx(labelsPath);
  if (img.dims.length !== 3 || img.data.BYTES_PER_ELEMENT !== 1) {
    throw new ValueError(`${imagesPath}: expected uint8 images [n, rows, cols], got dimensions [${img.dims.join(', ')}]`);
  }
  if (lab.dims.length !== 1 || lab.dims[0] !== img.dims[0]) {
    throw new ValueError(`${labelsPath}: expected ${img.dims[0]} labels to match ${imagesPath}, got dimensions [${lab.dims.join(', ')}]`);
  }
  const [n0, h, w] = img.dims;
  const n = limit === undefined ? n0 : Math.min(n0, limit);
  const pixels = new Float32Array(n * h * w);
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] / 255;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = lab.data[i];
    if (v > 9) throw new ValueError(`${labelsPath}: label ${v} at position ${i} is not a class in 0..9`);
    labels[i] = v;
  }
  const labelsT = new Tensor(labels, [n]);
  return { images: new Tensor(pixels, [n, h, w, 1]), labels: labelsT, labelsOneHot: toCategorical(labelsT, 10) };
}

async function load(spec: DatasetSpec, opts: ImageDatasetOptions): Promise<ImageDataset> {
  if (opts.trainLimit !== undefined && (!Number.isInteger(opts.trainLimit) || opts.trainLimit < 1)) {
    throw new ValueError(`${spec.name}: trainLimit must be an integer >= 1, got ${opts.trainLimit}`);
  }
  const cacheDir = opts.cacheDir ?? defaultCacheDir(spec.name);
  const systemDir = opts.systemDir ?? path.join('/usr/share/datasets', spec.name);
  let dir = findComplete([cacheDir, systemDir]);
  if (dir === null) {
    const missing = IDX_FILES.filter((f) => !fs.existsSync(path.join(cacheDir, f)));
    if (opts.download === false) {
      throw new ValueError(`${spec.name}: files not found. Looked in ${cacheDir} (missing ${missing.join(', ')}) and ${systemDir}; ` +
        `downloading is off. ${spec.name === 'fashion-mnist' ? 'On Debian: apt-get install dataset-fashion-mnist. ' : ''}` +
        `Or put the four standard files (${IDX_FILES.join(', ')}) in ${cacheDir}.`);
    }
    const base = opts.baseUrl ?? spec.baseUrl;
    const sums = opts.checksums ?? spec.md5;
    for (const f of missing) {
      const url = base.endsWith('/') ? base + f : `${base}/${f}`;
      try {
        await downloadFile(url, path.join(cacheDir, f), sums[f]);
      } catch (e) {
        throw new ValueError(`${spec.name}: files not found in ${cacheDir} or ${systemDir}, and downloading ${f} failed: ` +
          `${e instanceof Error ? e.message : String(e)}`);
      }
    }
    dir = cacheDir;
  }
  return {
    train: toSplit(path.join(dir, IDX_FILES[0]), path.join(dir, IDX_FILES[1]), opts.trainLimit),
    test: toSplit(path.join(dir, IDX_FILES[2]), path.join(dir, IDX_FILES[3])),
  };
}

/** The full MNIST digits (60,000 train, 10,000 test). */
export function mnist(opts: ImageDatasetOptions = {}): Promise<ImageDataset> {
  return load(MNIST, opts);
}

/** Fashion-MNIST (60,000 train, 10,000 test; 10 clothing classes). */
export function fashionMnist(opts: ImageDatasetOptions = {}): Promise<ImageDataset> {
  return load(FASHION_MNIST, opts);
}

/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
