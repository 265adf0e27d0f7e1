/**
 * Dynamic micro-batching for serving, as TF Serving's and Triton's batchers do it: requests
 * of a few rows each are queued, merged into one batch along axis 0, computed by one
 * `model.predictAsync`, and each request gets back exactly its own rows.
 *
 * The policy, in one place:
 * - A batch is dispatched when its rows reach `maxBatchSize`, or `maxDelayMs` after its
 *   oldest request arrived, whichever comes first, and only while fewer than `maxInFlight`
 *   batches are computing; the queue keeps filling meanwhile, so the next batch is ready
 *   when one finishes.
 * - A request is never split across batches, except one with more rows than
 *   `maxBatchSize`: it is cut into pieces of `maxBatchSize` rows (the last one may share a
 *   batch), so that no batch is ever larger than `maxBatchSize`. Its result is the pieces'
 *   rows joined back in order.
 * - Batches are formed first come, first served, and only from requests of one signature
 *   (dtype and feature shape): the oldest request picks it; requests of another signature
 *   keep their place for a later batch. Requests that do not fit the model's input shape
 *   are refused with a ShapeError at predict(), so a bad request never reaches a batch.
 * - `maxQueue` counts requests (not rows) waiting to be dispatched; one more is refused at
 *   once with a QueueFullError. A request stops counting when its last rows are dispatched.
 * - A request that times out (TimeoutError) or is aborted (AbortError) before its rows come
 *   back is settled at once: removed from the queue if still there, its rows discarded if
 *   its batch is computing. A batch whose every request has gone is aborted in turn.
 * - An error from the model rejects every request of that batch, and no other.
 * - With `batchSizes` (TF Serving's allowed_batch_sizes), a batch is padded with zero rows
 *   up to the smallest of those sizes that holds it, and the padding's output is dropped:
 *   the model then sees a few shapes only, which keeps a per-shape cache (gradforge's
 *   execution plans) warm, at the cost of computing the padding.
 *
 * Tensors are garbage-collected (lib/tensor.ts), so nothing here disposes anything. Each
 * result is a view (sliceRows) into its batch's output, except a split request's, which is
 * a copy joining its pieces.
 *
 * @example
 * const b = gf.serving.batcher(model, {maxBatchSize: 32, maxDelayMs: 2, maxQueue: 256});
 * const y = await b.predict(x);          // x: [n, 784] -> y: [n, 10], computed with others
 */
import { performance } from 'perf_hooks';
import { Tensor, zeros } from '../tensor';
import { concat, sliceRows } from '../ops/shape';
import { noGrad } from '../autograd';
import { AbortError, QueueFullError, ShapeError, TimeoutError, ValueError, fmtShape } from '../errors';

/**
 * What the batcher needs of a model: an asynchronous predict over a batch of rows that
 * returns one output row per input row (gradforge's Sequential.predictAsync), and, when
 * known, the batch input shape (Sequential.inputShape, e.g. [null, 784]) to check requests
 * against.
 */
export interface BatchModel {
  predictAsync(x: Tensor, opts?: { signal?: AbortSignal }): Promise<Tensor>;
  readonly inputShape?: readonly (number | null)[] | null;
}

export interface BatcherOptions {
  /** The most rows in one batch (integer >= 1; default 32). */
  maxBatchSize?: number;
  /** How long the oldest queued request waits for others before its batch goes (ms >= 0; default 2). */
  maxDelayMs?: number;
  /** The most requests waiting to be dispatched (integer >= 1; default 256); more are refused. */
  maxQueue?: number;
  /** How many batches may compute at once (integer >= 1; default 1). */
  maxInFlight?: number;
  /** The default per-request timeout in ms, queueing and computing together (> 0; default none). */
  timeoutMs?: number;
  /**
   * Batch sizes the model may see, ascending, the largest being maxBatchSize (which it
   * defaults to then): each batch is padded with zero rows to the smallest that holds it,
   * e.g. [1, 2, 4, 8, 16, 32]. Default: none, batches go as they are.
   */
  batchSizes?: readonly number[];
}

