import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { expectGradOk, rand64, expectClose } from '../util/helpers';

const unaryCases: [string, (x: Tensor) => Tensor, (v: number) => number, (x: Tensor) => Tensor][] = [
  ['neg', (x) => x.neg(), (v) => -v, (x) => x],
  ['exp', (x) => x.exp(), Math.exp, (x) => x],
  ['log', (x) => x.log(), Math.log, (x) => x.abs().add(0.5)],
  ['sqrt', (x) => x.sqrt(), Math.sqrt, (x) => x.abs().add(0.5)],
  ['abs', (x) => x.abs(), Math.abs, (x) => x],
  ['square', (x) => x.square(), (v) => v * v, (x) => x],
  ['relu', (x) => x.relu(), (v) => Math.max(v, 0), (x) => x],
  ['leakyRelu', (x) => x.leakyRelu(0.2), (v) => (v > 0 ? v : 0.2 * v), (x) => x],
  ['elu', (x) => x.elu(0.7), (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1)), (x) => x],
  ['selu', (x) => x.selu(), (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1)), (x) => x],
  ['sigmoid', (x) => x.sigmoid(), (v) => 1 / (1 + Math.exp(-v)), (x) => x],
  ['tanh', (x) => x.tanh(), Math.tanh, (x) => x],
  ['softplus', (x) => x.softplus(), (v) => Math.log1p(Math.exp(v)), (x) => x],
  ['logSigmoid', (x) => gf.logSigmoid(x), (v) => -Math.log1p(Math.exp(-v)), (x) => x],
  ['log1p', (x) => gf.log1p(x), Math.log1p, (x) => x.abs()],
  ['clip', (x) => x.clip(-0.5, 0.8), (v) => Math.min(Math.max(v, -0.5), 0.8), (x) => x],
  ['pow 3', (x) => x.pow(3), (v) => v ** 3, (x) => x],
  ['reciprocal', (x) => gf.reciprocal(x), (v) => 1 / v, (x) => x.abs().add(0.5)],
];

describe('unary ops', () => {
  test.each(unaryCases)('%s matches Math and passes gradcheck', (_name, f, ref, domain) => {
    // 37 elements: odd, not a multiple of any vector width
    const x = domain(rand64([37], 11));
    const y = f(x);
    expectClose(y.data, Array.from(x.data, ref), 1e-12, 1e-12);
    expectGradOk(f, [x]);
    const y32 = f(x.cast('float32'));
    expect(y32.dtype).toBe('float32');
    expectClose(y32.data, y.data, 1e-5, 1e-5);
  });

  test('gradcheck away from kinks keeps relu-like ops honest at both sides', () => {
    const x = gf.tensor([-2, -0.3, 0.4, 1.7], undefined, { dtype: 'float64' });
    for (const f of [(t: Tensor) => t.relu(), (t: Tensor) => t.leakyRelu(0.1), (t: Tensor) => t.elu(), (t: Tensor) => t.abs()]) {
      expectGradOk(f, [x]);
    }
  });

  test('stable at extremes: sigmoid, softplus and logSigmoid never give NaN or Inf where finite', () => {
    const x = gf.tensor([-1000, -50, 0, 50, 1000]);
    expect(Array.from(x.sigmoid().data)).toEqual([0, expect.any(Number), 0.5, expect.any(Number), 1]);
    expect(Array.from(x.softplus().data).every(Number.isFinite)).toBe(true);
    expect(x.softplus().data[4]).toBe(1000);
    expect(Array.from(gf.logSigmoid(x).data).every(Number.isFinite)).toBe(true);
  });

  test('int32 input is rejected with a clear error', () => {
    const x = gf.tensor([1, 2], undefined, { dtype: 'int32' });
    expect(() => x.exp()).toThrow(gf.DTypeError);
    expect(() => x.exp()).toThrow(/exp: needs a float tensor, got int32 of shape \[2\]/);
  });

  test('clip with min > max is rejected', () => {
    expect(() => gf.ones([2]).clip(1, 0)).toThrow(/clip: need min <= max/);
  });
});

