// What the TensorFlow.js interop tests share: the real @tensorflow/tfjs (pure JS CPU backend),
// predicting on a gradforge tensor, and the largest difference of two outputs.
import * as gf from '../../lib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
export type TfModel = import('@tensorflow/tfjs').LayersModel;

/** A TensorFlow.js model's prediction on the float values and shape of a gradforge tensor. */
export async function tfPredict(model: TfModel, x: gf.Tensor): Promise<Float32Array> {
  const t = tf.tensor(Float32Array.from(x.data), [...x.shape]);
  const y = model.predict(t) as import('@tensorflow/tfjs').Tensor;
  const out = (await y.data()) as Float32Array;
  t.dispose();
  y.dispose();
  return out;
}

/** The largest |a[i] - b[i]|, after asserting equal lengths. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
