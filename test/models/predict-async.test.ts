// predictAsync and the plan cache in use: cancellation, concurrency, a fit running meanwhile,
// invalidation when the model changes, evaluate and GAN generation through plans, the native
// boundary of plans, and worker_threads.
import * as path from 'path';
import { Worker } from 'worker_threads';
import * as gf from '../../lib';
import { backendFor } from '../../lib/backend';

const kernels = backendFor('cpu').kernels;
import { tutorialCnn } from '../../examples/mnist-cnn';
import { dcganGenerator } from '../../examples/dcgan';

const DIST_LIB = path.join(__dirname, '..', '..', 'dist', 'lib');

function mlp(): gf.Sequential {
  return gf.sequential({ layers: [
    gf.layers.dense({ units: 32, activation: 'relu', inputShape: [20] }),
    gf.layers.dense({ units: 16, activation: 'relu' }),
    gf.layers.dense({ units: 4, activation: 'softmax' }),
  ] });
}

function sameBits(a: gf.Tensor, b: gf.Tensor): boolean {
  if (a.size !== b.size || a.shape.join() !== b.shape.join()) return false;
  for (let i = 0; i < a.size; i++) if (!Object.is(a.data[i], b.data[i])) return false;
  return true;
}

function opByOp<T>(fn: () => T): T {
  const was = gf.setExecutionPlans(false);
  try { return fn(); } finally { gf.setExecutionPlans(was); }
}

