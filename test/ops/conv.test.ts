import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { expectGradOk, rand64, expectClose } from '../util/helpers';

/** Naive NHWC conv2d with TF 'same'/'valid' padding, strides and dilation. */
function naiveConv(x: Tensor, w: Tensor, s: [number, number], d: [number, number], padding: 'same' | 'valid'): { data: number[]; shape: number[] } {
  const [N, H, W, C] = x.shape;
  const [KH, KW, , O] = w.shape;
  const axis = (n: number, k: number, st: number, di: number): [number, number] => {
    const span = (k - 1) * di + 1;
    if (padding === 'valid') return [Math.floor((n - span) / st) + 1, 0];
    const out = Math.ceil(n / st);
    return [out, Math.floor(Math.max((out - 1) * st + span - n, 0) / 2)];
  };
  const [OH, pt] = axis(H, KH, s[0], d[0]);
  const [OW, pl] = axis(W, KW, s[1], d[1]);
  const out: number[] = [];
  for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let o = 0; o < O; o++) {
    let acc = 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * s[0] - pt + kh * d[0];
      const iw = ow * s[1] - pl + kw * d[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      for (let c = 0; c < C; c++) acc += x.data[((n * H + ih) * W + iw) * C + c] * w.data[((kh * KW + kw) * C + c) * O + o];
    }
    out.push(acc);
  }
  return { data: out, shape: [N, OH, OW, O] };
}

const cases: [string, number[], number[], [number, number], [number, number], 'same' | 'valid'][] = [
  ['3x3 valid', [2, 7, 6, 3], [3, 3, 3, 4], [1, 1], [1, 1], 'valid'],
  ['3x3 same', [1, 5, 7, 2], [3, 3, 2, 3], [1, 1], [1, 1], 'same'],
  ['2x3 stride 2 same (asymmetric pad)', [2, 7, 8, 1], [2, 3, 1, 5], [2, 2], [1, 1], 'same'],
  ['stride [3, 1] valid', [1, 9, 5, 2], [3, 2, 2, 2], [3, 1], [1, 1], 'valid'],
  ['dilation 2 same', [1, 7, 7, 2], [3, 3, 2, 2], [1, 1], [2, 2], 'same'],
  ['1x1', [3, 4, 5, 3], [1, 1, 3, 2], [1, 1], [1, 1], 'valid'],
];

