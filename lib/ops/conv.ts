/**
 * 2-D convolution on NHWC images with Keras [kh, kw, in, out] kernels: conv2d and
 * conv2dTranspose, each with its gradients. The three native primitives (forward, input
 * gradient, filter gradient) are each recorded as differentiable ops whose gradients are the
 * other two, so gradients of gradients (createGraph, e.g. WGAN-GP) work through convolutions.
 *
 * @example
 * const y = gf.conv2d(x, w, {strides: 1, padding: 'same'});            // x [n,28,28,1], w [3,3,1,32]
 * const up = gf.conv2dTranspose(z, k, {strides: 2, padding: 'same'});  // k [kh, kw, out, in]
 */
import { backendOf } from '../backend';
import type { Conv2dGeometry } from '../../binding';
import { record, isGradEnabled } from '../autograd';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor, FloatDType } from '../tensor';
import { requireFloat, checkFloat, floatStorage, add, relu, reluGradFromOutput, markReluOutput } from './elementwise';
import type { FusedActivation } from './matmul';
import { sum } from './reduce';

export type Padding = 'valid' | 'same';

export interface Conv2dOptions {
  /** Added to every output position, shape [out channels]; fused into the kernel. */
  bias?: Tensor;
  /** Step of the window: n or [rows, cols] (default 1). */
  strides?: number | [number, number];
  /** 'valid' (no padding, default) or 'same' (output = ceil(input / stride)), as TensorFlow. */
  padding?: Padding;
  /** Spacing of the kernel taps: n or [rows, cols] (default 1). */
  dilationRate?: number | [number, number];
  /** 'relu' is applied inside the kernel as the output is stored (default 'linear': none). */
  activation?: FusedActivation;
}

export interface Conv2dTransposeOptions extends Conv2dOptions {
  /** Extra rows/cols added to one side of a 'valid' transposed output (Keras output_padding). */
  outputPadding?: number | [number, number];
}

