// Execution plans for a model's forward pass (docs/ARCHITECTURE.md, "Execution plans").
//
// It is: per model, a bounded cache of native plans keyed by the input shape (and by what the
// forward computes: predict's outputs, or evaluate's logits); the first forward of a shape runs
// op by op while native/plan records its kernel calls, later ones replay the plan in one native
// call, on this thread (forward) or on the libuv pool (forwardAsync). A recording that cannot
// be replayed faithfully (JavaScript computed something between kernels: masks, embedding
// lookups) is remembered with its reason, and that shape keeps running op by op.
// It is not: the forward pass itself (the model's layers are), nor a scheduler of anything but
// plan executions.
//
// Concurrency. Async executions take the native thread pool one at a time: at most
// floor(cores / threads) run at once (so 2 with 1 thread each on 2 cores, 1 with 2 threads),
// the rest wait here, in order, without occupying libuv threads; a kernel that finds the pool
// busy runs on its own thread (native/cpu/threadpool). Each execution has its own arena.
// A plan that runs in under INLINE_SECONDS (its mean of recent runs) is not worth the pool:
// handing it to a libuv thread and back costs 50-60 us here (a wake-up on each side:
// bench:infer, MLP at batch 32, 77 us sync against 138 us through the pool), as much as the
// run. predictAsync runs it at once on this thread (as onnxruntime-node's run() runs
// everything, one setImmediate later), holding the event loop about that long per batch;
// Sequential.predictAsync yields to the event loop between such batches every millisecond.
// Async executions read a snapshot of the weights (planWeights: a native copy, which no
// JavaScript can detach or change), copied again when the library has written any weight
// since the last snapshot (noteWeightWrite), so a fit running meanwhile neither sees nor
// disturbs them: a predictAsync sees the weights of the moment it was called.
import * as os from 'os';
import type { PlanHandle, PlanRunHandle, PlanWeightsHandle } from '../../binding';
import { backendFor, numThreads } from '../backend';
import { AbortError, DeviceError } from '../errors';
import { weightWriteCount, withoutReuse } from '../memory';
import { Tensor, TypedArray, Device } from '../tensor';

// Plans record and replay the CPU backend's kernels (native/plan); a model on another device
// runs op by op.
const kernels = backendFor('cpu').kernels;

let enabled = !['0', 'false', 'off', 'no'].includes((process.env.GRADFORGE_PLANS ?? '').trim().toLowerCase());

/**
 * Turns execution plans on or off (like GRADFORGE_PLANS=0); returns the old setting. With
 * plans off, predict, evaluate and predictAsync run op by op on the calling thread (the
 * results are bit-identical either way).
 * @example const was = gf.setExecutionPlans(false);
 */
export function setExecutionPlans(on: boolean): boolean {
  const old = enabled;
  enabled = on;
  return old;
}

/** Whether execution plans are on. */
export function executionPlansEnabled(): boolean {
  return enabled;
}

/** What a model offers the plan cache: its op-by-op forward and the weights it reads. */
export interface PlannableModel {
  /** The op-by-op forward of a float32 batch: output, and the mask reaching it (or null). */
  run(x: Tensor): { output: Tensor; mask: Tensor | null };
  /** The storage of every weight the forward may read (trainable or not), in a fixed order. */
  weightArrays(): TypedArray[];
  /** The layers, in order: a plan recorded with other layers is recorded again. */
  layers(): readonly object[];
  /** Where the weights are: plans record and replay CPU kernels only. */
  device(): Device;
}

/** A forward's result: the output and the mask reaching it (null from a plan). */
export interface ForwardResult {
  output: Tensor;
  mask: Tensor | null;
}

/** Whether a shape has a plan, and if not why (for tests and diagnostics). */
export interface PlanStatus {
  planned: boolean;
  reason: string;
  kernels: string[];
  arenaBytes: number;
}

interface PlanEntry {
  plan: PlanHandle | null;
  reason: string;
  outShape: readonly number[];
  outSize: number;
  weightLengths: number[];
  layers: readonly object[];
  /** Mean seconds of recent executions (until the first: the recording's op-by-op pass, an over-estimate). */
  seconds: number;
  /** Executions timed so far. */
  runs: number;
}

/** Below this mean execution time predictAsync runs a plan on this thread (see the top). */
export const INLINE_SECONDS = 250e-6;

function noteSeconds(e: PlanEntry, seconds: number): void {
  // the first replay replaces the recording's estimate; later ones move a running mean
  e.seconds = e.runs++ === 0 ? seconds : e.seconds + 0.2 * (seconds - e.seconds);
}