describe('conv2d', () => {
  test.each(cases)('%s matches a naive convolution and passes gradcheck', (_n, xs, ws, strides, dil, padding) => {
    const x = rand64(xs, 1);
    const w = rand64(ws, 2);
    const y = gf.conv2d(x, w, { strides, dilationRate: dil, padding });
    const ref = naiveConv(x, w, strides, dil, padding);
    expect(y.shape).toEqual(ref.shape);
    expectClose(y.data, ref.data, 1e-10, 1e-10);
    const y32 = gf.conv2d(x.cast('float32'), w.cast('float32'), { strides, dilationRate: dil, padding });
    expectClose(y32.data, ref.data, 1e-4, 1e-4);
    expectGradOk((a, b) => gf.conv2d(a, b, { strides, dilationRate: dil, padding }), [x, w]);
  });

  test('conv2dTranspose is the adjoint of conv2d and passes gradcheck', () => {
    for (const [padding, strides] of [['same', [2, 2]], ['valid', [2, 1]], ['valid', [1, 1]]] as ['same' | 'valid', [number, number]][]) {
      const z = rand64([2, 3, 4, 3], 5);        // transpose input: [n, h, w, in=3]
      const k = rand64([3, 2, 4, 3], 6);        // [kh, kw, out=4, in=3]
      const up = gf.conv2dTranspose(z, k, { strides, padding });
      // <convT(z), u> == <z, conv(u)> for any u of the output's shape
      const u = rand64([...up.shape], 7);
      const lhs = up.mul(u).sum().item();
      const rhs = z.mul(gf.conv2d(u, k, { strides, padding })).sum().item();
      expect(lhs).toBeCloseTo(rhs, 9);
      expectGradOk((a, b) => gf.conv2dTranspose(a, b, { strides, padding }), [z, k]);
    }
    expect(gf.conv2dTranspose(gf.zeros([1, 7, 7, 8]), gf.zeros([4, 4, 2, 8]), { strides: 2, padding: 'same' }).shape).toEqual([1, 14, 14, 2]);
    expect(gf.conv2dTranspose(gf.zeros([1, 3, 3, 1]), gf.zeros([3, 3, 1, 1]), { strides: 2, outputPadding: 1 }).shape).toEqual([1, 8, 8, 1]);
  });

  test('gradients of gradients through a convolution', () => {
    const w = rand64([3, 3, 2, 2], 8);
    expectGradOk((x) => gf.enableGrad(() => {
      const outer = x.grad;
      x.zeroGrad();
      gf.conv2d(x, w, { padding: 'same' }).tanh().sum().backward(undefined, { createGraph: true });
      const g = x.grad!;
      x.grad = outer;
      return g.square().sum();
    }), [rand64([1, 4, 4, 2], 9)], { atol: 1e-5, rtol: 1e-3 });
  });

  test('bad input is a clear error', () => {
    const x = gf.zeros([1, 5, 5, 3]);
    expect(() => gf.conv2d(x, gf.zeros([3, 3, 2, 4]))).toThrow('conv2d: input has 3 channels but kernel [3, 3, 2, 4] expects 2');
    expect(() => gf.conv2d(gf.zeros([5, 5, 3]), gf.zeros([3, 3, 3, 4]))).toThrow(/input must be NHWC/);
    expect(() => gf.conv2d(x, gf.zeros([7, 7, 3, 1]))).toThrow(/kernel 7x7 does not fit the 5x5 input with padding 'valid'/);
    expect(() => gf.conv2d(x, gf.zeros([3, 3, 3, 1]), { strides: 0 })).toThrow(/strides must be integers >= 1, got 0/);
    expect(() => gf.conv2d(x, gf.zeros([3, 3, 3, 1]), { padding: 'full' as never })).toThrow(/padding must be 'valid' or 'same'/);
    expect(() => gf.conv2d(x, gf.zeros([3, 3, 3, 1], { dtype: 'float64' }))).toThrow(gf.DTypeError);
    expect(() => gf.conv2dTranspose(gf.zeros([1, 3, 3, 1]), gf.zeros([3, 3, 1, 1]), { strides: 2, padding: 'same', outputPadding: 1 })).toThrow(/outputPadding is supported with padding 'valid' only/);
  });
});

