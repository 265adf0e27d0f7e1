// Storage recycling must be invisible: training with and without it gives the same numbers.
import * as gf from '../lib';
import { setBufferPoolEnabled, pooledBufferBytes, withScope, retain } from '../lib/memory';

async function trainSmallCnn(): Promise<{ history: Record<string, number[]>; prediction: number[] }> {
  gf.setSeed(11);
  const { xTrain, yTrain } = gf.datasets.mnistDigits({ flatten: false });
  const x = xTrain.slice([0, 0, 0, 0], [192, -1, -1, -1]);
  const y = gf.toCategorical(yTrain.slice([0], [192]), 10);
  const m = gf.sequential([
    gf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    gf.layers.batchNormalization(),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.dropout({ rate: 0.25 }),
    gf.layers.flatten(),
    gf.layers.dense({ units: 10, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const h = await m.fit(x, y, { epochs: 2, batchSize: 64, validationSplit: 0.25, verbose: 0 });
  const prediction = Array.from(m.predict(x.slice([0, 0, 0, 0], [130, -1, -1, -1]), { batchSize: 64 }).data);
  return { history: h.history, prediction };
}

describe('buffer pool', () => {
  test('training with recycled storage gives bit-identical results', async () => {
    const old = setBufferPoolEnabled(true);
    try {
      const pooled = await trainSmallCnn();
      expect(pooledBufferBytes()).toBeGreaterThan(0);
      setBufferPoolEnabled(false);
      const fresh = await trainSmallCnn();
      expect(pooled.history).toEqual(fresh.history);
      expect(pooled.prediction).toEqual(fresh.prediction);
    } finally {
      setBufferPoolEnabled(old);
    }
  });

  test('a scope recycles what it does not keep; retained and kept storage survives', () => {
    const old = setBufferPoolEnabled(true);
    try {
      let kept: gf.Tensor | null = null;
      let retained: gf.Tensor | null = null;
      let dropped: gf.Tensor | null = null;
      withScope(() => {
        dropped = gf.ones([100000]);
        retained = gf.full([100000], 2);
        retain(retained);
        kept = gf.full([100000], 3);
        return kept;
      }, (t) => [t]);
      // the dropped buffer is reused (zeroed) by the next allocation of its size in a scope
      const reused = withScope(() => gf.zeros([100000]), (t) => [t]);
      expect(reused.data).toBe(dropped!.data);
      expect(reused.data[0]).toBe(0);
      expect(retained!.data[5]).toBe(2);
      expect(kept!.data[5]).toBe(3);
    } finally {
      setBufferPoolEnabled(old);
    }
  });
});
