// The convolutional-network exports (native/binding/cnn.cc: conv2d and its gradients, the fused
// conv + max pool, 2-D / global / up-sampling pooling, batch normalization) on device storage
// (their CUDA dispatch, native/binding/device_cnn.cc, over native/cuda/conv.h, pool.h and
// batchnorm.h): the same call on typed arrays (the CPU kernels) and on device handles must
// agree, within float32 tolerances where the kernels sum in other orders, bit for bit for max
// pooling, argmax and nearest up-sampling. Device outputs are prefilled with NaN so that
// anything left unwritten shows. The addon is the one GRADFORGE_ADDON names (npm run test:cuda:
// the emulated CUDA build, whose kernels run over the host emulation, so sizes are tiny and
// odd); without it, or without a usable device, the tests are skipped. Also: the fused conv +
// pool is conv then pool on the device too; a device argmax is not range-checked but its
// out-of-image entries are skipped; a call mixing device and CPU arrays, a disposed handle and
// float64 device storage are TypeErrors.
import type { Binding, Conv2dGeometry, CudaHandle, Pool2dGeometry, UpsampleMode } from '../binding';
import { addon as loaded, deviceArrays, hasDevice, rng, expectError, close } from './util/cuda-addon';

const addon = loaded;
const ok = hasDevice;
const d = ok ? describe : describe.skip;

