// bench/cpu: issue 15's figures in one command, each beside its reference measured in the same
// run, on 1 and 2 threads, with the spread of the rounds:
//   npm run bench:cpu                 (-- --only=gemm,cnn,mlp,infer  to run some parts)
// 1. gemm: bench/gemm.ts on the best micro-kernel (GFLOP/s, % of the measured FMA peak, ratio
//    to numpy's OpenBLAS), forward and backward (transposed) training shapes included;
// 2. cnn: bench/cnn.ts (the tutorial CNN per layer and its training step beside PyTorch);
// 3. mlp: bench/mnist-mlp.ts (the MNIST MLP's training beside PyTorch);
// 4. infer: the tutorial CNN's predict at batch 32, 1 thread against 2 (the bar: 2
//    threads >= 1.6x faster), onnxruntime's 1- and 2-thread sessions beside it as the
//    reference of what a second thread can give; ROUNDS rounds alternating all four, CALLS
//    calls each, per-round medians shown as median (min-max).
// Parts 1-3 run as child processes (their own tables and bench/results files); part 4 writes
// bench/results/cpu-infer.json. It is not: a test.
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import * as gf from '../lib';
import { tutorialCnn } from '../examples/mnist-cnn';
import { exportOnnx, ortSessionOptions } from './onnx-export';
import { median, spread, writeResults, sleep } from './util';

const PARTS = ['gemm', 'cnn', 'mlp', 'infer'] as const;
type Part = typeof PARTS[number];
const ROUNDS = 5;
const CALLS = 200;
const BATCH = 32;

function parts(): Part[] {
  const a = process.argv.find((x) => x.startsWith('--only='));
  if (!a) return [...PARTS];
  const want = a.slice('--only='.length).split(',');
  const bad = want.filter((w) => !(PARTS as readonly string[]).includes(w));
  if (bad.length) throw new Error(`--only: unknown part(s) ${bad.join(', ')}; known: ${PARTS.join(', ')}`);
  return want as Part[];
}

function runChild(script: string, args: string[]): void {
  console.log(`\n===== node dist/bench/${script} ${args.join(' ')}`.trimEnd() + '\n');
  const r = spawnSync(process.execPath, [path.join(__dirname, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bench/${script} failed (exit ${r.status})`);
}

/** Median ms per call of `calls` calls, one at a time (a promise is awaited before the next). */
async function msPerCall(call: () => unknown, calls: number): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    const r = call();
    if (r instanceof Promise) await r;
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(lat);
}

async function inference(): Promise<void> {
  console.log(`\n===== tutorial CNN inference, batch ${BATCH}: 1 thread against 2; ${ROUNDS} alternating rounds of ${CALLS} calls, ` +
    'per-round median latency in ms, median (min-max) over rounds\n');
  const defaultThreads = gf.backendInfo().numThreads;
  gf.setSeed(1);
  const model = tutorialCnn();
  model.predict(gf.zeros([1, 28, 28, 1]));
  const x = gf.randUniform([BATCH, 28, 28, 1], { seed: 42 });
  const onnx = exportOnnx(model);
  const session = (t: number): Promise<ort.InferenceSession> => ort.InferenceSession.create(onnx, ortSessionOptions(t));
  const ortS: Record<number, ort.InferenceSession> = { 1: await session(1), 2: await session(2) };
  const feeds = { input: new ort.Tensor('float32', x.data as Float32Array, x.shape) };
  const gfMs: Record<number, number[]> = { 1: [], 2: [] };
  const ortMs: Record<number, number[]> = { 1: [], 2: [] };
  const gfAt = (t: number, calls: number): Promise<number> => { gf.setNumThreads(t); return msPerCall(() => model.predict(x), calls); };
  const ortAt = (t: number, calls: number): Promise<number> => msPerCall(() => ortS[t].run(feeds), calls);
  for (const t of [1, 2]) { await gfAt(t, 50); await ortAt(t, 50); } // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const t of [1, 2]) {
      gfMs[t].push(await gfAt(t, CALLS));
      ortMs[t].push(await ortAt(t, CALLS));
      // onnxruntime's threads spin after a call: let them settle before the next engine
      if (t > 1) await sleep(100);
    }
  }
  gf.setNumThreads(defaultThreads);
  for (const t of [1, 2]) await ortS[t].release();
  const speedup = (ms: Record<number, number[]>): number[] => ms[1].map((v, i) => v / ms[2][i]);
  console.log('engine        | 1 thread ms         | 2 threads ms        | 2-thread speedup per round');
  for (const [label, ms] of [['gradforge', gfMs], ['onnxruntime', ortMs]] as const) {
    console.log(`${label.padEnd(13)} | ${spread(ms[1], 3).padEnd(19)} | ${spread(ms[2], 3).padEnd(19)} | ${spread(speedup(ms), 2)}x`);
  }
  const file = writeResults('cpu-infer', {
    date: new Date().toISOString(), batch: BATCH, rounds: ROUNDS, calls: CALLS, cpu: os.cpus()[0]?.model,
    backend: gf.backendInfo(), onnxruntime: ort.env.versions.node,
    gradforgeMs: gfMs, onnxruntimeMs: ortMs, speedup: { gradforge: speedup(gfMs), onnxruntime: speedup(ortMs) },
  });
  console.log(`\nwrote ${file}`);
}

async function main(): Promise<void> {
  const want = parts();
  const best = gf.backendInfo().availableGemmKernels[0];
  if (want.includes('gemm')) runChild('gemm.js', [`--kernels=${best}`, '--samples=5']);
  if (want.includes('cnn')) runChild('cnn.js', []);
  if (want.includes('mlp')) runChild('mnist-mlp.js', []);
  if (want.includes('infer')) await inference();
}

main().catch((e) => { console.error(e); process.exit(1); });
