/**
 * Preprocessing: one-hot labels, standard scaling, a seeded (optionally stratified) train/test
 * split, and minibatch index generation.
 *
 * @example
 * const yOneHot = gf.toCategorical(labels, 10);
 * const scaler = new gf.data.StandardScaler().fit(xTrain);
 * const {xTrain, xTest, yTrain, yTest} = gf.data.trainTestSplit(x, y, {testSize: 0.2, seed: 1, stratify: y});
 */
import { Tensor, shapeSize } from '../tensor';
import { Rng, rngFor } from '../random';
import { ShapeError, ValueError, fmtShape } from '../errors';

/**
 * One-hot encodes integer labels: [n] (or [n, 1]) -> float32 [n, numClasses].
 * @example gf.toCategorical(gf.tensor([0, 2], undefined, {dtype: 'int32'}), 3)  // [[1,0,0],[0,0,1]]
 */
export function toCategorical(labels: Tensor | readonly number[] | Int32Array, numClasses?: number): Tensor {
  const t = labels instanceof Tensor ? labels : null;
  if (t !== null && !(t.rank === 1 || (t.rank === 2 && t.shape[1] === 1))) {
    throw new ShapeError(`toCategorical: labels must have shape [n] or [n, 1], got ${fmtShape(t.shape)}`);
  }
  const data = t !== null ? t.data : labels as readonly number[] | Int32Array;
  let maxLabel = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0) throw new ValueError(`toCategorical: label ${v} at position ${i} is not an integer >= 0`);
    if (v > maxLabel) maxLabel = v;
  }
  const k = numClasses ?? maxLabel + 1;
  if (!Number.isInteger(k) || k < 1) throw new ValueError(`toCategorical: numClasses must be an integer >= 1, got ${numClasses}`);
  if (maxLabel >= k) {
    const at = Array.prototype.findIndex.call(data, (v: number) => v >= k);
    throw new ValueError(`toCategorical: label ${data[at]} at position ${at} is out of range for ${k} classes`);
  }
  const out = new Float32Array(data.length * k);
  for (let i = 0; i < data.length; i++) out[i * k + data[i]] = 1;
  return new Tensor(out, [data.length, k]);
}

/** Removes the mean and scales to unit variance, per feature (column), as scikit-learn does. */
export class StandardScaler {
  mean: Float64Array | null = null;
  scale: Float64Array | null = null;

  /** Learns per-feature mean and (population) standard deviation of x [n, features...]. */
  fit(x: Tensor): this {
    if (x.rank < 2 || x.shape[0] === 0) throw new ShapeError(`StandardScaler.fit: x must be [n >= 1, features...], got ${fmtShape(x.shape)}`);
    const n = x.shape[0];
    const f = shapeSize(x.shape.slice(1));
    const mean = new Float64Array(f);
    const sq = new Float64Array(f);
    for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += x.data[i * f + j];
    for (let j = 0; j < f; j++) mean[j] /= n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < f; j++) {
        const d = x.data[i * f + j] - mean[j];
        sq[j] += d * d;
      }
    }
    // a constant feature keeps scale 1 so transform leaves it centred rather than dividing by 0
    this.scale = sq.map((s) => (s > 0 ? Math.sqrt(s / n) : 1));
    this.mean = mean;
    return this;
  }

  private check(op: string, x: Tensor): [Float64Array, Float64Array, number] {
    if (this.mean === null || this.scale === null) throw new ValueError(`StandardScaler.${op}: call fit first`);
    const f = this.mean.length;
    if (x.rank < 2 || shapeSize(x.shape.slice(1)) !== f) {
      throw new ShapeError(`StandardScaler.${op}: x ${fmtShape(x.shape)} does not have the ${f} features the scaler was fitted on`);
    }
    return [this.mean, this.scale, f];
  }

  transform(x: Tensor): Tensor {
    const [mean, scale, f] = this.check('transform', x);
    const out = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) out[i] = (x.data[i] - mean[i % f]) / scale[i % f];
    return new Tensor(out, x.shape);
  }

  inverseTransform(x: Tensor): Tensor {
    const [mean, scale, f] = this.check('inverseTransform', x);
    const out = new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) out[i] = x.data[i] * scale[i % f] + mean[i % f];
    return new Tensor(out, x.shape);
  }

  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }
}

