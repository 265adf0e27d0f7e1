// SpatialDropout2D: whole feature maps dropped (one draw per image and channel), survivors
// scaled by 1 / (1 - rate); identity in inference; round-trips through save/load.
import * as gf from '../../lib';

test('drops whole channels per image and scales the rest', () => {
  const layer = gf.layers.spatialDropout2d({ rate: 0.4, seed: 3 });
  const x = gf.ones([20, 3, 4, 25]);
  const y = layer.apply(x, { training: true });
  expect(y.shape).toEqual([20, 3, 4, 25]);
  let dropped = 0;
  for (let n = 0; n < 20; n++) {
    for (let c = 0; c < 25; c++) {
      const vals = new Set<number>();
      for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++) vals.add(y.data[((n * 3 + h) * 4 + w) * 25 + c]);
      expect(vals.size).toBe(1);  // the whole map shares one draw
      const v = [...vals][0];
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo(1 / 0.6, 6);
    }
  }
  // 500 maps at rate 0.4: 200 expected dropped, well within 4 standard deviations (~44)
  expect(Math.abs(dropped - 200)).toBeLessThan(44);
  expect(Array.from(layer.apply(x, { training: false }).data).every((v) => v === 1)).toBe(true);
});

test('needs NHWC input and checks its rate', () => {
  expect(() => gf.layers.spatialDropout2d({ rate: 0.2 }).apply(gf.ones([2, 5]), { training: true }))
    .toThrow(/SpatialDropout2D needs NHWC input \[batch, height, width, channels\], got \[2, 5\]/);
  expect(() => gf.layers.spatialDropout2d({ rate: 1 })).toThrow(/rate must be a number in \[0, 1\)/);
});

test('round-trips through save and load with its Keras config', async () => {
  const m = gf.sequential([
    gf.layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [6, 6, 2] }),
    gf.layers.spatialDropout2d({ rate: 0.25 }),
    gf.layers.flatten(),
    gf.layers.dense({ units: 2 }),
  ]);
  const cfg = m.layers[1].getConfig();
  expect(m.layers[1].className).toBe('SpatialDropout2D');
  expect(cfg.rate).toBe(0.25);
  expect(cfg.data_format).toBe('channels_last');
  expect('noise_shape' in cfg).toBe(false);
  const h = gf.io.toMemory();
  await m.save(h);
  const back = await gf.loadModel(gf.io.fromMemory(h.artifacts!));
  expect(back.layers[1].className).toBe('SpatialDropout2D');
  expect(back.layers[1].getConfig()).toEqual(cfg);
  const x = gf.randn([3, 6, 6, 2], { seed: 4 });
  expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));
});