/** The plans of one model. */
export class ModelPlans {
  /**
   * Shapes kept per model: every batch size up to 64 (a batcher's), least recently used out.
   * A plan costs its arenas (the intermediates of one forward each, for as many as ran at once).
   */
  static readonly MAX_ENTRIES = 64;
  private readonly entries = new Map<string, PlanEntry>();
  private snapshot: { version: number; sources: TypedArray[]; pack: PlanWeightsHandle } | null = null;

  /** Forgets every plan (the layers changed). */
  clear(): void {
    this.entries.clear();
    this.snapshot = null;
  }

  /** The forward for x, by plan when there is one. */
  forward(x: Tensor, variant: string, model: PlannableModel): ForwardResult {
    const p = this.prepare(x, variant, model);
    return 'done' in p ? p.done : { output: this.replay(p.e, p.x, p.weights), mask: null };
  }

  /**
   * What both forwards do first: the plan for x's shape, or the forward's result when there is
   * none to replay (plans off, the first call of a shape, which records, or a refused shape).
   */
  private prepare(x: Tensor, variant: string, model: PlannableModel): { done: ForwardResult } | { e: PlanEntry; x: Tensor; weights: TypedArray[] } {
    if (!enabled || x.device !== 'cpu' || model.device() !== 'cpu') return { done: model.run(x) };
    const xf = x.dtype === 'float32' ? x : x.cast('float32');
    const weights = model.weightArrays();
    const key = keyOf(variant, xf.shape);
    const e = this.lookup(key, weights, model);
    if (e === undefined) return { done: this.record(key, xf, model) };
    if (e.plan === null) return { done: model.run(xf) };
    return { e, x: xf, weights };
  }

  private replay(e: PlanEntry, x: Tensor, weights: TypedArray[]): Tensor {
    const out = new Float32Array(e.outSize);
    const t0 = performance.now();
    kernels.planRun(e.plan!, [x.data], weights, out);
    noteSeconds(e, (performance.now() - t0) / 1e3);
    return new Tensor(out, e.outShape);
  }

  /**
   * forward off this thread: the plan runs on the libuv pool while the event loop goes on.
   * The first call for a shape records (op by op, here); a shape that cannot be planned runs
   * op by op here too: then the output comes back at once, else a promise of it. Nothing the
   * promise waits for is pooled storage of the caller's scope (the input is copied).
   */
  forwardAsync(x: Tensor, variant: string, model: PlannableModel, signal?: AbortSignal): Tensor | Promise<Tensor> {
    throwIfAborted(signal);
    const p = this.prepare(x, variant, model);
    if ('done' in p) return p.done.output;
    const { e, weights } = p;
    // a tiny plan runs here and now (see the top): the caller gets its output at once
    if (e.seconds < INLINE_SECONDS) return this.replay(e, p.x, weights);
    return runQueued(e, p.x.data, this.weightSnapshot(weights), signal).then((out) => new Tensor(out, e.outShape));
  }

  /** @internal Whether the forward of this shape is planned, and if not why; null before its first run. */
  status(variant: string, shape: readonly number[]): PlanStatus | null {
    const e = this.entries.get(keyOf(variant, shape));
    if (e === undefined) return null;
    if (e.plan === null) return { planned: false, reason: e.reason, kernels: [], arenaBytes: 0 };
    const info = kernels.planInfo(e.plan);
    return { planned: true, reason: '', kernels: info.kernels, arenaBytes: info.arenaBytes };
  }