describe('predictAsync', () => {
  test('equals predict bit for bit, over several batches and a ragged last one', async () => {
    gf.setSeed(1);
    const model = mlp();
    const x = gf.randn([75, 20]);
    const sync = opByOp(() => model.predict(x, { batchSize: 32 }));
    model.predict(x, { batchSize: 32 }); // records [32, 20] and [11, 20]
    const a = await model.predictAsync(x, { batchSize: 32 });
    expect(sameBits(sync, a)).toBe(true);
    expect(model.predictPlanStatus([32, 20])!.planned).toBe(true);
    expect(model.predictPlanStatus([11, 20])!.planned).toBe(true);
  });

  test('the event loop runs while a plan executes (a timer fires before the result)', async () => {
    gf.setSeed(2);
    const model = tutorialCnn();
    const x = gf.randn([64, 28, 28, 1]);
    model.predict(x, { batchSize: 64 }); // record
    const order: string[] = [];
    const p = model.predictAsync(x, { batchSize: 64 }).then(() => order.push('result'));
    setImmediate(() => order.push('immediate'));
    await p;
    expect(order[0]).toBe('immediate');
  });

  test('16 calls in flight on one model all get their own correct rows', async () => {
    gf.setSeed(3);
    const model = mlp();
    const xs = Array.from({ length: 16 }, () => gf.randn([8, 20]));
    const expected = xs.map((x) => opByOp(() => model.predict(x)));
    model.predict(xs[0]);
    const got = await Promise.all(xs.map((x) => model.predictAsync(x)));
    got.forEach((g, i) => expect(sameBits(expected[i], g)).toBe(true));
  });

  test('an already aborted signal rejects at once with AbortError', async () => {
    gf.setSeed(4);
    const model = mlp();
    const x = gf.randn([4, 20]);
    model.predict(x);
    model.predict(x); // a replay: its time (a few microseconds) decides inline or pool
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    await expect(model.predictAsync(x, { signal: ac.signal })).rejects.toThrow(gf.AbortError);
    await expect(model.predictAsync(x, { signal: ac.signal })).rejects.toThrow(/client went away/);
    // a tiny plan runs at once: aborting after the call cannot take back its result
    const ac2 = new AbortController();
    const done = model.predictAsync(x, { signal: ac2.signal });
    ac2.abort();
    expect(sameBits(opByOp(() => model.predict(x)), await done)).toBe(true);
    // the model still works, and an unaborted call after them is right
    const after = await model.predictAsync(x);
    expect(sameBits(opByOp(() => model.predict(x)), after)).toBe(true);
  });

  test('aborting calls queued for the pool (a CNN batch, too big to run inline) rejects each with AbortError', async () => {
    gf.setSeed(13);
    const model = tutorialCnn();
    const x = gf.randn([32, 28, 28, 1]);
    model.predict(x);
    model.predict(x); // a replay: its time decides inline or pool
    const ac = new AbortController();
    const calls = Array.from({ length: 8 }, () => model.predictAsync(x, { signal: ac.signal }));
    ac.abort();
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(new Array(8).fill('rejected'));
    for (const s of settled) expect((s as PromiseRejectedResult).reason).toBeInstanceOf(gf.AbortError);
    const after = await model.predictAsync(x);
    expect(sameBits(opByOp(() => model.predict(x)), after)).toBe(true);
  });

  test('the input is copied: changing x after the call does not change the result (inline and pool runs)', async () => {
    gf.setSeed(5);
    for (const [model, shape] of [[mlp(), [6, 20]], [tutorialCnn(), [32, 28, 28, 1]]] as const) {
      const x = gf.randn([...shape]);
      const expected = opByOp(() => model.predict(x));
      model.predict(x);
      model.predict(x);
      const calls = Array.from({ length: 6 }, () => model.predictAsync(x));
      x.data.fill(7); // the caller reuses its buffer at once
      for (const r of await Promise.all(calls)) expect(sameBits(expected, r)).toBe(true);
    }
  });

  test('a fit running while predictAsync calls are in flight: the fit is bit-identical to one without them', async () => {
    const train = async (withCalls: boolean): Promise<{ weights: gf.Tensor[]; loss: number[]; preds: gf.Tensor[] }> => {
      gf.setSeed(6);
      const model = mlp();
      model.compile({ optimizer: gf.optimizers.adam({ learningRate: 0.01 }), loss: 'sparseCategoricalCrossentropy' });
      const x = gf.randn([96, 20]);
      const y = gf.tensor(Array.from({ length: 96 }, (_, i) => i % 4), [96], { dtype: 'int32' });
      const probe = gf.randn([8, 20]);
      model.predict(probe); // record
      const preds: Promise<gf.Tensor>[] = [];
      const cb = withCalls ? { onBatchEnd: async () => { for (let k = 0; k < 4; k++) preds.push(model.predictAsync(probe)); } } : {};
      const h = await model.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, shuffle: false, callbacks: [cb as gf.Callback] });
      return { weights: model.getWeights(), loss: h.history.loss as number[], preds: await Promise.all(preds) };
    };
    const alone = await train(false);
    const busy = await train(true);
    expect(busy.loss).toEqual(alone.loss);
    busy.weights.forEach((w, i) => expect(sameBits(alone.weights[i], w)).toBe(true));
    expect(busy.preds.length).toBe(2 * 6 * 4);
    for (const p of busy.preds) {
      expect(p.shape).toEqual([8, 4]);
      for (const v of p.data) expect(Number.isFinite(v)).toBe(true);
    }
  });

  test('each call sees the weights of the moment it was called', async () => {
    gf.setSeed(7);
    const model = mlp();
    const x = gf.randn([5, 20]);
    const before = model.predict(x);
    const pending = model.predictAsync(x);
    // setWeights right after the call, while it may be running
    model.setWeights(model.getWeights().map((w) => gf.zerosLike(w)));
    expect(sameBits(before, await pending)).toBe(true);
    const after = await model.predictAsync(x);
    // zero weights: every softmax output is 1/4
    for (const v of after.data) expect(v).toBeCloseTo(0.25, 6);
  });
});

