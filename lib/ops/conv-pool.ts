/**
 * conv2d then maxPool2d in one kernel, for inference: the convolution's output is computed a
 * band of rows at a time into a buffer that stays in cache and pooled from there, never
 * written to memory whole. Sequential's forward uses it for a Conv2D followed by a
 * MaxPooling2D when no gradient is recorded; the result is bit for bit that of the two ops.
 * Not exported from the package: gf.maxPool2d(gf.conv2d(...)) is the public spelling.
 */
import { backendOf } from '../backend';
import { willRecord } from '../autograd';
import { Tensor, FloatDType } from '../tensor';
import { floatStorage } from './elementwise';
import { conv2d, conv2dSetup, Conv2dOptions } from './conv';
import { maxPool2d, poolGeometry, Pool2dOptions } from './pool';

export function conv2dMaxPool2d(x: Tensor, w: Tensor, conv: Conv2dOptions, pool: Pool2dOptions): Tensor {
  const { g, bias, act } = conv2dSetup(x, w, conv);
  // a backward pass needs the convolution's output and the pool's argmax: the two ops keep them
  if (willRecord(bias === null ? [x, w] : [x, w, bias])) return maxPool2d(conv2d(x, w, conv), pool);
  const p = poolGeometry('maxPool2d', [g.N, g.OH, g.OW, g.O], pool);
  const be = backendOf('conv2dMaxPool2d', [x, w, bias]);
  const y = be.allocateOutput(x.dtype as FloatDType, p.N * p.OH * p.OW * p.C);
  be.kernels.conv2dMaxPool2dForward(g, p, floatStorage(x), floatStorage(w), bias === null ? null : floatStorage(bias), y, act);
  return new Tensor(y, [p.N, p.OH, p.OW, p.C]);
}
