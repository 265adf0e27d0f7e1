/**
 * Pooling and upsampling on NHWC images, with gradients: maxPool2d, avgPool2d, global
 * average/max pooling, upSampling2d (nearest, bilinear). Padding 'same' windows look only at
 * the input they cover (TensorFlow's rule). The linear ops (average pooling, upsampling) have
 * backward passes that are differentiable again (each is the other's adjoint); max pooling's
 * backward routes gradients to the recorded argmax positions, itself a linear map.
 *
 * @example
 * gf.maxPool2d(x, {poolSize: 2});                       // [n, 26, 26, 32] -> [n, 13, 13, 32]
 * gf.upSampling2d(x, {size: 2, interpolation: 'bilinear'});
 */
import { backendOf, IntStorage } from '../backend';
import type { Pool2dGeometry, UpsampleMode } from '../../binding';
import { record, isGradEnabled, willRecord } from '../autograd';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor, FloatArray, FloatDType, allocateOutput } from '../tensor';
import { requireFloat, checkFloat, floatStorage, isReluOutput, markReluMasked, reluGradFromOutput } from './elementwise';
import { Padding, pair, checkPadding, axisGeometry } from './conv';

export interface Pool2dOptions {
  /** Window: n or [rows, cols] (default 2). */
  poolSize?: number | [number, number];
  /** Step: n or [rows, cols] (default poolSize, as Keras). */
  strides?: number | [number, number];
  /** 'valid' (default) or 'same'. */
  padding?: Padding;
}

