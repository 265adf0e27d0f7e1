/**
 * Callbacks for gan.fit. gan.fit calls the same hooks as model.fit, and a Callback gets the
 * GAN through setModel, as fit hands a callback its model: the GAN has what callbacks may
 * touch on a model (stopTraining, getWeights/setWeights, optimizer.learningRate), so
 * earlyStopping and learningRateScheduler work unchanged. GanCallback adds a typed `gan` field
 * for callbacks that sample images; a plain object of hooks can close over the gan instead.
 *
 * @example
 * class Samples extends gf.GanCallback {
 *   override onEpochEnd(epoch: number) { saveGrid(this.gan!.generate(16, {seed: 0}), `epoch-${epoch}.png`); }
 * }
 * await g.fit(x, {epochs: 50, callbacks: [new Samples(), {onEpochEnd: () => g.generate(4)}]});
 */
import { Callback, TrainableModel } from '../models/callbacks';
import { GAN } from './gan';

/** A Callback whose `gan` field is the GAN being trained (null outside gan.fit). */
export abstract class GanCallback extends Callback {
  protected gan: GAN | null = null;

  override setModel(model: TrainableModel): void {
    super.setModel(model);
    this.gan = model instanceof GAN ? model : null;
  }
}