function naiveBroadcast(a: Tensor, b: Tensor, f: (p: number, q: number) => number, shape: number[]): number[] {
  const out: number[] = [];
  const size = shape.reduce((n, d) => n * d, 1);
  const idxOf = (t: Tensor, flat: number): number => {
    let rem = flat;
    const coords = new Array(shape.length);
    for (let i = shape.length - 1; i >= 0; i--) { coords[i] = rem % shape[i]; rem = Math.floor(rem / shape[i]); }
    let off = 0;
    let stride = 1;
    for (let i = t.rank - 1; i >= 0; i--) {
      const c = coords[i + shape.length - t.rank];
      off += (t.shape[i] === 1 ? 0 : c) * stride;
      stride *= t.shape[i];
    }
    return off;
  };
  for (let i = 0; i < size; i++) out.push(f(a.data[idxOf(a, i)], b.data[idxOf(b, i)]));
  return out;
}

const binaryCases: [string, (a: Tensor, b: Tensor) => Tensor, (p: number, q: number) => number][] = [
  ['add', (a, b) => a.add(b), (p, q) => p + q],
  ['sub', (a, b) => a.sub(b), (p, q) => p - q],
  ['mul', (a, b) => a.mul(b), (p, q) => p * q],
  ['div', (a, b) => a.div(b), (p, q) => p / q],
  ['maximum', (a, b) => a.maximum(b), Math.max],
  ['minimum', (a, b) => a.minimum(b), Math.min],
];
const shapes: [number[], number[]][] = [
  [[3, 5], [3, 5]],
  [[3, 5], [5]],
  [[3, 1], [1, 5]],
  [[2, 3, 4], [3, 1]],
  [[1], [2, 3]],
  [[], [4, 3]],
  [[7, 1, 3], [1, 5, 1]],
];

describe('binary ops with broadcasting', () => {
  for (const [name, f, ref] of binaryCases) {
    test.each(shapes)(`${name} %j with %j: values and gradcheck`, (sa, sb) => {
      const a = rand64(sa, 1);
      // keep divisors away from zero and max/min inputs apart so the derivative is defined
      const b = name === 'div' ? rand64(sb, 2).abs().add(0.5) : rand64(sb, 2).add(0.05);
      const y = f(a, b);
      expectClose(y.data, naiveBroadcast(a, b, ref, [...y.shape]), 1e-12, 1e-12);
      expectGradOk(f, [a, b]);
    });
  }

  test('pow with tensor exponent passes gradcheck for positive bases', () => {
    const a = rand64([3, 4], 5).abs().add(0.5);
    const b = rand64([4], 6);
    expectGradOk((p, q) => gf.pow(p, q), [a, b]);
  });

  test('numbers broadcast as scalars of the tensor dtype', () => {
    const x = gf.tensor([1, 2, 3], undefined, { dtype: 'float64' });
    expect(Array.from(x.add(1).data)).toEqual([2, 3, 4]);
    expect(x.mul(2).dtype).toBe('float64');
    expect(Array.from(gf.sub(10, x).data)).toEqual([9, 8, 7]);
  });

  test('comparisons give 1/0', () => {
    const a = gf.tensor([1, 2, 3]);
    expect(Array.from(a.greater(2).data)).toEqual([0, 0, 1]);
    expect(Array.from(a.less(2).data)).toEqual([1, 0, 0]);
    expect(Array.from(a.equal(gf.tensor([1, 0, 3])).data)).toEqual([1, 0, 1]);
  });

  test('incompatible shapes throw a ShapeError naming both shapes', () => {
    expect(() => gf.ones([3, 4]).add(gf.ones([5]))).toThrow(gf.ShapeError);
    expect(() => gf.ones([3, 4]).add(gf.ones([5]))).toThrow('add: shapes [3, 4] and [5] cannot be broadcast together');
  });

  test('mixed float32/float64 throws a DTypeError', () => {
    expect(() => gf.ones([2]).add(gf.ones([2], { dtype: 'float64' }))).toThrow(/add: dtypes differ: float32 \[2\] and float64 \[2\]/);
  });
});