describe('the plan cache', () => {
  test('in-place weight updates are visible to predict at once (the plan reads the weights)', async () => {
    gf.setSeed(8);
    const model = mlp();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const x = gf.randn([16, 20]);
    const y = gf.tensor(Array.from({ length: 16 }, (_, i) => i % 4), [16], { dtype: 'int32' });
    model.predict(x);
    model.trainOnBatch(x, y);
    const planned = model.predict(x);
    expect(sameBits(opByOp(() => model.predict(x)), planned)).toBe(true);
  });

  test('adding a layer invalidates the plans', () => {
    gf.setSeed(9);
    const model = gf.sequential({ layers: [gf.layers.dense({ units: 3, inputShape: [2] })] });
    const x = gf.randn([2, 2]);
    model.predict(x);
    model.add(gf.layers.dense({ units: 5, activation: 'relu' }));
    const y = model.predict(x);
    expect(y.shape).toEqual([2, 5]);
    expect(sameBits(opByOp(() => model.predict(x)), y)).toBe(true);
  });

  test('a model changed behind its back (layers pushed directly) is recorded again', () => {
    gf.setSeed(10);
    const model = gf.sequential({ layers: [gf.layers.dense({ units: 3, inputShape: [2] })] });
    const x = gf.randn([2, 2]);
    model.predict(x);
    model.layers.push(gf.layers.activation({ activation: 'relu' }));
    const y = model.predict(x);
    for (const v of y.data) expect(v).toBeGreaterThanOrEqual(0);
  });

  test('evaluate through plans equals evaluate op by op (fused logits and not)', () => {
    gf.setSeed(11);
    const x = gf.randn([50, 20]);
    const y = gf.tensor(Array.from({ length: 50 }, (_, i) => (i * 7) % 4), [50], { dtype: 'int32' });
    for (const loss of ['sparseCategoricalCrossentropy', 'meanSquaredError'] as const) {
      const model = mlp();
      model.compile({ optimizer: 'sgd', loss, metrics: ['accuracy'] });
      const yy = loss === 'meanSquaredError' ? gf.toCategorical(y, 4) : y;
      const ref = opByOp(() => model.evaluate(x, yy, { batchSize: 16 }));
      model.evaluate(x, yy, { batchSize: 16 });
      expect(model.evaluate(x, yy, { batchSize: 16 })).toEqual(ref);
    }
  });

  test("a GAN's generate and the DCGAN generator replay plans bit-identically", () => {
    gf.setSeed(12);
    const g = dcganGenerator(8);
    const z = gf.randn([4, 8]);
    const ref = opByOp(() => g.predict(z));
    g.predict(z);
    expect(sameBits(ref, g.predict(z))).toBe(true);
    expect(g.predictPlanStatus([4, 8])).toMatchObject({ planned: true, reason: '' });
  });

  test('GRADFORGE_PLANS=0 turns plans off at start-up', () => {
    const { execFileSync } = require('child_process') as typeof import('child_process');
    const script = `
      const gf = require(${JSON.stringify(DIST_LIB)});
      const m = gf.sequential({layers: [gf.layers.dense({units: 2, inputShape: [3]})]});
      const x = gf.randn([1, 3]); m.predict(x); m.predict(x);
      console.log(JSON.stringify({enabled: gf.executionPlansEnabled(), status: m.predictPlanStatus([1, 3])}));`;
    const run = (env: NodeJS.ProcessEnv): { enabled: boolean; status: unknown } =>
      JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' }).trim().split('\n').pop()!);
    expect(run({ GRADFORGE_PLANS: '0' })).toEqual({ enabled: false, status: null });
    expect(run({ GRADFORGE_PLANS: '' }).enabled).toBe(true);
  });
});

