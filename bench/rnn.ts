// Recurrent training throughput beside PyTorch, measured in the same run with alternating
// rounds: Embedding(10000, 64) -> LSTM|GRU(128) -> Dense(1, sigmoid), batch 64, 100 timesteps,
// Adam, binary cross-entropy, on the same random ids and labels; 1 and 2 threads. Then the
// recurrent layer alone, forward + backward per batch at hidden 256 (input [64, 100, 256]).
// GRU is compared with resetAfter true, which is PyTorch's GRU.
//   npm run bench:rnn            (-- --rounds=N; PyTorch columns need /usr/bin/python3 with torch)
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';
import { median, torchAvailable, writeResults } from './util';

const BATCH = 64, T = 100, VOCAB = 10000, EMB = 64, UNITS = 128, STEPS = 12, WARMUP = 3;
const arg = (name: string, dflt: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const ROUNDS = arg('rounds', 3);

function data(): { ids: Int32Array; labels: Float32Array } {
  const rng = new gf.Rng(1);
  const ids = new Int32Array(BATCH * STEPS * T);
  for (let i = 0; i < ids.length; i++) ids[i] = rng.int(VOCAB);
  const labels = Float32Array.from({ length: BATCH * STEPS }, () => (rng.uniform() < 0.5 ? 0 : 1));
  return { ids, labels };
}

/** Samples per second of fit's training steps (the first WARMUP batches not timed). */
async function gradforgeTrain(cell: 'lstm' | 'gru', threads: number, d: ReturnType<typeof data>): Promise<number> {
  gf.setNumThreads(threads);
  gf.setSeed(1);
  const model = gf.sequential([
    gf.layers.embedding({ inputDim: VOCAB, outputDim: EMB, inputShape: [T] }),
    cell === 'lstm' ? gf.layers.lstm({ units: UNITS }) : gf.layers.gru({ units: UNITS }),
    gf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'binaryCrossentropy' });
  const x = gf.tensor(d.ids, [BATCH * STEPS, T]), y = gf.tensor(d.labels, [BATCH * STEPS, 1]);
  let t0 = 0;
  await model.fit(x, y, {
    epochs: 1, batchSize: BATCH, shuffle: false, verbose: 0,
    callbacks: [{ onBatchEnd: (b: number) => { if (b === WARMUP - 1) t0 = performance.now(); } }],
  });
  return ((STEPS - WARMUP) * BATCH) / ((performance.now() - t0) / 1000);
}

/** Seconds per forward + backward of the recurrent layer alone at hidden 256. */
function gradforgeLayer(cell: 'lstm' | 'gru', threads: number): number {
  gf.setNumThreads(threads);
  const U = 256, G = cell === 'lstm' ? 4 : 3;
  const x = gf.randn([BATCH, T, U], { seed: 2 });
  const W = gf.randn([U, G * U], { seed: 3 }).mul(0.05).setRequiresGrad(true);
  const R = gf.randn([U, G * U], { seed: 4 }).mul(0.05).setRequiresGrad(true);
  const b = gf.zeros(cell === 'gru' ? [2, G * U] : [G * U]).setRequiresGrad(true);
  const once = (): void => { gf.rnn(x, W, R, b, { cell }).y.sum().backward(); };
  once(); once();
  const reps = 5, t0 = performance.now();
  for (let i = 0; i < reps; i++) once();
  return (performance.now() - t0) / 1000 / reps;
}

const TORCH = `
import sys, time, json, numpy as np, torch, torch.nn as nn
d, cell, threads, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
B, T, V, E, U, STEPS, WARM = ${BATCH}, ${T}, ${VOCAB}, ${EMB}, ${UNITS}, ${STEPS}, ${WARMUP}
torch.set_num_threads(threads); torch.manual_seed(1)
R = nn.LSTM if cell == 'lstm' else nn.GRU
if mode == 'train':
    ids = torch.tensor(np.fromfile(d + '/ids.bin', dtype=np.int32).reshape(-1, T)).long()
    y = torch.tensor(np.fromfile(d + '/y.bin', dtype=np.float32).reshape(-1, 1))
    class M(nn.Module):
        def __init__(s):
            super().__init__(); s.e = nn.Embedding(V, E); s.r = R(E, U, batch_first=True); s.d = nn.Linear(U, 1)
        def forward(s, x):
            o, _ = s.r(s.e(x)); return s.d(o[:, -1])
    m = M(); opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7); lossf = nn.BCEWithLogitsLoss()
    for i in range(STEPS):
        if i == WARM: t0 = time.perf_counter()
        xb, yb = ids[i*B:(i+1)*B], y[i*B:(i+1)*B]
        opt.zero_grad(); loss = lossf(m(xb), yb); loss.backward(); opt.step(); loss.item()
    print(json.dumps({'samples_per_s': (STEPS - WARM) * B / (time.perf_counter() - t0)}))
else:
    H = 256; r = R(H, H, batch_first=True); x = torch.randn(B, T, H)
    def once():
        o, _ = r(x); o.sum().backward()
    once(); once(); t0 = time.perf_counter()
    for _ in range(5): once()
    print(json.dumps({'seconds': (time.perf_counter() - t0) / 5}))
`;

function torchRun(dir: string, cell: string, threads: number, mode: 'train' | 'layer'): number {
  const r = spawnSync('/usr/bin/python3', [path.join(dir, 'rnn.py'), dir, cell, String(threads), mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`PyTorch run failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  return mode === 'train' ? j.samples_per_s : j.seconds;
}

const fmtSpread = (v: number[], digits = 0): string => `${median(v).toFixed(digits)} (${Math.min(...v).toFixed(digits)}-${Math.max(...v).toFixed(digits)})`;

async function main(): Promise<void> {
  const haveTorch = torchAvailable();
  const d = data();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-bench-rnn-'));
  fs.writeFileSync(path.join(dir, 'ids.bin'), Buffer.from(d.ids.buffer));
  fs.writeFileSync(path.join(dir, 'y.bin'), Buffer.from(d.labels.buffer));
  fs.writeFileSync(path.join(dir, 'rnn.py'), TORCH);
  if (!haveTorch) console.log('(no /usr/bin/python3 with torch: PyTorch columns skipped; apt-get install python3-torch libopenblas0-openmp)');
  console.log(`training Embedding(${VOCAB}, ${EMB}) -> cell(${UNITS}) -> Dense(1), batch ${BATCH}, ${T} steps, Adam; median (min-max) of ${ROUNDS} alternating rounds`);
  console.log('cell | threads | gradforge samples/s | PyTorch samples/s | gradforge / PyTorch');
  const rows: unknown[] = [];
  for (const cell of ['lstm', 'gru'] as const) {
    for (const threads of [1, 2]) {
      const g: number[] = [], t: number[] = [], ratio: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const gv = await gradforgeTrain(cell, threads, d);
        g.push(gv);
        if (haveTorch) { const tv = torchRun(dir, cell, threads, 'train'); t.push(tv); ratio.push(gv / tv); }
      }
      console.log(`${cell.padEnd(4)} | ${String(threads).padStart(7)} | ${fmtSpread(g).padStart(19)} | ${(haveTorch ? fmtSpread(t) : '-').padStart(17)} | ${haveTorch ? fmtSpread(ratio, 2) : '-'}`);
      rows.push({ what: 'train', cell, threads, gradforge: g, pytorch: t, ratio });
    }
  }
  console.log(`\nthe recurrent layer alone, forward + backward of [${BATCH}, ${T}, 256] at hidden 256 (ms per batch)`);
  console.log('cell | threads | gradforge ms | PyTorch ms | PyTorch / gradforge time');
  for (const cell of ['lstm', 'gru'] as const) {
    for (const threads of [1, 2]) {
      const g: number[] = [], t: number[] = [], ratio: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const gv = gradforgeLayer(cell, threads) * 1000;
        g.push(gv);
        if (haveTorch) { const tv = torchRun(dir, cell, threads, 'layer') * 1000; t.push(tv); ratio.push(tv / gv); }
      }
      console.log(`${cell.padEnd(4)} | ${String(threads).padStart(7)} | ${fmtSpread(g, 1).padStart(12)} | ${(haveTorch ? fmtSpread(t, 1) : '-').padStart(10)} | ${haveTorch ? fmtSpread(ratio, 2) : '-'}`);
      rows.push({ what: 'layer', cell, threads, gradforgeMs: g, pytorchMs: t, ratio });
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`results: ${writeResults('rnn', rows)}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
