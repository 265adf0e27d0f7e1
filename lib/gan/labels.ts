/**
 * The conditional-GAN input contract. With numClasses K:
 * - the generator's input is concat(z, oneHot(label)) on the last axis: [batch, latentDim + K];
 * - the discriminator's input is the sample with K extra channels on its last axis holding the
 *   one-hot label, the same at every position: an image [batch, h, w, c] becomes
 *   [batch, h, w, c + K] (a vector [batch, d] becomes [batch, d + K]).
 * Labels are class indices, one per sample.
 */
import { Tensor, allocate } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { concat } from '../ops/shape';

/**
 * Class indices from a Tensor of shape [n] or [n, 1] (int32, or floats holding integers) or
 * a number array, checked against n and numClasses.
 */
export function checkLabels(op: string, labels: Tensor | readonly number[] | undefined, n: number, numClasses: number): Int32Array {
  if (labels === undefined || labels === null) {
    throw new ValueError(`${op}: this GAN is conditional (numClasses ${numClasses}): pass labels, one class index in [0, ${numClasses}) per sample (e.g. {labels: gf.tensor(indices, [${n}], {dtype: 'int32'})})`);
  }
  let values: ArrayLike<number>;
  if (labels instanceof Tensor) {
    const fits = labels.shape[0] === n && (labels.rank === 1 || (labels.rank === 2 && labels.shape[1] === 1));
    if (!fits) throw new ShapeError(`${op}: labels must have shape [${n}] (one class index per sample), got ${fmtShape(labels.shape)}`);
    values = labels.dataSync();
  } else if (Array.isArray(labels)) {
    if (labels.length !== n) throw new ShapeError(`${op}: expected ${n} labels (one per sample), got ${labels.length}`);
    values = labels;
  } else {
    throw new ValueError(`${op}: labels must be a Tensor or an array of class indices, got ${String(labels)}`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new ValueError(`${op}: label ${i} is ${v}; labels must be class indices in [0, ${numClasses})`);
    }
    out[i] = v;
  }
  return out;
}

/** Rejects labels given to an unconditional GAN, where they would silently mean nothing. */
export function rejectLabels(op: string, labels: unknown): void {
  if (labels !== undefined) throw new ValueError(`${op}: labels were given but the GAN is not conditional (create it with numClasses)`);
}

/** The one-hot rows of class indices: [n, numClasses]. */
export function oneHot(idx: Int32Array, numClasses: number): Tensor {
  const data = allocate('float32', idx.length * numClasses);
  idx.forEach((c, i) => { data[i * numClasses + c] = 1; });
  return new Tensor(data, [idx.length, numClasses]);
}

/** concat(z, oneHot(labels)): the conditional generator's input. */
export function generatorInput(z: Tensor, idx: Int32Array | null, numClasses: number): Tensor {
  return idx === null ? z : concat([z, oneHot(idx, numClasses)], -1);
}

/** x with the one-hot label appended on the last axis at every position (the conditional discriminator's input). */
export function discriminatorInput(x: Tensor, idx: Int32Array | null, numClasses: number): Tensor {
  if (idx === null) return x;
  if (x.rank < 2 || x.shape[0] !== idx.length) {
    throw new ShapeError(`discriminatorInput: expected ${idx.length} samples with a channel axis, got ${fmtShape(x.shape)}`);
  }
  const positions = x.size / (x.shape[0] * x.shape[x.rank - 1]);
  const maps = allocate('float32', idx.length * positions * numClasses);
  for (let i = 0; i < idx.length; i++) {
    const base = i * positions * numClasses + idx[i];
    for (let p = 0; p < positions; p++) maps[base + p * numClasses] = 1;
  }
  return concat([x, new Tensor(maps, [...x.shape.slice(0, -1), numClasses])], -1);
}
