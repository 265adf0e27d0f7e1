// XOR with a 2-2-1 network, as in the classic numpy tutorial: two tanh hidden units are
// enough to separate what no single line can.
//   npm run example:xor
import * as gf from '../lib';

export async function trainXor(verbose: 0 | 1 | 2 = 0): Promise<{ predictions: number[]; loss: number }> {
  gf.setSeed(42);
  const x = gf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = gf.tensor([[0], [1], [1], [0]]);
  const model = gf.sequential([
    gf.layers.dense({ units: 2, activation: 'tanh', inputShape: [2] }),
    gf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.1 }), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  const history = await model.fit(x, y, { epochs: 300, batchSize: 4, verbose });
  const predictions = Array.from(model.predict(x).data);
  const losses = history.history.loss;
  return { predictions, loss: losses[losses.length - 1] };
}

async function main(): Promise<void> {
  const { predictions, loss } = await trainXor();
  console.log(`final loss ${loss.toFixed(4)}`);
  [[0, 0], [0, 1], [1, 0], [1, 1]].forEach(([a, b], i) => {
    console.log(`${a} xor ${b} -> ${predictions[i].toFixed(3)} (${Math.round(predictions[i])})`);
  });
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
