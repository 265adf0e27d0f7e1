/**
 * Batch normalization over every axis but the last (channels), with its gradients.
 * Training uses the batch's statistics and updates the moving averages in place (Keras 3:
 * moving = moving * momentum + batch * (1 - momentum), population variance); inference uses
 * the moving averages.
 *
 * @example
 * const y = gf.batchNorm(x, {gamma, beta, movingMean, movingVar, training: true});
 */
import { backendOf, FloatStorage } from '../backend';
import { record, isGradEnabled, willRecord } from '../autograd';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor, FloatDType } from '../tensor';
import { requireFloat, checkFloat, floatStorage } from './elementwise';
import { noteWeightWrite } from '../memory';

export interface BatchNormOptions {
  /** Scale per channel (omit for 1, as Keras scale=false). */
  gamma?: Tensor;
  /** Offset per channel (omit for 0, as Keras center=false). */
  beta?: Tensor;
  /** Moving statistics per channel: read in inference, updated in training. */
  movingMean: Tensor;
  movingVar: Tensor;
  /** Use (and update with) the batch statistics (default false). */
  training?: boolean;
  /** Keras default 0.99. */
  momentum?: number;
  /** Keras default 1e-3. */
  epsilon?: number;
}

export function batchNorm(x: Tensor, opts: BatchNormOptions): Tensor {
  const op = 'batchNorm';
  checkFloat(op, x);
  if (x.rank < 1) throw new ShapeError(`${op}: input needs a channel axis, got a scalar`);
  const C = x.shape[x.rank - 1];
  const M = C === 0 ? 0 : x.size / C;
  const perChannel = (name: string, t: Tensor | undefined, required: boolean): Tensor | null => {
    if (t === undefined) {
      if (required) throw new ValueError(`${op}: ${name} is required`);
      return null;
    }
    if (!(t instanceof Tensor) || t.rank !== 1 || t.shape[0] !== C) {
      throw new ShapeError(`${op}: ${name} must have shape [${C}] (one value per channel of input ${fmtShape(x.shape)}), got ${t instanceof Tensor ? fmtShape(t.shape) : String(t)}`);
    }
    if (t.dtype !== x.dtype) throw new DTypeError(`${op}: ${name} is ${t.dtype} but the input is ${x.dtype}`);
    return t;
  };
  const gamma = perChannel('gamma', opts.gamma, false);
  const beta = perChannel('beta', opts.beta, false);
  const movingMean = perChannel('movingMean', opts.movingMean, true)!;
  const movingVar = perChannel('movingVar', opts.movingVar, true)!;
  const momentum = opts.momentum ?? 0.99;
  const epsilon = opts.epsilon ?? 1e-3;
  if (!(momentum >= 0 && momentum <= 1)) throw new ValueError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new ValueError(`${op}: epsilon must be a finite number > 0, got ${epsilon}`);
  const be = backendOf(op, [x, gamma, beta, movingMean, movingVar]);
  const dtype = x.dtype as FloatDType;
  const g = gamma === null ? null : floatStorage(gamma);
  const b = beta === null ? null : floatStorage(beta);
  const y = be.allocateOutput(dtype, x.size);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const grads = (dx: FloatStorage, dgamma: FloatStorage | null, dbeta: FloatStorage | null): (Tensor | null)[] => [
    new Tensor(dx, x.shape),
    ...(gamma ? [new Tensor(dgamma!, [C])] : []),
    ...(beta ? [new Tensor(dbeta!, [C])] : []),
  ];
  const noDoubleBackward = (): void => {
    if (isGradEnabled()) throw new ValueError(`${op}: gradients of gradients (createGraph) through batch normalization are not supported`);
  };
  if (opts.training) {
    if (M === 0) throw new ShapeError(`${op}: cannot compute batch statistics of an empty batch ${fmtShape(x.shape)}`);
    const mean = be.allocateOutput(dtype, C);
    const invStd = be.allocateOutput(dtype, C);
    noteWeightWrite(); // the moving statistics, in place
    be.kernels.batchNormTrain(M, C, floatStorage(x), g, b, epsilon, momentum, y, mean, invStd,
      floatStorage(movingMean), floatStorage(movingVar));
    return record(op, inputs, new Tensor(y, x.shape), (gy) => {
      noDoubleBackward();
      const bb = backendOf(`${op} backward`, [x, gy]);
      const dx = bb.allocateOutput(dtype, x.size);
      const dgamma = gamma ? bb.allocateOutput(dtype, C) : null;
      const dbeta = beta ? bb.allocateOutput(dtype, C) : null;
      bb.kernels.batchNormBackward(M, C, floatStorage(x), floatStorage(gy), g, mean, invStd, dx, dgamma, dbeta);
      return grads(dx, dgamma, dbeta);
    });
  }
  be.kernels.batchNormInference(M, C, floatStorage(x), g, b, floatStorage(movingMean), floatStorage(movingVar), epsilon, y);
  // the moving statistics at this moment: a later training step must not change this gradient
  // (copied only when a gradient will be asked for)
  const recording = willRecord(inputs);
  const mm = recording ? be.copy(floatStorage(movingMean)) : null;
  const mv = recording ? be.copy(floatStorage(movingVar)) : null;
  return record(op, inputs, new Tensor(y, x.shape), (gy) => {
    noDoubleBackward();
    const bb = backendOf(`${op} backward`, [x, gy]);
    const dx = bb.allocateOutput(dtype, x.size);
    const dgamma = gamma ? bb.allocateOutput(dtype, C) : null;
    const dbeta = beta ? bb.allocateOutput(dtype, C) : null;
    bb.kernels.batchNormBackwardInference(M, C, floatStorage(x), floatStorage(gy), g, mm!, mv!, epsilon, dx, dgamma, dbeta);
    return grads(dx, dgamma, dbeta);
  });
}