/** Bit for bit (NaN equals NaN, -0 is not 0). */
function exact(what: string, got: Float32Array | Int32Array, want: Float32Array | Int32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${what}[${i}]: device ${got[i]}, CPU ${want[i]} (exact)`);
  }
}

/** A forward conv2d's geometry; OH, OW from the pads before and after. */
function convGeom(o: {
  N: number; H: number; W: number; C: number; KH: number; KW: number; O: number;
  sh?: number; sw?: number; dh?: number; dw?: number; pt?: number; pl?: number; pb?: number; pr?: number;
}): Conv2dGeometry {
  const sh = o.sh ?? 1, sw = o.sw ?? 1, dh = o.dh ?? 1, dw = o.dw ?? 1;
  const pt = o.pt ?? 0, pl = o.pl ?? 0, pb = o.pb ?? 0, pr = o.pr ?? 0;
  const OH = Math.floor((o.H + pt + pb - ((o.KH - 1) * dh + 1)) / sh) + 1;
  const OW = Math.floor((o.W + pl + pr - ((o.KW - 1) * dw + 1)) / sw) + 1;
  return { N: o.N, H: o.H, W: o.W, C: o.C, KH: o.KH, KW: o.KW, O: o.O, OH, OW,
    strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl };
}

/** A pooling's geometry with explicit output sizes (a window may cover no input at all). */
function poolGeom(N: number, H: number, W: number, C: number, KH: number, KW: number, sh: number, sw: number,
  pt: number, pl: number, OH: number, OW: number): Pool2dGeometry {
  return { N, H, W, C, KH, KW, OH, OW, strideH: sh, strideW: sw, padTop: pt, padLeft: pl };
}

const convSizes = (g: Conv2dGeometry) => ({
  x: g.N * g.H * g.W * g.C, w: g.KH * g.KW * g.C * g.O, y: g.N * g.OH * g.OW * g.O,
});
const poolSizes = (g: Pool2dGeometry) => ({ x: g.N * g.H * g.W * g.C, y: g.N * g.OH * g.OW * g.C });

d('convolutional exports on CUDA device storage agree with the CPU kernels', () => {
  // (a skipped describe still runs this body: nothing here may touch the addon before a test)
  const b = addon as Binding;
  const cuda = (addon?.cuda ?? null) as NonNullable<Binding['cuda']>;
  /** The exports with handles for arrays (binding.d.ts types them as typed arrays). */
  const raw = b as unknown as Record<string, (...args: unknown[]) => unknown>;
  const { up, nanOut, down, downIndex } = deviceArrays();
  const opt = (a: Float32Array | null): CudaHandle | null => (a === null ? null : up(a));
  /** An int32 device output prefilled with a value no kernel writes. */
  const junkIndex = (n: number): CudaHandle => up(new Int32Array(n).fill(-12345));
  const rand = (r: (s?: number) => number, n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => r(s));

  // ---- convolution -------------------------------------------------------------------------

  const convCases: { name: string; g: Conv2dGeometry; bias: boolean; act: 'linear' | 'relu' | undefined }[] = [
    { name: '3x2 window, stride 2x1, dilation 1x2, pads 1/1 before, 1/0 after, bias, relu',
      g: convGeom({ N: 2, H: 5, W: 7, C: 3, KH: 3, KW: 2, O: 4, sh: 2, sw: 1, dh: 1, dw: 2, pt: 1, pl: 1, pb: 1, pr: 0 }),
      bias: true, act: 'relu' },
    { name: '3x3 window, stride 2, dilation 2, pads 2 (same-like), no bias, activation omitted',
      g: convGeom({ N: 2, H: 5, W: 7, C: 3, KH: 3, KW: 3, O: 4, sh: 2, sw: 2, dh: 2, dw: 2, pt: 2, pl: 2, pb: 2, pr: 1 }),
      bias: false, act: undefined },
    { name: '1x1 pointwise (no im2col), bias, linear',
      g: convGeom({ N: 2, H: 3, W: 5, C: 3, KH: 1, KW: 1, O: 5 }), bias: true, act: 'linear' },
    { name: '2x3 window, stride 3x2, valid, no bias, relu',
      g: convGeom({ N: 1, H: 7, W: 6, C: 2, KH: 2, KW: 3, O: 3, sh: 3, sw: 2 }), bias: false, act: 'relu' },
  ];

  convCases.forEach(({ name, g, bias, act }, k) => {
    test(`conv2dForward, conv2dBackwardInput, conv2dBackwardFilter: ${name}`, () => {
      const r = rng(100 + k);
      const n = convSizes(g);
      const x = rand(r, n.x), w = rand(r, n.w, 0.7), bs = bias ? rand(r, g.O, 0.5) : null, dy = rand(r, n.y);
      const X = up(x), Wd = up(w), B = opt(bs), DY = up(dy);

      const y = new Float32Array(n.y);
      const Y = nanOut(n.y);
      if (act === undefined) {
        b.conv2dForward(g, x, w, bs, y);
        raw.conv2dForward(g, X, Wd, B, Y);
      } else {
        b.conv2dForward(g, x, w, bs, y, act);
        raw.conv2dForward(g, X, Wd, B, Y, act);
      }
      close('y', down(Y, n.y), y);

      const dx = new Float32Array(n.x);
      b.conv2dBackwardInput(g, dy, w, dx);
      const DX = nanOut(n.x);
      raw.conv2dBackwardInput(g, DY, Wd, DX);
      close('dx', down(DX, n.x), dx);

      // with and without the bias gradient
      for (const withDbias of [true, false]) {
        const dw = new Float32Array(n.w), dbias = withDbias ? new Float32Array(g.O) : null;
        b.conv2dBackwardFilter(g, x, dy, dw, dbias);
        const DW = nanOut(n.w), DB = withDbias ? nanOut(g.O) : null;
        raw.conv2dBackwardFilter(g, X, DY, DW, DB);
        close('dw', down(DW, n.w), dw);
        if (withDbias) close('dbias', down(DB!, g.O), dbias!);
      }
    });
  });

  test('conv2dBackwardFilter with N = 0 zeroes dw and dbias on the device as on the CPU; N = 0 forward writes nothing', () => {
    const g = convGeom({ N: 0, H: 4, W: 5, C: 2, KH: 2, KW: 3, O: 3, sh: 2 });
    const n = convSizes(g);
    const dw = new Float32Array(n.w).fill(7), dbias = new Float32Array(g.O).fill(7);
    b.conv2dBackwardFilter(g, new Float32Array(0), new Float32Array(0), dw, dbias);
    const DW = nanOut(n.w), DB = nanOut(g.O), E = up(new Float32Array(0));
    raw.conv2dBackwardFilter(g, E, E, DW, DB);
    exact('dw', down(DW, n.w), dw);
    exact('dbias', down(DB, g.O), dbias);
    expect(Array.from(dw).every((v) => v === 0)).toBe(true);
    const Y = nanOut(3);
    raw.conv2dForward(g, E, up(new Float32Array(n.w)), null, Y);
    expect(Array.from(down(Y, 3)).every(Number.isNaN)).toBe(true);
  });

  test('conv2dMaxPool2dForward: the CPU fused kernel, and on the device the bits of conv then max pool', () => {
    const g = convGeom({ N: 2, H: 6, W: 7, C: 3, KH: 3, KW: 2, O: 4, sh: 1, sw: 1, dh: 1, dw: 2, pt: 1, pl: 1, pb: 1, pr: 1 });
    // pool over the conv's output (OH x OW), window 2x3, stride 2, 'same'-style pads
    const OH = Math.ceil(g.OH / 2), OW = Math.ceil(g.OW / 2);
    const p = poolGeom(g.N, g.OH, g.OW, g.O, 2, 3, 2, 2,
      Math.floor(Math.max((OH - 1) * 2 + 2 - g.OH, 0) / 2), Math.floor(Math.max((OW - 1) * 2 + 3 - g.OW, 0) / 2), OH, OW);
    const n = convSizes(g), np = poolSizes(p);
    const r = rng(7);
    for (const [bias, act] of [[true, 'relu'], [false, 'linear'], [true, undefined]] as const) {
      const x = rand(r, n.x), w = rand(r, n.w, 0.7), bs = bias ? rand(r, g.O, 0.5) : null;
      const X = up(x), Wd = up(w), B = opt(bs);
      const y = new Float32Array(np.y);
      const Y = nanOut(np.y);
      if (act === undefined) {
        b.conv2dMaxPool2dForward(g, p, x, w, bs, y);
        raw.conv2dMaxPool2dForward(g, p, X, Wd, B, Y);
      } else {
        b.conv2dMaxPool2dForward(g, p, x, w, bs, y, act);
        raw.conv2dMaxPool2dForward(g, p, X, Wd, B, Y, act);
      }
      const fused = down(Y, np.y);
      close('fused y', fused, y);
      // on the device: exactly conv2dForward then maxPool2dForward (no argmax)
      const C = nanOut(n.y), P = nanOut(np.y);
      raw.conv2dForward(g, X, Wd, B, C, act ?? 'linear');
      raw.maxPool2dForward(p, C, P, null);
      exact('fused y vs conv then pool', fused, down(P, np.y));
    }
  });

  // ---- pooling -----------------------------------------------------------------------------

  const poolCases: { name: string; g: Pool2dGeometry }[] = [
    // 'same' for H=5, W=7, window 3x2, stride 2: OH 3, OW 4, pads 1/0
    { name: 'window 3x2, stride 2, same pads', g: poolGeom(2, 5, 7, 3, 3, 2, 2, 2, 1, 0, 3, 4) },
    // windows starting at rows -1, 2, 5 (the last covers no row: -Inf and argmax -1)
    { name: 'window 2x3, stride 3x2, a window covering no input', g: poolGeom(2, 5, 7, 3, 2, 3, 3, 2, 1, 1, 3, 4) },
    { name: 'window 2x2, stride 1, valid (overlapping windows)', g: poolGeom(1, 4, 5, 2, 2, 2, 1, 1, 0, 0, 3, 4) },
  ];

  poolCases.forEach(({ name, g }, k) => {
    test(`maxPool2dForward/Backward (argmax identical), avgPool2dForward/Backward: ${name}`, () => {
      const r = rng(200 + k);
      const n = poolSizes(g);
      const x = rand(r, n.x), dy = rand(r, n.y);
      if (k === 0) {
        x[4] = NaN;  // a NaN wins its windows (and the first NaN of a window over later ones)
        x[10] = x[13] = 0.5;  // ties: the first max in (kh, kw) order wins
      }
      const X = up(x), DY = up(dy);

      const y = new Float32Array(n.y), am = new Int32Array(n.y);
      b.maxPool2dForward(g, x, y, am);
      const Y = nanOut(n.y), AM = junkIndex(n.y);
      raw.maxPool2dForward(g, X, Y, AM);
      exact('max y', down(Y, n.y), y);
      const amDev = downIndex(AM, n.y);
      exact('argmax', amDev, am);
      if (k === 0) expect(y.some(Number.isNaN)).toBe(true);
      if (k === 1) expect(Array.from(am)).toContain(-1);

      // argmax null: the values only
      const Y2 = nanOut(n.y);
      raw.maxPool2dForward(g, X, Y2, null);
      exact('max y (no argmax)', down(Y2, n.y), y);

      const dx = new Float32Array(n.x);
      b.maxPool2dBackward(g, dy, am, dx);
      const DX = nanOut(n.x);
      raw.maxPool2dBackward(g, DY, up(amDev), DX);
      close('max dx', down(DX, n.x), dx, 1e-6);

      const ya = new Float32Array(n.y);
      b.avgPool2dForward(g, x.map((v) => (Number.isNaN(v) ? 0.25 : v)), ya);
      const YA = nanOut(n.y);
      raw.avgPool2dForward(g, up(x.map((v) => (Number.isNaN(v) ? 0.25 : v))), YA);
      close('avg y', down(YA, n.y), ya, 1e-6);

      const dxa = new Float32Array(n.x);
      b.avgPool2dBackward(g, dy, dxa);
      const DXA = nanOut(n.x);
      raw.avgPool2dBackward(g, DY, DXA);
      close('avg dx', down(DXA, n.x), dxa, 1e-6);
    });
  });

  test('maxPool2dBackward: a device argmax is not range-checked, its entries outside the image are skipped', () => {
    const g = poolCases[0].g;
    const n = poolSizes(g);
    const r = rng(9);
    const x = rand(r, n.x), dy = rand(r, n.y);
    const am = new Int32Array(n.y);
    b.maxPool2dForward(g, x, new Float32Array(n.y), am);
    const bad = am.slice();
    bad[0] = g.H * g.W;  // one past the image
    bad[5] = 1 << 30;
    bad[7] = -7;
    // the CPU refuses them ...
    expectError(() => b.maxPool2dBackward(g, dy, bad, new Float32Array(n.x)), 'RangeError', /argmax\[0\]/);
    // ... the device skips them: as the CPU with those entries at -1 (no input)
    const skipped = am.slice();
    skipped[0] = skipped[5] = skipped[7] = -1;
    const dx = new Float32Array(n.x);
    b.maxPool2dBackward(g, dy, skipped, dx);
    const DX = nanOut(n.x);
    raw.maxPool2dBackward(g, up(dy), up(bad), DX);
    close('dx', down(DX, n.x), dx, 1e-6);
  });

  test('globalPool2dForward/Backward: max with argmax identical, avg', () => {
    const N = 2, HW = 5 * 7, C = 3;
    const r = rng(31);
    const x = rand(r, N * HW * C), dy = rand(r, N * C);
    x[3 * C + 1] = x[9 * C + 1] = 2;  // a tie in image 0, channel 1: the first wins
    const X = up(x), DY = up(dy);

    const y = new Float32Array(N * C), am = new Int32Array(N * C);
    b.globalPool2dForward('max', N, HW, C, x, y, am);
    const Y = nanOut(N * C), AM = junkIndex(N * C);
    raw.globalPool2dForward('max', N, HW, C, X, Y, AM);
    exact('global max y', down(Y, N * C), y);
    const amDev = downIndex(AM, N * C);
    exact('global argmax', amDev, am);
    expect(am[1]).toBe(3);

    const dx = new Float32Array(N * HW * C);
    b.globalPool2dBackward('max', N, HW, C, dy, am, dx);
    const DX = nanOut(N * HW * C);
    raw.globalPool2dBackward('max', N, HW, C, DY, up(amDev), DX);
    exact('global max dx', down(DX, N * HW * C), dx);

    const ya = new Float32Array(N * C);
    b.globalPool2dForward('avg', N, HW, C, x, ya, null);
    const YA = nanOut(N * C);
    raw.globalPool2dForward('avg', N, HW, C, X, YA, null);
    close('global avg y', down(YA, N * C), ya);

    const dxa = new Float32Array(N * HW * C);
    b.globalPool2dBackward('avg', N, HW, C, dy, null, dxa);
    const DXA = nanOut(N * HW * C);
    raw.globalPool2dBackward('avg', N, HW, C, DY, null, DXA);
    close('global avg dx', down(DXA, N * HW * C), dxa, 1e-6);
  });

  test('upSampling2dForward/Backward: nearest (exact), bilinear, bilinearLegacy', () => {
    const N = 2, H = 3, W = 4, C = 3;
    for (const [mode, sh, sw] of [['nearest', 2, 3], ['bilinear', 3, 2], ['bilinearLegacy', 2, 3], ['bilinear', 1, 1]] as [UpsampleMode, number, number][]) {
      const r = rng(41 + sh * 7 + sw);
      const small = N * H * W * C, big = N * H * sh * W * sw * C;
      const x = rand(r, small), dy = rand(r, big);
      const y = new Float32Array(big);
      b.upSampling2dForward(mode, N, H, W, C, sh, sw, x, y);
      const Y = nanOut(big);
      raw.upSampling2dForward(mode, N, H, W, C, sh, sw, up(x), Y);
      const dx = new Float32Array(small);
      b.upSampling2dBackward(mode, N, H, W, C, sh, sw, dy, dx);
      const DX = nanOut(small);
      raw.upSampling2dBackward(mode, N, H, W, C, sh, sw, up(dy), DX);
      if (mode === 'nearest') {
        exact(`${mode} y`, down(Y, big), y);
      } else {
        close(`${mode} y`, down(Y, big), y, 1e-6);
      }
      close(`${mode} dx`, down(DX, small), dx, 1e-6);
    }
  });

  // ---- batch normalization -----------------------------------------------------------------

  const bnCases: { name: string; gamma: boolean; beta: boolean; moving: boolean; grads: boolean }[] = [
    { name: 'gamma, beta, moving statistics updated in place, dgamma and dbeta', gamma: true, beta: true, moving: true, grads: true },
    { name: 'gamma and beta null, no moving statistics, dgamma and dbeta null', gamma: false, beta: false, moving: false, grads: false },
    { name: 'gamma only, moving statistics, dgamma and dbeta', gamma: true, beta: false, moving: true, grads: true },
  ];

  bnCases.forEach(({ name, gamma: hg, beta: hb, moving, grads }, k) => {
    test(`batchNormTrain, batchNormInference, batchNormBackward, batchNormBackwardInference: ${name}`, () => {
      const M = 2 * 3 * 5 - 1, C = 3, n = M * C;
      const r = rng(300 + k);
      // channel offsets well away from 0 (the shifted sums), spreads of different sizes
      const x = Float32Array.from({ length: n }, (_, i) => 3 * ((i % C) - 1) + r((i % C) + 0.5));
      const dy = rand(r, n);
      const gamma = hg ? rand(r, C, 1.5) : null, beta = hb ? rand(r, C) : null;
      const mm0 = moving ? rand(r, C) : null;
      const mv0 = moving ? Float32Array.from({ length: C }, () => 0.5 + Math.abs(r())) : null;
      const eps = 1e-3, momentum = 0.9;
      const X = up(x), DY = up(dy), G = opt(gamma), Bt = opt(beta);

      // training forward: y, mean, invStd, and the moving statistics in place
      const y = new Float32Array(n), mean = new Float32Array(C), invStd = new Float32Array(C);
      const mm = mm0 ? mm0.slice() : null, mv = mv0 ? mv0.slice() : null;
      b.batchNormTrain(M, C, x, gamma, beta, eps, momentum, y, mean, invStd, mm, mv);
      const Y = nanOut(n), MEAN = nanOut(C), INV = nanOut(C), MM = opt(mm0), MV = opt(mv0);
      raw.batchNormTrain(M, C, X, G, Bt, eps, momentum, Y, MEAN, INV, MM, MV);
      close('y', down(Y, n), y);
      close('mean', down(MEAN, C), mean);
      close('invStd', down(INV, C), invStd);
      if (moving) {
        close('movingMean', down(MM!, C), mm!);
        close('movingVar', down(MV!, C), mv!);
        expect(Array.from(mm!)).not.toEqual(Array.from(mm0!));  // it did update
      }

      // inference forward over moving statistics (the updated ones, or fresh ones)
      const imm = mm ?? rand(r, C), imv = mv ?? Float32Array.from({ length: C }, () => 0.5 + Math.abs(r()));
      const yi = new Float32Array(n);
      b.batchNormInference(M, C, x, gamma, beta, imm, imv, eps, yi);
      const YI = nanOut(n);
      raw.batchNormInference(M, C, X, G, Bt, up(imm), up(imv), eps, YI);
      close('inference y', down(YI, n), yi);

      // training backward through the batch statistics (the CPU's mean/invStd on both)
      const dx = new Float32Array(n);
      const dgamma = grads ? new Float32Array(C) : null, dbeta = grads ? new Float32Array(C) : null;
      b.batchNormBackward(M, C, x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
      const DX = nanOut(n), DG = grads ? nanOut(C) : null, DB = grads ? nanOut(C) : null;
      raw.batchNormBackward(M, C, X, DY, G, up(mean), up(invStd), DX, DG, DB);
      close('dx', down(DX, n), dx, 2e-5);
      if (grads) {
        close('dgamma', down(DG!, C), dgamma!);
        close('dbeta', down(DB!, C), dbeta!);
      }

      // inference backward (statistics as constants)
      const dxi = new Float32Array(n);
      const dgi = grads ? new Float32Array(C) : null, dbi = grads ? new Float32Array(C) : null;
      b.batchNormBackwardInference(M, C, x, dy, gamma, imm, imv, eps, dxi, dgi, dbi);
      const DXI = nanOut(n), DGI = grads ? nanOut(C) : null, DBI = grads ? nanOut(C) : null;
      raw.batchNormBackwardInference(M, C, X, DY, G, up(imm), up(imv), eps, DXI, DGI, DBI);
      close('inference dx', down(DXI, n), dxi);
      if (grads) {
        close('inference dgamma', down(DGI!, C), dgi!);
        close('inference dbeta', down(DBI!, C), dbi!);
      }
    });
  });

  test('batchNormBackwardInference with M = 0 zeroes dgamma and dbeta on the device as on the CPU', () => {
    const C = 3, E = up(new Float32Array(0)), ones = new Float32Array(C).fill(1);
    const dg = new Float32Array(C).fill(5), db = new Float32Array(C).fill(5);
    b.batchNormBackwardInference(0, C, new Float32Array(0), new Float32Array(0), null, ones, ones, 1e-3,
      new Float32Array(0), dg, db);
    const DG = nanOut(C), DB = nanOut(C);
    raw.batchNormBackwardInference(0, C, E, E, null, up(ones), up(ones), 1e-3, E, DG, DB);
    exact('dgamma', down(DG, C), dg);
    exact('dbeta', down(DB, C), db);
  });

  // ---- refusals ----------------------------------------------------------------------------

  test('a call mixing device and CPU arrays is a TypeError naming both', () => {
    const g = convCases[0].g;
    const n = convSizes(g);
    expectError(() => raw.conv2dForward(g, up(new Float32Array(n.x)), new Float32Array(n.w), null, nanOut(n.y)),
      'TypeError', /conv2dForward: argument '\w+' is device storage but argument '\w+' is a CPU array.*same device/);
    const p = poolCases[0].g;
    const np = poolSizes(p);
    // a CPU argmax with device values
    expectError(() => raw.maxPool2dForward(p, up(new Float32Array(np.x)), nanOut(np.y), new Int32Array(np.y)),
      'TypeError', /maxPool2dForward: .*same device/);
    expectError(() => raw.maxPool2dBackward(p, up(new Float32Array(np.y)), new Int32Array(np.y), nanOut(np.x)),
      'TypeError', /maxPool2dBackward: .*same device/);
    expectError(() => raw.batchNormInference(4, 2, up(new Float32Array(8)), null, null, new Float32Array(2),
      up(new Float32Array(2)), 1e-3, nanOut(8)), 'TypeError', /batchNormInference: .*same device/);
    expectError(() => raw.globalPool2dForward('max', 1, 2, 2, up(new Float32Array(4)), nanOut(2), new Int32Array(2)),
      'TypeError', /globalPool2dForward: .*same device/);
  });

  test('a disposed handle is a TypeError', () => {
    const g = convCases[0].g;
    const n = convSizes(g);
    const X = cuda.upload(new Float32Array(n.x));
    cuda.dispose(X);
    expectError(() => raw.conv2dForward(g, X, up(new Float32Array(n.w)), null, nanOut(n.y)),
      'TypeError', /conv2dForward: .*'x'.*disposed/);
    const D = cuda.upload(new Float32Array(8));
    cuda.dispose(D);
    expectError(() => raw.batchNormTrain(4, 2, up(new Float32Array(8)), null, null, 1e-3, 0.9, D, nanOut(2), nanOut(2), null, null),
      'TypeError', /batchNormTrain: .*'y'.*disposed/);
  });

  test('float64 device storage is a TypeError: the CUDA kernels compute in float32', () => {
    const g = convCases[1].g;
    const n = convSizes(g);
    const f64 = (len: number): CudaHandle => up(new Float64Array(len));
    expectError(() => raw.conv2dForward(g, f64(n.x), f64(n.w), null, f64(n.y)), 'TypeError', /conv2dForward: .*float64.*float32/);
    expectError(() => raw.conv2dBackwardFilter(g, f64(n.x), f64(n.y), f64(n.w), f64(g.O)), 'TypeError',
      /conv2dBackwardFilter: .*float64.*float32/);
    const p = poolCases[0].g;
    const np = poolSizes(p);
    expectError(() => raw.maxPool2dForward(p, f64(np.x), f64(np.y), up(new Int32Array(np.y))), 'TypeError',
      /maxPool2dForward: .*float64.*float32/);
    expectError(() => raw.upSampling2dForward('nearest', 1, 2, 2, 1, 2, 2, f64(4), f64(16)), 'TypeError',
      /upSampling2dForward: .*float64.*float32/);
    expectError(() => raw.batchNormInference(4, 2, f64(8), null, null, f64(2), f64(2), 1e-3, f64(8)), 'TypeError',
      /batchNormInference: .*float64.*float32/);
    // and the fused conv + pool refuses before allocating its temporary
    const cg = convCases[0].g;
    const cn = convSizes(cg);
    const pp = poolGeom(cg.N, cg.OH, cg.OW, cg.O, 1, 1, 1, 1, 0, 0, cg.OH, cg.OW);
    expectError(() => raw.conv2dMaxPool2dForward(cg, pp, f64(cn.x), f64(cn.w), null, f64(cn.y)), 'TypeError',
      /conv2dMaxPool2dForward: .*float64.*float32/);
  });
});
