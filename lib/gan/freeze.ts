/**
 * Keeping the network that is not training untouched during the other one's step:
 * - its parameters stop requiring gradients for the duration (autograd then computes none
 *   for them, while gradients still flow through its activations to the other network);
 * - its non-trainable state (BatchNormalization's moving statistics, which a forward pass in
 *   training mode advances) is copied before and put back after, so only the network's own
 *   step moves its statistics.
 * Both are undone in a finally, so an exception mid-step leaves the network as it was.
 */
import type { Sequential } from '../models/sequential';
import { noteWeightWrite } from '../memory';
import { backendFor } from '../backend';

/** Runs fn with `model` frozen as described above. */
export function whileFrozen<T>(model: Sequential, fn: () => T): T {
  const params = model.weights.map((v) => v.value);
  const required = params.map((p) => p.requiresGrad);
  // the copies are on the weights' device (the step's scope frees a device copy after it)
  const state = model.nonTrainableWeights.map((v) => {
    const be = backendFor(v.value.device);
    return { be, storage: v.value.storage, copy: be.copy(v.value.storage) };
  });
  for (const p of params) p.requiresGrad = false;
  try {
    return fn();
  } finally {
    params.forEach((p, i) => { p.requiresGrad = required[i]; });
    noteWeightWrite();
    for (const s of state) s.be.assign(s.storage, s.copy);
  }
}

/** Clears the gradients of every weight of the models. */
export function clearGrads(...models: Sequential[]): void {
  for (const m of models) for (const v of m.weights) v.value.zeroGrad();
}
