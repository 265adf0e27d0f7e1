import * as gf from '../../lib';

describe('mnistDigits', () => {
  test('8,000/2,000 real digits, fixed split, pixels in [0, 1], every class present', () => {
    const { xTrain, yTrain, xTest, yTest } = gf.datasets.mnistDigits();
    expect(xTrain.shape).toEqual([8000, 784]);
    expect(yTrain.shape).toEqual([8000]);
    expect(xTest.shape).toEqual([2000, 784]);
    expect(yTest.dtype).toBe('int32');
    expect(xTrain.min().item()).toBeGreaterThanOrEqual(0);
    expect(xTrain.max().item()).toBeLessThanOrEqual(1);
    const counts = new Array(10).fill(0);
    for (const v of yTest.data) counts[v]++;
    expect(counts.every((c) => c > 120)).toBe(true);
    // the split is the same every call
    const again = gf.datasets.mnistDigits();
    expect(Array.from(again.yTest.data.subarray(0, 50))).toEqual(Array.from(yTest.data.subarray(0, 50)));
    expect(gf.datasets.mnistDigits({ flatten: false }).xTrain.shape).toEqual([8000, 28, 28, 1]);
  });
});

describe('toCategorical', () => {
  test('one-hot rows', () => {
    expect(gf.toCategorical([0, 2, 1], 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1], [0, 1, 0]]);
    expect(gf.toCategorical(gf.tensor([1, 0], undefined, { dtype: 'int32' })).shape).toEqual([2, 2]);
  });
  test('labels out of range or not integers are rejected', () => {
    expect(() => gf.toCategorical([0, 3], 3)).toThrow('toCategorical: label 3 at position 1 is out of range for 3 classes');
    expect(() => gf.toCategorical([0, -1], 3)).toThrow(/label -1 at position 1 is not an integer >= 0/);
    expect(() => gf.toCategorical([0.5], 3)).toThrow(/not an integer/);
  });
});

describe('StandardScaler', () => {
  test('transform gives zero mean and unit variance; inverseTransform undoes it', () => {
    const x = gf.randn([500, 3], { seed: 2, mean: 5, stddev: 3 });
    const s = new gf.data.StandardScaler();
    const z = s.fitTransform(x);
    const m = z.mean(0);
    const v = z.square().mean(0);
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(m.data[j])).toBeLessThan(1e-5);
      expect(v.data[j]).toBeCloseTo(1, 4);
    }
    const back = s.inverseTransform(z);
    for (let i = 0; i < x.size; i++) expect(back.data[i]).toBeCloseTo(x.data[i], 4);
    const constant = new gf.data.StandardScaler().fit(gf.ones([4, 2]));
    expect(Array.from(constant.transform(gf.ones([1, 2])).data)).toEqual([0, 0]);
    expect(() => s.transform(gf.zeros([2, 4]))).toThrow(/does not have the 3 features/);
    expect(() => new gf.data.StandardScaler().transform(x)).toThrow(/call fit first/);
  });
});

describe('trainTestSplit', () => {
  test('sizes, seeded reproducibility, rows kept together, stratification', () => {
    const x = gf.arange(100).reshape([100, 1]);
    const y = gf.tensor(Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : 1)), undefined, { dtype: 'int32' });
    const a = gf.data.trainTestSplit(x, y, { testSize: 0.2, seed: 1 });
    const b = gf.data.trainTestSplit(x, y, { testSize: 0.2, seed: 1 });
    expect(a.xTest.shape).toEqual([20, 1]);
    expect(a.xTrain.shape).toEqual([80, 1]);
    expect(Array.from(a.xTest.data)).toEqual(Array.from(b.xTest.data));
    for (let i = 0; i < 20; i++) expect(a.yTest.data[i]).toBe(a.xTest.data[i] < 80 ? 0 : 1);
    const all = new Set([...a.xTrain.data, ...a.xTest.data]);
    expect(all.size).toBe(100);
    const s = gf.data.trainTestSplit(x, y, { testSize: 0.2, seed: 3, stratify: y });
    expect(Array.from(s.yTest.data).filter((v) => v === 1).length).toBe(4);
    expect(() => gf.data.trainTestSplit(x, y, { testSize: 1.5 })).toThrow(/testSize/);
    expect(() => gf.data.trainTestSplit(x, gf.zeros([3]))).toThrow(gf.ShapeError);
  });

  test('batchIndices covers every sample once', () => {
    const b = gf.data.batchIndices(10, 4, { shuffle: true, seed: 2 });
    expect(b.map((i) => i.length)).toEqual([4, 4, 2]);
    expect(new Set(b.flatMap((i) => Array.from(i))).size).toBe(10);
  });
});
