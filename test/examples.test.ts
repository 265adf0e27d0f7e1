// The tutorial programs as tests of known figures: XOR converges; the MNIST MLP of the README
// reaches about 95% on the 2,000 held-out digits in 10 epochs (PyTorch, with the same data,
// initialization and optimizer: 94.7%); the tutorial CNN reaches about 97.5% in 5 epochs (over
// seeds 1234 and 1-5: 96.55-98.10%, mean 97.52%; any change of rounding anywhere moves a given
// seed within that spread, so the test asserts 97% for its seed: a real fault costs far more).
import { trainXor } from '../examples/xor';
import { trainMnistMlp } from '../examples/mnist-mlp';
import { trainMnistCnn } from '../examples/mnist-cnn';

describe('examples', () => {
  test('xor: a 2-2-1 network converges', async () => {
    const { predictions, loss } = await trainXor();
    expect(loss).toBeLessThan(0.05);
    expect(predictions.map(Math.round)).toEqual([0, 1, 1, 0]);
  });

  test('mnist-mlp reaches >= 94% held-out accuracy in 10 epochs (the data allows about 95%)', async () => {
    const r = await trainMnistMlp({ epochs: 10, verbose: 0 });
    console.log(`mnist-mlp: test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, loss ${r.testLoss.toFixed(4)}, ${r.seconds.toFixed(1)} s`);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.94);
  });

  test('mnist-cnn reaches >= 97% held-out accuracy in 5 epochs (about 97.5% over seeds)', async () => {
    const r = await trainMnistCnn({ epochs: 5, verbose: 0 });
    console.log(`mnist-cnn: test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, loss ${r.testLoss.toFixed(4)}, ${r.seconds.toFixed(1)} s`);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.97);
  });
});

describe('dcgan example', () => {
  // A smoke test of the example's wiring (models, data scaling, sample grids); that it learns
  // is tested on small problems in test/gan, and its digits are judged by bench/gan.ts.
  test('trains, writes a sample grid per epoch, and generates 28x28 images in [-1, 1]', async () => {
    const fs = await import('fs');
    const os = await import('os');
    const path = await import('path');
    const { allMnistDigits, trainDcgan } = await import('../examples/dcgan');
    const gf = await import('../lib');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-dcgan-'));
    const images = gf.sliceRows(allMnistDigits(), 0, 320);
    const { gan, history } = await trainDcgan({ images, epochs: 2, batchSize: 64, verbose: 0, samplesDir: dir });
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-001.png', 'epoch-002.png']);
    const samples = gan.generate(8, { seed: 1 });
    expect(samples.shape).toEqual([8, 28, 28, 1]);
    const v = samples.dataSync();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    expect(new Set(v).size).toBeGreaterThan(100);  // not a constant image
    for (const k of ['d_loss', 'g_loss', 'd_real', 'd_fake']) {
      expect(history.history[k]).toHaveLength(2);
      expect(history.history[k].every(Number.isFinite)).toBe(true);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
