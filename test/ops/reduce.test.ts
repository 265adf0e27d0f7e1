import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { expectGradOk, rand64, expectClose } from '../util/helpers';

/** Naive reduction over one axis of a [a, b, c] tensor. */
function naive3(x: Tensor, axis: number, f: (vals: number[]) => number): number[] {
  const [A, B, C] = x.shape;
  const at = (i: number, j: number, k: number): number => x.data[(i * B + j) * C + k];
  const out: number[] = [];
  if (axis === 0) for (let j = 0; j < B; j++) for (let k = 0; k < C; k++) out.push(f(Array.from({ length: A }, (_, i) => at(i, j, k))));
  if (axis === 1) for (let i = 0; i < A; i++) for (let k = 0; k < C; k++) out.push(f(Array.from({ length: B }, (_, j) => at(i, j, k))));
  if (axis === 2) for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) out.push(f(Array.from({ length: C }, (_, k) => at(i, j, k))));
  return out;
}
const sumOf = (v: number[]): number => v.reduce((a, b) => a + b, 0);

describe('reductions', () => {
  const x = rand64([5, 7, 3], 3);

  test.each([0, 1, 2, -1])('sum/mean/max/min over axis %d match a naive loop', (axis) => {
    const ax = axis < 0 ? axis + 3 : axis;
    expectClose(x.sum(axis).data, naive3(x, ax, sumOf), 1e-12);
    expectClose(x.mean(axis).data, naive3(x, ax, (v) => sumOf(v) / v.length), 1e-12);
    expectClose(x.max(axis).data, naive3(x, ax, (v) => Math.max(...v)), 0);
    expectClose(x.min(axis).data, naive3(x, ax, (v) => Math.min(...v)), 0);
    const am = x.argmax(axis);
    expect(am.dtype).toBe('int32');
    expect(Array.from(am.data)).toEqual(naive3(x, ax, (v) => v.indexOf(Math.max(...v))));
  });

  test('shapes with and without keepDims, several axes, all axes', () => {
    expect(x.sum().shape).toEqual([]);
    expect(x.sum([0, 2]).shape).toEqual([7]);
    expect(x.sum([0, 2], true).shape).toEqual([1, 7, 1]);
    expect(x.mean(-1, true).shape).toEqual([5, 7, 1]);
    expectClose(x.sum([0, 2]).data, x.sum(0).sum(1).data, 1e-12);
    expect(x.sum().item()).toBeCloseTo(sumOf(Array.from(x.data)), 10);
  });

  test.each([
    ['sum all', (t: Tensor) => t.sum()],
    ['sum axis 1', (t: Tensor) => t.sum(1)],
    ['sum axes [0,2] keepDims', (t: Tensor) => t.sum([0, 2], true)],
    ['mean all', (t: Tensor) => t.mean()],
    ['mean axis -1', (t: Tensor) => t.mean(-1)],
    ['max axis 1', (t: Tensor) => t.max(1)],
    ['min axis 0 keepDims', (t: Tensor) => t.min(0, true)],
    ['max all', (t: Tensor) => t.max()],
  ])('%s passes gradcheck', (_n, f) => {
    expectGradOk(f, [rand64([4, 5, 3], 9)]);
  });

  test('max shares the gradient between ties', () => {
    const t = gf.tensor([1, 3, 3], undefined, { requiresGrad: true });
    t.max().backward();
    expect(Array.from(t.grad!.data)).toEqual([0, 0.5, 0.5]);
  });

  test('bad axes throw a ShapeError naming the axis and shape', () => {
    expect(() => x.sum(3)).toThrow('sum: axis 3 is out of range for shape [5, 7, 3]');
    expect(() => gf.zeros([0, 2]).max(0)).toThrow(/max: cannot reduce an empty axis/);
  });
});
