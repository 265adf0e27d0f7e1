/**
 * The GAN's options and their checks: numbers in range, and the two models fitting together
 * (latent size -> generator input, generator output -> discriminator input, one output per
 * sample), so a mismatch is reported at gan() with both shapes rather than mid-training.
 */
import { ShapeError, ValueError, fmtShape } from '../errors';
import { Sequential } from '../models/sequential';
import type { Shape } from '../nn/layer';
import { getOptimizer, Optimizer } from '../optim';
import { adam } from '../optim/adam';

export type GanLoss = 'minimax' | 'wasserstein-gp';

export interface GanArgs {
  /** Maps [batch, latentDim (+ numClasses)] to samples shaped like the real data. */
  generator: Sequential;
  /**
   * Maps samples (+ label channels when conditional) to one logit / critic score per sample,
   * [batch, 1]. A last activation 'sigmoid' is allowed with 'minimax' (it is folded into the
   * loss: the model runs on its logits path, as fit does).
   */
  discriminator: Sequential;
  /** Size of the standard-normal latent vector z. */
  latentDim: number;
  /** Default adam({learningRate: 2e-4, beta1: 0.5}) for minimax (DCGAN); adam({learningRate: 1e-4, beta1: 0, beta2: 0.9}) for WGAN-GP. */
  generatorOptimizer?: string | Optimizer;
  /** Same defaults as generatorOptimizer. */
  discriminatorOptimizer?: string | Optimizer;
  /** 'minimax' (default, non-saturating generator loss) or 'wasserstein-gp'. */
  loss?: GanLoss;
  /** One-sided label smoothing in [0, 1): real targets become 1 - labelSmoothing (minimax only). */
  labelSmoothing?: number;
  /** Discriminator steps per generator step, each on the same real batch with fresh noise (default 1). */
  discriminatorSteps?: number;
  /** Weight lambda of the gradient penalty (default 10; WGAN-GP only). */
  gradientPenaltyWeight?: number;
  /** Number of classes of a conditional GAN (see lib/gan/labels.ts for the input contract). */
  numClasses?: number;
  /** Seeds the GAN's own random source (latent noise, shuffling, interpolation points). */
  seed?: number;
}

