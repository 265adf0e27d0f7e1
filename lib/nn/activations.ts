/**
 * Activation functions by Keras name. Layers store the canonical Keras (snake_case) name in
 * their config, and accept camelCase too ('leakyRelu' = 'leaky_relu'). Each function is built
 * from differentiable ops, so autograd needs nothing extra.
 *
 * @example
 * const f = gf.activations.getActivation('relu');
 * f(gf.tensor([-1, 2]));                 // [0, 2]
 * gf.layers.dense({units: 10, activation: 'softmax'});
 */
import { Tensor } from '../tensor';
import { ValueError } from '../errors';
import * as ew from '../ops/elementwise';
import { softmax as softmaxOp, logSoftmax as logSoftmaxOp } from '../ops/softmax';

/** An activation: a differentiable elementwise (or, for softmax, last-axis) map. */
export type ActivationFn = (x: Tensor) => Tensor;

/** x (no-op). */
export const linear: ActivationFn = (x) => x;
/** max(x, 0) */
export const relu: ActivationFn = (x) => ew.relu(x);
/** min(max(x, 0), 6) */
export const relu6: ActivationFn = (x) => ew.clip(x, 0, 6);
/** x > 0 ? x : e^x - 1 */
export const elu: ActivationFn = (x) => ew.elu(x, 1);
/** Scaled ELU (Klambauer et al.), Keras constants. */
export const selu: ActivationFn = (x) => ew.selu(x);
/** 1 / (1 + e^-x) */
export const sigmoid: ActivationFn = (x) => ew.sigmoid(x);
/** Keras 3's piecewise-linear sigmoid: relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1). */
export const hardSigmoid: ActivationFn = (x) => ew.clip(ew.add(ew.mul(x, 1 / 6), 0.5), 0, 1);
export const tanh: ActivationFn = (x) => ew.tanh(x);
/** Softmax over the last axis. */
export const softmax: ActivationFn = (x) => softmaxOp(x, -1);
/** log(softmax(x)) over the last axis, computed stably. */
export const logSoftmax: ActivationFn = (x) => logSoftmaxOp(x, -1);
/** log(1 + e^x) */
export const softplus: ActivationFn = (x) => ew.softplus(x);
/** x / (1 + |x|) */
export const softsign: ActivationFn = (x) => ew.div(x, ew.add(ew.abs(x), 1));
/** x > 0 ? x : 0.2 x (Keras 3's activation default slope). */
export const leakyRelu: ActivationFn = (x) => ew.leakyRelu(x, 0.2);
/** x * sigmoid(x) (also called silu). */
export const swish: ActivationFn = (x) => ew.mul(x, ew.sigmoid(x));
/** e^x */
export const exponential: ActivationFn = (x) => ew.exp(x);

/**
 * erf from Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7, below float32 resolution
 * near 1), built from ops so that it is differentiable; there is no native erf kernel.
 */
function erf(z: Tensor): Tensor {
  const a = ew.abs(z);
  const t = ew.reciprocal(ew.add(ew.mul(a, 0.3275911), 1));
  let poly = ew.add(ew.mul(t, 1.061405429), -1.453152027);
  poly = ew.add(ew.mul(poly, t), 1.421413741);
  poly = ew.add(ew.mul(poly, t), -0.284496736);
  poly = ew.add(ew.mul(poly, t), 0.254829592);
  poly = ew.mul(poly, t);
  const y = ew.sub(1, ew.mul(poly, ew.exp(ew.neg(ew.square(a)))));
  return ew.mul(ew.sign(z), y);
}

/** 0.5 x (1 + erf(x / sqrt 2)): Keras' exact (approximate=False) GELU. */
export const gelu: ActivationFn = (x) => ew.mul(ew.mul(x, 0.5), ew.add(erf(ew.mul(x, Math.SQRT1_2)), 1));

/** Canonical Keras names -> functions. */
const ACTIVATIONS: Record<string, ActivationFn> = {
  linear, relu, relu6, elu, selu, sigmoid, hard_sigmoid: hardSigmoid, tanh, softmax,
  log_softmax: logSoftmax, softplus, softsign, leaky_relu: leakyRelu, swish, silu: swish, gelu, exponential,
};

/** Every canonical activation name (Keras snake_case). */
export const activationNames: readonly string[] = Object.keys(ACTIVATIONS);

/** 'leakyRelu' -> 'leaky_relu'; 'hard_sigmoid' stays; undefined/null/'' -> 'linear'. */
function toSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * The canonical Keras name of an activation, or a ValueError listing the known names.
 * @example canonicalActivationName('leakyRelu')   // 'leaky_relu'
 */
export function canonicalActivationName(name: string | null | undefined): string {
  if (name === undefined || name === null || name === '') return 'linear';
  if (typeof name !== 'string') throw new ValueError(`activation: expected a name, got ${String(name)}`);
  const snake = toSnake(name);
  if (!Object.hasOwn(ACTIVATIONS, snake)) {
    throw new ValueError(`unknown activation '${name}'; known: ${activationNames.join(', ')} (camelCase also accepted)`);
  }
  return snake;
}

/**
 * The activation function for a Keras name (snake_case or camelCase); undefined means linear.
 * @example getActivation('softmax')(logits)
 */
export function getActivation(name: string | null | undefined): ActivationFn {
  return ACTIVATIONS[canonicalActivationName(name)];
}
