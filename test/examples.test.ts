// The tutorial programs as tests of known figures: XOR converges; the MNIST MLP of the README
// reaches about 95% on the 2,000 held-out digits in 10 epochs (PyTorch, with the same data,
// initialization and optimizer: 94.7%); the tutorial CNN reaches 97.5% in 5 epochs.
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

  test('mnist-cnn reaches >= 97.5% held-out accuracy in 5 epochs', async () => {
    const r = await trainMnistCnn({ epochs: 5, verbose: 0 });
    console.log(`mnist-cnn: test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, loss ${r.testLoss.toFixed(4)}, ${r.seconds.toFixed(1)} s`);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.975);
  });
});
