/**
 * The GAN objectives, as pure functions of the discriminator's outputs (one logit or critic
 * score per sample, shape [batch, 1]):
 * - minimax (Goodfellow et al., with the non-saturating generator loss everyone trains with),
 * - Wasserstein with gradient penalty (Gulrajani et al., WGAN-GP).
 * The GAN trainer calls these; they are exported so that custom training loops and tests can
 * compute exactly what the trainer reports.
 *
 * @example
 * const dLoss = minimaxDiscriminatorLoss(realLogits, fakeLogits, 0.1);
 * const gp = gradientPenalty((x) => critic.apply(x, {training: true}), xHat);
 */
import { Tensor, full } from '../tensor';
import { noGrad } from '../autograd';
import { GradforgeError, ShapeError, ValueError, fmtShape } from '../errors';
import { binaryCrossentropy } from '../losses';
import { add, sub, mul, sqrt, square, sigmoid } from '../ops/elementwise';
import { sum, mean } from '../ops/reduce';

/** Keeps sqrt's gradient finite where a per-sample gradient is exactly zero. */
const NORM_EPSILON = 1e-12;

function checkScores(op: string, scores: Tensor): void {
  if (!(scores instanceof Tensor) || scores.rank !== 2 || scores.shape[1] !== 1) {
    throw new ShapeError(`${op}: expected one discriminator output per sample, shape [batch, 1], got ${scores instanceof Tensor ? fmtShape(scores.shape) : String(scores)}`);
  }
}

/**
 * BCE-from-logits(real, 1 - labelSmoothing) + BCE-from-logits(fake, 0): the discriminator's
 * minimax loss, with one-sided label smoothing (only the real targets move).
 */
export function minimaxDiscriminatorLoss(realLogits: Tensor, fakeLogits: Tensor, labelSmoothing = 0): Tensor {
  checkScores('minimaxDiscriminatorLoss', realLogits);
  checkScores('minimaxDiscriminatorLoss', fakeLogits);
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new ValueError(`minimaxDiscriminatorLoss: labelSmoothing must be in [0, 1), got ${labelSmoothing}`);
  // the targets live with the scores (a discriminator on 'cuda' scores on 'cuda')
  const realTargets = full(realLogits.shape, 1 - labelSmoothing, realLogits.dtype).to(realLogits.device);
  const fakeTargets = full(fakeLogits.shape, 0, fakeLogits.dtype).to(fakeLogits.device);
  return add(binaryCrossentropy(realTargets, realLogits, { fromLogits: true }),
    binaryCrossentropy(fakeTargets, fakeLogits, { fromLogits: true }));
}

/** BCE-from-logits(fake, 1): the non-saturating generator loss (-log D(G(z))). */
export function minimaxGeneratorLoss(fakeLogits: Tensor): Tensor {
  checkScores('minimaxGeneratorLoss', fakeLogits);
  return binaryCrossentropy(full(fakeLogits.shape, 1, fakeLogits.dtype).to(fakeLogits.device), fakeLogits, { fromLogits: true });
}

/** mean(D(fake)) - mean(D(real)): the critic's Wasserstein loss, without the penalty. */
export function wassersteinCriticLoss(realScores: Tensor, fakeScores: Tensor): Tensor {
  checkScores('wassersteinCriticLoss', realScores);
  checkScores('wassersteinCriticLoss', fakeScores);
  return sub(mean(fakeScores), mean(realScores));
}

/** -mean(D(G(z))). */
export function wassersteinGeneratorLoss(fakeScores: Tensor): Tensor {
  checkScores('wassersteinGeneratorLoss', fakeScores);
  return mul(mean(fakeScores), -1);
}

/** The mean of D's output as the epoch logs show it: a probability for logits, else the score. */
export function meanOutput(scores: Tensor, logits: boolean): number {
  return noGrad(() => mean(logits ? sigmoid(scores) : scores).item());
}

/**
 * eps * real + (1 - eps) * fake with one eps per sample ([batch]): the points WGAN-GP
 * penalizes. Computed without a graph: the penalty differentiates at these points, not
 * through them.
 */
export function interpolate(real: Tensor, fake: Tensor, eps: Tensor): Tensor {
  if (real.rank !== fake.rank || real.shape.some((d, i) => d !== fake.shape[i])) {
    throw new ShapeError(`interpolate: real ${fmtShape(real.shape)} and fake ${fmtShape(fake.shape)} differ`);
  }
  if (eps.rank !== 1 || eps.shape[0] !== real.shape[0]) {
    throw new ShapeError(`interpolate: eps must have one value per sample, shape [${real.shape[0]}], got ${fmtShape(eps.shape)}`);
  }
  return noGrad(() => {
    const e = eps.reshape([real.shape[0], ...real.shape.slice(1).map(() => 1)]);
    return add(mul(e, real), mul(sub(1, e), fake)).detach();
  });
}

/** The op names in the graph that produced t (for messages). */
function graphOps(t: Tensor): string[] {
  const ops = new Set<string>();
  const seen = new Set<Tensor>();
  const stack = [t];
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u) || u.gradFn === null) continue;
    seen.add(u);
    ops.add(u.gradFn.op);
    stack.push(...u.gradFn.inputs);
  }
  return [...ops];
}

/**
 * mean over the batch of (||grad_x D(x)||_2 - 1)^2 at the points x (norms over every
 * non-batch axis), as a tensor that stays differentiable with respect to D's weights: the
 * input gradient is taken with createGraph, so the caller's backward differentiates it again.
 *
 * Side effect: the first backward also fills the .grad of D's weights; the caller clears
 * them before backpropagating its loss. Ops that cannot be differentiated twice (batch
 * normalization) throw a ValueError naming themselves.
 */
export function gradientPenalty(critic: (x: Tensor) => Tensor, points: Tensor): Tensor {
  const x = points.detach().setRequiresGrad(true);
  const scores = critic(x);
  checkScores('gradientPenalty', scores);
  try {
    sum(scores).backward(undefined, { createGraph: true });
  } catch (e) {
    if (e instanceof GradforgeError) throw new ValueError(`gradientPenalty: WGAN-GP differentiates the critic twice (createGraph), and the critic cannot be: ${e.message}`);
    throw e;
  }
  const g = x.grad;
  x.grad = null;
  if (g === null) throw new ValueError('gradientPenalty: the critic\'s output does not depend on its input');
  if (!g.requiresGrad) {
    throw new ValueError(`gradientPenalty: the critic's input gradient is not differentiable with respect to its weights: an op's backward pass was not recorded with createGraph (ops in the critic: ${graphOps(scores).join(', ')})`);
  }
  const axes = g.shape.map((_, i) => i).slice(1);
  const norms = sqrt(add(sum(square(g), axes), NORM_EPSILON));
  return mean(square(sub(norms, 1)));
}
