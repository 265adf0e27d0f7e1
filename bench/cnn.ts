// bench/cnn: the tutorial CNN of examples/mnist-cnn.ts (conv 32 3x3 relu, maxpool 2, conv 64
// 3x3 relu, maxpool 2, conv 64 3x3 relu, flatten, dense 64 relu, dense 10 softmax) at batch 64,
// gradforge and, in the same run, PyTorch (when /usr/bin/python3 has torch), alternating.
//   npm run bench:cnn             (PyTorch columns need /usr/bin/python3 with torch)
//
// Method.
// - Per layer: each layer of the model, on its own, fed a random batch-64 input of its input
//   shape. gradforge calls the layer's apply() (the op plus bias and activation, exactly what
//   fit runs), each call inside a storage scope as fit runs each step (lib/memory: its
//   buffers return to the pool, so the figures include no page faults fit does not pay); PyTorch the same module (Conv2d+ReLU, MaxPool2d, Flatten, Linear+ReLU,
//   Linear). "fwd" is the forward pass with autograd recording, as in training; "fwd+bwd"
//   adds backward() of a fixed random upstream gradient into the weights and, except for
//   conv1 whose input is the data, into the input (gradients cleared before each call, as the
//   optimizer step does). dense2 is timed as logits: in training the softmax is fused into the
//   loss on both sides. Each figure is the mean per call over as many calls as fit in
//   MIN_SECONDS (at least 3, after 2 warm-up calls); the table shows the median over ROUNDS
//   rounds, gradforge and PyTorch alternating layer by layer within each round.
// - Training step: one epoch of model.fit over STEP_BATCHES batches of the real digits
//   (shuffled, batch gather, forward, fused softmax cross-entropy, backward, RMSprop, batch
//   accuracy) against the same loop in PyTorch (torch.optim.RMSprop with Keras's defaults);
//   samples/s, median over ROUNDS alternating rounds after a warm-up epoch each.
// - PyTorch runs in both memory formats (NCHW "contiguous" and "channels_last", its oneDNN fast
//   path) and each row compares against the faster of the two: PyTorch at its best.
// - Threads: gf.setNumThreads(t) and torch.set_num_threads(t), for t = 1 (the headline) and 2.
// Ratios: time gradforge/PyTorch (below 1 = gradforge faster); throughput gradforge/PyTorch
// (above 1 = gradforge faster). Writes bench/results/cnn.json.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';
import { withScope } from '../lib/memory';
import { tutorialCnn } from '../examples/mnist-cnn';
import { median, spread, torchAvailable, torchEnv, writeResults, PythonWorker, sleep } from './util';

const BATCH = 64;
const ROUNDS = 7;
const MIN_SECONDS = 0.15;
const STEP_BATCHES = 24;
// `node dist/bench/cnn.js 2` runs one thread count only
const THREADS = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1, 2];
const FORMATS = ['contiguous', 'channels_last'] as const;
type Format = typeof FORMATS[number];
const LAYER_NAMES = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'flatten', 'dense1', 'dense2'];

interface LayerTimes { fwd: number; fwdbwd: number }
type LayerSample = Record<string, LayerTimes>;

function timed(fn: () => void, minSeconds: number): number {
  fn();
  fn();
  let reps = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    fn();
    reps++;
    const el = Number(process.hrtime.bigint() - t0) / 1e9;
    if (reps >= 3 && el >= minSeconds) return el / reps;
  }
}

/** gradforge per-layer times: the model's own layers, each fed a random input of its shape. */
function gfLayers(model: gf.Sequential, names: string[] = LAYER_NAMES): LayerSample {
  const out: LayerSample = {};
  let shape: number[] = [BATCH, 28, 28, 1];
  model.layers.forEach((layer, i) => {
    const name = LAYER_NAMES[i];
    if (!names.includes(name)) {
      shape = layer.computeOutputShape([BATCH, ...shape.slice(1)]) as number[];
      return;
    }
    const last = i === model.layers.length - 1;
    const x = gf.randUniform(shape, { seed: 100 + i });
    if (i > 0) x.setRequiresGrad(true);
    const ctx = { training: true, logits: last };
    const y0 = gf.noGrad(() => layer.apply(x, ctx));
    const gy = gf.randn(y0.shape, { seed: 200 + i });
    const weights = layer.weights.map((w) => w.value);
    // each call inside a storage scope, as fit runs a step: its buffers go back to the pool
    const fwd = (): void => { withScope(() => { layer.apply(x, ctx); }); };
    const fwdbwd = (): void => {
      withScope(() => {
        layer.apply(x, ctx).backward(gy);
        for (const w of weights) w.zeroGrad();
        x.zeroGrad();
      });
    };
    out[name] = { fwd: timed(fwd, MIN_SECONDS), fwdbwd: timed(fwdbwd, MIN_SECONDS) };
    shape = [...y0.shape];
  });
  return out;
}

