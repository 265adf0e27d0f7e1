import * as gf from '../lib';
import { Tensor } from '../lib';

describe('Tensor creation', () => {
  test('from nested arrays, flat arrays and typed arrays', () => {
    const a = gf.tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const b = gf.tensor([1, 2, 3, 4], [2, 2], { dtype: 'int32' });
    expect(b.dtype).toBe('int32');
    expect(b.toArray()).toEqual([[1, 2], [3, 4]]);
    const f64 = new Float64Array([1, 2, 3]);
    const c = gf.tensor(f64);
    expect(c.dtype).toBe('float64');
    expect(c.data).toBe(f64);
    expect(gf.scalar(3).shape).toEqual([]);
    expect(gf.scalar(3).item()).toBe(3);
  });

  test('ragged or mis-sized input is rejected', () => {
    expect(() => gf.tensor([[1, 2], [3]])).toThrow(/ragged nested array at \[1\]/);
    expect(() => gf.tensor([1, 2, 3], [2, 2])).toThrow('tensor: 3 values do not fill shape [2, 2] (4 elements)');
    expect(() => new Tensor(new Float32Array(3), [2, 2])).toThrow(/data has 3 elements but shape \[2, 2\] needs 4/);
    expect(() => gf.zeros([2, -1])).toThrow(/sizes must be integers >= 0/);
    expect(() => gf.zeros([2], { dtype: 'float16' as never })).toThrow(/unknown dtype 'float16'/);
  });

  test('zeros, ones, full, arange', () => {
    expect(Array.from(gf.zeros([3]).data)).toEqual([0, 0, 0]);
    expect(Array.from(gf.ones([2], { dtype: 'int32' }).data)).toEqual([1, 1]);
    expect(Array.from(gf.full([2], 7).data)).toEqual([7, 7]);
    expect(Array.from(gf.arange(5).data)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(gf.arange(1, 2, 0.25).data)).toEqual([1, 1.25, 1.5, 1.75]);
    expect(() => gf.arange(0, 3, 0)).toThrow(/step must be finite and non-zero/);
  });

  test('seeded randomness is reproducible and has the right statistics', () => {
    const a = gf.randn([10000], { seed: 7 });
    const b = gf.randn([10000], { seed: 7 });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const mean = a.mean().item();
    const std = Math.sqrt(a.sub(mean).square().mean().item());
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(std - 1)).toBeLessThan(0.05);
    const u = gf.randUniform([10000], { minval: -2, maxval: 4, seed: 3 });
    expect(u.min().item()).toBeGreaterThanOrEqual(-2);
    expect(u.max().item()).toBeLessThan(4);
    expect(Math.abs(u.mean().item() - 1)).toBeLessThan(0.1);
    gf.setSeed(5);
    const c = gf.randn([4]);
    gf.setSeed(5);
    expect(Array.from(gf.randn([4]).data)).toEqual(Array.from(c.data));
    expect(gf.randUniform([100], { minval: 0, maxval: 5, dtype: 'int32', seed: 1 }).data.every((v) => Number.isInteger(v) && v >= 0 && v < 5)).toBe(true);
  });

  test('toString shows shape, dtype and values (elided when long)', () => {
    const s = gf.tensor([[1, 2], [3, 4]]).toString();
    expect(s).toContain('Tensor(shape=[2, 2], dtype=float32)');
    expect(s).toContain('[[1., 2.],');
    expect(gf.arange(100).toString()).toContain('...');
  });

  test('cast between dtypes', () => {
    const x = gf.tensor([1.7, -1.7]);
    expect(Array.from(x.cast('int32').data)).toEqual([1, -1]);
    expect(x.cast('float64').dtype).toBe('float64');
  });
});

describe('autograd', () => {
  test('the PyTorch-style example: w.grad is a Tensor of the right shape', () => {
    const x = gf.randn([4, 784], { seed: 2 });
    const yOneHot = gf.toCategorical([1, 3, 5, 7], 10);
    const w = gf.randn([784, 10], { requiresGrad: true, seed: 1 });
    const loss = gf.matmul(x, w).logSoftmax().mul(yOneHot).sum().neg();
    loss.backward();
    expect(w.grad).toBeInstanceOf(Tensor);
    expect(w.grad!.shape).toEqual([784, 10]);
    // each row of d(loss)/d(logits) = softmax - onehot sums to 0, so every row of w.grad does too
    const g = w.grad!.sum(1);
    for (const v of g.data) expect(Math.abs(v)).toBeLessThan(1e-3);
  });

  test('gradients accumulate until zeroGrad', () => {
    const w = gf.tensor([1, 2, 3], undefined, { requiresGrad: true });
    w.mul(2).sum().backward();
    w.mul(3).sum().backward();
    expect(Array.from(w.grad!.data)).toEqual([5, 5, 5]);
    w.zeroGrad();
    expect(w.grad).toBeNull();
  });

  test('a tensor used twice gets both contributions', () => {
    const x = gf.tensor([3], undefined, { requiresGrad: true });
    x.mul(x).add(x).sum().backward(); // d(x^2 + x) = 2x + 1
    expect(x.grad!.item()).toBe(7);
  });

  test('noGrad records nothing; detach cuts the graph', () => {
    const w = gf.ones([2], { requiresGrad: true });
    const y = gf.noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => y.sum().backward()).toThrow(/does not require a gradient/);
    const d = w.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
  });

  test('backward with a given gradient, and shape checks', () => {
    const x = gf.tensor([1, 2], undefined, { requiresGrad: true });
    const y = x.mul(3);
    y.backward(gf.tensor([1, 10]));
    expect(Array.from(x.grad!.data)).toEqual([3, 30]);
    expect(() => x.mul(3).backward()).toThrow(/implicit gradient needs a tensor of one element, got shape \[2\]/);
    expect(() => x.mul(3).backward(gf.ones([3]))).toThrow(/gradient shape \[3\] differs from tensor shape \[2\]/);
  });

  test('int32 tensors cannot require gradients', () => {
    expect(() => gf.tensor([1], undefined, { dtype: 'int32', requiresGrad: true })).toThrow(gf.DTypeError);
  });

  test('a long chain does not overflow the stack', () => {
    const x = gf.ones([1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.mul(1);
    y.sum().backward();
    expect(x.grad!.item()).toBe(1);
  });
});

describe('gradcheck itself', () => {
  test('catches a wrong gradient', () => {
    // a deliberately wrong op: forward x^2, backward claims 3x
    const wrong = (x: Tensor): Tensor => {
      const y = new Tensor(x.data.map((v) => v * v), x.shape);
      y.requiresGrad = true;
      y.gradFn = { op: 'wrong', inputs: [x], backward: (gy) => [gy.mul(x).mul(3)] };
      return y;
    };
    const r = gf.gradcheck(wrong, [gf.tensor([0.5, -1.2, 2])]);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/input 0 element 0/);
  });
});
