import * as gf from '../../lib';
import { Tensor } from '../../lib';
import { expectGradOk } from '../util/helpers';

/** Image b of x shifted by (dy, dx) with zero fill, as a flat array. */
function shifted(x: Tensor, b: number, dy: number, dx: number): number[] {
  const [, h, w, c] = x.shape;
  const out: number[] = [];
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let k = 0; k < c; k++) {
        const si = i - dy;
        const sj = j - dx;
        out.push(si < 0 || si >= h || sj < 0 || sj >= w ? 0 : x.data[((b * h + si) * w + sj) * c + k]);
      }
    }
  }
  return out;
}

describe('augmentation layers', () => {
  const x = gf.randUniform([6, 5, 7, 2], { seed: 1, minval: 0.1, maxval: 1 });

  test('identity outside training', () => {
    expect(gf.layers.randomFlip().apply(x, { training: false })).toBe(x);
    expect(gf.layers.randomTranslation({ heightFactor: 0.5, widthFactor: 0.5 }).apply(x, { training: false })).toBe(x);
  });

  test('randomFlip flips whole images horizontally, or leaves them', () => {
    const y = gf.layers.randomFlip({ mode: 'horizontal', seed: 3 }).apply(x, { training: true });
    let flipped = 0;
    for (let b = 0; b < 6; b++) {
      const img = Array.from(y.data.subarray(b * 70, (b + 1) * 70));
      const same = Array.from(x.data.subarray(b * 70, (b + 1) * 70));
      const mirror: number[] = [];
      for (let i = 0; i < 5; i++) for (let j = 0; j < 7; j++) for (let k = 0; k < 2; k++) mirror.push(x.data[((b * 5 + i) * 7 + (6 - j)) * 2 + k]);
      const isSame = img.every((v, i) => v === same[i]);
      const isMirror = img.every((v, i) => v === mirror[i]);
      expect(isSame || isMirror).toBe(true);
      if (isMirror) flipped++;
    }
    expect(flipped).toBeGreaterThan(0);
    expect(flipped).toBeLessThan(6);
  });

  test('randomTranslation shifts each image by whole pixels within the range (constant fill)', () => {
    const layer = gf.layers.randomTranslation({ heightFactor: 0.4, widthFactor: 0.3, fillMode: 'constant', seed: 5 });
    const y = layer.apply(x, { training: true });
    const shifts = new Set<string>();
    for (let b = 0; b < 6; b++) {
      const img = Array.from(y.data.subarray(b * 70, (b + 1) * 70));
      let found: string | null = null;
      for (let dy = -2; dy <= 2 && found === null; dy++) {
        for (let dx = -2; dx <= 2 && found === null; dx++) {
          const ref = shifted(x, b, dy, dx);
          if (ref.every((v, i) => Math.abs(v - img[i]) < 1e-7)) found = `${dy},${dx}`;
        }
      }
      expect(found).not.toBeNull();
      shifts.add(found!);
    }
    expect(shifts.size).toBeGreaterThan(1);
  });

  test('reflect fill never leaves empty pixels; the layers are differentiable', () => {
    const y = gf.layers.randomTranslation({ heightFactor: 0.4, widthFactor: 0.4, seed: 2 }).apply(x, { training: true });
    expect(Math.min(...Array.from(y.data))).toBeGreaterThanOrEqual(0.1);
    // fixed seeds make each call draw the same shifts, so the map is a fixed function
    expectGradOk((v) => gf.layers.randomTranslation({ heightFactor: 0.4, widthFactor: 0.4, fillMode: 'constant', seed: 9 })
      .apply(gf.layers.randomFlip({ seed: 9 }).apply(v, { training: true }), { training: true }).square(), [gf.randn([2, 3, 4, 1], { seed: 4 })]);
  });

  test('bad arguments and inputs', () => {
    expect(() => gf.layers.randomFlip({ mode: 'diagonal' as never })).toThrow(/mode must be/);
    expect(() => gf.layers.randomTranslation({ heightFactor: 2 })).toThrow('randomTranslation: heightFactor must be in [0, 1], got 2');
    expect(() => gf.layers.randomFlip().apply(gf.zeros([2, 3]), { training: true })).toThrow(/expected images \[batch, height, width, channels\], got \[2, 3\]/);
  });
});
