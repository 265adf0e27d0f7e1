/**
 * GAN: trains a generator against a discriminator (minimax or WGAN-GP, optionally
 * conditional), generates samples, and saves / reloads both networks with the training state.
 *
 * The discriminator outputs one value per sample, [batch, 1]: a logit for 'minimax' (a last
 * 'sigmoid' activation is folded into the loss: the model runs on its logits path, as fit does
 * for sigmoid + binary crossentropy), an unbounded critic score for 'wasserstein-gp'.
 *
 * Conditional GANs (numClasses K): the generator's input is concat(z, oneHot(label)), so its
 * inputShape is [latentDim + K]; the discriminator sees the sample with K extra channels on the
 * last axis holding the one-hot label at every position, so for images [h, w, c] its inputShape
 * is [h, w, c + K]. gan() checks both shapes.
 *
 * Freezing and BatchNormalization: see lib/gan/steps.ts. In short, the network that is not
 * training gets no gradient and no optimizer step; both networks run in training mode in both
 * steps (batch statistics, as Keras' DCGAN tutorial), and only a network's own step advances
 * its moving statistics. WGAN-GP critics cannot contain BatchNormalization (gradients of
 * gradients).
 *
 * Randomness: training (latent noise, shuffling, interpolation points) draws from the GAN's own
 * generator, seeded by `seed` (else from the global seed at creation), and saved with the GAN,
 * so a reloaded GAN continues exactly. generate / sampleLatent draw from their `seed`, else from
 * a second stream of the GAN's, so sampling (in a callback, say) never shifts training's
 * sequence, nor the global generator that dropout masks draw from.
 *
 * @example
 * const g = gf.gan({generator, discriminator, latentDim: 100, labelSmoothing: 0.1, seed: 1});
 * await g.fit(images, {epochs: 50, batchSize: 256,
 *   callbacks: {onEpochEnd: (epoch) => show(g.generate(16, {seed: 0}))}});
 * await g.save('./dcgan', {includeOptimizer: true});
 * const again = await gf.loadGan('./dcgan');      // generates the same, trains on exactly
 */
import { Tensor } from '../tensor';
import { ShapeError, ValueError, fmtShape } from '../errors';
import { Rng, rngFor } from '../random';
import { withScope } from '../memory';
import type { Sequential } from '../models/sequential';
import { checkBatchSize } from '../models/sequential';
import type { History, TrainableModel } from '../models/callbacks';
import type { Optimizer } from '../optim/optimizer';
import { GanArgs, GanConfig, resolveConfig, checkModels, checkCriticLayers, resolveOptimizer } from './config';
import { checkLabels, rejectLabels, generatorInput } from './labels';
import { GanParts, DiscriminatorLogs, discriminatorStep, generatorStep, latentFrom } from './steps';
import { fitGanLoop, GanFitArgs, GanStepLogs } from './fit';
import { LinkedLearningRate } from './linked-rate';
import { saveGan } from './save';
import { TrainingPart, checkNotTraining, claimTraining, isClaimed } from '../models/training-guard';

export interface GenerateArgs {
  /** Seeds the latent noise: the same seed gives the same samples bit for bit. */
  seed?: number;
  /** Class indices, one per sample (conditional GANs only, and required there). */
  labels?: Tensor | number[];
  /** Samples per generator pass (default 32). */
  batchSize?: number;
}

/** Class indices or nothing, checked against the GAN's kind. */
type LabelInput = Tensor | readonly number[] | undefined;

export class GAN implements GanParts, TrainableModel {
  readonly generator: Sequential;
  readonly discriminator: Sequential;
  readonly generatorOptimizer: Optimizer;
  readonly discriminatorOptimizer: Optimizer;
  readonly config: Readonly<GanConfig>;
  readonly logitsPath: boolean;
  /**
   * Set by a callback to end fit: after the current batch when set in a batch hook (the epoch
   * still ends, and counts in `epoch`), after the epoch when set in onEpochEnd.
   */
  stopTraining = false;
  /** Epochs trained so far; fit numbers its epochs from here (and a reloaded GAN keeps it). */
  epoch = 0;
  /** The learning rate callbacks see: the generator's; setting it scales both optimizers. */
  readonly optimizer: LinkedLearningRate;
  /** Training's random source (noise, shuffling, interpolation points); saved with the GAN. */
  private readonly rng: Rng;
  /** Unseeded sampling's source: separate, so sampling never shifts training's sequence. */
  private readonly sampleRng: Rng;