describe('pooling and upsampling', () => {
  test('maxPool2d and avgPool2d match naive windows, valid and same', () => {
    const x = rand64([2, 5, 7, 3], 11);
    const [N, H, W, C] = x.shape;
    for (const padding of ['valid', 'same'] as const) {
      const mp = gf.maxPool2d(x, { poolSize: [2, 3], strides: [2, 2], padding });
      const ap = gf.avgPool2d(x, { poolSize: [2, 3], strides: [2, 2], padding });
      const OH = padding === 'valid' ? 2 : 3;
      const OW = padding === 'valid' ? 3 : 4;
      expect(mp.shape).toEqual([N, OH, OW, C]);
      const pt = padding === 'valid' ? 0 : Math.floor(Math.max((OH - 1) * 2 + 2 - H, 0) / 2);
      const pl = padding === 'valid' ? 0 : Math.floor(Math.max((OW - 1) * 2 + 3 - W, 0) / 2);
      const refMax: number[] = [];
      const refAvg: number[] = [];
      for (let n = 0; n < N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let c = 0; c < C; c++) {
        let m = -Infinity;
        let s = 0;
        let cnt = 0;
        for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
          const ih = oh * 2 - pt + i;
          const iw = ow * 2 - pl + j;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          const v = x.data[((n * H + ih) * W + iw) * C + c];
          m = Math.max(m, v);
          s += v;
          cnt++;
        }
        refMax.push(m);
        refAvg.push(s / cnt);
      }
      expectClose(mp.data, refMax, 0);
      expectClose(ap.data, refAvg, 1e-12);
      // without gradients the kernel skips the argmax (float32 has an AVX-512 version): same values
      for (const t of [x, x.cast('float32')]) {
        const inference = gf.noGrad(() => gf.maxPool2d(t, { poolSize: [2, 3], strides: [2, 2], padding }));
        const recorded = gf.maxPool2d(t.clone().setRequiresGrad(true), { poolSize: [2, 3], strides: [2, 2], padding });
        expect(recorded.gradFn).not.toBeNull();
        expect(Array.from(inference.data)).toEqual(Array.from(recorded.data));
      }
      expectGradOk((t) => gf.maxPool2d(t, { poolSize: [2, 3], strides: [2, 2], padding }), [x]);
      expectGradOk((t) => gf.avgPool2d(t, { poolSize: [2, 3], strides: [2, 2], padding }), [x]);
    }
  });

  test('global pooling and upsampling: values and gradcheck', () => {
    const x = rand64([2, 3, 4, 5], 12);
    const ga = gf.globalAvgPool2d(x);
    expect(ga.shape).toEqual([2, 5]);
    expectClose(ga.data, x.mean([1, 2]).data, 1e-12);
    expectClose(gf.globalMaxPool2d(x).data, x.max([1, 2]).data, 0);
    expectGradOk((t) => gf.globalAvgPool2d(t), [x]);
    expectGradOk((t) => gf.globalMaxPool2d(t), [x]);
    const small = gf.tensor([[[[1], [2]], [[3], [4]]]]); // [1, 2, 2, 1]
    expect(gf.upSampling2d(small, { size: 2 }).reshape([4, 4]).toArray()).toEqual([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]);
    // Keras bilinear (half-pixel centres): row 0 of a 2x upsampled [1, 2] is 1, 1.25, 1.75, 2
    expectClose(gf.upSampling2d(gf.tensor([[[[1], [2]]]]), { size: [1, 2], interpolation: 'bilinear' }).data, [1, 1.25, 1.75, 2], 1e-6);
    for (const interpolation of ['nearest', 'bilinear', 'bilinearLegacy'] as const) {
      expectGradOk((t) => gf.upSampling2d(t, { size: [2, 3], interpolation }), [rand64([1, 3, 2, 2], 13)]);
    }
  });

  test('second-order gradients through pooling and upsampling', () => {
    const check = (f: (t: Tensor) => Tensor): void => expectGradOk((x) => gf.enableGrad(() => {
      const outer = x.grad;
      x.zeroGrad();
      f(x).tanh().sum().backward(undefined, { createGraph: true });
      const g = x.grad!;
      x.grad = outer;
      return g.square().sum();
    }), [rand64([1, 4, 4, 2], 14)], { atol: 1e-5, rtol: 1e-3 });
    check((t) => gf.avgPool2d(t, { poolSize: 2 }));
    check((t) => gf.maxPool2d(t, { poolSize: 2 }));
    check((t) => gf.upSampling2d(t, { size: 2, interpolation: 'bilinear' }));
  });

  test('bad pool sizes are clear errors', () => {
    expect(() => gf.maxPool2d(gf.zeros([1, 3, 3, 1]), { poolSize: 4 })).toThrow(/pool size 4x4 does not fit the 3x3 input/);
    expect(() => gf.maxPool2d(gf.zeros([3, 3, 1]))).toThrow(/input must be NHWC/);
    expect(() => gf.avgPool2d(gf.zeros([1, 4, 4, 1]), { strides: -1 })).toThrow(/strides must be integers >= 1/);
    expect(() => gf.upSampling2d(gf.zeros([1, 2, 2, 1]), { interpolation: 'cubic' as never })).toThrow(/interpolation must be/);
  });
});

