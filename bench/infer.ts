// bench/infer: inference latency of model.predict and model.predictAsync beside
// onnxruntime-node and, when /usr/bin/python3 has torch, PyTorch, in the same run, on the MLP
// 784-128-128-10 (dense relu, dense relu, dense softmax; bench/mnist-mlp.ts) and the tutorial
// CNN (examples/mnist-cnn.ts), at batch 1 and 32, on 1 and 2 threads.
//   npm run bench:infer            (-- --quick: 100 calls in 1 round, 1 s event-loop runs: a smoke test)
//
// Method.
// - The models: random weights from gf.setSeed, built by one predict call. onnxruntime runs the
//   same function: bench/onnx-export.ts writes the gradforge weights into an ONNX graph that
//   takes the same NHWC input (checked against predict below, and to 1e-5 in
//   test/onnx-export.test.ts); PyTorch gets the same weights (bench/torch_infer_worker.py).
//   The outputs of all three are compared before timing; the run stops if they differ.
// - One call = one batch through the whole model, the input tensor made once beforehand, as a
//   server holds a request's tensor: gradforge model.predict(x) (sync); model.predictAsync(x)
//   awaited one call at a time; predict with execution plans off (gf.setExecutionPlans(false))
//   where the build has them; onnxruntime `await session.run(feeds)` one at a time, on a
//   session with intraOpNumThreads = t, interOpNumThreads 1, sequential execution, all graph
//   optimizations; PyTorch `model(x)` under inference_mode with torch.set_num_threads(t), its
//   per-call times measured inside python (no pipe in them), the CNN in whichever of NCHW and
//   channels_last was faster in the warm-up (PyTorch at its best). gradforge and onnxruntime
//   are timed with process.hrtime.bigint around each call.
// - Per case: WARMUP untimed calls per engine, then ROUNDS rounds; in each, every engine makes
//   ROUND_WARMUP untimed calls and CALLS/ROUNDS timed ones, the engines taking turns (the
//   order rotating each round) so that this shared machine's noise hits all alike. The
//   per-call latencies of all rounds are pooled: median, p99 (nearest rank) and p99/median.
//   After a 2-thread round of any engine the script sleeps 100 ms so that spinning pool threads
//   (OpenMP's, onnxruntime's) do not take the next engine's second core.
// - Ratios: gradforge time / onnxruntime time (below 1 = gradforge faster), of the medians and
//   of the p99s; the same against PyTorch.
// - Event loop: perf_hooks.monitorEventLoopDelay (resolution 1 ms) while IN_FLIGHT calls of
//   the CNN at batch 32 are always in flight (each finished call starts the next) for
//   LOOP_SECONDS: delay p50/p99/max in ms and throughput in samples/s, for predictAsync and for
//   onnxruntime's session.run, and the idle loop's delay as the floor of the measurement.
// Targets (the issue): latency <= onnxruntime's on 1 thread for all four cases, sync and
// async; on 2 threads the CNN at batch 32 too; p99 <= 2x the median; event-loop delay p99 <
// 10 ms with 16 predictAsync calls in flight. Writes bench/results/infer.json (--quick:
// infer-quick.json, so that a smoke test never replaces a measurement).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import * as ort from 'onnxruntime-node';
import * as gf from '../lib';
import { tutorialCnn } from '../examples/mnist-cnn';
import { mnistMlp } from '../examples/mnist-mlp';
import { exportOnnx, ortSessionOptions as ortOptions } from './onnx-export';
import { median, torchAvailable, torchEnv, writeResults, PythonWorker, sleep } from './util';

const QUICK = process.argv.includes('--quick');
const CALLS = QUICK ? 100 : 1000;
const ROUNDS = QUICK ? 1 : 5;
const WARMUP = QUICK ? 20 : 100;
const ROUND_WARMUP = 5;
const LOOP_SECONDS = QUICK ? 1 : 3;
const IN_FLIGHT = 16;
const LOOP_BATCH = 32;
const BATCHES = [1, 32];
const THREADS = [1, 2];
/** Largest output difference between gradforge and a reference that still counts as the same function. */
const SAME_FUNCTION = 1e-4;

/** The MLP of examples/mnist-mlp.ts (and bench/mnist-mlp.ts). */
export const benchMlp = mnistMlp;

const now = (): bigint => process.hrtime.bigint();
const msSince = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

interface Engine {
  key: string;
  label: string;
  /** Runs n calls; per-call latencies in ms. */
  run(n: number): Promise<number[]>;
  /** The untimed warm-up before the rounds (default: run(WARMUP)). */
  warmUp?(): Promise<void>;
}

