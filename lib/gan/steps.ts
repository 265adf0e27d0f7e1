/**
 * One discriminator step and one generator step. Each is a plain computation that returns
 * numbers; the caller runs it inside a memory scope.
 *
 * Freezing (what keeps the network that is not training untouched):
 * - discriminator step: the fakes are generated under noGrad, so no graph reaches the
 *   generator, and whileFrozen puts its BatchNormalization statistics back;
 * - generator step: the forward, backward and update all run inside whileFrozen(discriminator),
 *   so autograd computes no gradient for the discriminator's weights (autograd checks
 *   requiresGrad during backward, hence backward must run inside too) and its statistics are
 *   restored; gradients still flow through its activations to the generator;
 * - each optimizer only ever receives its own network's trainable weights, and every weight's
 *   .grad is cleared after each step.
 * Both networks run in training mode in both steps (batch statistics, dropout), as Keras'
 * DCGAN tutorial does; only a network's own step advances its moving statistics.
 */
import { Tensor, allocate } from '../tensor';
import { noGrad } from '../autograd';
import type { Rng } from '../random';
import { add, mul } from '../ops/elementwise';
import type { Sequential } from '../models/sequential';
import type { Optimizer, ParamGrad } from '../optim/optimizer';
import type { GanConfig } from './config';
import { whileFrozen, clearGrads } from './freeze';
import { generatorInput, discriminatorInput } from './labels';
import {
  minimaxDiscriminatorLoss, minimaxGeneratorLoss, wassersteinCriticLoss, wassersteinGeneratorLoss,
  gradientPenalty, interpolate, meanOutput,
} from './losses';

/** What the steps need from the GAN. */
export interface GanParts {
  readonly generator: Sequential;
  readonly discriminator: Sequential;
  readonly generatorOptimizer: Optimizer;
  readonly discriminatorOptimizer: Optimizer;
  readonly config: GanConfig;
  /** The discriminator's last sigmoid is folded into the loss (its logits path runs). */
  readonly logitsPath: boolean;
}

/** A discriminator step's numbers. d_real / d_fake: mean D output (a probability for minimax). */
export interface DiscriminatorLogs {
  d_loss: number;
  d_real: number;
  d_fake: number;
}

/** z ~ N(0, 1), [n, latentDim], from the given generator. */
export function latentFrom(rng: Rng, n: number, latentDim: number): Tensor {
  const data = allocate('float32', n * latentDim);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, [n, latentDim]);
}

function uniformFrom(rng: Rng, n: number): Tensor {
  const data = allocate('float32', n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform();
  return new Tensor(data, [n]);
}

function runDiscriminator(p: GanParts, x: Tensor, labels: Int32Array | null): Tensor {
  return p.discriminator.apply(discriminatorInput(x, labels, p.config.numClasses ?? 0), { training: true, logits: p.logitsPath });
}

function withRegularization(m: Sequential, loss: Tensor): Tensor {
  const reg = m.regularizationLoss();
  return reg === null ? loss : add(loss, reg);
}

/** Applies the gradients of m's trainable weights with opt, then clears every .grad. */
function applyOwnGradients(m: Sequential, opt: Optimizer): void {
  const pairs: ParamGrad[] = [];
  for (const v of m.trainableWeights) if (v.value.grad !== null) pairs.push({ param: v.value, grad: v.value.grad });
  opt.applyGradients(pairs);
  clearGrads(m);
}

/** Fakes for the discriminator's step: no graph, the generator's statistics left as they were. */
function fakesFor(p: GanParts, rng: Rng, labels: Int32Array | null, n: number): Tensor {
  const z = latentFrom(rng, n, p.config.latentDim);
  const input = generatorInput(z, labels, p.config.numClasses ?? 0);
  return whileFrozen(p.generator, () => noGrad(() => p.generator.apply(input, { training: true })));
}

/** The discriminator's loss on a real batch and fakes (WGAN-GP: with its penalty). */
function discriminatorLoss(p: GanParts, rng: Rng, real: Tensor, fake: Tensor, labels: Int32Array | null): { loss: Tensor; logs: Omit<DiscriminatorLogs, 'd_loss'> } {
  const realOut = runDiscriminator(p, real, labels);
  const fakeOut = runDiscriminator(p, fake, labels);
  const minimax = p.config.loss === 'minimax';
  let loss = minimax ? minimaxDiscriminatorLoss(realOut, fakeOut, p.config.labelSmoothing) : wassersteinCriticLoss(realOut, fakeOut);
  if (!minimax && p.config.gradientPenaltyWeight > 0) {
    const points = interpolate(real, fake, uniformFrom(rng, real.shape[0]));
    const gp = gradientPenalty((x) => runDiscriminator(p, x, labels), points);
    clearGrads(p.discriminator); // the penalty's first backward filled them
    loss = add(loss, mul(gp, p.config.gradientPenaltyWeight));
  }
  return { loss, logs: { d_real: meanOutput(realOut, minimax), d_fake: meanOutput(fakeOut, minimax) } };
}

/** One update of the discriminator on a real batch (and as many fresh fakes). */
export function discriminatorStep(p: GanParts, rng: Rng, real: Tensor, labels: Int32Array | null): DiscriminatorLogs {
  const fake = fakesFor(p, rng, labels, real.shape[0]);
  clearGrads(p.discriminator);
  const { loss: dataLoss, logs } = discriminatorLoss(p, rng, real, fake, labels);
  const loss = withRegularization(p.discriminator, dataLoss);
  loss.backward();
  applyOwnGradients(p.discriminator, p.discriminatorOptimizer);
  return { d_loss: loss.item(), ...logs };
}

/** One update of the generator on n fresh latent vectors; returns g_loss. */
export function generatorStep(p: GanParts, rng: Rng, n: number, labels: Int32Array | null): number {
  const z = latentFrom(rng, n, p.config.latentDim);
  const input = generatorInput(z, labels, p.config.numClasses ?? 0);
  return whileFrozen(p.discriminator, () => {
    clearGrads(p.generator);
    const out = runDiscriminator(p, p.generator.apply(input, { training: true }), labels);
    const dataLoss = p.config.loss === 'minimax' ? minimaxGeneratorLoss(out) : wassersteinGeneratorLoss(out);
    const loss = withRegularization(p.generator, dataLoss);
    loss.backward();
    applyOwnGradients(p.generator, p.generatorOptimizer);
    clearGrads(p.discriminator);
    return loss.item();
  });
}