describe('batchNorm', () => {
  test('training normalizes with batch statistics and updates the moving averages (Keras 3)', () => {
    const x = rand64([4, 3, 2, 5], 21).mul(3).add(2);
    const mm = gf.zeros([5], { dtype: 'float64' });
    const mv = gf.ones([5], { dtype: 'float64' });
    const y = gf.batchNorm(x, { movingMean: mm, movingVar: mv, training: true, momentum: 0.9, epsilon: 1e-3 });
    const mean = x.mean([0, 1, 2]);
    const variance = x.sub(mean).square().mean([0, 1, 2]);
    const ref = x.sub(mean).div(variance.add(1e-3).sqrt());
    expectClose(y.data, ref.data, 1e-10);
    expectClose(mm.data, mean.mul(0.1).data, 1e-12);
    expectClose(mv.data, variance.mul(0.1).add(0.9).data, 1e-12);
    // inference uses the moving statistics
    const yi = gf.batchNorm(x, { movingMean: mm, movingVar: mv, training: false, epsilon: 1e-3 });
    expectClose(yi.data, x.sub(mm).div(mv.add(1e-3).sqrt()).data, 1e-10);
  });

  test('gradcheck in training and inference, with gamma and beta', () => {
    const gamma = rand64([3], 22);
    const beta = rand64([3], 23);
    const stats = (): { movingMean: Tensor; movingVar: Tensor } => ({ movingMean: gf.zeros([3], { dtype: 'float64' }), movingVar: gf.ones([3], { dtype: 'float64' }).mul(2) });
    expectGradOk((x, g, b) => gf.batchNorm(x, { gamma: g, beta: b, ...stats(), training: true }), [rand64([5, 2, 3], 24), gamma, beta]);
    expectGradOk((x, g, b) => gf.batchNorm(x, { gamma: g, beta: b, ...stats(), training: false }), [rand64([5, 3], 25), gamma, beta]);
    expectGradOk((x) => gf.batchNorm(x, { ...stats(), training: true }), [rand64([6, 3], 26)]);
  });

  test('bad arguments', () => {
    const x = gf.zeros([2, 3]);
    expect(() => gf.batchNorm(x, { movingMean: gf.zeros([4]), movingVar: gf.ones([3]) })).toThrow(/movingMean must have shape \[3\]/);
    expect(() => gf.batchNorm(x, { movingMean: gf.zeros([3]), movingVar: gf.ones([3]), momentum: 2 })).toThrow(/momentum must be in \[0, 1\]/);
  });
});

describe('conv2d with a fused bias', () => {
  test('equals conv2d + bias and passes gradcheck, first and second order', () => {
    const x = rand64([2, 5, 4, 3], 31);
    const w = rand64([3, 2, 3, 4], 32);
    const b = rand64([4], 33);
    const fused = gf.conv2d(x, w, { padding: 'same', bias: b });
    expectClose(fused.data, gf.conv2d(x, w, { padding: 'same' }).add(b).data, 1e-12);
    expectGradOk((p, q, r) => gf.conv2d(p, q, { padding: 'same', strides: 2, bias: r }), [x, w, b]);
    expectGradOk((p, q, r) => gf.conv2dTranspose(p, q, { strides: 2, bias: r }), [rand64([1, 2, 3, 3], 34), rand64([2, 2, 4, 3], 35), rand64([4], 36)]);
    expectGradOk((r) => gf.enableGrad(() => {
      const outer = r.grad;
      r.zeroGrad();
      gf.conv2d(x, w, { bias: r }).tanh().sum().backward(undefined, { createGraph: true });
      const g = r.grad!;
      r.grad = outer;
      return g.square().sum();
    }), [b], { atol: 1e-5, rtol: 1e-3 });
    expect(() => gf.conv2d(x, w, { bias: gf.zeros([3], { dtype: 'float64' }) })).toThrow('conv2d: bias must have shape [4] (one per output channel), got [3]');
  });
});

