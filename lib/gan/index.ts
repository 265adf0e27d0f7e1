/**
 * GANs: training (minimax or WGAN-GP, optionally conditional), sampling, saving and loading,
 * and the objectives as functions for custom loops. lib/index.ts re-exports what users call.
 *
 * @example
 * const g = gf.gan({generator, discriminator, latentDim: 100, seed: 1});
 * await g.fit(images, {epochs: 50, batchSize: 256});
 * const samples = g.generate(16, {seed: 0});
 */
export { GAN, gan } from './gan';
export type { GenerateArgs } from './gan';
export type { GanArgs, GanConfig, GanLoss } from './config';
export type { GanFitArgs, GanStepLogs } from './fit';
export type { DiscriminatorLogs } from './steps';
export { GanCallback } from './callback';
export { LinkedLearningRate } from './linked-rate';
export { loadGan } from './load';
export {
  minimaxDiscriminatorLoss, minimaxGeneratorLoss, wassersteinCriticLoss, wassersteinGeneratorLoss,
  gradientPenalty, interpolate,
} from './losses';