export interface TrainTestSplitOptions {
  /** Fraction (0, 1) or count of test samples (default 0.25). */
  testSize?: number;
  /** Shuffle before splitting (default true). */
  shuffle?: boolean;
  seed?: number;
  /** Class labels [n]: keep each class's proportion in both parts. */
  stratify?: Tensor;
}

export interface Split {
  xTrain: Tensor;
  xTest: Tensor;
  yTrain: Tensor;
  yTest: Tensor;
}

/** Splits samples (rows) into train and test parts, like scikit-learn's train_test_split. */
export function trainTestSplit(x: Tensor, y: Tensor, opts: TrainTestSplitOptions = {}): Split {
  if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
    throw new ShapeError(`trainTestSplit: x ${fmtShape(x.shape)} and y ${fmtShape(y.shape)} must have the same number of rows`);
  }
  const n = x.shape[0];
  const ts = opts.testSize ?? 0.25;
  const nTest = ts > 0 && ts < 1 ? Math.ceil(n * ts) : ts;
  if (!Number.isInteger(nTest) || nTest < 1 || nTest >= n) {
    throw new ValueError(`trainTestSplit: testSize ${ts} of ${n} samples must leave at least one sample in each part`);
  }
  const rng: Rng = rngFor(opts.seed);
  const shuffle = opts.shuffle ?? true;
  let testIdx: number[];
  let trainIdx: number[];
  if (opts.stratify !== undefined) {
    const s = opts.stratify;
    if (!(s instanceof Tensor) || s.rank === 0 || s.shape[0] !== n || s.rank > 2) {
      throw new ShapeError(`trainTestSplit: stratify must be labels [${n}] or one-hot rows [${n}, classes], got ${s instanceof Tensor ? fmtShape(s.shape) : String(s)}`);
    }
    // one-hot rows stratify by their argmax, like class indices
    const cols = s.rank === 2 ? s.shape[1] : 1;
    const classOf = (i: number): number => {
      if (cols === 1) return s.data[i];
      let best = 0;
      for (let j = 1; j < cols; j++) if (s.data[i * cols + j] > s.data[i * cols + best]) best = j;
      return best;
    };
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const k = classOf(i);
      if (!byClass.has(k)) byClass.set(k, []);
      byClass.get(k)!.push(i);
    }
    testIdx = [];
    trainIdx = [];
    // each class gives its proportional share; leftovers are settled by largest remainder
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const quotas = classes.map((k) => (byClass.get(k)!.length * nTest) / n);
    const counts = quotas.map(Math.floor);
    let missing = nTest - counts.reduce((a, b) => a + b, 0);
    const byRemainder = quotas.map((q, i) => [q - Math.floor(q), i]).sort((a, b) => b[0] - a[0]);
    for (const [, i] of byRemainder) { if (missing-- <= 0) break; counts[i]++; }
    classes.forEach((k, ci) => {
      const members = byClass.get(k)!;
      if (shuffle) rng.shuffle(members);
      testIdx.push(...members.slice(0, counts[ci]));
      trainIdx.push(...members.slice(counts[ci]));
    });
    if (shuffle) { rng.shuffle(testIdx); rng.shuffle(trainIdx); }
  } else {
    const order = Array.from({ length: n }, (_, i) => i);
    if (shuffle) rng.shuffle(order);
    trainIdx = order.slice(0, n - nTest);
    testIdx = order.slice(n - nTest);
  }
  return { xTrain: x.gather(trainIdx), xTest: x.gather(testIdx), yTrain: y.gather(trainIdx), yTest: y.gather(testIdx) };
}

/**
 * Index arrays of the minibatches of n samples (the last one may be smaller).
 * @example for (const idx of gf.data.batchIndices(x.shape[0], 32, {shuffle: true})) { const xb = x.gather(idx); }
 */
export function batchIndices(n: number, batchSize: number, opts: { shuffle?: boolean; seed?: number } = {}): Int32Array[] {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`batchIndices: n must be an integer >= 0, got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`batchIndices: batchSize must be an integer >= 1, got ${batchSize}`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (opts.shuffle) rngFor(opts.seed).shuffle(order);
  const out: Int32Array[] = [];
  for (let s = 0; s < n; s += batchSize) out.push(order.slice(s, Math.min(n, s + batchSize)));
  return out;
}