describe('conv2d with relu fused into the kernel', () => {
  test('equals relu(conv2d + bias) and passes gradcheck, first and second order', () => {
    const x = rand64([2, 5, 4, 3], 41);
    const w = rand64([3, 2, 3, 4], 42);
    const b = rand64([4], 43);
    for (const bias of [b, undefined]) {
      const fused = gf.conv2d(x, w, { padding: 'same', bias, activation: 'relu' });
      const plain = gf.conv2d(x, w, { padding: 'same', bias });
      expectClose(fused.data, gf.relu(plain).data, 1e-12);
      expect(Array.from(fused.data).filter((v) => v === 0).length).toBeGreaterThan(5);
      const f32 = gf.conv2d(x.cast('float32'), w.cast('float32'), { padding: 'same', bias: bias?.cast('float32'), activation: 'relu' });
      expectClose(f32.data, fused.data, 1e-5, 1e-5);
    }
    expectGradOk((p, q, r) => gf.conv2d(p, q, { padding: 'same', strides: 2, bias: r, activation: 'relu' }), [x, w, b]);
    expectGradOk((p, q) => gf.conv2d(p, q, { activation: 'relu' }), [x, w]);
    expectGradOk((p, q, r) => gf.conv2dTranspose(p, q, { strides: 2, bias: r, activation: 'relu' }),
      [rand64([1, 2, 3, 3], 44), rand64([2, 2, 4, 3], 45), rand64([4], 46)]);
    expectGradOk((p) => gf.enableGrad(() => {
      const outer = p.grad;
      p.zeroGrad();
      gf.conv2d(p, w, { bias: b, activation: 'relu' }).tanh().sum().backward(undefined, { createGraph: true });
      const g = p.grad!;
      p.grad = outer;
      return g.square().sum();
    }), [x], { atol: 1e-5, rtol: 1e-3 });
    expect(() => gf.conv2d(x, w, { activation: 'tanh' as 'relu' })).toThrow(`conv2d: activation must be 'linear' or 'relu' (applied inside the kernel), got "tanh"`);
  });

  test('a Conv2D layer with relu gives relu(conv + bias)', () => {
    const layer = gf.layers.conv2d({ filters: 5, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 2] });
    const x = gf.randn([2, 6, 6, 2], { seed: 5 });
    const y = layer.apply(x);
    const [k, bias] = layer.getWeights();
    expectClose(y.data, gf.relu(gf.conv2d(x, k, { bias })).data, 1e-6, 1e-6);
  });
});

describe('relu folded into the max-pool backward', () => {
  // conv(relu) -> maxPool: the pool masks its (4x smaller) gradient and the conv skips its own
  // mask pass. Gradients must equal those of the unfused ops exactly, also when the conv output
  // has a second consumer (then the two gradients add and the conv masks as usual).
  const x = rand64([2, 8, 6, 3], 51);
  const w = rand64([3, 3, 3, 4], 52);
  const b = rand64([4], 53);
  const r = rand64([2, 3, 2, 4], 54);
  const q = rand64([2, 6, 4, 4], 55);
  const grads = (fused: boolean, second: boolean): number[][] => {
    const [xv, wv, bv] = [x, w, b].map((t) => {
      const c = t.clone();
      c.requiresGrad = true;
      return c;
    });
    const y = fused ? gf.conv2d(xv, wv, { bias: bv, activation: 'relu' }) : gf.relu(gf.conv2d(xv, wv, { bias: bv }));
    let loss = gf.sum(gf.mul(gf.maxPool2d(y, { poolSize: 2 }), r));
    if (second) loss = gf.add(loss, gf.sum(gf.mul(y, q)));
    loss.backward();
    return [xv, wv, bv].map((t) => Array.from(t.grad!.data));
  };
  test.each([[false], [true]])('second consumer of the conv output: %s', (second) => {
    expect(grads(true, second)).toEqual(grads(false, second));
  });
  test('passes gradcheck', () => {
    expectGradOk((p, k, c) => gf.maxPool2d(gf.conv2d(p, k, { bias: c, activation: 'relu' }), { poolSize: 2, padding: 'same' }), [x, w, b]);
  });
});