  private lookup(key: string, weights: readonly TypedArray[], model: PlannableModel): PlanEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    // other layers, or layers rebuilt with other weights: record again
    const layers = model.layers();
    if (e.weightLengths.length !== weights.length || e.weightLengths.some((n, i) => n !== weights[i].length) ||
        e.layers.length !== layers.length || e.layers.some((l, i) => l !== layers[i])) {
      this.entries.delete(key);
      return undefined;
    }
    // most recently used last, so eviction drops the least recently used
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  private record(key: string, x: Tensor, model: PlannableModel): ForwardResult {
    try {
      kernels.planBegin();
    } catch {
      // a forward inside a recording (a layer that calls predict): it runs op by op
      return model.run(x);
    }
    let ended = false;
    try {
      const t0 = performance.now();
      const result = withoutReuse(() => model.run(x));
      const seconds = (performance.now() - t0) / 1e3;
      // the forward may have built the model: its weights exist only now
      const weights = model.weightArrays();
      const { output, mask } = result;
      let plan: PlanHandle | null = null;
      let reason = '';
      if (mask !== null) reason = 'the output carries a mask, which plans do not return';
      else if (output.dtype !== 'float32') reason = `the output is ${output.dtype}, plans return float32`;
      if (reason === '') {
        ended = true;
        const r = kernels.planEnd([x.data], weights, output.data);
        if (typeof r === 'string') reason = r;
        else plan = r;
      }
      this.entries.set(key, {
        plan, reason, outShape: [...output.shape], outSize: output.size,
        weightLengths: weights.map((w) => w.length), layers: [...model.layers()], seconds, runs: 0,
      });
      while (this.entries.size > ModelPlans.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
      return result;
    } finally {
      if (!ended) kernels.planAbort();
    }
  }

  /** A native copy of the weights, made again only when the library wrote a weight since the last one. */
  private weightSnapshot(weights: readonly TypedArray[]): PlanWeightsHandle {
    const s = this.snapshot;
    const version = weightWriteCount();
    if (s !== null && s.version === version && s.sources.length === weights.length && s.sources.every((a, i) => a === weights[i])) {
      return s.pack;
    }
    const sources = [...weights];
    this.snapshot = { version, sources, pack: kernels.planWeights(sources) };
    return this.snapshot.pack;
  }
}

function keyOf(variant: string, shape: readonly number[]): string {
  return `${variant}|${shape.join(',')}`;
}

function abortError(signal: AbortSignal | undefined): AbortError {
  const reason: unknown = signal?.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  return new AbortError(`predictAsync: aborted${why ? ` (${why})` : ''}`);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

// ---- the queue of async executions ----------------------------------------------------------

// One 'abort' listener per signal, whatever the number of runs waiting on it (a server may
// hand one signal to many calls; Node warns past ten listeners on one target).
const abortWatchers = new WeakMap<AbortSignal, Set<() => void>>();

function onAbortOf(signal: AbortSignal, fn: () => void): void {
  let set = abortWatchers.get(signal);
  if (set === undefined) {
    const fns = new Set<() => void>();
    set = fns;
    abortWatchers.set(signal, fns);
    signal.addEventListener('abort', () => { for (const f of [...fns]) f(); fns.clear(); }, { once: true });
  }
  set.add(fn);
}

function offAbort(signal: AbortSignal, fn: () => void): void {
  abortWatchers.get(signal)?.delete(fn);
}

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
let running = 0;
const waiting: (() => void)[] = [];

// libuv's pool also serves fs, dns and crypto: leave it one thread
const uvThreads = Math.max(1, Math.min(1024, Number.parseInt(process.env.UV_THREADPOOL_SIZE ?? '', 10) || 4));

/**
 * Async executions allowed at once: enough to fill the cores, each using the native pool's
 * threads, and never all of libuv's threads.
 */
function concurrency(): number {
  return Math.max(1, Math.min(Math.floor(cores / numThreads()), uvThreads - 1));
}

function startWaiting(): void {
  while (running < concurrency() && waiting.length > 0) waiting.shift()!();
}

/** Runs a plan on the libuv pool when a slot is free; resolves to its output. */
function runQueued(e: PlanEntry, input: TypedArray, weights: PlanWeightsHandle, signal: AbortSignal | undefined): Promise<Float32Array> {
  const plan = e.plan!;
  return new Promise<Float32Array>((resolve, reject) => {
    const out = new Float32Array(e.outSize);
    let token: PlanRunHandle | null = null;
    let queued: (() => void) | null = null;
    let source = input;
    const detach = (): void => { if (signal !== undefined) offAbort(signal, onAbort); };
    const onAbort = (): void => {
      if (queued !== null) {
        const i = waiting.indexOf(queued);
        if (i >= 0) waiting.splice(i, 1);
        queued = null;
        detach();
        reject(abortError(signal));
      } else if (token !== null) {
        // cancelled if not started (done then says so); a started run finishes and is refused below
        kernels.planCancel(token);
      }
    };
    const start = (): void => {
      queued = null;
      running++;
      try {
        token = kernels.planRunAsync(plan, [source], weights, out, (error, cancelled, seconds) => {
          running--;
          if (seconds > 0) noteSeconds(e, seconds);
          token = null;
          detach();
          startWaiting();
          if (cancelled || signal?.aborted) reject(abortError(signal));
          else if (error !== null) reject(new DeviceError(`predictAsync: ${error}`));
          else resolve(out);
        });
      } catch (err) {
        running--;
        detach();
        startWaiting();
        reject(err);
      }
    };
    if (signal !== undefined) onAbortOf(signal, onAbort);
    if (running < concurrency()) {
      start();
    } else {
      // the caller may change its array once predictAsync returns: keep what it was
      source = input.slice();
      queued = start;
      waiting.push(start);
    }
  });
}