  constructor(args: GanArgs) {
    if (args === null || typeof args !== 'object') throw new ValueError('gan: expected {generator, discriminator, latentDim, ...}');
    const config = resolveConfig(args);
    this.logitsPath = checkModels(args.generator, args.discriminator, config).logitsPath;
    if (config.loss === 'wasserstein-gp') checkCriticLayers(args.discriminator);
    this.generator = args.generator;
    this.discriminator = args.discriminator;
    this.config = Object.freeze(config);
    this.generatorOptimizer = resolveOptimizer('generator', args.generatorOptimizer, config.loss);
    this.discriminatorOptimizer = resolveOptimizer('discriminator', args.discriminatorOptimizer, config.loss);
    if (this.generatorOptimizer === this.discriminatorOptimizer) {
      throw new ValueError('gan: the generator and the discriminator need two optimizer objects (one optimizer\'s step count and moments cannot serve both)');
    }
    this.optimizer = new LinkedLearningRate(this.generatorOptimizer, this.discriminatorOptimizer);
    if (args.seed !== undefined && !Number.isFinite(args.seed)) throw new ValueError(`gan: seed must be a finite number, got ${args.seed}`);
    const seed = args.seed ?? rngFor().nextUint32();
    this.rng = new Rng(seed);
    this.sampleRng = new Rng(seed + SAMPLING_STREAM);
  }

  /**
   * n standard-normal latent vectors [n, latentDim], from `seed` (else the GAN's sampling stream).
   * @example const z = g.sampleLatent(16, 0);   // g.generator.predict(z) equals g.generate(16, {seed: 0})
   */
  sampleLatent(n: number, seed?: number): Tensor {
    if (seed !== undefined && !Number.isFinite(seed)) throw new ValueError(`sampleLatent: seed must be a finite number, got ${seed}`);
    return latentFrom(seed === undefined ? this.sampleRng : new Rng(seed), checkCount('sampleLatent', n), this.config.latentDim);
  }

  /**
   * n samples from the generator in inference mode (BatchNormalization on its moving
   * statistics, no dropout).
   * @example const digits = g.generate(10, {seed: 3, labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]});
   */
  generate(n: number, opts: GenerateArgs = {}): Tensor {
    checkCount('generate', n);
    const labels = this.labelsFor('generate', opts.labels, n);
    const batchSize = checkBatchSize('generate', opts.batchSize ?? 32);
    const input = generatorInput(this.sampleLatent(n, opts.seed), labels, this.config.numClasses ?? 0);
    return this.generator.predict(input, { batchSize });
  }

  /**
   * One discriminator update on a batch of real samples and as many fresh fakes (conditional:
   * the fakes get the real samples' labels), for custom training loops.
   * @example const {d_loss} = g.trainDiscriminator(batch);
   */
  trainDiscriminator(real: Tensor, labels?: Tensor | number[]): DiscriminatorLogs {
    this.checkIdle('trainDiscriminator');
    const x = this.checkReal('trainDiscriminator', real);
    const idx = this.labelsFor('trainDiscriminator', labels, x.shape[0]);
    return withScope(() => discriminatorStep(this, this.rng, x, idx));
  }

  /**
   * One generator update on n fresh latent vectors (with these labels when conditional);
   * returns g_loss.
   * @example const gLoss = g.trainGenerator(64);
   */
  trainGenerator(n: number, labels?: Tensor | number[]): number {
    this.checkIdle('trainGenerator');
    checkCount('trainGenerator', n);
    const idx = this.labelsFor('trainGenerator', labels, n);
    return withScope(() => generatorStep(this, this.rng, n, idx));
  }

  /**
   * What fit does per batch: discriminatorSteps discriminator updates (the same real batch,
   * fresh noise each), then one generator update on as many samples.
   * @example const logs = g.trainStep(batch);   // {d_loss, g_loss, d_real, d_fake}
   */
  trainStep(real: Tensor, labels?: Tensor | number[]): GanStepLogs {
    this.checkIdle('trainStep');
    const x = this.checkReal('trainStep', real);
    const idx = this.labelsFor('trainStep', labels, x.shape[0]);
    return withScope(() => this.step(x, idx));
  }

  /**
   * Trains on real samples [n, ...generator output shape]; resolves to the History of the
   * epoch logs d_loss, g_loss, d_real, d_fake (d_real / d_fake: mean D output, a probability
   * for minimax, the critic score for WGAN-GP; the discriminator's numbers are means over its
   * steps in each batch).
   *
   * One training loop at a time: while gan.fit runs, another gan.fit of this GAN (or of a GAN
   * sharing its generator or discriminator), a model.fit of its generator or discriminator,
   * and trainStep / trainDiscriminator / trainGenerator are refused with a ValueError (they
   * would step the same weights with the same optimizers); likewise gan.fit is refused while
   * either network is in a model.fit. generate, predict and evaluate may run during gan.fit,
   * from a callback or from other async code: they see the weights of that moment and leave
   * training's results unchanged (generate without a seed draws from the sampling stream, not
   * training's).
   * @example await g.fit(x, {epochs: 20, batchSize: 128, labels})
   */
  async fit(realSamples: Tensor, args: GanFitArgs = {}): Promise<History> {
    const release = claimTraining('gan.fit', this.label(), this.trainingParts());
    try {
      if (args === null || typeof args !== 'object') throw new ValueError('gan.fit: options must be an object such as {epochs: 10}');
      const x = this.checkReal('gan.fit', realSamples);
      const labels = this.labelsFor('gan.fit', args.labels, x.shape[0]);
      return await fitGanLoop({ model: this, step: (b, l) => this.step(b, l), shuffle: (o) => this.rng.shuffle(o) }, x, labels, args);
    } finally {
      release();
    }
  }