function syncEngine(key: string, label: string, call: () => unknown, around?: () => () => void): Engine {
  return {
    key, label,
    run: async (n) => {
      const restore = around?.();
      try {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const t0 = now();
          call();
          out.push(msSince(t0));
        }
        return out;
      } finally {
        restore?.();
      }
    },
  };
}

function asyncEngine(key: string, label: string, call: () => Promise<unknown>): Engine {
  return {
    key, label,
    run: async (n) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = now();
        await call();
        out.push(msSince(t0));
      }
      return out;
    },
  };
}

interface Stats { medianMs: number; p99Ms: number; p99OverMedian: number; meanMs: number; minMs: number; maxMs: number; calls: number; roundMediansMs: number[] }

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function stats(rounds: number[][]): Stats {
  const all = rounds.flat().sort((a, b) => a - b);
  const med = median(all);
  const p99 = percentile(all, 0.99);
  return {
    medianMs: med, p99Ms: p99, p99OverMedian: p99 / med,
    meanMs: all.reduce((s, v) => s + v, 0) / all.length, minMs: all[0], maxMs: all[all.length - 1],
    calls: all.length, roundMediansMs: rounds.map((r) => median(r)),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

interface ModelEntry {
  key: 'mlp' | 'cnn';
  label: string;
  model: gf.Sequential;
  /** The input shape without the batch. */
  item: number[];
  onnx: Uint8Array;
  /** The memory formats the PyTorch worker built it in. */
  torchFormats: string[];
}

/** The PyTorch worker's description of a model, its weights written as float32 files into dir. */
function torchLayers(entry: ModelEntry, dir: string): Record<string, unknown>[] {
  const file = (name: string, t: gf.Tensor): [string, number[]] => {
    const f = `${entry.key}_${name}.bin`;
    const a = t.data as Float32Array;
    fs.writeFileSync(path.join(dir, f), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    return [f, [...t.shape]];
  };
  return entry.model.layers.map((l, i) => {
    if (l instanceof gf.layers.Dense || l instanceof gf.layers.Conv2D) {
      const [k, b] = l.getWeights();
      const common = { activation: l.activationName, kernel: file(`${i}_kernel`, k), bias: l.useBias ? file(`${i}_bias`, b) : null };
      if (l instanceof gf.layers.Dense) return { type: 'dense', ...common };
      if (l.padding !== 'valid' || l.dilationRate.some((d) => d !== 1)) throw new Error(`${l.name}: the PyTorch side takes valid undilated convolutions only`);
      return { type: 'conv2d', strides: l.strides, ...common };
    }
    if (l instanceof gf.layers.MaxPooling2D) {
      if (l.padding !== 'valid') throw new Error(`${l.name}: the PyTorch side takes valid pooling only`);
      return { type: 'maxpool', pool: l.poolSize, strides: l.strides };
    }
    if (l instanceof gf.layers.Flatten) return { type: 'flatten' };
    throw new Error(`${l.name} (${l.className}): no PyTorch form`);
  });
}

type Ratios = Record<string, { median: number; p99: number }>;
interface CaseResult {
  model: 'mlp' | 'cnn'; batch: number; threads: number;
  engines: Record<string, Stats>; gradforgeOverOrt: Ratios; gradforgeOverPytorch: Ratios | null;
  /** The memory format PyTorch was timed in (the faster in its warm-up), or null without PyTorch. */
  pytorchFormat: string | null;
}

interface LoopResult { p50Ms: number; p99Ms: number; maxMs: number; samplesPerSecond: number; calls: number; seconds: number }

/** Event-loop delay while `inFlight` chains of calls run back to back for `seconds`. */
async function loopDelay(call: () => Promise<unknown>, inFlight: number, seconds: number, samplesPerCall: number): Promise<LoopResult> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let calls = 0;
  const t0 = now();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  h.enable();
  const chain = async (): Promise<void> => {
    while (now() < deadline) {
      await call();
      calls++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, chain));
  const el = msSince(t0) / 1e3;
  h.disable();
  return {
    p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6,
    samplesPerSecond: (calls * samplesPerCall) / el, calls, seconds: el,
  };
}

async function idleLoopDelay(seconds: number): Promise<LoopResult> {
  return loopDelay(() => sleep(5), 1, seconds, 0);
}

const f3 = (v: number, w = 9): string => v.toFixed(3).padStart(w);
const rx = (v: number | null, w = 10): string => (v === null ? '-' : `${v.toFixed(2)}x`).padStart(w);

async function main(): Promise<void> {
  const defaultThreads = gf.backendInfo().numThreads;
  const haveTorch = torchAvailable();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-infer-'));

  gf.setSeed(1);
  const models: ModelEntry[] = [
    { key: 'mlp', label: 'MLP 784-128-128-10', model: benchMlp(), item: [784], onnx: new Uint8Array(), torchFormats: [] },
    { key: 'cnn', label: 'tutorial CNN', model: tutorialCnn(), item: [28, 28, 1], onnx: new Uint8Array(), torchFormats: [] },
  ];
  for (const m of models) {
    m.model.predict(gf.zeros([1, ...m.item]));
    m.onnx = exportOnnx(m.model);
  }
  const inputs = new Map<string, gf.Tensor>();
  const inputKey = (m: ModelEntry, b: number): string => `${m.key}_${b}`;
  for (const m of models) for (const b of BATCHES) inputs.set(inputKey(m, b), gf.randUniform([b, ...m.item], { seed: 10 + b }));

  let torch: PythonWorker | null = null;
  let torchInfo: Record<string, unknown> | null = null;
  if (haveTorch) {
    // OpenMP sizes its pool from OMP_NUM_THREADS at start; set_num_threads then picks within it.
    torch = new PythonWorker('torch_infer_worker.py', torchEnv(Math.max(...THREADS)));
    torchInfo = await torch.request({ cmd: 'info' });
    for (const m of models) m.torchFormats = (await torch.request<{ formats: string[] }>({ cmd: 'model', name: m.key, dir, layers: torchLayers(m, dir) })).formats;
    for (const [key, x] of inputs) {
      const f = path.join(dir, `x_${key}.bin`);
      const a = x.data as Float32Array;
      fs.writeFileSync(f, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
      await torch.request({ cmd: 'input', name: key, file: f, shape: x.shape });
    }
  } else {
    console.log('(no /usr/bin/python3 with torch: PyTorch columns skipped; apt-get install python3-torch)\n');
  }

  const info = gf.backendInfo();
  const loadBefore = os.loadavg();
  console.log(`load average before: ${loadBefore.map((v) => v.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  console.log(`gradforge (GEMM ${info.gemmKernel}) vs onnxruntime-node ${ort.env.versions.node}` +
    (torchInfo ? ` and PyTorch ${String(torchInfo.torch)} (oneDNN ${torchInfo.mkldnn ? 'on' : 'off'}; the CNN in the faster of NCHW and channels_last per case)` : '') +
    `; ${CALLS} calls per engine and case in ${ROUNDS} alternating round${ROUNDS > 1 ? 's' : ''} after ${WARMUP} warm-up calls` +
    (QUICK ? ' (--quick: a smoke test, not a measurement)' : ''));

  // Same function: gradforge, onnxruntime and PyTorch outputs on the batch-32 inputs
  const agreement: Record<string, { ort: number; pytorch: number | null }> = {};
  {
    for (const m of models) {
      const x = inputs.get(inputKey(m, 32))!;
      const want = m.model.predict(x).data;
      const s = await ort.InferenceSession.create(m.onnx, ortOptions(1));
      const got = (await s.run({ input: new ort.Tensor('float32', x.data as Float32Array, x.shape) })).output.data as Float32Array;
      await s.release();
      const dOrt = maxAbsDiff(want, got);
      let dTorch: number | null = null;
      for (const format of torch ? m.torchFormats : []) {
        const out = (await torch!.request<{ out: number[] }>({ cmd: 'predict', model: m.key, format, input: inputKey(m, 32) })).out;
        dTorch = Math.max(dTorch ?? 0, maxAbsDiff(want, out));
      }
      agreement[m.key] = { ort: dOrt, pytorch: dTorch };
      if (!(dOrt <= SAME_FUNCTION) || (dTorch !== null && !(dTorch <= SAME_FUNCTION))) {
        throw new Error(`${m.label}: outputs differ from gradforge's (onnxruntime ${dOrt}, PyTorch ${dTorch}): not the same function`);
      }
    }
    console.log('max |output - gradforge| at batch 32: ' + models.map((m) =>
      `${m.label} onnxruntime ${agreement[m.key].ort.toExponential(1)}${agreement[m.key].pytorch !== null ? `, PyTorch ${agreement[m.key].pytorch!.toExponential(1)}` : ''}`).join('; ') + '\n');
  }

  const cases: CaseResult[] = [];
  const sessions = new Map<string, ort.InferenceSession>();
  for (const threads of THREADS) {
    gf.setNumThreads(threads);
    for (const m of models) sessions.set(`${m.key}_${threads}`, await ort.InferenceSession.create(m.onnx, ortOptions(threads)));
    for (const m of models) {
      for (const batch of BATCHES) {
        const x = inputs.get(inputKey(m, batch))!;
        const session = sessions.get(`${m.key}_${threads}`)!;
        const feeds = { input: new ort.Tensor('float32', x.data as Float32Array, x.shape) };
        const engines: Engine[] = [syncEngine('gfPredict', 'gradforge predict', () => m.model.predict(x))];
        engines.push(asyncEngine('gfPredictAsync', 'gradforge predictAsync', () => m.model.predictAsync(x)));
        engines.push(syncEngine('gfPredictNoPlans', 'gradforge predict, plans off', () => m.model.predict(x), () => {
          const was = gf.setExecutionPlans(false);
          return () => { gf.setExecutionPlans(was); };
        }));
        engines.push(asyncEngine('ort', 'onnxruntime run', () => session.run(feeds)));
        let torchFormat: string | null = null;
        if (torch) {
          const w = torch;
          const timeFormat = async (format: string, n: number): Promise<number[]> =>
            (await w.request<{ ns: number[] }>({ cmd: 'time', model: m.key, format, input: inputKey(m, batch), threads, calls: n })).ns.map((v) => v / 1e6);
          const engine: Engine = {
            key: 'pytorch', label: 'PyTorch',
            run: (n) => timeFormat(torchFormat!, n),
            // PyTorch at its best: the warm-up runs each memory format and the rounds time the faster
            warmUp: async () => {
              let best = Infinity;
              for (const f of m.torchFormats) {
                const med = median(await timeFormat(f, WARMUP));
                if (threads > 1) await sleep(100);
                if (med < best) { best = med; torchFormat = f; }
              }
              if (m.torchFormats.length > 1) engine.label = `PyTorch (${torchFormat})`;
            },
          };
          engines.push(engine);
        }
        const settle = async (): Promise<void> => { if (threads > 1) await sleep(100); };
        for (const e of engines) {
          if (e.warmUp) await e.warmUp();
          else await e.run(WARMUP);
          await settle();
        }
        const samples = new Map<string, number[][]>(engines.map((e) => [e.key, []]));
        for (let r = 0; r < ROUNDS; r++) {
          for (let k = 0; k < engines.length; k++) {
            const e = engines[(r + k) % engines.length];
            await e.run(ROUND_WARMUP);
            samples.get(e.key)!.push(await e.run(CALLS / ROUNDS));
            await settle();
          }
        }
        const st = Object.fromEntries(engines.map((e) => [e.key, stats(samples.get(e.key)!)])) as Record<string, Stats>;
        const o = st.ort;
        const t = st.pytorch as Stats | undefined;
        console.log(`${m.label}, batch ${batch}, ${threads} thread${threads > 1 ? 's' : ''}   (ms per call; ratios: time / reference time, below 1 = gradforge faster)`);
        console.log(`${'engine'.padEnd(30)} | ${'median'.padStart(9)} | ${'p99'.padStart(9)} | p99/p50 | /ORT med | /ORT p99${t ? ' | /torch med | /torch p99' : ''}`);
        for (const e of engines) {
          const s = st[e.key];
          const isGf = e.key.startsWith('gf');
          console.log(`${e.label.padEnd(30)} | ${f3(s.medianMs)} | ${f3(s.p99Ms)} | ${s.p99OverMedian.toFixed(2).padStart(7)} | ` +
            `${rx(isGf ? s.medianMs / o.medianMs : null, 8)} | ${rx(isGf ? s.p99Ms / o.p99Ms : null, 8)}` +
            (t ? ` | ${rx(isGf ? s.medianMs / t.medianMs : null)} | ${rx(isGf ? s.p99Ms / t.p99Ms : null)}` : ''));
        }
        console.log('');
        const ratios = (ref: Stats): Ratios => Object.fromEntries(engines.filter((e) => e.key.startsWith('gf'))
          .map((e) => [e.key, { median: st[e.key].medianMs / ref.medianMs, p99: st[e.key].p99Ms / ref.p99Ms }]));
        cases.push({ model: m.key, batch, threads, engines: st, gradforgeOverOrt: ratios(o), gradforgeOverPytorch: t ? ratios(t) : null, pytorchFormat: torchFormat });
      }
    }
  }

  // Event-loop delay with IN_FLIGHT calls of the CNN at batch 32 always in flight
  const cnn = models.find((m) => m.key === 'cnn')!;
  const xLoop = inputs.get(inputKey(cnn, LOOP_BATCH))!;
  const loops: ({ engine: string; threads: number } & LoopResult)[] = [];
  const idle = await idleLoopDelay(Math.min(1, LOOP_SECONDS));
  console.log(`event-loop delay (monitorEventLoopDelay, resolution 1 ms) with ${IN_FLIGHT} calls of the CNN at batch ${LOOP_BATCH} always in flight for ${LOOP_SECONDS} s; ` +
    `idle loop: p50 ${idle.p50Ms.toFixed(2)} ms, p99 ${idle.p99Ms.toFixed(2)} ms`);
  console.log(`${'engine'.padEnd(30)} | thr | p50 ms | p99 ms | max ms | samples/s`);
  for (const threads of THREADS) {
    gf.setNumThreads(threads);
    const session = sessions.get(`cnn_${threads}`)!;
    const feeds = { input: new ort.Tensor('float32', xLoop.data as Float32Array, xLoop.shape) };
    const runs: [string, string, () => Promise<unknown>][] = [
      ['gfPredictAsync', 'gradforge predictAsync', () => cnn.model.predictAsync(xLoop)],
      ['ort', 'onnxruntime run', () => session.run(feeds)],
    ];
    for (const [key, label, call] of runs) {
      await loopDelay(call, IN_FLIGHT, Math.min(0.3, LOOP_SECONDS), LOOP_BATCH); // warm-up
      if (threads > 1) await sleep(100);
      const r = await loopDelay(call, IN_FLIGHT, LOOP_SECONDS, LOOP_BATCH);
      if (threads > 1) await sleep(100);
      console.log(`${label.padEnd(30)} | ${String(threads).padStart(3)} | ${r.p50Ms.toFixed(2).padStart(6)} | ${r.p99Ms.toFixed(2).padStart(6)} | ` +
        `${r.maxMs.toFixed(2).padStart(6)} | ${r.samplesPerSecond.toFixed(0).padStart(9)}`);
      loops.push({ engine: key, threads, ...r });
    }
  }
  console.log('');

  // The issue's targets, as measured by this run
  const targets: { what: string; pass: boolean | null; detail: string }[] = [];
  const headline: [CaseResult['model'], number, number][] = [['mlp', 1, 1], ['mlp', 32, 1], ['cnn', 1, 1], ['cnn', 32, 1], ['cnn', 32, 2]];
  const gfCalls: [string, string][] = [['gfPredict', 'predict'], ['gfPredictAsync', 'predictAsync']];
  for (const [key, batch, threads] of headline) {
    const c = cases.find((k) => k.model === key && k.batch === batch && k.threads === threads)!;
    for (const [e, name] of gfCalls) {
      const s = c.engines[e];
      const what = `${key} batch ${batch}, ${threads} thr, ${name} median <= onnxruntime's`;
      targets.push({ what, pass: s.medianMs <= c.engines.ort.medianMs, detail: `${s.medianMs.toFixed(4)} vs ${c.engines.ort.medianMs.toFixed(4)} ms` });
    }
  }
  for (const c of cases) {
    for (const [e, name] of gfCalls) {
      const s = c.engines[e];
      targets.push({ what: `${c.model} batch ${c.batch}, ${c.threads} thr, ${name} p99 <= 2x median`, pass: s.p99OverMedian <= 2, detail: `${s.p99OverMedian.toFixed(2)}x` });
    }
  }
  for (const l of loops) {
    if (l.engine !== 'gfPredictAsync') continue;
    const what = `event-loop delay p99 < 10 ms, ${IN_FLIGHT} predictAsync in flight, ${l.threads} thr`;
    targets.push({ what, pass: l.p99Ms < 10, detail: `${l.p99Ms.toFixed(2)} ms` });
  }
  console.log(`targets${QUICK ? ' (--quick: too few calls to judge)' : ''}:`);
  for (const t of targets) console.log(`  ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'FAIL'}  ${t.what}: ${t.detail}`);

  torch?.close();
  for (const s of sessions.values()) await s.release();
  gf.setNumThreads(defaultThreads);
  fs.rmSync(dir, { recursive: true, force: true });
  const file = writeResults(QUICK ? 'infer-quick' : 'infer', {
    date: new Date().toISOString(), quick: QUICK, calls: CALLS, rounds: ROUNDS, warmup: WARMUP, roundWarmup: ROUND_WARMUP,
    backend: gf.backendInfo(), onnxruntime: ort.env.versions, pytorch: torchInfo,
    cpu: os.cpus()[0]?.model, cpus: os.cpus().length, loadAverage: { before: loadBefore, after: os.loadavg() },
    outputAgreement: agreement, cases, eventLoop: { inFlight: IN_FLIGHT, batch: LOOP_BATCH, seconds: LOOP_SECONDS, idle, runs: loops }, targets,
  });
  console.log(`\nwrote ${file}`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