describe('the native boundary of plans', () => {
  function tinyPlan(): { plan: ReturnType<typeof kernels.planEnd>; x: Float32Array; w: Float32Array; y: Float32Array } {
    const x = new Float32Array([1, 2, 3]);
    const w = new Float32Array([1, 0, 0, 1, 1, 1]); // 3 x 2
    const y = new Float32Array(2);
    kernels.planBegin();
    kernels.gemm(false, false, 1, 2, 3, 1, x, 3, w, 2, 0, y, 2);
    return { plan: kernels.planEnd([x], [w], y), x, w, y };
  }

  test('a recorded gemm replays over other arrays of the same sizes', () => {
    const { plan } = tinyPlan();
    expect(typeof plan).not.toBe('string');
    const out = new Float32Array(2);
    kernels.planRun(plan as never, [new Float32Array([2, 0, 1])], [new Float32Array([1, 0, 0, 1, 1, 1])], out);
    expect(Array.from(out)).toEqual([3, 1]);
    expect(kernels.planInfo(plan as never)).toMatchObject({ kernels: ['gemm'], inputs: 1, weights: 1, outputBytes: 8 });
  });

  // errors of the addon come from the main realm, not jest's: compare names and messages
  function thrown(fn: () => unknown): { name: string; message: string } {
    try { fn(); } catch (e) { return { name: (e as Error).name, message: (e as Error).message }; }
    return { name: 'none', message: '' };
  }

  test('wrong sizes, types and overlaps are typed errors, never a crash', () => {
    const { plan, x, w } = tinyPlan();
    const p = plan as never;
    const out = new Float32Array(2);
    expect(thrown(() => kernels.planRun(p, [new Float32Array(4)], [w], out))).toEqual({ name: 'RangeError', message: 'planRun: inputs[0] has 16 bytes but the plan was recorded with 12' });
    expect(thrown(() => kernels.planRun(p, [x], [new Float32Array(5)], out))).toEqual({ name: 'RangeError', message: 'planRun: weights[0] has 20 bytes but the plan was recorded with 24' });
    expect(thrown(() => kernels.planRun(p, [x], [w], new Float32Array(3)))).toEqual({ name: 'RangeError', message: 'planRun: output has 12 bytes but the plan produces 8' });
    expect(thrown(() => kernels.planRun(p, [], [w], out))).toEqual({ name: 'RangeError', message: 'planRun: the plan takes 1 inputs, got 0' });
    expect(thrown(() => kernels.planRun({} as never, [x], [w], out))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/argument 'plan' must be a plan from planEnd, got object/) });
    expect(thrown(() => kernels.planRun(p, [x, 3 as unknown as Float32Array], [w], out))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/inputs\[1\] must be a typed array, got number 3/) });
    expect(thrown(() => kernels.planRun(p, x as never, [w], out))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/argument 'inputs' must be an array of typed arrays/) });
    // the recorded element types: a Uint8Array over the same bytes (at any offset) is refused
    const bytes = new Uint8Array(13);
    expect(thrown(() => kernels.planRun(p, [bytes.subarray(1)], [w], out))).toEqual({ name: 'TypeError', message: 'planRun: inputs[0] is a Uint8Array but the plan was recorded with a Float32Array' });
    expect(thrown(() => kernels.planRunAsync(p, [x], kernels.planWeights([new Int32Array(6)]), out, () => {}))).toEqual({ name: 'TypeError', message: 'planRunAsync: weights[0] is a Int32Array but the plan was recorded with a Float32Array' });
    const shared = new Float32Array(5);
    expect(thrown(() => kernels.planRun(p, [shared.subarray(0, 3)], [w], shared.subarray(3, 5))).name).toBe('none');
    expect(thrown(() => kernels.planRun(p, [shared.subarray(0, 3)], [w], shared.subarray(2, 4)))).toEqual({ name: 'RangeError', message: 'planRun: output shares memory with an input' });
    const pack = kernels.planWeights([w]);
    expect(thrown(() => kernels.planRunAsync(p, [x], pack, out, 5 as never))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/argument 'done' must be a function/) });
    expect(thrown(() => kernels.planRunAsync(p, [x], [w] as never, out, () => {}))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/argument 'weights' must be weights from planWeights/) });
    expect(thrown(() => kernels.planRunAsync(p, [x], kernels.planWeights([w, w]), out, () => {}))).toEqual({ name: 'RangeError', message: 'planRunAsync: the plan reads 1 weights, got 2' });
    expect(thrown(() => kernels.planWeights([w, new Uint16Array(2) as never]))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/weights\[1\] must be a Float32Array, Float64Array, Int32Array or Uint8Array/) });
    expect(thrown(() => kernels.planCancel(p as never))).toMatchObject({ name: 'TypeError', message: expect.stringMatching(/argument 'run' must be a token from planRunAsync/) });
    expect(thrown(() => kernels.planEnd([x], [w], out)).message).toMatch(/no recording is running/);
    kernels.planBegin();
    expect(thrown(() => kernels.planBegin()).message).toMatch(/already running/);
    kernels.planAbort();
  });

  test('a getter that detaches an array already taken makes the call a RangeError (never a read of freed memory)', () => {
    const { plan, w } = tinyPlan();
    const x = new Float32Array(3);
    const weights: Float32Array[] = [];
    Object.defineProperty(weights, 0, { get() { structuredClone(x.buffer, { transfer: [x.buffer] }); return w; } });
    Object.defineProperty(weights, 'length', { value: 1 });
    expect(thrown(() => kernels.planRun(plan as never, [x], weights, new Float32Array(2)))).toMatchObject({ name: 'RangeError', message: expect.stringMatching(/was detached or resized while the call read its other arguments/) });
  });

  test('planRunAsync reads only its own copies: weights changed after planWeights, an output detached before completion', async () => {
    const { plan } = tinyPlan();
    const p = plan as never;
    const w = new Float32Array([1, 0, 0, 1, 1, 1]);
    const pack = kernels.planWeights([w]);
    w.fill(100); // the pack keeps the bytes of the moment it was made
    const run = (out: Float32Array, after?: () => void): Promise<string | null> => new Promise((resolve) => {
      kernels.planRunAsync(p, [new Float32Array([2, 0, 1])], pack, out, (err) => resolve(err));
      after?.();
    });
    const out = new Float32Array(2);
    expect(await run(out)).toBeNull();
    expect(Array.from(out)).toEqual([3, 1]);
    const gone = new Float32Array(2);
    const err = await run(gone, () => structuredClone(gone.buffer, { transfer: [gone.buffer] }));
    expect(err).toMatch(/output was detached or resized before the run completed/);
  });

  test('recordings that cannot be replayed say why', () => {
    const a = new Float32Array([1, -2, 3]);
    const mid = new Float32Array(3);
    const out = new Float32Array(3);
    kernels.planBegin();
    kernels.unary('relu', a, mid, 0, 0);
    const jsMade = mid.map((v) => v * 2); // computed in JavaScript between the kernels
    kernels.unary('neg', jsMade, out, 0, 0);
    expect(kernels.planEnd([a], [], out)).toMatch(/step 1 \(unary\) reads memory that no earlier kernel wrote/);

    kernels.planBegin();
    kernels.unary('relu', a, mid, 0, 0);
    kernels.unaryBackward('relu', a, mid, mid, out, 0, 0);
    expect(kernels.planEnd([a], [], out)).toMatch(/unaryBackward ran during the recording/);

    kernels.planBegin();
    kernels.unary('relu', a, a, 0, 0);
    expect(kernels.planEnd([a], [], a)).toMatch(/writes into an input/);

    // a kernel writes the first half of a longer array, JavaScript the rest: counted as written
    // is only what the kernel writes
    const half = new Float32Array([1, 2]);
    const long = new Float32Array(4);
    const res = new Float32Array(4);
    kernels.planBegin();
    kernels.binary('add', half, [2], half, [2], long, [2]);
    long[2] = 7; long[3] = 7;
    kernels.unary('neg', long, res, 0, 0);
    expect(kernels.planEnd([half], [], res)).toMatch(/step 1 \(unary\) reads memory that no earlier kernel wrote/);
  });
});

test('worker_threads: a model predicts with plans in a worker, sync and async', async () => {
  // the compiled library (npm install builds dist/): a worker cannot load TypeScript
  const lib = DIST_LIB;
  const code = `
    const { parentPort } = require('worker_threads');
    const gf = require(${JSON.stringify(lib)});
    gf.setSeed(1);
    const m = gf.sequential({layers: [gf.layers.dense({units: 8, activation: 'relu', inputShape: [4]}), gf.layers.dense({units: 2})]});
    const x = gf.randn([3, 4]);
    gf.setExecutionPlans(false); const ref = m.predict(x); gf.setExecutionPlans(true);
    m.predict(x);
    m.predictAsync(x).then((a) => {
      const s = m.predict(x);
      parentPort.postMessage({ ok: Array.from(ref.data).every((v, i) => Object.is(v, a.data[i]) && Object.is(v, s.data[i])), planned: m.predictPlanStatus([3, 4]).planned });
    });`;
  const w = new Worker(code, { eval: true });
  const msg = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await w.terminate();
  expect(msg).toEqual({ ok: true, planned: true });
});