/** The options as the batcher resolved them (timeoutMs null: no timeout). */
export interface ResolvedBatcherOptions {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  readonly maxInFlight: number;
  readonly timeoutMs: number | null;
  readonly batchSizes: readonly number[] | null;
}

export interface BatcherPredictOptions {
  /** Aborting it settles the request with an AbortError, unless its result was delivered. */
  signal?: AbortSignal;
  /** This request's timeout in ms (> 0), in place of the batcher's. */
  timeoutMs?: number;
}

/** Counters since the batcher was made, and its state now. */
export interface BatcherStats {
  /** Requests waiting to be dispatched (what maxQueue limits). */
  queueDepth: number;
  /** Rows of those requests still waiting. */
  queuedRows: number;
  /** Batches computing now. */
  inFlight: number;
  /** Requests accepted by predict(). */
  requests: number;
  /** Requests resolved with their rows. */
  completed: number;
  /** Batches dispatched to the model. */
  batches: number;
  /** Rows of requests dispatched to the model, over all batches. */
  rows: number;
  /** Zero rows added to reach one of `batchSizes` (not counted in rows). */
  paddedRows: number;
  /** rows / batches: the mean request rows per batch (0 before the first batch). */
  meanBatchSize: number;
  /** The largest batch dispatched, in rows. */
  largestBatch: number;
  /** Requests refused because the queue was full (QueueFullError). */
  rejected: number;
  /** Requests that timed out (TimeoutError). */
  timedOut: number;
  /** Requests aborted by their signal, or by close() while queued (AbortError). */
  aborted: number;
  /** Requests rejected by an error of the model. */
  failed: number;
  closed: boolean;
}

/** One caller's request and how far it has come. */
interface Request {
  readonly x: Tensor;
  /** dtype and feature shape: only requests with the same key share a batch. */
  readonly key: string;
  readonly arrived: number;
  readonly timeoutMs: number | null;
  /** Each piece's output rows, as they come back. */
  readonly results: (Tensor | undefined)[];
  piecesLeft: number;
  queuedPieces: number;
  done: boolean;
  resolve(y: Tensor): void;
  reject(e: Error): void;
  /** Clears its timeout and abort listener. */
  cleanup(): void;
}

/** Rows [start, end) of a request: the whole request, except for one above maxBatchSize. */
interface Piece {
  readonly req: Request;
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

interface Batch {
  readonly pieces: readonly Piece[];
  /** The requests' rows, then `padding` zero rows. */
  readonly rows: number;
  readonly padding: number;
  readonly controller: AbortController;
}

const DEFAULTS: ResolvedBatcherOptions = { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 256, maxInFlight: 1, timeoutMs: null, batchSizes: null };
const OPTION_NAMES = new Set(Object.keys(DEFAULTS));

/**
 * A dynamic micro-batcher in front of a model; see the module comment for its policy.
 * @example
 * const b = new Batcher(model, {maxBatchSize: 64, maxDelayMs: 5});
 * const [y1, y2] = await Promise.all([b.predict(x1), b.predict(x2)]);   // one batch
 */
export class Batcher {
  readonly options: ResolvedBatcherOptions;
  private readonly model: BatchModel;
  private readonly queue: Piece[] = [];
  private readonly inFlight = new Set<Batch>();
  private queuedRequests = 0;
  private queuedRowCount = 0;
  private delayTimer: NodeJS.Timeout | null = null;
  private timerFor: Request | null = null;
  private closed = false;
  private drained: (() => void)[] = [];
  private readonly counts = { requests: 0, completed: 0, batches: 0, rows: 0, paddedRows: 0, largestBatch: 0, rejected: 0, timedOut: 0, aborted: 0, failed: 0 };

