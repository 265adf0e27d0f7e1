// bench/mnist-mlp: the README's MNIST MLP (784-128-128-10, Adam, batch 128, 10 epochs,
// validationSplit 0.1) trained by gradforge and, in the same run, by PyTorch on the same
// 8,000 digits with the same initialization scheme and hyperparameters, alternating runs so
// that machine noise hits both alike. Prints ms per training step, wall time and held-out
// accuracy for 1 and 2 threads; writes bench/results/mnist-mlp.json.
//   npm run bench:mnist-mlp            (PyTorch columns need /usr/bin/python3 with torch)
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as gf from '../lib';
import { mnistMlp } from '../examples/mnist-mlp';
import { median, spread, torchAvailable, torchEnv } from './util';

const EPOCHS = 10;
const BATCH = 128;
const ROUNDS = 3;

interface RunResult {
  msPerStep: number;
  seconds: number;
  accuracy: number;
}

async function runGradforge(threads: number, seed: number): Promise<RunResult> {
  gf.setNumThreads(threads);
  const { xTrain, yTrain, xTest, yTest } = gf.datasets.mnistDigits();
  gf.setSeed(seed);
  const model = mnistMlp();
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const y = gf.toCategorical(yTrain, 10);
  const started = process.hrtime.bigint();
  await model.fit(xTrain, y, { epochs: EPOCHS, batchSize: BATCH, validationSplit: 0.1, verbose: 0 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const steps = EPOCHS * Math.ceil((xTrain.shape[0] * 0.9) / BATCH);
  const [, accuracy] = model.evaluate(xTest, gf.toCategorical(yTest, 10));
  return { msPerStep: (seconds * 1000) / steps, seconds, accuracy };
}

const TORCH_SCRIPT = `
import sys, time, json, numpy as np, torch, torch.nn as nn
d, threads, seed, epochs, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
xtr = np.fromfile(d + '/xtr.bin', dtype=np.float32).reshape(-1, 784); ytr = np.fromfile(d + '/ytr.bin', dtype=np.int32)
xte = np.fromfile(d + '/xte.bin', dtype=np.float32).reshape(-1, 784); yte = np.fromfile(d + '/yte.bin', dtype=np.int32)
ntr = int(len(xtr) * 0.9)
X = torch.tensor(xtr[:ntr]); Y = torch.tensor(ytr[:ntr]).long(); Xv = torch.tensor(xtr[ntr:]); Yv = torch.tensor(ytr[ntr:]).long()
torch.manual_seed(seed)
m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
for l in m:
    if isinstance(l, nn.Linear): nn.init.xavier_uniform_(l.weight); nn.init.zeros_(l.bias)
opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7)
t = time.perf_counter(); steps = 0
for ep in range(epochs):
    perm = torch.randperm(ntr)
    for i in range(0, ntr, batch):
        idx = perm[i:i + batch]; opt.zero_grad()
        out = m(X[idx]); loss = nn.functional.cross_entropy(out, Y[idx]); loss.backward(); opt.step(); steps += 1
        acc = (out.argmax(1) == Y[idx]).float().mean().item()   # the per-batch metric fit() reports
    with torch.no_grad(): vl = nn.functional.cross_entropy(m(Xv), Yv).item()   # fit()'s validation pass
secs = time.perf_counter() - t
with torch.no_grad(): acc = float((m(torch.tensor(xte)).argmax(1).numpy() == yte).mean())
print(json.dumps({'msPerStep': secs * 1000 / steps, 'seconds': secs, 'accuracy': acc}))
`;

function runTorch(dir: string, threads: number, seed: number): RunResult {
  const r = spawnSync('/usr/bin/python3', [path.join(dir, 'mlp.py'), dir, String(threads), String(seed), String(EPOCHS), String(BATCH)],
    { encoding: 'utf8', env: torchEnv(threads) });
  if (r.status !== 0) throw new Error(`PyTorch run failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RunResult;
}

async function main(): Promise<void> {
  const haveTorch = torchAvailable();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-mlp-'));
  if (haveTorch) {
    const d = gf.datasets.mnistDigits();
    const write = (name: string, a: Float32Array | Int32Array): void => fs.writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    write('xtr.bin', d.xTrain.data as Float32Array);
    write('ytr.bin', d.yTrain.data as Int32Array);
    write('xte.bin', d.xTest.data as Float32Array);
    write('yte.bin', d.yTest.data as Int32Array);
    fs.writeFileSync(path.join(dir, 'mlp.py'), TORCH_SCRIPT);
  } else {
    console.log('(no /usr/bin/python3 with torch: PyTorch columns skipped; apt-get install python3-torch libopenblas0-openmp)');
  }
  const defaultThreads = gf.backendInfo().numThreads;
  await runGradforge(1, 0); // warm-up: load the data, JIT the hot paths
  const rows: Record<string, unknown>[] = [];
  console.log(`MNIST MLP 784-128-128-10, Adam, batch ${BATCH}, ${EPOCHS} epochs on 7,200 digits; ` +
    `median (min-max) of ${ROUNDS} rounds, each running gradforge and PyTorch on 1 then 2 threads\n`);
  console.log('threads | gradforge ms/step  | acc    | PyTorch ms/step    | acc    | PyTorch/gradforge time per round');
  const runs: Record<number, { g: RunResult[]; t: RunResult[] }> = { 1: { g: [], t: [] }, 2: { g: [], t: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const threads of [1, 2]) {
      runs[threads].g.push(await runGradforge(threads, r + 1));
      if (haveTorch) runs[threads].t.push(runTorch(dir, threads, r + 1));
    }
  }
  for (const threads of [1, 2]) {
    const { g, t } = runs[threads];
    const gm = { msPerStep: median(g.map((x) => x.msPerStep)), seconds: median(g.map((x) => x.seconds)), accuracy: median(g.map((x) => x.accuracy)) };
    const tm = haveTorch ? { msPerStep: median(t.map((x) => x.msPerStep)), seconds: median(t.map((x) => x.seconds)), accuracy: median(t.map((x) => x.accuracy)) } : null;
    // Paired per round: both sides ran back to back, so each ratio saw the same machine.
    const ratios = t.map((x, i) => x.seconds / g[i].seconds);
    const ratio = tm ? median(ratios) : NaN;
    console.log(`${String(threads).padStart(7)} | ${spread(g.map((x) => x.msPerStep), 2).padStart(18)} | ${(100 * gm.accuracy).toFixed(2)}% | ` +
      (tm ? `${spread(t.map((x) => x.msPerStep), 2).padStart(18)} | ${(100 * tm.accuracy).toFixed(2)}% | ${spread(ratios, 2)}x` : '                 - |      - | -'));
    rows.push({ threads, gradforge: gm, pytorch: tm, pytorchOverGradforgeTime: tm ? ratio : null, runs: { gradforge: g, pytorch: t } });
  }
  gf.setNumThreads(defaultThreads);
  fs.rmSync(dir, { recursive: true, force: true });
  const out = path.join(__dirname, '..', '..', 'bench', 'results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'mnist-mlp.json'), JSON.stringify({ date: new Date().toISOString(), backend: gf.backendInfo(), rows }, null, 2));
  console.log(`\nwrote ${path.join(out, 'mnist-mlp.json')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
