import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { expectGradOk, rand64, expectClose } from '../util/helpers';

describe('shape ops', () => {
  const x = gf.tensor([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]); // [2, 2, 3]

  test('reshape with -1, and its errors', () => {
    expect(x.reshape([-1, 3]).shape).toEqual([4, 3]);
    expect(x.reshape([12]).toArray()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(() => x.reshape([5, -1])).toThrow('reshape: cannot reshape [2, 2, 3] (12 elements) to [5, -1]');
    expect(() => x.reshape([-1, -1])).toThrow(/at most one -1/);
  });

  test('transpose and permute move elements like numpy', () => {
    expect(x.transpose().shape).toEqual([3, 2, 2]);
    expect(x.permute([1, 0, 2]).toArray()).toEqual([[[1, 2, 3], [7, 8, 9]], [[4, 5, 6], [10, 11, 12]]]);
    expect(x.permute([0, 2, 1]).toArray()).toEqual([[[1, 4], [2, 5], [3, 6]], [[7, 10], [8, 11], [9, 12]]]);
    expect(gf.tensor([1, 2], undefined, { dtype: 'int32' }).reshape([1, 2]).transpose().toArray()).toEqual([[1], [2]]);
    expect(() => x.permute([0, 0, 1])).toThrow(/not a permutation/);
  });

  test('slice, concat, stack, gather, expandDims, squeeze', () => {
    expect(x.slice([0, 1, 1], [2, 1, -1]).toArray()).toEqual([[[5, 6]], [[11, 12]]]);
    expect(x.slice([1, 0, 0]).shape).toEqual([1, 2, 3]);
    expect(gf.concat([x, x.mul(10)], 2).slice([0, 0, 2], [1, 1, 2]).toArray()).toEqual([[[3, 10]]]);
    expect(gf.concat([x, x], 0).shape).toEqual([4, 2, 3]);
    expect(gf.stack([gf.tensor([1, 2]), gf.tensor([3, 4])], 1).toArray()).toEqual([[1, 3], [2, 4]]);
    expect(x.gather([1, 0, 1]).slice([0, 0, 0], [3, 1, 1]).toArray()).toEqual([[[7]], [[1]], [[7]]]);
    expect(x.expandDims(1).shape).toEqual([2, 1, 2, 3]);
    expect(gf.zeros([1, 3, 1]).squeeze().shape).toEqual([3]);
    expect(gf.tensor([1, 2, 3]).broadcastTo([2, 3]).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
  });

  test('bad slices, concats and gathers throw ShapeErrors', () => {
    expect(() => x.slice([0, 0, 2], [1, 1, 2])).toThrow(/outside shape \[2, 2, 3\] at axis 2/);
    expect(() => x.slice([0, 0])).toThrow(/one entry per axis/);
    expect(() => gf.concat([x, gf.zeros([2, 3, 3])], 2)).toThrow(/differ outside axis 2/);
    expect(() => x.gather([2])).toThrow('gather: index 2 (position 0) is out of range for 2 rows of shape [2, 2, 3]');
    expect(() => gf.zeros([2, 3]).broadcastTo([3, 3])).toThrow(gf.ShapeError);
  });

  test.each([
    ['reshape', (t: Tensor) => t.reshape([3, 8]).mul(t.reshape([3, 8]))],
    ['transpose', (t: Tensor) => t.permute([2, 0, 1]).exp()],
    ['slice', (t: Tensor) => t.slice([1, 0, 1], [1, 3, 2]).square()],
    ['gather with repeats', (t: Tensor) => t.gather([1, 1, 0]).square()],
    ['expandDims/squeeze', (t: Tensor) => t.expandDims(0).squeeze([0]).tanh()],
    ['broadcastTo', (t: Tensor) => t.slice([0, 0, 0], [1, 3, 4]).broadcastTo([5, 3, 4]).square()],
  ])('%s passes gradcheck', (_n, f) => {
    expectGradOk(f, [rand64([2, 3, 4], 31)]);
  });

  test('concat and stack pass gradcheck for every input', () => {
    expectGradOk((a, b) => gf.concat([a, b, a], 1).square(), [rand64([2, 3], 1), rand64([2, 4], 2)]);
    expectGradOk((a, b) => gf.stack([a, b], 0).exp(), [rand64([2, 3], 3), rand64([2, 3], 4)]);
  });

  test('slice of a large odd box copies exactly', () => {
    const big = gf.randn([9, 17, 33], { seed: 1 });
    const s = big.slice([2, 3, 5], [4, 7, 11]);
    const ref: number[] = [];
    for (let i = 2; i < 6; i++) for (let j = 3; j < 10; j++) for (let k = 5; k < 16; k++) ref.push(big.data[(i * 17 + j) * 33 + k]);
    expectClose(s.data, ref, 0);
  });
});

describe('gather, sliceRows and gradients of gradients', () => {
  test('gather backward is itself differentiable', () => {
    const x = gf.tensor([1, 2, 3], undefined, { dtype: 'float64', requiresGrad: true });
    // d/dx sum(gather(x)^2) = 2 * count * x; then d/dx sum of that = 2 * count
    x.gather([0, 0, 1]).square().sum().backward(undefined, { createGraph: true });
    const g = x.grad!;
    expect(Array.from(g.data)).toEqual([4, 4, 0]);
    x.zeroGrad();
    g.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([4, 2, 0]);
    expect(gf.gather).toBe(gf.gatherRows);
  });

  test('gather keeps its own copy of the indices', () => {
    const idx = new Int32Array([1, 0]);
    const x = gf.tensor([[1], [2]], undefined, { requiresGrad: true });
    const y = x.gather(idx).mul(gf.tensor([[10], [1]]));
    idx[0] = 0;
    y.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([1, 10]);
  });

  test('sliceRows is a view with a gradient', () => {
    const x = gf.tensor([[1, 2], [3, 4], [5, 6]], undefined, { dtype: 'float64' });
    const v = gf.sliceRows(x, 1, 3);
    expect(v.toArray()).toEqual([[3, 4], [5, 6]]);
    expect(v.data.buffer).toBe(x.data.buffer);
    expectGradOk((t) => gf.sliceRows(t, 1, 2).square(), [rand64([3, 2], 1)]);
    expect(() => gf.sliceRows(x, 2, 4)).toThrow(/rows \[2, 4\) are outside shape \[3, 2\]/);
  });

  test('leaf gradients never share storage', () => {
    const a = gf.ones([2], { requiresGrad: true });
    const b = gf.ones([2], { requiresGrad: true });
    a.add(b).sum().backward();
    expect(a.grad!.data).not.toBe(b.grad!.data);
    a.grad!.data[0] = 5;
    expect(b.grad!.data[0]).toBe(1);
  });

  test('errors have the right class', () => {
    expect(() => gf.concat([gf.zeros([1]), gf.zeros([1], { dtype: 'int32' })])).toThrow(gf.DTypeError);
    expect(() => gf.ones([2]).clip(1, 0)).toThrow(gf.ValueError);
    expect(() => gf.zeros([1], { dtype: 'int32' }).broadcastTo([2, 1])).toThrow(gf.DTypeError);
    expect(() => gf.ones([1, 1, 1, 1, 1, 1, 1, 1, 2]).add(1)).toThrow(gf.ShapeError);
    expect(() => gf.ones([1, 1, 1, 1, 1, 1, 1, 2, 2]).transpose()).toThrow(/rank 9 .* above the supported 8/);
    expect(() => gf.ones([2]).cast('float16' as never)).toThrow(gf.DTypeError);
    expect(() => gf.scalar(1, 'float16' as never)).toThrow(gf.DTypeError);
    expect(() => gf.arange(0, 3, 1, 'foo' as never)).toThrow(gf.DTypeError);
  });
});