  constructor(model: BatchModel, opts: BatcherOptions = {}) {
    if (model === null || typeof model !== 'object' || typeof (model as Partial<BatchModel>).predictAsync !== 'function') {
      throw new ValueError('batcher: the model needs a predictAsync(x, {signal}) method');
    }
    this.model = model;
    this.options = resolveOptions(opts);
  }

  /**
   * Queues x ([n, ...features], n >= 1) for the next batch and resolves to its n output
   * rows. Every failure is a rejection: ValueError/ShapeError for a bad x or option,
   * QueueFullError when maxQueue requests already wait, AbortError when the signal aborts
   * first or the batcher is closed, TimeoutError after timeoutMs. x is read when its batch
   * is dispatched, so it must not change until the promise settles.
   * @example const probs = await b.predict(gf.tensor([[0.1, 0.2, 0.3, 0.4]]), {timeoutMs: 500});
   */
  predict(x: Tensor, opts: BatcherPredictOptions = {}): Promise<Tensor> {
    try {
      return this.enqueue(x, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The counters and the state now.
   * @example const {meanBatchSize, queueDepth} = b.stats();
   */
  stats(): BatcherStats {
    const c = this.counts;
    return {
      queueDepth: this.queuedRequests,
      queuedRows: this.queuedRowCount,
      inFlight: this.inFlight.size,
      ...c,
      meanBatchSize: c.batches === 0 ? 0 : c.rows / c.batches,
      closed: this.closed,
    };
  }

  /**
   * Refuses new requests and rejects the queued ones with an AbortError; batches already
   * computing finish and deliver. Resolves when none is computing any more.
   * @example server.on('close', () => void b.close());
   */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const req of new Set(this.queue.map((p) => p.req))) {
        this.counts.aborted++;
        this.settle(req, new AbortError('batcher: closed before the request was dispatched'));
      }
      this.armDelayTimer();
    }
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private enqueue(x: Tensor, opts: BatcherPredictOptions): Promise<Tensor> {
    if (this.closed) throw new AbortError('batcher: closed; it takes no new requests');
    if (opts === null || typeof opts !== 'object') throw new ValueError('batcher.predict: options must be an object');
    const timeoutMs = opts.timeoutMs === undefined ? this.options.timeoutMs : positiveFinite('batcher.predict: timeoutMs', opts.timeoutMs);
    const signal = opts.signal;
    if (signal !== undefined && !isAbortSignal(signal)) throw new ValueError('batcher.predict: signal must be an AbortSignal');
    this.checkInput(x);
    if (signal?.aborted) throw new AbortError('batcher: the signal was already aborted');
    if (this.queuedRequests >= this.options.maxQueue) {
      this.counts.rejected++;
      throw new QueueFullError(`batcher: the queue is full (maxQueue ${this.options.maxQueue} requests waiting); try again later`);
    }
    return new Promise<Tensor>((resolve, reject) => {
      const req = this.makeRequest(x, timeoutMs, resolve, reject);
      this.watch(req, signal);
      for (const piece of this.cut(req)) this.queue.push(piece);
      this.queuedRequests++;
      this.queuedRowCount += x.shape[0];
      this.counts.requests++;
      this.pump();
    });
  }

  /** Refuses what can never run: not a tensor, no rows, or a shape the model does not take. */
  private checkInput(x: Tensor): void {
    if (!(x instanceof Tensor)) throw new ValueError('batcher.predict: x must be a Tensor');
    if (x.rank === 0 || x.shape[0] === 0) throw new ShapeError(`batcher.predict: x needs at least one row, got shape ${fmtShape(x.shape)}`);
    const want = this.model.inputShape;
    if (want === null || want === undefined) return;
    if (want.length !== x.rank || want.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
      throw new ShapeError(`batcher.predict: input shape ${fmtShape(x.shape)} does not match the model's input ${fmtShape(want.map((d) => d ?? -1))} (batch first; -1 is any)`);
    }
  }

  private makeRequest(x: Tensor, timeoutMs: number | null, resolve: (y: Tensor) => void, reject: (e: Error) => void): Request {
    const pieces = Math.ceil(x.shape[0] / this.options.maxBatchSize);
    return {
      x, key: `${x.dtype}${fmtShape(x.shape.slice(1))}`, arrived: performance.now(), timeoutMs,
      results: new Array<Tensor | undefined>(pieces), piecesLeft: pieces, queuedPieces: pieces,
      done: false, resolve, reject, cleanup: () => undefined,
    };
  }

  /** Arms the request's timeout and abort listener; cleanup() disarms both. */
  private watch(req: Request, signal: AbortSignal | undefined): void {
    const onAbort = (): void => {
      this.counts.aborted++;
      this.settleEarly(req, new AbortError(`batcher: request aborted ${this.where(req)}`));
    };
    const timer = req.timeoutMs === null ? null : setTimeout(() => {
      this.counts.timedOut++;
      this.settleEarly(req, new TimeoutError(`batcher: request timed out after ${req.timeoutMs} ms ${this.where(req)}`));
    }, req.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.cleanup = () => {
      if (timer !== null) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  }

  private where(req: Request): string {
    return req.queuedPieces > 0 ? 'while queued' : 'while its batch was computing (its rows are discarded)';
  }

  /** The request's pieces: itself, or maxBatchSize rows at a time when it is larger. */
  private cut(req: Request): Piece[] {
    const n = req.x.shape[0];
    const size = this.options.maxBatchSize;
    const pieces: Piece[] = [];
    for (let start = 0, index = 0; start < n; start += size, index++) pieces.push({ req, index, start, end: Math.min(n, start + size) });
    return pieces;
  }

  /** Dispatches every batch that is ready while a slot is free, then waits for the next deadline. */
  private pump(): void {
    while (this.inFlight.size < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.takeReadyBatch();
      if (batch === null) break;
      this.dispatch(batch);
    }
    this.armDelayTimer();
  }

  /**
   * The oldest request's batch, taken off the queue, when it is full (maxBatchSize rows, or
   * the next piece of its signature does not fit) or its delay has passed; else null.
   */
  private takeReadyBatch(): Batch | null {
    const head = this.queue[0];
    const picked = new Set<Piece>();
    let rows = 0;
    let full = false;
    for (const p of this.queue) {
      if (p.req.key !== head.req.key) continue;
      const n = p.end - p.start;
      if (rows + n > this.options.maxBatchSize) { full = true; break; }
      picked.add(p);
      rows += n;
      if (rows === this.options.maxBatchSize) { full = true; break; }
    }
    if (!full && !this.isDue(head.req)) return null;
    const pieces = this.queue.filter((p) => picked.has(p));
    this.removeFromQueue((p) => picked.has(p));
    const size = this.options.batchSizes?.find((n) => n >= rows) ?? rows;
    return { pieces, rows, padding: size - rows, controller: new AbortController() };
  }

  private isDue(req: Request): boolean {
    return performance.now() - req.arrived >= this.options.maxDelayMs;
  }

  /**
   * One timer, for the oldest queued request, and only while a batch could be dispatched.
   * libuv times a timer from the loop's cached clock, so it may fire up to a millisecond
   * early; pump() then finds the batch not yet due and this arms it again for the rest.
   */
  private armDelayTimer(): void {
    const head = this.queue[0]?.req ?? null;
    const idle = head !== null && this.inFlight.size < this.options.maxInFlight;
    if (idle && this.timerFor === head) return;
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    this.delayTimer = null;
    this.timerFor = null;
    if (!idle) return;
    this.timerFor = head;
    const wait = Math.max(0, head.arrived + this.options.maxDelayMs - performance.now());
    this.delayTimer = setTimeout(() => {
      this.delayTimer = null;
      this.timerFor = null;
      this.pump();
    }, wait);
  }

  /** Removes the matching pieces from the queue (one pass), keeping the counters in step. */
  private removeFromQueue(match: (p: Piece) => boolean): void {
    let kept = 0;
    for (const p of this.queue) {
      if (!match(p)) {
        this.queue[kept++] = p;
        continue;
      }
      this.queuedRowCount -= p.end - p.start;
      if (--p.req.queuedPieces === 0) this.queuedRequests--;
    }
    this.queue.length = kept;
  }

  private dispatch(batch: Batch): void {
    this.inFlight.add(batch);
    this.counts.batches++;
    this.counts.rows += batch.rows;
    this.counts.paddedRows += batch.padding;
    this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.rows);
    let result: Promise<Tensor>;
    try {
      result = this.model.predictAsync(batchInput(batch), { signal: batch.controller.signal });
    } catch (e) {
      result = Promise.reject(e);
    }
    Promise.resolve(result).then((y) => this.finish(batch, y, null), (e: unknown) => this.finish(batch, null, e));
  }

  /**
   * A batch's end: it leaves inFlight before its requests settle, so that their callers see
   * stats() without it; the next batch goes in the same turn; close() resolves after both.
   */
  private finish(batch: Batch, y: Tensor | null, error: unknown): void {
    this.inFlight.delete(batch);
    try {
      if (y !== null) this.deliver(batch, y);
      else this.fail(batch, error);
    } catch (e) {
      this.fail(batch, e);   // nothing may leave a request unsettled
    }
    this.pump();
    if (this.inFlight.size === 0) for (const done of this.drained.splice(0)) done();
  }

  /** Hands each live request its rows of the batch's output. */
  private deliver(batch: Batch, y: Tensor): void {
    const sent = batch.rows + batch.padding;
    if (!(y instanceof Tensor) || y.rank === 0 || y.shape[0] !== sent) {
      const got = y instanceof Tensor ? `shape ${fmtShape(y.shape)}` : String(y);
      this.fail(batch, new ShapeError(`batcher: the model returned ${got} for a batch of ${sent} rows; it must return one row per input row`));
      return;
    }
    let offset = 0;
    for (const p of batch.pieces) {
      const n = p.end - p.start;
      if (!p.req.done) {
        p.req.results[p.index] = sliceRows(y, offset, offset + n);
        if (--p.req.piecesLeft === 0) this.complete(p.req);
      }
      offset += n;
    }
  }

  private complete(req: Request): void {
    const parts = req.results as Tensor[];
    let y: Tensor;
    try {
      y = parts.length === 1 ? parts[0] : noGrad(() => concat(parts, 0));
    } catch (e) {
      this.counts.failed++;
      this.settle(req, asError(e));
      return;
    }
    this.counts.completed++;
    this.settle(req, null, y);
  }

  /** Rejects every live request of the batch with the model's error. */
  private fail(batch: Batch, e: unknown): void {
    const err = asError(e);
    for (const req of new Set(batch.pieces.map((p) => p.req))) {
      if (req.done) continue;
      this.counts.failed++;
      this.settle(req, err);
    }
  }

  /**
   * A timeout or an abort: settles now, and aborts any computing batch that no longer has a
   * live request (its rows would be discarded anyway).
   */
  private settleEarly(req: Request, err: Error): void {
    if (req.done) return;
    this.settle(req, err);
    for (const b of this.inFlight) {
      if (b.pieces.every((p) => p.req.done)) b.controller.abort();
    }
    this.pump();
  }

  private settle(req: Request, err: Error | null, y?: Tensor): void {
    req.done = true;
    req.cleanup();
    if (req.queuedPieces > 0) this.removeFromQueue((p) => p.req === req);
    if (err === null) req.resolve(y!);
    else req.reject(err);
  }
}

/**
 * A dynamic micro-batcher in front of `model` (anything with predictAsync, such as a
 * Sequential): see Batcher for the policy and the options' defaults.
 * @example
 * const b = gf.serving.batcher(model, {maxBatchSize: 32, maxDelayMs: 2, maxQueue: 256, timeoutMs: 1000});
 * const y = await b.predict(x, {signal: AbortSignal.timeout(500)});
 * console.log(b.stats().meanBatchSize);
 */
export function batcher(model: BatchModel, opts: BatcherOptions = {}): Batcher {
  return new Batcher(model, opts);
}

/** The batch's rows (and padding) as one tensor: the request itself when it is the whole batch. */
function batchInput(batch: Batch): Tensor {
  const [first] = batch.pieces;
  const x = first.req.x;
  if (batch.pieces.length === 1 && batch.padding === 0 && first.start === 0 && first.end === x.shape[0]) return x;
  const parts = batch.pieces.map((p) => sliceRows(p.req.x, p.start, p.end));
  if (batch.padding > 0) parts.push(zeros([batch.padding, ...x.shape.slice(1)], { dtype: x.dtype }));
  return noGrad(() => concat(parts, 0));
}

function resolveOptions(opts: BatcherOptions): ResolvedBatcherOptions {
  if (opts === null || typeof opts !== 'object') throw new ValueError('batcher: options must be an object');
  for (const k of Object.keys(opts)) {
    if (!OPTION_NAMES.has(k)) throw new ValueError(`batcher: unknown option '${k}' (known: ${[...OPTION_NAMES].join(', ')})`);
  }
  const batchSizes = opts.batchSizes === undefined ? null : ascendingSizes(opts.batchSizes);
  const maxBatchSize = positiveInteger('batcher: maxBatchSize', opts.maxBatchSize ?? batchSizes?.[batchSizes.length - 1] ?? DEFAULTS.maxBatchSize);
  if (batchSizes !== null && batchSizes[batchSizes.length - 1] !== maxBatchSize) {
    throw new ValueError(`batcher: the largest of batchSizes ${fmtShape(batchSizes)} must be maxBatchSize (${maxBatchSize})`);
  }
  return {
    maxBatchSize,
    maxDelayMs: nonNegativeFinite('batcher: maxDelayMs', opts.maxDelayMs ?? DEFAULTS.maxDelayMs),
    maxQueue: positiveInteger('batcher: maxQueue', opts.maxQueue ?? DEFAULTS.maxQueue),
    maxInFlight: positiveInteger('batcher: maxInFlight', opts.maxInFlight ?? DEFAULTS.maxInFlight),
    timeoutMs: opts.timeoutMs === undefined ? DEFAULTS.timeoutMs : positiveFinite('batcher: timeoutMs', opts.timeoutMs),
    batchSizes,
  };
}

function ascendingSizes(v: unknown): readonly number[] {
  const ok = Array.isArray(v) && v.length > 0 && v.every((n, i) => Number.isInteger(n) && n >= 1 && (i === 0 || n > v[i - 1]));
  if (!ok) throw new ValueError(`batcher: batchSizes must be a non-empty ascending array of integers >= 1, got ${JSON.stringify(v)}`);
  return Object.freeze([...(v as number[])]);
}

function positiveInteger(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${what} must be an integer >= 1, got ${String(v)}`);
  return v;
}

function nonNegativeFinite(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ValueError(`${what} must be a finite number >= 0, got ${String(v)}`);
  return v;
}

/** Also bounded by what setTimeout can wait (2^31 - 1 ms); above, Node would fire at once. */
function positiveFinite(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 2 ** 31 - 1) {
    throw new ValueError(`${what} must be a number of ms in (0, 2147483647], got ${String(v)}`);
  }
  return v;
}

/** Duck-typed, so that a signal from another realm (a vm context, a test environment) works. */
function isAbortSignal(s: unknown): s is AbortSignal {
  const o = s as Partial<AbortSignal> | null;
  return typeof o === 'object' && o !== null && typeof o.aborted === 'boolean' && typeof o.addEventListener === 'function' && typeof o.removeEventListener === 'function';
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