/** Seconds for one fit epoch over x (STEP_BATCHES batches). */
async function gfStep(model: gf.Sequential, x: gf.Tensor, y: gf.Tensor): Promise<number> {
  const t0 = process.hrtime.bigint();
  await model.fit(x, y, { epochs: 1, batchSize: BATCH, verbose: 0 });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function medianLayers(samples: LayerSample[]): LayerSample {
  const out: LayerSample = {};
  for (const n of LAYER_NAMES) {
    out[n] = { fwd: median(samples.map((s) => s[n].fwd)), fwdbwd: median(samples.map((s) => s[n].fwdbwd)) };
  }
  return out;
}

const ms = (s: number): string => (s * 1e3).toFixed(3).padStart(8);
const ratio = (a: number, b: number | undefined): string => (b === undefined ? '       -' : `${(a / b).toFixed(2)}x`.padStart(8));

async function main(): Promise<void> {
  const haveTorch = torchAvailable();
  const defaultThreads = gf.backendInfo().numThreads;
  let torch: PythonWorker | null = null;
  let torchInfo: Record<string, unknown> | null = null;
  const digits = gf.datasets.mnistDigits({ flatten: false });
  const nStep = STEP_BATCHES * BATCH;
  const xStep = gf.sliceRows(digits.xTrain, 0, nStep);
  const yStepInt = gf.sliceRows(digits.yTrain, 0, nStep);
  const yStep = gf.toCategorical(yStepInt, 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-cnn-'));
  if (haveTorch) {
    torch = new PythonWorker('torch_cnn_worker.py', torchEnv(Math.max(...THREADS)));
    torchInfo = await torch.request({ cmd: 'info' });
    const write = (name: string, a: Float32Array | Int32Array): void => fs.writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    write('x.bin', xStep.data as Float32Array);
    write('y.bin', yStepInt.data as Int32Array);
    await torch.request({ cmd: 'load', dir, n: nStep });
  } else {
    console.log('(no /usr/bin/python3 with torch: PyTorch columns skipped; apt-get install python3-torch libopenblas0-openmp)\n');
  }
  // OpenMP worker threads spin for a moment after a parallel region; let them go to sleep
  // before gradforge's next sample so they do not take its second core.
  const torchLayers = async (threads: number, format: Format, names: string[] = LAYER_NAMES): Promise<LayerSample> => {
    const r = await torch!.request<{ layers: LayerSample }>({ cmd: 'layers', threads, batch: BATCH, format, min_seconds: MIN_SECONDS, names });
    if (threads > 1) await sleep(100);
    return r.layers;
  };
  const torchStep = async (threads: number, format: Format): Promise<number> => {
    const r = await torch!.request<{ seconds: number }>({ cmd: 'step', threads, batch: BATCH, format });
    if (threads > 1) await sleep(100);
    return r.seconds;
  };

  const info = gf.backendInfo();
  const loadBefore = os.loadavg();
  console.log(`load average before: ${loadBefore.map((v) => v.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs ` +
    '(other processes on the cores distort the 2-thread rows most: gradforge then keeps its GEMMs on one thread, PyTorch\'s OpenMP threads wait on the busy core)');
  console.log(`Tutorial CNN at batch ${BATCH}; gradforge (GEMM ${info.gemmKernel})` +
    (torchInfo ? ` vs PyTorch ${String(torchInfo.torch)} (oneDNN ${torchInfo.mkldnn ? 'on' : 'off'}, best of NCHW and channels_last)` : '') +
    `; medians of ${ROUNDS} alternating rounds after warm-up\n`);

  const results: Record<string, unknown>[] = [];
  const stepRounds: Record<number, number[]> = {};
  for (const threads of THREADS) {
    gf.setNumThreads(threads);
    gf.setSeed(1);
    const model = tutorialCnn();
    model.compile({ optimizer: 'rmsprop', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    // warm-up: first calls of every kernel path, oneDNN primitive creation, JIT
    gfLayers(model);
    await gfStep(model, xStep, yStep);
    if (torch) for (const f of FORMATS) { await torchLayers(threads, f); await torchStep(threads, f); }

    const gL: LayerSample[] = [];
    const tL: Record<Format, LayerSample[]> = { contiguous: [], channels_last: [] };
    const gS: number[] = [];
    const tS: Record<Format, number[]> = { contiguous: [], channels_last: [] };
    for (let r = 0; r < ROUNDS; r++) {
      // alternate layer by layer, so that a burst of machine noise hits both sides alike
      const g1: LayerSample = {};
      const t1: Record<Format, LayerSample> = { contiguous: {}, channels_last: {} };
      for (const n of LAYER_NAMES) {
        Object.assign(g1, gfLayers(model, [n]));
        if (torch) for (const f of FORMATS) Object.assign(t1[f], await torchLayers(threads, f, [n]));
      }
      gL.push(g1);
      if (torch) for (const f of FORMATS) tL[f].push(t1[f]);
      gS.push(await gfStep(model, xStep, yStep));
      if (torch) for (const f of FORMATS) tS[f].push(await torchStep(threads, f));
    }
    const g = medianLayers(gL);
    const tByFormat = torch ? { contiguous: medianLayers(tL.contiguous), channels_last: medianLayers(tL.channels_last) } : null;
    const best: Record<string, { fwd: number; fwdbwd: number; fwdFormat: Format; fwdbwdFormat: Format }> = {};
    if (tByFormat) {
      for (const n of LAYER_NAMES) {
        const c = tByFormat.contiguous[n];
        const l = tByFormat.channels_last[n];
        best[n] = {
          fwd: Math.min(c.fwd, l.fwd), fwdFormat: c.fwd <= l.fwd ? 'contiguous' : 'channels_last',
          fwdbwd: Math.min(c.fwdbwd, l.fwdbwd), fwdbwdFormat: c.fwdbwd <= l.fwdbwd ? 'contiguous' : 'channels_last',
        };
      }
    }

    console.log(`${threads} thread${threads > 1 ? 's' : ''}: per-layer times in ms (gradforge/PyTorch time ratio: below 1 = gradforge faster)`);
    console.log('layer   |   gf fwd | torch fwd |    ratio | gf fwd+bwd | torch fwd+bwd |    ratio | torch best format (fwd+bwd)');
    let gSum = { fwd: 0, fwdbwd: 0 };
    let tSum = { fwd: 0, fwdbwd: 0 };
    for (const n of LAYER_NAMES) {
      const b = best[n] as typeof best[string] | undefined;
      gSum = { fwd: gSum.fwd + g[n].fwd, fwdbwd: gSum.fwdbwd + g[n].fwdbwd };
      if (b) tSum = { fwd: tSum.fwd + b.fwd, fwdbwd: tSum.fwdbwd + b.fwdbwd };
      console.log(`${n.padEnd(7)} | ${ms(g[n].fwd)} | ${b ? ms(b.fwd).padStart(9) : '        -'} | ${ratio(g[n].fwd, b?.fwd)} | ` +
        `${ms(g[n].fwdbwd).padStart(10)} | ${b ? ms(b.fwdbwd).padStart(13) : '            -'} | ${ratio(g[n].fwdbwd, b?.fwdbwd)} | ${b ? b.fwdbwdFormat : '-'}`);
    }
    console.log(`${'sum'.padEnd(7)} | ${ms(gSum.fwd)} | ${torch ? ms(tSum.fwd).padStart(9) : '        -'} | ${ratio(gSum.fwd, torch ? tSum.fwd : undefined)} | ` +
      `${ms(gSum.fwdbwd).padStart(10)} | ${torch ? ms(tSum.fwdbwd).padStart(13) : '            -'} | ${ratio(gSum.fwdbwd, torch ? tSum.fwdbwd : undefined)} |`);

    const gSps = nStep / median(gS);
    const tSpsBy = torch ? { contiguous: nStep / median(tS.contiguous), channels_last: nStep / median(tS.channels_last) } : null;
    const tBestFormat: Format | null = tSpsBy ? (tSpsBy.contiguous >= tSpsBy.channels_last ? 'contiguous' : 'channels_last') : null;
    const tSps = tSpsBy && tBestFormat ? tSpsBy[tBestFormat] : null;
    const sps = (secs: number[]): number[] => secs.map((x) => nStep / x);
    stepRounds[threads] = sps(gS);
    // Paired per round: each gradforge epoch ran right before PyTorch's.
    const pairs = tBestFormat ? gS.map((x, i) => tS[tBestFormat][i] / x) : [];
    console.log(`training step (fit, RMSprop, batch ${BATCH}, ${STEP_BATCHES} steps/epoch), samples/s median (min-max): ` +
      `gradforge ${spread(sps(gS))}` +
      (tSps !== null ? `, PyTorch ${spread(sps(tS[tBestFormat!]))} (${tBestFormat}; NCHW ${tSpsBy!.contiguous.toFixed(0)}, channels_last ${tSpsBy!.channels_last.toFixed(0)}); ` +
        `gradforge/PyTorch throughput ${(gSps / tSps).toFixed(2)}x (per round ${spread(pairs, 2)})` : '') + '\n');

    results.push({
      threads,
      layersMs: Object.fromEntries(LAYER_NAMES.map((n) => [n, {
        gradforge: { fwd: g[n].fwd * 1e3, fwdbwd: g[n].fwdbwd * 1e3 },
        pytorch: best[n] ? { fwd: best[n].fwd * 1e3, fwdbwd: best[n].fwdbwd * 1e3, fwdFormat: best[n].fwdFormat, fwdbwdFormat: best[n].fwdbwdFormat } : null,
        pytorchByFormat: tByFormat ? Object.fromEntries(FORMATS.map((f) => [f, { fwd: tByFormat[f][n].fwd * 1e3, fwdbwd: tByFormat[f][n].fwdbwd * 1e3 }])) : null,
        gradforgeOverPytorchTime: best[n] ? { fwd: g[n].fwd / best[n].fwd, fwdbwd: g[n].fwdbwd / best[n].fwdbwd } : null,
      }])),
      trainingStep: {
        samplesPerSecond: { gradforge: gSps, pytorch: tSps, pytorchFormat: tBestFormat, pytorchByFormat: tSpsBy },
        gradforgeOverPytorchThroughput: tSps !== null ? gSps / tSps : null,
        epochSeconds: { gradforge: gS, pytorch: torch ? tS : null },
      },
      rawLayerSeconds: { gradforge: gL, pytorch: torch ? tL : null },
    });
  }
  if (stepRounds[1] && stepRounds[2]) {
    // Issue 15's bar: the second thread pays in every round, not on average.
    const slowest2 = Math.min(...stepRounds[2]), fastest1 = Math.max(...stepRounds[1]);
    console.log(`gradforge 2 threads / 1 thread: ${(median(stepRounds[2]) / median(stepRounds[1])).toFixed(2)}x (medians); ` +
      `slowest 2-thread round ${slowest2.toFixed(0)} samples/s ${slowest2 > fastest1 ? '>' : '<='} fastest 1-thread round ${fastest1.toFixed(0)}\n`);
  }
  torch?.close();
  gf.setNumThreads(defaultThreads);
  fs.rmSync(dir, { recursive: true, force: true });
  const file = writeResults('cnn', {
    date: new Date().toISOString(), batch: BATCH, rounds: ROUNDS, stepBatches: STEP_BATCHES,
    backend: gf.backendInfo(), pytorch: torchInfo, cpu: os.cpus()[0]?.model, cpus: os.cpus().length,
    loadAverage: { before: loadBefore, after: os.loadavg() }, results,
  });
  console.log(`wrote ${file}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
