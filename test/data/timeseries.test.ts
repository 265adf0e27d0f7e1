// gf.data.timeseriesDataset against the two examples of Keras's
// timeseries_dataset_from_array documentation, plus features, startIndex/endIndex and errors.
import * as gf from '../../lib';
import { ShapeError, ValueError } from '../../lib/errors';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('Keras example 1: indices 0..98, sequenceLength 10, samplingRate 2, sequenceStride 3', () => {
  const data = gf.tensor(range(99), [99, 1]);
  const { x, y } = gf.data.timeseriesDataset(data, null, { sequenceLength: 10, samplingRate: 2, sequenceStride: 3 });
  expect(y).toBeNull();
  expect(x.shape).toEqual([27, 10, 1]);  // starts 0, 3, ..., 78
  const rows = (x.reshape([27, 10]).toArray() as number[][]);
  expect(rows[0]).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  expect(rows[1]).toEqual([3, 5, 7, 9, 11, 13, 15, 17, 19, 21]);
  expect(rows[2]).toEqual([6, 8, 10, 12, 14, 16, 18, 20, 22, 24]);
  expect(rows[26]).toEqual([78, 80, 82, 84, 86, 88, 90, 92, 94, 96]);
});

test('Keras example 2: regression 10 steps ahead (input data[:-10], targets data[10:])', () => {
  const input = gf.tensor(range(90), [90, 1]);
  const targets = gf.tensor(range(90).map((i) => i + 10));
  const { x, y } = gf.data.timeseriesDataset(input, targets, { sequenceLength: 10 });
  expect(x.shape).toEqual([81, 10, 1]);
  expect(y?.shape).toEqual([81]);
  expect((x.reshape([81, 10]).toArray() as number[][])[0]).toEqual(range(10));
  expect(Array.from(y!.data.subarray(0, 3))).toEqual([10, 11, 12]);  // the value after each window
  expect((x.reshape([81, 10]).toArray() as number[][])[80]).toEqual(range(10).map((i) => i + 80));
  expect(y!.data[80]).toBe(90);
});

test('several features, startIndex and endIndex, and a model that trains on the windows', async () => {
  const steps = 40;
  const series = gf.tensor(range(steps).flatMap((t) => [Math.sin(t / 3), Math.cos(t / 3)]), [steps, 2]);
  const { x, y } = gf.data.timeseriesDataset(series, series, { sequenceLength: 5, startIndex: 4, endIndex: 30 });
  expect(x.shape).toEqual([22, 5, 2]);   // 30 - 4 - 4 start positions
  expect(y!.shape).toEqual([22, 2]);
  expect(Array.from(x.data.subarray(0, 2))).toEqual(Array.from(series.data.subarray(8, 10)));  // step 4
  expect(Array.from(y!.data.subarray(0, 2))).toEqual(Array.from(series.data.subarray(8, 10)));  // targets[startIndex + p]
  const m = gf.sequential([gf.layers.flatten({ inputShape: [5, 2] }), gf.layers.dense({ units: 2 })]);
  m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const h = await m.fit(x, y!, { epochs: 3, batchSize: 8, verbose: 0 });
  expect(h.history.loss.length).toBe(3);
});

test('too short a series gives no windows; bad options are typed errors', () => {
  const data = gf.tensor(range(5), [5, 1]);
  expect(gf.data.timeseriesDataset(data, null, { sequenceLength: 6 }).x.shape).toEqual([0, 6, 1]);
  expect(() => gf.data.timeseriesDataset(data, null, { sequenceLength: 0 })).toThrow(ValueError);
  expect(() => gf.data.timeseriesDataset(data, null, { sequenceLength: 2, samplingRate: 1.5 })).toThrow(/samplingRate must be an integer >= 1/);
  expect(() => gf.data.timeseriesDataset(data, null, { sequenceLength: 2, startIndex: 4, endIndex: 3 })).toThrow(/startIndex < endIndex/);
  expect(() => gf.data.timeseriesDataset(gf.scalar(1), null, { sequenceLength: 2 })).toThrow(ShapeError);
});
