import * as gf from '../../lib';
import { expectGradOk, rand64 } from '../util/helpers';

describe('reshape and zeroPadding2d layers', () => {
  test('reshape infers -1 and reports output shapes', () => {
    const l = gf.layers.reshape({ targetShape: [2, -1] });
    const y = l.apply(gf.arange(12).reshape([2, 6]));
    expect(y.shape).toEqual([2, 2, 3]);
    expect(l.computeOutputShape([null, 6])).toEqual([null, 2, 3]);
    const m = gf.sequential([gf.layers.dense({ units: 12, inputShape: [4] }), gf.layers.reshape({ targetShape: [3, 4] })]);
    expect(m.outputShape).toEqual([null, 3, 4]);
    expect(() => gf.layers.reshape({ targetShape: [5] }).apply(gf.zeros([2, 6]))).toThrow(/cannot reshape input \[2, 6\] \(6 values per sample\) to \[5\]/);
    expect(() => gf.layers.reshape({ targetShape: [-1, -1] })).toThrow(/at most one -1/);
  });

  test('zeroPadding2d pads height and width with zeros, and passes gradcheck', () => {
    const x = gf.ones([1, 2, 2, 1]);
    const y = gf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }).apply(x);
    expect(y.shape).toEqual([1, 3, 4, 1]);
    expect(y.reshape([3, 4]).toArray()).toEqual([[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]);
    expect(gf.layers.zeroPadding2d({ padding: 2 }).computeOutputShape([null, 28, 28, 3])).toEqual([null, 32, 32, 3]);
    expectGradOk((v) => gf.layers.zeroPadding2d({ padding: [1, 2] }).apply(v).square(), [rand64([2, 3, 2, 2], 3)]);
    expectGradOk((v) => gf.pad(v, [[1, 0], [0, 2]], 0.5).exp(), [rand64([2, 3], 4)]);
    expect(() => gf.layers.zeroPadding2d({ padding: -1 })).toThrow(/integers >= 0/);
    expect(() => gf.layers.zeroPadding2d().apply(gf.zeros([2, 3]))).toThrow(/expected images/);
    expect(() => gf.pad(gf.zeros([2]), [[1, 1], [1, 1]])).toThrow(/must be 1 pairs/);
  });
});
