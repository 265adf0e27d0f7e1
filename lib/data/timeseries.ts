/**
 * timeseriesDataset: sliding windows over a time series, as Keras's
 * timeseries_dataset_from_array builds them, returned as two tensors for fit (which batches
 * and shuffles) instead of a tf.data pipeline.
 *
 * Window i starts at p = i * sequenceStride and holds data[startIndex + p + j * samplingRate]
 * for j < sequenceLength; its target is targets[startIndex + p]. There are
 * endIndex - startIndex - (sequenceLength - 1) * samplingRate start positions (at most
 * targets' length) before the stride, exactly Keras's count.
 *
 * @example
 * // predict the value 10 steps after each window of 24
 * const {x, y} = gf.data.timeseriesDataset(series.slice([0], [n - 10]), series.slice([10]), {sequenceLength: 24});
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { allocateOutput } from '../tensor';

export interface TimeseriesDatasetOptions {
  /** Steps per window (after sampling). */
  sequenceLength: number;
  /** Steps between the starts of successive windows (default 1). */
  sequenceStride?: number;
  /** Steps between samples inside a window (default 1). */
  samplingRate?: number;
  /** First step used (default 0). */
  startIndex?: number;
  /** One past the last step used (default: the series' length). */
  endIndex?: number;
}

export interface TimeseriesDataset {
  /** [windows, sequenceLength, ...feature shape] */
  x: Tensor;
  /** [windows, ...target shape], or null without targets */
  y: Tensor | null;
}

function intOpt(name: string, v: number | undefined, dflt: number, min: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min) throw new ValueError(`timeseriesDataset: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return n;
}

/** Copies rows `rows` (each a run of `width` elements of src) into a new tensor. */
function gatherRows(src: Tensor, rows: number[], width: number, shape: number[]): Tensor {
  const out = allocateOutput(src.dtype, rows.length * width, 'timeseriesDataset', shape);
  const d = src.data;
  rows.forEach((r, k) => out.set(d.subarray(r * width, (r + 1) * width), k * width));
  return new Tensor(out, shape);
}

export function timeseriesDataset(data: Tensor, targets: Tensor | null, opts: TimeseriesDatasetOptions): TimeseriesDataset {
  if (!(data instanceof Tensor) || data.rank < 1) throw new ShapeError('timeseriesDataset: data must be a tensor [steps, ...features]');
  if (targets !== null && (!(targets instanceof Tensor) || targets.rank < 1)) {
    throw new ShapeError('timeseriesDataset: targets must be a tensor [steps, ...] or null');
  }
  const steps = data.shape[0];
  const seqLen = intOpt('sequenceLength', opts.sequenceLength, NaN, 1);
  const stride = intOpt('sequenceStride', opts.sequenceStride, 1, 1);
  const rate = intOpt('samplingRate', opts.samplingRate, 1, 1);
  const start = intOpt('startIndex', opts.startIndex, 0, 0);
  const end = intOpt('endIndex', opts.endIndex, steps, 0);
  if (end > steps || start >= end) {
    throw new ValueError(`timeseriesDataset: need 0 <= startIndex < endIndex <= ${steps} (the steps of data ${fmtShape(data.shape)}), got ${start} and ${end}`);
  }
  let positions = end - start - (seqLen - 1) * rate;
  if (targets !== null) positions = Math.min(positions, targets.shape[0]);
  const starts: number[] = [];
  for (let p = 0; p < positions; p += stride) starts.push(p);

  const feat = data.shape.slice(1);
  const width = feat.reduce((a, b) => a * b, 1);
  const rows: number[] = [];
  for (const p of starts) for (let j = 0; j < seqLen; j++) rows.push(start + p + j * rate);
  const x = gatherRows(data, rows, width, [starts.length, seqLen, ...feat]);
  if (targets === null) return { x, y: null };
  const tFeat = targets.shape.slice(1);
  const tRows = starts.map((p) => start + p);
  if (tRows.length > 0 && tRows[tRows.length - 1] >= targets.shape[0]) {
    throw new ShapeError(`timeseriesDataset: targets ${fmtShape(targets.shape)} has no step ${tRows[tRows.length - 1]} for the last window (startIndex ${start})`);
  }
  const y = gatherRows(targets, tRows, tFeat.reduce((a, b) => a * b, 1), [starts.length, ...tFeat]);
  return { x, y };
}