/** n or [a, b] as a checked pair of integers >= min. */
export function pair(op: string, name: string, v: number | [number, number] | undefined, dflt: number, min = 1): [number, number] {
  if (v !== undefined && typeof v !== 'number' && !(Array.isArray(v) && v.length === 2)) {
    throw new ValueError(`${op}: ${name} must be a number or [rows, cols], got ${JSON.stringify(v)}`);
  }
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new ValueError(`${op}: ${name} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return p;
}

export function checkPadding(op: string, padding: string | undefined): Padding {
  const p = padding ?? 'valid';
  if (p !== 'valid' && p !== 'same') throw new ValueError(`${op}: padding must be 'valid' or 'same', got '${String(padding)}'`);
  return p;
}

/** TensorFlow's output size and leading pad of one axis. */
export function axisGeometry(inSize: number, k: number, stride: number, dilation: number, padding: Padding): { out: number; padBefore: number } {
  const span = (k - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(inSize / stride);
    const total = Math.max((out - 1) * stride + span - inSize, 0);
    return { out, padBefore: Math.floor(total / 2) };
  }
  return { out: inSize >= span ? Math.floor((inSize - span) / stride) + 1 : 0, padBefore: 0 };
}

function checkActivation(op: string, act: FusedActivation | undefined): FusedActivation {
  if (act === undefined || act === 'linear' || act === 'relu') return act ?? 'linear';
  throw new ValueError(`${op}: activation must be 'linear' or 'relu' (applied inside the kernel), got ${JSON.stringify(act)}`);
}

function checkBias(op: string, bias: Tensor | undefined, channels: number, x: Tensor): Tensor | null {
  if (bias === undefined) return null;
  if (!(bias instanceof Tensor) || bias.rank !== 1 || bias.shape[0] !== channels) {
    throw new ShapeError(`${op}: bias must have shape [${channels}] (one per output channel), got ${bias instanceof Tensor ? fmtShape(bias.shape) : String(bias)}`);
  }
  if (bias.dtype !== x.dtype) throw new DTypeError(`${op}: bias is ${bias.dtype} but the input is ${x.dtype}`);
  return bias;
}

function convGeometry([N, H, W, C]: number[], [KH, KW, O]: number[], [OH, OW]: number[],
                      strides: [number, number], dilation: [number, number], [padTop, padLeft]: number[]): Conv2dGeometry {
  return {
    N, H, W, C, KH, KW, O, OH, OW, strideH: strides[0], strideW: strides[1],
    dilationH: dilation[0], dilationW: dilation[1], padTop, padLeft,
  };
}

function checkPair(op: string, a: Tensor, b: Tensor, aName: string, bName: string): void {
  checkFloat(op, a);
  checkFloat(op, b);
  if (a.dtype !== b.dtype) throw new DTypeError(`${op}: dtypes differ: ${aName} ${a.dtype} ${fmtShape(a.shape)} and ${bName} ${b.dtype} ${fmtShape(b.shape)}`);
}

// ----- the three primitives, each differentiable through the other two -----

/**
 * y (N,OH,OW,O) = act(conv(x (N,H,W,C), w) (+ bias)), the bias and relu applied inside the
 * kernel as each tile of y is stored. With a bias the backward pass gets the filter and bias
 * gradients from one kernel call; gradients of gradients (a graph is being recorded) take the
 * unfused, differentiable ops instead.
 */
function convForward(g: Conv2dGeometry, x: Tensor, w: Tensor, bias: Tensor | null = null,
  act: FusedActivation = 'linear'): Tensor {
  const be = backendOf('conv2d', [x, w, bias]);
  const y = be.allocateOutput(x.dtype as FloatDType, g.N * g.OH * g.OW * g.O, 'conv2d', [g.N, g.OH, g.OW, g.O]);
  be.kernels.conv2dForward(g, floatStorage(x), floatStorage(w), bias === null ? null : floatStorage(bias), y, act);
  const inputs = bias === null ? [x, w] : [x, w, bias];
  const out = new Tensor(y, [g.N, g.OH, g.OW, g.O]);
  if (act === 'relu') markReluOutput(out);
  const name = (bias === null ? 'conv2d' : 'conv2dBias') + (act === 'relu' ? '(relu)' : '');
  return record(name, inputs, out, (gyOut) => {
    // relu's gradient passes where the output is positive (its sign does not depend on x at
    // second order: the mask is a constant)
    const gy = act === 'relu' ? reluGradFromOutput(gyOut, out) : gyOut;
    const dx = x.requiresGrad ? convInputGrad(g, gy, w) : null;
    if (bias === null) return [dx, w.requiresGrad ? convFilterGrad(g, x, gy) : null];
    if (isGradEnabled() || !(w.requiresGrad || bias.requiresGrad)) {
      return [dx, w.requiresGrad ? convFilterGrad(g, x, gy) : null, bias.requiresGrad ? sum(gy, [0, 1, 2]) : null];
    }
    const bb = backendOf('conv2dBackwardFilter', [x, gy]);
    const dw = bb.allocateOutput(x.dtype as FloatDType, g.KH * g.KW * g.C * g.O);
    const db = bb.allocateOutput(x.dtype as FloatDType, g.O);
    bb.kernels.conv2dBackwardFilter(g, floatStorage(x), floatStorage(gy), dw, db);
    return [dx, w.requiresGrad ? new Tensor(dw, w.shape) : null, bias.requiresGrad ? new Tensor(db, bias.shape) : null];
  });
}

/** dx (N,H,W,C) = adjoint of conv in x, applied to dy (N,OH,OW,O). Also conv2dTranspose's forward. */
function convInputGrad(g: Conv2dGeometry, dy: Tensor, w: Tensor, op = 'conv2dBackwardInput'): Tensor {
  const be = backendOf(op, [dy, w]);
  const dx = be.allocateOutput(dy.dtype as FloatDType, g.N * g.H * g.W * g.C, op, [g.N, g.H, g.W, g.C]);
  be.kernels.conv2dBackwardInput(g, floatStorage(dy), floatStorage(w), dx);
  return record('conv2dBackwardInput', [dy, w], new Tensor(dx, [g.N, g.H, g.W, g.C]), (gdx) => [
    dy.requiresGrad ? convForward(g, gdx, w) : null,
    w.requiresGrad ? convFilterGrad(g, gdx, dy) : null,
  ]);
}

/** dw (KH,KW,C,O) = sum over positions of x patches times dy. */
function convFilterGrad(g: Conv2dGeometry, x: Tensor, dy: Tensor): Tensor {
  const be = backendOf('conv2dBackwardFilter', [x, dy]);
  const dw = be.allocateOutput(x.dtype as FloatDType, g.KH * g.KW * g.C * g.O);
  be.kernels.conv2dBackwardFilter(g, floatStorage(x), floatStorage(dy), dw, null);
  return record('conv2dBackwardFilter', [x, dy], new Tensor(dw, [g.KH, g.KW, g.C, g.O]), (gdw) => [
    x.requiresGrad ? convInputGrad(g, dy, gdw) : null,
    dy.requiresGrad ? convForward(g, x, gdw) : null,
  ]);
}

function geometry(op: string, x: Tensor, kernelShape: readonly number[], inChannelAxis: 2 | 3,
                  opts: Conv2dOptions): { strides: [number, number]; dilation: [number, number]; padding: Padding } {
  if (x.rank !== 4) throw new ShapeError(`${op}: input must be NHWC [batch, height, width, channels], got ${fmtShape(x.shape)}`);
  if (kernelShape.length !== 4) throw new ShapeError(`${op}: kernel must be [kh, kw, ${inChannelAxis === 2 ? 'in, out' : 'out, in'}], got ${fmtShape(kernelShape)}`);
  if (kernelShape[inChannelAxis] !== x.shape[3]) {
    throw new ShapeError(`${op}: input has ${x.shape[3]} channels but kernel ${fmtShape(kernelShape)} expects ${kernelShape[inChannelAxis]}`);
  }
  if (kernelShape.some((d) => d < 1) || x.shape.slice(1).some((d) => d < 1)) {
    throw new ShapeError(`${op}: empty dimension in input ${fmtShape(x.shape)} or kernel ${fmtShape(kernelShape)}`);
  }
  const strides = pair(op, 'strides', opts.strides, 1);
  const dilation = pair(op, 'dilationRate', opts.dilationRate, 1);
  if ((strides[0] > 1 || strides[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    throw new ValueError(`${op}: strides ${JSON.stringify(opts.strides)} > 1 with dilationRate ${JSON.stringify(opts.dilationRate)} > 1 is not supported (as in Keras)`);
  }
  return { strides, dilation, padding: checkPadding(op, opts.padding) };
}

/**
 * 2-D convolution: x [n, h, w, in] and kernel [kh, kw, in, out] give [n, oh, ow, out].
 * @example gf.conv2d(x, w, {strides: 2, padding: 'same'})
 */
export function conv2d(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): Tensor {
  const { g, bias, act } = conv2dSetup(x, w, opts);
  return convForward(g, x, w, bias, act);
}

/** What conv2d(x, w, opts) runs: its checked geometry, bias and fused activation. */
export function conv2dSetup(x: Tensor, w: Tensor, opts: Conv2dOptions = {}): { g: Conv2dGeometry; bias: Tensor | null; act: FusedActivation } {
  const op = 'conv2d';
  checkPair(op, x, w, 'input', 'kernel');
  const { strides, dilation, padding } = geometry(op, x, w.shape, 2, opts);
  const [N, H, W, C] = x.shape;
  const [KH, KW, , O] = w.shape;
  const gh = axisGeometry(H, KH, strides[0], dilation[0], padding);
  const gw = axisGeometry(W, KW, strides[1], dilation[1], padding);
  if (gh.out < 1 || gw.out < 1) {
    throw new ShapeError(`${op}: kernel ${KH}x${KW}${dilation[0] > 1 || dilation[1] > 1 ? ` (dilation ${dilation.join('x')})` : ''} does not fit the ${H}x${W} input with padding 'valid' (input ${fmtShape(x.shape)})`);
  }
  const g = convGeometry([N, H, W, C], [KH, KW, O], [gh.out, gw.out], strides, dilation, [gh.padBefore, gw.padBefore]);
  return { g, bias: checkBias(op, opts.bias, O, x), act: checkActivation(op, opts.activation) };
}

/**
 * Transposed convolution (Keras Conv2DTranspose): x [n, h, w, in] and kernel
 * [kh, kw, out, in] give [n, oh, ow, out] with oh = h * stride for 'same' and
 * (h - 1) * stride + kh (+ outputPadding) for 'valid'.
 * @example gf.conv2dTranspose(z, k, {strides: 2, padding: 'same'})   // 7x7 -> 14x14
 */
export function conv2dTranspose(x: Tensor, w: Tensor, opts: Conv2dTransposeOptions = {}): Tensor {
  const op = 'conv2dTranspose';
  checkPair(op, x, w, 'input', 'kernel');
  const { strides, dilation, padding } = geometry(op, x, w.shape, 3, opts);
  const outPad = pair(op, 'outputPadding', opts.outputPadding, 0, 0);
  if (padding === 'same' && (outPad[0] > 0 || outPad[1] > 0)) {
    throw new ValueError(`${op}: outputPadding is supported with padding 'valid' only, got ${JSON.stringify(opts.outputPadding)} with 'same'`);
  }
  if (outPad[0] >= strides[0] || outPad[1] >= strides[1]) {
    throw new ValueError(`${op}: outputPadding ${JSON.stringify(opts.outputPadding)} must be smaller than strides ${JSON.stringify(strides)}`);
  }
  const [N, OH, OW, O] = x.shape; // the transpose's input is the adjoint conv's output
  const [KH, KW, C] = w.shape;
  const size = (inSize: number, k: number, s: number, d: number, extra: number): number =>
    (padding === 'same' ? inSize * s : (inSize - 1) * s + (k - 1) * d + 1) + extra;
  const H = size(OH, KH, strides[0], dilation[0], outPad[0]);
  const W = size(OW, KW, strides[1], dilation[1], outPad[1]);
  const gh = axisGeometry(H, KH, strides[0], dilation[0], padding);
  const gw = axisGeometry(W, KW, strides[1], dilation[1], padding);
  const g = convGeometry([N, H, W, C], [KH, KW, O], [OH, OW], strides, dilation, [gh.padBefore, gw.padBefore]);
  // Keras stores the transpose kernel as [kh, kw, out, in] = the adjoint conv's [kh, kw, C, O]
  const bias = checkBias(op, opts.bias, C, x);
  const act = checkActivation(op, opts.activation);
  const y = convInputGrad(g, x, w, op);
  const yb = bias === null ? y : add(y, bias);
  return act === 'relu' ? relu(yb) : yb;
}