/** The validated settings that define a GAN's training (what gan.json stores). */
export interface GanConfig {
  latentDim: number;
  loss: GanLoss;
  labelSmoothing: number;
  discriminatorSteps: number;
  gradientPenaltyWeight: number;
  /** null when not conditional. */
  numClasses: number | null;
}

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ValueError(`gan: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** The settings from the arguments, each checked. */
export function resolveConfig(args: GanArgs): GanConfig {
  const loss = args.loss ?? 'minimax';
  if (loss !== 'minimax' && loss !== 'wasserstein-gp') throw new ValueError(`gan: loss must be 'minimax' or 'wasserstein-gp', got '${String(loss)}'`);
  const labelSmoothing = args.labelSmoothing ?? 0;
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new ValueError(`gan: labelSmoothing must be a number in [0, 1), got ${String(labelSmoothing)}`);
  }
  if (loss === 'wasserstein-gp' && labelSmoothing !== 0) throw new ValueError(`gan: labelSmoothing (${labelSmoothing}) has no meaning for 'wasserstein-gp' (a critic has no labels)`);
  const gp = args.gradientPenaltyWeight ?? 10;
  if (typeof gp !== 'number' || !Number.isFinite(gp) || gp < 0) throw new ValueError(`gan: gradientPenaltyWeight must be a finite number >= 0, got ${String(gp)}`);
  if (loss === 'minimax' && args.gradientPenaltyWeight !== undefined) throw new ValueError("gan: gradientPenaltyWeight applies to loss 'wasserstein-gp' only");
  return {
    latentDim: checkInt('latentDim', args.latentDim, 1),
    loss,
    labelSmoothing,
    discriminatorSteps: checkInt('discriminatorSteps', args.discriminatorSteps ?? 1, 1),
    gradientPenaltyWeight: gp,
    numClasses: args.numClasses === undefined || args.numClasses === null ? null : checkInt('numClasses', args.numClasses, 2),
  };
}

/** A Keras-style shape for messages: [null, 28, 28, 1] -> [-1, 28, 28, 1]. */
function show(s: Shape): string {
  return fmtShape(s.map((d) => d ?? -1));
}

function sameDims(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => i === 0 || d === b[i]);
}

function builtInput(role: string, m: Sequential): Shape {
  const s = m.inputShape;
  if (s === null) throw new ValueError(`gan: the ${role} '${m.name}' is not built: give its first layer an inputShape`);
  return s;
}

/** The activation of the model's last layer, when it has one ('linear', 'sigmoid', ...). */
export function lastActivation(m: Sequential): string | undefined {
  const last = m.layers[m.layers.length - 1] as { activationName?: string } | undefined;
  return last?.activationName;
}

/**
 * Checks that the models fit each other and the loss. Returns whether the discriminator runs
 * on its logits path (a final sigmoid folded into the loss).
 */
export function checkModels(g: Sequential, d: Sequential, c: GanConfig): { logitsPath: boolean } {
  if (!(g instanceof Sequential)) throw new ValueError(`gan: generator must be a Sequential model, got ${String(g)}`);
  if (!(d instanceof Sequential)) throw new ValueError(`gan: discriminator must be a Sequential model, got ${String(d)}`);
  if (g === d) throw new ValueError('gan: the generator and the discriminator must be two different models');
  const k = c.numClasses ?? 0;
  const gIn = builtInput('generator', g);
  const wantG: Shape = [null, c.latentDim + k];
  if (!sameDims(gIn, wantG)) {
    const what = k > 0 ? `latentDim ${c.latentDim} + numClasses ${k}` : `latentDim ${c.latentDim}`;
    throw new ShapeError(`gan: the generator '${g.name}' takes input ${show(gIn)}, but ${what} needs ${show(wantG)}`);
  }
  const gOut = g.outputShape;
  const dIn = builtInput('discriminator', d);
  const wantD: Shape = k > 0 ? [...gOut.slice(0, -1), (gOut[gOut.length - 1] ?? 0) + k] : gOut;
  if (!sameDims(dIn, wantD)) {
    const how = k > 0 ? ` (the generator's output ${show(gOut)} plus ${k} label channels on the last axis)` : ` (the generator's output ${show(gOut)})`;
    throw new ShapeError(`gan: the discriminator '${d.name}' takes input ${show(dIn)}, but it must take ${show(wantD)}${how}`);
  }
  const dOut = d.outputShape;
  if (!sameDims(dOut, [null, 1])) throw new ShapeError(`gan: the discriminator '${d.name}' must output one value per sample, [-1, 1], got ${show(dOut)}`);
  return { logitsPath: checkLastActivation(d, c.loss) };
}

function checkLastActivation(d: Sequential, loss: GanLoss): boolean {
  const act = lastActivation(d);
  if (act === undefined || act === 'linear') return false;
  if (act === 'sigmoid' && loss === 'minimax') return true;
  const want = loss === 'minimax' ? "'linear' (a logit) or 'sigmoid' (folded into the loss)" : "'linear' (an unbounded critic score)";
  throw new ValueError(`gan: the discriminator's last layer '${d.layers[d.layers.length - 1].name}' has activation '${act}'; with loss '${loss}' it must be ${want}`);
}

/** WGAN-GP differentiates the critic twice: refuse layers that cannot be, before training. */
export function checkCriticLayers(d: Sequential): void {
  for (const l of d.layers) {
    if (l.className === 'BatchNormalization') {
      throw new ValueError(`gan: loss 'wasserstein-gp' needs gradients of gradients through the critic, and layer '${l.name}' (BatchNormalization) has none; WGAN-GP critics use no batch normalization (Gulrajani et al. suggest layer normalization or none)`);
    }
  }
}

/** The optimizer given (a name or an object), or the loss's default. */
export function resolveOptimizer(role: string, opt: string | Optimizer | undefined, loss: GanLoss): Optimizer {
  if (opt === undefined) return loss === 'minimax' ? adam({ learningRate: 2e-4, beta1: 0.5 }) : adam({ learningRate: 1e-4, beta1: 0, beta2: 0.9 });
  if (typeof opt !== 'string' && !(opt instanceof Optimizer)) throw new ValueError(`gan: ${role}Optimizer must be a name ('adam') or an optimizer, got ${String(opt)}`);
  return getOptimizer(opt);
}