  /** Whether gan.fit is training this GAN now. */
  get isTraining(): boolean {
    return isClaimed(this);
  }

  /** How errors name this GAN. */
  private label(): string {
    return `GAN (generator '${this.generator.name}', discriminator '${this.discriminator.name}')`;
  }

  /** What a training loop over this GAN claims: the GAN, both networks and their layers. */
  private trainingParts(): TrainingPart[] {
    return [{ target: this, label: this.label() }, ...this.generator.trainingParts(), ...this.discriminator.trainingParts()];
  }

  /** The single-step entry points refuse to run while a fit trains any part of the GAN. */
  private checkIdle(op: string): void {
    checkNotTraining(op, this.label(), this.trainingParts());
  }

  /** The generator's weights, then the discriminator's (copies). */
  getWeights(): Tensor[] {
    return [...this.generator.getWeights(), ...this.discriminator.getWeights()];
  }

  setWeights(ws: readonly Tensor[]): void {
    const k = this.generator.weights.length;
    const need = k + this.discriminator.weights.length;
    if (!Array.isArray(ws) || ws.length !== need) throw new ValueError(`gan.setWeights: expected ${need} tensors (generator's, then discriminator's), got ${Array.isArray(ws) ? ws.length : String(ws)}`);
    this.generator.setWeights(ws.slice(0, k));
    this.discriminator.setWeights(ws.slice(k));
  }

  /**
   * Saves to a folder: generator/ and discriminator/ (layers-model format, loadable by
   * gf.loadModel and TensorFlow.js) and gan.json (the settings, epoch count, random state and
   * optimizer configs; with includeOptimizer also the optimizers' state in optimizers.bin).
   * 'file://dir' is accepted too, so modelCheckpoint can save a GAN.
   * @example await g.save('./checkpoints/gan', {includeOptimizer: true})
   */
  async save(dir: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    await saveGan(this, dir, opts);
  }

  /** @internal the training generator's state, for saving. */
  randomState(): number[] {
    return this.rng.getState();
  }

  /** @internal restores a saved training random state. */
  setRandomState(state: readonly number[]): void {
    this.rng.setState(state);
  }

  /** @internal the state of the stream generate()/sampleLatent() draw from without a seed. */
  samplingState(): number[] {
    return this.sampleRng.getState();
  }

  /** @internal restores a saved sampling stream. */
  setSamplingState(state: readonly number[]): void {
    this.sampleRng.setState(state);
  }

  private step(x: Tensor, labels: Int32Array | null): GanStepLogs {
    const k = this.config.discriminatorSteps;
    const d = { d_loss: 0, d_real: 0, d_fake: 0 };
    for (let i = 0; i < k; i++) {
      const s = discriminatorStep(this, this.rng, x, labels);
      d.d_loss += s.d_loss / k;
      d.d_real += s.d_real / k;
      d.d_fake += s.d_fake / k;
    }
    const gLoss = generatorStep(this, this.rng, x.shape[0], labels);
    return { d_loss: d.d_loss, g_loss: gLoss, d_real: d.d_real, d_fake: d.d_fake };
  }

  /** Real samples must look like the generator's output: [n, ...output shape], n >= 1. */
  private checkReal(op: string, x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new ValueError(`${op}: real samples must be a Tensor, got ${String(x)}`);
    const want = this.generator.outputShape;
    if (x.rank !== want.length || want.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
      throw new ShapeError(`${op}: real samples have shape ${fmtShape(x.shape)}, but the generator makes ${fmtShape(want.map((d) => d ?? -1))} (batch first; -1 is any)`);
    }
    if (x.shape[0] < 1) throw new ShapeError(`${op}: no real samples (shape ${fmtShape(x.shape)})`);
    return x.dtype === 'float32' ? x : x.cast('float32');
  }

  private labelsFor(op: string, labels: LabelInput, n: number): Int32Array | null {
    const k = this.config.numClasses;
    if (k === null) {
      rejectLabels(op, labels);
      return null;
    }
    return checkLabels(op, labels, n, k);
  }
}

/** Offsets the sampling stream's seed from training's (any constant makes an unrelated stream). */
const SAMPLING_STREAM = 0x6a09e667;

function checkCount(op: string, n: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new ValueError(`${op}: n must be an integer >= 1, got ${String(n)}`);
  return n;
}

/**
 * A GAN over two Sequential models (see GAN for the contract between them).
 * @example gf.gan({generator, discriminator, latentDim: 100, loss: 'wasserstein-gp', discriminatorSteps: 5})
 */
export function gan(args: GanArgs): GAN {
  return new GAN(args);
}