function checkImages(op: string, x: Tensor): [number, number, number, number] {
  checkFloat(op, x);
  if (x.rank !== 4) throw new ShapeError(`${op}: input must be NHWC [batch, height, width, channels], got ${fmtShape(x.shape)}`);
  if (x.shape.slice(1).some((d) => d < 1)) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} has an empty dimension`);
  return x.shape as [number, number, number, number];
}

export function poolGeometry(op: string, shape: readonly number[], opts: Pool2dOptions): Pool2dGeometry {
  const [N, H, W, C] = shape;
  const [KH, KW] = pair(op, 'poolSize', opts.poolSize, 2);
  const [sh, sw] = pair(op, 'strides', opts.strides ?? [KH, KW], 1);
  const padding = checkPadding(op, opts.padding);
  const gh = axisGeometry(H, KH, sh, 1, padding);
  const gw = axisGeometry(W, KW, sw, 1, padding);
  if (gh.out < 1 || gw.out < 1) {
    throw new ShapeError(`${op}: pool size ${KH}x${KW} does not fit the ${H}x${W} input with padding 'valid' (input ${fmtShape(shape)})`);
  }
  return { N, H, W, C, KH, KW, OH: gh.out, OW: gw.out, strideH: sh, strideW: sw, padTop: gh.padBefore, padLeft: gw.padBefore };
}

// ----- max pooling -----

/** Gradient of max pooling: dy routed to the argmax positions (linear in dy). */
function maxPoolBackward(g: Pool2dGeometry, dy: Tensor, argmax: IntStorage): Tensor {
  const be = backendOf('maxPool2dBackward', [dy]);
  const dx = be.allocateOutput(dy.dtype as FloatDType, g.N * g.H * g.W * g.C);
  be.kernels.maxPool2dBackward(g, floatStorage(dy), argmax, dx);
  return record('maxPool2dBackward', [dy], new Tensor(dx, [g.N, g.H, g.W, g.C]), (gdx) => [gatherArgmax(g, gdx, argmax)]);
}

/** out[n,oh,ow,c] = v[n, argmax position, c]: the adjoint of maxPoolBackward (rarely needed). */
function gatherArgmax(g: Pool2dGeometry, v: Tensor, argmaxStorage: IntStorage): Tensor {
  const vd = v.data;  // computed in JavaScript: CPU tensors only (DeviceError elsewhere)
  const argmax = argmaxStorage as Int32Array;  // on the CPU with v
  const out = allocateOutput(v.dtype, g.N * g.OH * g.OW * g.C) as FloatArray;
  const per = g.OH * g.OW * g.C;
  for (let i = 0; i < out.length; i++) {
    const n = Math.floor(i / per);
    const c = i % g.C;
    const pos = argmax[i];
    out[i] = pos < 0 ? 0 : vd[(n * g.H * g.W + pos) * g.C + c];
  }
  return record('gatherArgmax', [v], new Tensor(out, [g.N, g.OH, g.OW, g.C]), (gy) => [maxPoolBackward(g, gy, argmax)]);
}

/**
 * Max pooling over windows of poolSize.
 * @example gf.maxPool2d(x, {poolSize: 2})
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions = {}): Tensor {
  checkImages('maxPool2d', x);
  const g = poolGeometry('maxPool2d', x.shape, opts);
  const be = backendOf('maxPool2d', [x]);
  const y = be.allocateOutput(x.dtype as FloatDType, g.N * g.OH * g.OW * g.C);
  // Without a backward pass to follow (inference) the kernel skips the argmax.
  if (!willRecord([x])) {
    be.kernels.maxPool2dForward(g, floatStorage(x), y, null);
    return new Tensor(y, [g.N, g.OH, g.OW, g.C]);
  }
  const argmax = be.allocateOutput('int32', y.length) as IntStorage;
  be.kernels.maxPool2dForward(g, floatStorage(x), y, argmax);
  const out = new Tensor(y, [g.N, g.OH, g.OW, g.C]);
  return record('maxPool2d', [x], out, (gy) => {
    // When x is the output of a relu fused into the previous kernel, relu's mask is folded in
    // here on the pooled gradient: the window's max is the value at its argmax, so masking
    // where it is not positive equals masking x, on a tensor the pool's size smaller; the
    // producer then skips its own pass over x (reluGradFromOutput sees the mark).
    if (isGradEnabled() || !isReluOutput(x)) return [maxPoolBackward(g, gy, argmax)];
    return [markReluMasked(maxPoolBackward(g, reluGradFromOutput(gy, out), argmax), x)];
  });
}

// ----- average pooling -----

function avgPoolForward(g: Pool2dGeometry, x: Tensor): Tensor {
  const be = backendOf('avgPool2dForward', [x]);
  const y = be.allocateOutput(x.dtype as FloatDType, g.N * g.OH * g.OW * g.C);
  be.kernels.avgPool2dForward(g, floatStorage(x), y);
  return record('avgPool2d', [x], new Tensor(y, [g.N, g.OH, g.OW, g.C]), (gy) => [avgPoolBackward(g, gy)]);
}

function avgPoolBackward(g: Pool2dGeometry, dy: Tensor): Tensor {
  const be = backendOf('avgPool2dBackward', [dy]);
  const dx = be.allocateOutput(dy.dtype as FloatDType, g.N * g.H * g.W * g.C);
  be.kernels.avgPool2dBackward(g, floatStorage(dy), dx);
  return record('avgPool2dBackward', [dy], new Tensor(dx, [g.N, g.H, g.W, g.C]), (gdx) => [avgPoolForward(g, gdx)]);
}

/**
 * Average pooling over windows of poolSize ('same' windows average only covered inputs).
 * @example gf.avgPool2d(x, {poolSize: 3, strides: 1, padding: 'same'})
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions = {}): Tensor {
  checkImages('avgPool2d', x);
  return avgPoolForward(poolGeometry('avgPool2d', x.shape, opts), x);
}

// ----- global pooling -----

function globalAvgForward(N: number, HW: number, C: number, x: Tensor): Tensor {
  const be = backendOf('globalPool2dForward', [x]);
  const y = be.allocateOutput(x.dtype as FloatDType, N * C);
  be.kernels.globalPool2dForward('avg', N, HW, C, floatStorage(x), y, null);
  return record('globalAvgPool2d', [x], new Tensor(y, [N, C]), (gy) => [globalAvgBackward(N, HW, C, gy, x.shape)]);
}

function globalAvgBackward(N: number, HW: number, C: number, dy: Tensor, shape: readonly number[]): Tensor {
  const be = backendOf('globalPool2dBackward', [dy]);
  const dx = be.allocateOutput(dy.dtype as FloatDType, N * HW * C);
  be.kernels.globalPool2dBackward('avg', N, HW, C, floatStorage(dy), null, dx);
  return record('globalAvgPool2dBackward', [dy], new Tensor(dx, shape), (gdx) => [globalAvgForward(N, HW, C, gdx)]);
}

/** Mean over height and width: [n, h, w, c] -> [n, c]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  const [N, H, W, C] = checkImages('globalAvgPool2d', x);
  return globalAvgForward(N, H * W, C, x);
}

/** Maximum over height and width: [n, h, w, c] -> [n, c]. */
export function globalMaxPool2d(x: Tensor): Tensor {
  const [N, H, W, C] = checkImages('globalMaxPool2d', x);
  // the same as a max pool whose window is the whole image
  return maxPool2d(x, { poolSize: [H, W], strides: [H, W] }).reshape([N, C]);
}

// ----- upsampling -----

export interface UpSampling2dOptions {
  /** Factor: n or [rows, cols] (default 2). */
  size?: number | [number, number];
  /**
   * 'nearest' (default) repeats pixels; 'bilinear' interpolates as Keras (half-pixel
   * centres); 'bilinearLegacy' as TensorFlow.js's upSampling2d (no half-pixel centres).
   */
  interpolation?: UpsampleMode;
}

type UpSizes = [number, number, number, number, number, number];

function upForward(mode: UpsampleMode, s: UpSizes, x: Tensor): Tensor {
  const [N, H, W, C, sh, sw] = s;
  const be = backendOf('upSampling2dForward', [x]);
  const y = be.allocateOutput(x.dtype as FloatDType, N * H * sh * W * sw * C, 'upSampling2d', [N, H * sh, W * sw, C]);
  be.kernels.upSampling2dForward(mode, N, H, W, C, sh, sw, floatStorage(x), y);
  return record('upSampling2d', [x], new Tensor(y, [N, H * sh, W * sw, C]), (gy) => [upBackward(mode, s, gy)]);
}

function upBackward(mode: UpsampleMode, s: UpSizes, dy: Tensor): Tensor {
  const [N, H, W, C, sh, sw] = s;
  const be = backendOf('upSampling2dBackward', [dy]);
  const dx = be.allocateOutput(dy.dtype as FloatDType, N * H * W * C);
  be.kernels.upSampling2dBackward(mode, N, H, W, C, sh, sw, floatStorage(dy), dx);
  return record('upSampling2dBackward', [dy], new Tensor(dx, [N, H, W, C]), (gdx) => [upForward(mode, s, gdx)]);
}

/**
 * Enlarges images by whole factors.
 * @example gf.upSampling2d(x, {size: 2})      // [n, 7, 7, c] -> [n, 14, 14, c]
 */
export function upSampling2d(x: Tensor, opts: UpSampling2dOptions = {}): Tensor {
  const [N, H, W, C] = checkImages('upSampling2d', x);
  const [sh, sw] = pair('upSampling2d', 'size', opts.size, 2);
  const mode = opts.interpolation ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear' && mode !== 'bilinearLegacy') {
    throw new ValueError(`upSampling2d: interpolation must be 'nearest', 'bilinear' or 'bilinearLegacy', got '${String(mode)}'`);
  }
  return upForward(mode, [N, H, W, C, sh, sw], x);
}
