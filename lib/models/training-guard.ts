/**
 * One training loop at a time per set of weights. A fit() claims the model it trains and every
 * layer of it (layers own the weights, and two models, or a model and a GAN, can share them);
 * a second fit() that would touch any claimed part is refused, as TensorFlow.js refuses a
 * second fit on a model ("Cannot start training because another fit() call is ongoing"),
 * instead of interleaving optimizer steps on the same weights and sharing one stopTraining
 * flag. The claim is dropped when the fit ends, however it ends (a callback that throws too).
 *
 * What is not refused: predict, evaluate, getWeights, save ... during a fit, from a callback or
 * from another async task while fit awaits between batches. They read the weights as they are
 * at that moment and change nothing fit depends on.
 *
 * @example
 * const first = model.fit(x, y, {epochs: 5});
 * await model.fit(x, y);   // rejects: ValueError "fit: cannot start training model 'm' because another fit() call is ongoing ..."
 */
import { ValueError } from '../errors';

/** Something a training loop claims (a model, a GAN, a layer), and how messages name it. */
export interface TrainingPart {
  readonly target: object;
  readonly label: string;
}

/** Who holds a claim: e.g. "fit of model 'sequential_2'". */
interface Claim {
  readonly holder: string;
}

const claims = new WeakMap<object, Claim>();

/** Whether a training loop has claimed this object (a model, a GAN, a layer). */
export function isClaimed(target: object): boolean {
  return claims.has(target);
}

/**
 * Throws a ValueError when any part is being trained. `op` is the entry point refusing
 * ('fit', 'gan.fit', 'trainStep'), `subject` what it was asked to train.
 */
export function checkNotTraining(op: string, subject: string, parts: readonly TrainingPart[]): void {
  for (const p of parts) {
    const claim = claims.get(p.target);
    if (claim === undefined) continue;
    const via = p.label === subject ? '' : `: ${p.label} is being trained by it`;
    throw new ValueError(`${op}: cannot start training ${subject} because another fit() call is ongoing (${claim.holder})${via}; await it first (predict and evaluate may run meanwhile)`);
  }
}

/**
 * Claims every part for a training loop; returns the release, which the loop must call when
 * it ends (in a finally). Throws as checkNotTraining when a part is taken.
 */
export function claimTraining(op: string, subject: string, parts: readonly TrainingPart[]): () => void {
  checkNotTraining(op, subject, parts);
  const claim: Claim = { holder: `${op} of ${subject}` };
  for (const p of parts) claims.set(p.target, claim);
  return () => {
    for (const p of parts) if (claims.get(p.target) === claim) claims.delete(p.target);
  };
}
