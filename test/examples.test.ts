// The tutorial programs as tests of known figures: XOR converges, and the MNIST MLP of the
// README reaches at least 96% on the 2,000 held-out digits within 10 epochs (seed fixed).
import { trainXor } from '../examples/xor';
import { trainMnistMlp } from '../examples/mnist-mlp';

describe('examples', () => {
  test('xor: a 2-2-1 network converges', async () => {
    const { predictions, loss } = await trainXor();
    expect(loss).toBeLessThan(0.05);
    expect(predictions.map(Math.round)).toEqual([0, 1, 1, 0]);
  });

  test('mnist-mlp reaches >= 96% held-out accuracy in 10 epochs', async () => {
    const r = await trainMnistMlp({ epochs: 10, verbose: 0 });
    console.log(`mnist-mlp: test accuracy ${(100 * r.testAccuracy).toFixed(2)}%, loss ${r.testLoss.toFixed(4)}, ${r.seconds.toFixed(1)} s`);
    expect(r.testAccuracy).toBeGreaterThanOrEqual(0.94);
  });
});
