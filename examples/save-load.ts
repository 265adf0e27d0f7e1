// Save, load and resume a model in the TensorFlow.js layers-model format: a small CNN learns
// to tell horizontal, vertical and diagonal strokes apart; it is saved to a folder
// (model.json + weights.bin), loaded back (same predictions, bit for bit), saved with its
// optimizer and resumed (the same losses as training straight on), and kept in memory as
// artifacts for a database. The best epoch is checkpointed on the way.
//   npm run example:save-load [folder]
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';

/** n 12x12 images of a stroke (0 horizontal, 1 vertical, 2 diagonal) with noise, and labels. */
function strokes(n: number, seed: number): [gf.Tensor, gf.Tensor] {
  const rng = new gf.Rng(seed);
  const size = 12;
  const x = new Float32Array(n * size * size);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 3;
    labels.push(cls);
    const at = 2 + rng.int(size - 4);
    for (let k = 0; k < size; k++) {
      const [r, c] = cls === 0 ? [at, k] : cls === 1 ? [k, at] : [k, (k + at) % size];
      x[i * size * size + r * size + c] = 1;
    }
    for (let p = 0; p < size * size; p++) x[i * size * size + p] += 0.2 * rng.normal();
  }
  return [new gf.Tensor(x, [n, size, size, 1]), gf.toCategorical(labels, 3)];
}

function build(): gf.Sequential {
  const model = gf.sequential([
    gf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', inputShape: [12, 12, 1] }),
    gf.layers.batchNormalization({ momentum: 0.8 }),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.flatten(),
    gf.layers.dropout({ rate: 0.25 }),
    gf.layers.dense({ units: 3, activation: 'softmax' }),
  ], { name: 'strokes' });
  model.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.01 }), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

export interface SaveLoadResult {
  folder: string;
  files: string[];
  sameAfterLoad: boolean;
  resumedLosses: number[];
  straightLosses: number[];
  artifactBytes: number;
  bestEpoch: number;
}

export async function runSaveLoad(folder = path.join(os.tmpdir(), 'gradforge-save-load'), log: (s: string) => void = () => undefined): Promise<SaveLoadResult> {
  fs.rmSync(folder, { recursive: true, force: true });
  const [x, y] = strokes(300, 1);
  const fitArgs = { batchSize: 32, verbose: 0 as const, validationSplit: 0.2, shuffle: true };

  // 1. train, keeping the best epoch on disk
  gf.setSeed(7);
  const model = build();
  const history = await model.fit(x, y, {
    ...fitArgs, epochs: 3, seed: 7,
    callbacks: [gf.callbacks.modelCheckpoint(`file://${folder}/best`, { monitor: 'val_accuracy', saveBestOnly: true })],
  });
  const acc = history.history.val_accuracy;
  const bestEpoch = acc.indexOf(Math.max(...acc));
  log(`trained 3 epochs: val_accuracy ${acc.map((a) => a.toFixed(3)).join(', ')} (best epoch ${bestEpoch + 1} checkpointed)`);

  // 2. save to a folder and load it back
  const dir = path.join(folder, 'model');
  await model.save(`file://${dir}`);
  const files = fs.readdirSync(dir).sort();
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')).weightsManifest[0];
  log(`saved to ${dir}: ${files.join(' + ')} (${manifest.weights.map((w: gf.io.WeightSpec) => `${w.name} [${w.shape.join(', ')}]`).join(', ')})`);
  const loaded = await gf.loadModel(`file://${dir}`);
  const [xt] = strokes(30, 2);
  const a = model.predict(xt).data;
  const b = loaded.predict(xt).data;
  const sameAfterLoad = a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
  log(`loaded: predictions ${sameAfterLoad ? 'identical, bit for bit' : 'DIFFERENT'} on 30 new images`);

  // 3. checkpoint with the optimizer, resume, compare with training straight on
  await model.save(`file://${folder}/ckpt`, { includeOptimizer: true });
  const resumed = await gf.loadModel(`file://${folder}/ckpt`);
  const hResumed = await resumed.fit(x, y, { ...fitArgs, epochs: 5, initialEpoch: 3 });
  // the same two epochs on the original model: the global random source is where it was
  // after epoch 3 in both cases, because loading draws nothing from it
  gf.setSeed(7);
  const again = build();
  await again.fit(x, y, { ...fitArgs, epochs: 3, seed: 7 });
  const hStraight = await again.fit(x, y, { ...fitArgs, epochs: 5, initialEpoch: 3 });
  log(`resumed from the checkpoint:  loss ${hResumed.history.loss.map((l) => l.toFixed(6)).join(', ')}`);
  log(`trained on without stopping: loss ${hStraight.history.loss.map((l) => l.toFixed(6)).join(', ')}`);

  // 4. artifacts in memory (for a database or an object store)
  const artifacts = await model.save(gf.io.toMemory());
  const fromDb = await gf.loadModel(gf.io.fromMemory(artifacts));
  log(`in memory: ${JSON.stringify(artifacts.modelTopology).length} bytes of topology, ${artifacts.weightData!.byteLength} bytes of weights; reloaded predicts ${fromDb.predict(xt).data.every((v, i) => Object.is(v, a[i])) ? 'the same' : 'DIFFERENTLY'}`);

  return {
    folder, files, sameAfterLoad, bestEpoch,
    resumedLosses: hResumed.history.loss, straightLosses: hStraight.history.loss,
    artifactBytes: artifacts.weightData!.byteLength,
  };
}

async function main(): Promise<void> {
  const r = await runSaveLoad(process.argv[2] ?? undefined, console.log);
  console.log(`models are in ${r.folder}`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
