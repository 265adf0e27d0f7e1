// bench/onnx-export.ts against gradforge itself: onnxruntime-node running the exported model
// must compute what model.predict computes (to 1e-5), or bench/infer.ts would time the
// reference on a different function. Covered: the bench's two models (the MLP and the
// tutorial CNN, whose NHWC Flatten before a Dense is where an exporter goes wrong: ONNX
// flattens NCHW in (c, h, w) order, Keras in (h, w, c)), both ways of keeping Keras's order,
// and a CNN on a non-square, multi-channel input with 'same' padding, strides, a dilation and
// non-square kernels (a swapped kernel axis or H/W would show). The last test shows the
// comparison has the power to catch a wrong flatten order: a model whose first Dense reads its
// input in (c, h, w) order differs from the right one by far more than the tolerance.
//
// onnxruntime runs in a child node process: inside jest's sandbox its output tensors fail its
// own `instanceof Float32Array` check (the native binding makes them in node's realm, the
// check uses the sandbox's; microsoft/onnxruntime#16622), so the test hands it the model and
// the inputs as files and reads the outputs back.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';
import { tutorialCnn } from '../examples/mnist-cnn';
import { benchMlp } from '../bench/infer';
import { exportOnnx, OnnxExportOptions } from '../bench/onnx-export';

const TOL = 1e-5;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

// Runs each job's model on its inputs in onnxruntime-node (1 thread, all graph optimizations)
// and writes each output next to its input, its dims to stdout as JSON lines.
const ORT_RUNNER = `
const fs = require('fs');
const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
const jobs = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
(async () => {
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(fs.readFileSync(job.model), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    for (const run of job.runs) {
      const x = new Float32Array(new Uint8Array(fs.readFileSync(run.x)).buffer);
      const y = (await session.run({ input: new ort.Tensor('float32', x, run.shape) })).output;
      fs.writeFileSync(run.out, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
      console.log(JSON.stringify(y.dims));
    }
    await session.release();
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

interface Export { model: gf.Sequential; item: number[]; opts?: OnnxExportOptions }

/** For each export, the largest |ORT - predict| over batches 1 and 3 of random inputs. */
function ortVsPredict(exports: Export[]): number[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-onnx-test-'));
  try {
    const wants: gf.Tensor[][] = [];
    const jobs = exports.map((e, i) => {
      const model = path.join(dir, `m${i}.onnx`);
      fs.writeFileSync(model, exportOnnx(e.model, e.opts));
      wants.push([]);
      return {
        model,
        runs: [1, 3].map((batch) => {
          const x = gf.randUniform([batch, ...e.item], { seed: 40 + batch, minval: -1, maxval: 1 });
          wants[i].push(e.model.predict(x));
          const file = path.join(dir, `m${i}_b${batch}`);
          fs.writeFileSync(`${file}.x`, Buffer.from((x.data as Float32Array).buffer, x.data.byteOffset, x.data.byteLength));
          return { x: `${file}.x`, out: `${file}.y`, shape: x.shape };
        }),
      };
    });
    fs.writeFileSync(path.join(dir, 'jobs.json'), JSON.stringify(jobs));
    const r = spawnSync(process.execPath, ['-e', ORT_RUNNER, path.join(dir, 'jobs.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`onnxruntime runner failed: ${r.stderr}`);
    const dims = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as number[]);
    let k = 0;
    return jobs.map((job, i) => {
      let worst = 0;
      job.runs.forEach((run, b) => {
        const want = wants[i][b];
        expect(dims[k++]).toEqual(want.shape);
        const got = new Float32Array(new Uint8Array(fs.readFileSync(run.out)).buffer);
        worst = Math.max(worst, maxAbsDiff(got, want.data));
      });
      return worst;
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function built(model: gf.Sequential, item: number[]): gf.Sequential {
  model.predict(gf.zeros([1, ...item]));
  return model;
}

describe('ONNX export (bench/onnx-export.ts) runs in onnxruntime-node as gradforge computes', () => {
  test('the MLP 784-128-128-10', () => {
    gf.setSeed(3);
    const [d] = ortVsPredict([{ model: built(benchMlp(), [784]), item: [784] }]);
    expect(d).toBeLessThan(TOL);
  });

  test('the tutorial CNN (NHWC input, HWC flatten), with the Dense rows permuted and with a transpose back', () => {
    gf.setSeed(4);
    const cnn = built(tutorialCnn(), [28, 28, 1]);
    const d = ortVsPredict([{ model: cnn, item: [28, 28, 1] }, { model: cnn, item: [28, 28, 1], opts: { flatten: 'transpose' } }]);
    expect(Math.max(...d)).toBeLessThan(TOL);
  });

  test('a CNN on a non-square 3-channel input: same padding, strides, dilation, non-square kernels, linear output', () => {
    gf.setSeed(5);
    const item = [11, 8, 3];
    const m = built(gf.sequential([
      gf.layers.conv2d({ filters: 5, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'relu', inputShape: item }),
      gf.layers.maxPooling2d({ poolSize: [2, 3], strides: [1, 2], padding: 'same' }),
      gf.layers.conv2d({ filters: 4, kernelSize: [2, 3], dilationRate: [2, 1], activation: 'tanh', biasInitializer: 'randomNormal' }),
      gf.layers.flatten(),
      gf.layers.dense({ units: 7, activation: 'sigmoid', biasInitializer: 'randomNormal' }),
      gf.layers.dense({ units: 4, useBias: false }),
    ]), item);
    const d = ortVsPredict([{ model: m, item }, { model: m, item, opts: { flatten: 'transpose' } }]);
    expect(Math.max(...d)).toBeLessThan(TOL);
  });

  test('the comparison catches a wrong flatten order', () => {
    gf.setSeed(4);
    const cnn = built(tutorialCnn(), [28, 28, 1]);
    const wrong = built(tutorialCnn(), [28, 28, 1]);
    // dense1's rows in (c, h, w) order: what an exporter that flattened NCHW without the permutation would compute
    const ws = cnn.getWeights();
    const [H, W, C] = [3, 3, 64];
    const k = ws[6];
    const out = k.shape[1];
    const p = new Float32Array(k.size);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
      p.set(k.data.subarray(((c * H + h) * W + w) * out, ((c * H + h) * W + w + 1) * out), ((h * W + w) * C + c) * out);
    }
    ws[6] = gf.tensor(p, k.shape);
    wrong.setWeights(ws);
    const x = gf.randUniform([3, 28, 28, 1], { seed: 43, minval: -1, maxval: 1 });
    expect(maxAbsDiff(wrong.predict(x).data, cnn.predict(x).data)).toBeGreaterThan(100 * TOL);
  });
});
