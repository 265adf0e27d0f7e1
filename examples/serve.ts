// A model behind HTTP with node:http only: concurrent requests are merged into batches by
// gf.serving.batcher and computed off the event loop by model.predictAsync.
//
//   npm run example:serve                      trains the MNIST MLP for a few seconds, serves it
//   npm run example:serve -- ./models/mnist    serves a saved model (or MODEL_DIR=...)
//   npm run example:serve -- --no-batcher      one predictAsync per request, for comparison
//   PORT=8080 npm run example:serve            (default 3000; always on 127.0.0.1)
//
// Endpoints:
//   POST /predict  {"instances": [x1, x2, ...]}, each x of the model's feature shape ([784]: a
//                  list of 784 numbers; [28, 28, 1]: nested lists), or {"instances": x} for
//                  one instance -> 200 {"predictions": [y1, ...]}, one per instance, always
//                  a list. 400: not JSON, no instances, a wrong shape, an element that is not a
//                  finite number. 413: a body above maxBodyBytes (not read further).
//                  503: the batcher's queue is full (Retry-After: 1), or it is closing.
//                  504: no answer within timeoutMs.
//   GET /healthz   200 {"status": "ok", "model": {...}, "batcher": stats or null}
//   anything else  404, or 405 with Allow for a known path with another method.
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../lib';
import { mnistMlp } from './mnist-mlp';

/** What the server needs of a model: predictAsync and a known input shape, e.g. [null, 784]. */
export interface ServedModel extends gf.serving.BatchModel {
  readonly name?: string;
  readonly inputShape: readonly (number | null)[] | null;
}

export interface ServeOptions {
  /**
   * The batcher's options, or false for one predictAsync per request. Default: batches of up
   * to 32 rows padded to 1, 2, 4, 8, 16 or 32 (a few shapes keep the model's execution plans
   * cached), 2 ms of waiting, 256 queued requests.
   */
  batcher?: gf.serving.BatcherOptions | false;
  /** The largest request body in bytes (default 1 MiB: about 60 MNIST digits as JSON). */
  maxBodyBytes?: number;
  /** How long a request may take, queue and compute, before a 504 (ms; default 10000). */
  timeoutMs?: number;
}

/** The defaults of ServeOptions.batcher. */
export const DEFAULT_BATCHER: gf.serving.BatcherOptions = { maxBatchSize: 32, maxDelayMs: 2, maxQueue: 256, batchSizes: [1, 2, 4, 8, 16, 32] };

/** A refusal with its HTTP status: the client's fault, said in the message. */
class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** What one server holds: the model, its feature shape, and how requests reach the model. */
interface Context {
  readonly model: ServedModel;
  readonly features: readonly number[];
  readonly batcher: gf.serving.Batcher | null;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number;
}

/**
 * An http.Server (not listening yet) serving `model` as described at the top of this file.
 * Closing the server closes its batcher.
 * @example
 * const server = createServer(model, {maxBodyBytes: 1 << 20});
 * server.listen(3000, '127.0.0.1');
 */
export function createServer(model: ServedModel, opts: ServeOptions = {}): http.Server {
  const ctx: Context = {
    model,
    features: featureShape(model),
    batcher: opts.batcher === false ? null : gf.serving.batcher(model, opts.batcher ?? DEFAULT_BATCHER),
    maxBodyBytes: positive('maxBodyBytes', opts.maxBodyBytes ?? 1 << 20),
    timeoutMs: positive('timeoutMs', opts.timeoutMs ?? 10_000),
  };
  const server = http.createServer((req, res) => {
    handle(ctx, req, res).catch((e: unknown) => fail(res, e));
  });
  server.on('close', () => void ctx.batcher?.close());
  return server;
}

/** The shape of one instance: the model's input shape past the batch axis, all known. */
export function featureShape(model: ServedModel): number[] {
  const shape = model.inputShape;
  if (shape === null || shape.length < 2 || shape.slice(1).some((d) => d === null)) {
    throw new gf.ValueError(`createServer: the model's input shape must be known past the batch axis (e.g. [null, 784]), got ${JSON.stringify(shape)}`);
  }
  return shape.slice(1) as number[];
}

function positive(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new gf.ValueError(`createServer: ${what} must be an integer >= 1, got ${v}`);
  return v;
}

async function handle(ctx: Context, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const pathname = (req.url ?? '/').split('?')[0];
  const routes: Record<string, { method: string; run: () => Promise<void> }> = {
    '/predict': { method: 'POST', run: () => predict(ctx, req, res) },
    '/healthz': { method: 'GET', run: async () => send(res, 200, health(ctx)) },
  };
  const route = Object.prototype.hasOwnProperty.call(routes, pathname) ? routes[pathname] : undefined;
  if (route === undefined) throw new HttpError(404, `no such path: ${pathname}`);
  if (req.method !== route.method) throw new HttpError(405, `${pathname} takes ${route.method}`, { Allow: route.method });
  await route.run();
}

async function predict(ctx: Context, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const body = await readBody(req, ctx.maxBodyBytes);
  const x = parseInstances(body, ctx.features);
  // a client that hangs up cancels its request: out of the queue, or its rows discarded
  const gone = new AbortController();
  res.on('close', () => { if (!res.writableFinished) gone.abort(); });
  const y = ctx.batcher !== null
    ? await ctx.batcher.predict(x, { signal: gone.signal, timeoutMs: ctx.timeoutMs })
    : await predictAlone(ctx, x, gone.signal);
  if (!res.destroyed) send(res, 200, { predictions: y.toArray() });
}

/**
 * Without a batcher: this request's rows alone, with the same timeout, which answers even
 * when the model does not heed the abort.
 */
async function predictAlone(ctx: Context, x: gf.Tensor, gone: AbortSignal): Promise<gf.Tensor> {
  const stop = new AbortController();
  const onGone = (): void => stop.abort();
  gone.addEventListener('abort', onGone, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort();
      reject(new gf.TimeoutError(`predict: no answer within ${ctx.timeoutMs} ms`));
    }, ctx.timeoutMs);
  });
  try {
    return await Promise.race([ctx.model.predictAsync(x, { signal: stop.signal }), expired]);
  } finally {
    clearTimeout(timer);
    gone.removeEventListener('abort', onGone);
  }
}

/** The body, refused with a 413 as soon as it is known to be too large (nothing more is read). */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = (): HttpError => new HttpError(413, `the body is larger than ${max} bytes`, { Connection: 'close' });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
      } else {
        chunks.push(chunk);
      }
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // a client that hangs up mid-body; nobody reads the answer, but the promise must settle
    req.on('close', () => { if (!req.complete) reject(new HttpError(400, 'the client closed the connection before the body ended')); });
  });
}

/**
 * {"instances": [x, ...]} or {"instances": x} as a float32 tensor [n, ...features]; a 400
 * saying where the body is wrong otherwise.
 */
export function parseInstances(body: Buffer, features: readonly number[]): gf.Tensor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the body is not JSON: ${(e as Error).message}`);
  }
  const given = (parsed as { instances?: unknown } | null)?.instances;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(given)) {
    throw new HttpError(400, 'expected a JSON object {"instances": [...]}');
  }
  if (given.length === 0) throw new HttpError(400, '"instances" is empty');
  // one instance when its nesting is as deep as the feature shape, a list when one deeper
  const d = depth(given);
  if (d !== features.length && d !== features.length + 1) {
    throw new HttpError(400, `"instances" is nested ${d} deep: expected ${features.length + 1} (a list of instances of shape [${features.join(', ')}]) or ${features.length} (one instance)`);
  }
  const instances = d === features.length ? [given] : given;
  const size = features.reduce((a, b) => a * b, 1);
  const data = new Float32Array(instances.length * size);
  let at = 0;
  const fill = (v: unknown, dim: number, where: string): void => {
    if (dim === features.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `${where} is ${show(v)}, not a finite number`);
      data[at++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== features[dim]) {
      throw new HttpError(400, `${where} must be a list of ${features[dim]} (each instance has shape [${features.join(', ')}])`);
    }
    v.forEach((e, i) => fill(e, dim + 1, `${where}[${i}]`));
  };
  instances.forEach((inst, i) => fill(inst, 0, `instances[${i}]`));
  return new gf.Tensor(data, [instances.length, ...features]);
}

/** A JSON value for an error message, cut short (it may be a whole nested instance). */
function show(v: unknown): string {
  const text = typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function depth(v: unknown): number {
  let d = 0;
  while (Array.isArray(v)) {
    d++;
    v = v[0];
  }
  return d;
}

function health(ctx: Context): Record<string, unknown> {
  const stats: gf.serving.BatcherStats | null = ctx.batcher?.stats() ?? null;
  return {
    status: 'ok',
    model: { name: ctx.model.name ?? null, inputShape: ctx.model.inputShape, features: ctx.features },
    batcher: stats === null ? null : { options: ctx.batcher!.options, ...stats },
    uptimeSeconds: process.uptime(),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Answers a failure with its status; an error that is not the client's is logged, not sent. */
function fail(res: http.ServerResponse, e: unknown): void {
  const { status, message, headers } = classify(e);
  if (status === 500) console.error('serve: internal error:', e);
  if (res.headersSent || res.destroyed) return;
  send(res, status, { error: message }, headers);
}

function classify(e: unknown): { status: number; message: string; headers: Record<string, string> } {
  if (e instanceof HttpError) return { status: e.status, message: e.message, headers: e.headers };
  if (e instanceof gf.QueueFullError) return { status: 503, message: e.message, headers: { 'Retry-After': '1' } };
  if (e instanceof gf.TimeoutError) return { status: 504, message: e.message, headers: {} };
  // the batcher closing (the server is shutting down), or a client that has gone
  if (e instanceof gf.AbortError) return { status: 503, message: e.message, headers: {} };
  if (e instanceof gf.ShapeError || e instanceof gf.DTypeError || e instanceof gf.ValueError) return { status: 400, message: e.message, headers: {} };
  return { status: 500, message: 'internal error', headers: {} };
}

/**
 * The README's MNIST MLP (784-128-128-10), trained for `epochs` on the 8,000 training digits,
 * saved to a temporary folder and loaded back, as a served model would be.
 */
export async function trainServingMlp(opts: { epochs?: number; log?: (line: string) => void } = {}): Promise<gf.Sequential> {
  const log = opts.log ?? ((): void => undefined);
  const started = Date.now();
  gf.setSeed(1234);
  const { xTrain, yTrain, xTest, yTest } = gf.datasets.mnistDigits();
  const model = mnistMlp({ name: 'mnist_mlp' });
  model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(xTrain, gf.toCategorical(yTrain, 10), { epochs: opts.epochs ?? 2, batchSize: 128, verbose: 0 });
  const [, acc] = model.evaluate(xTest, gf.toCategorical(yTest, 10));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-serve-'));
  await model.save(`file://${dir}`);
  const loaded = await gf.loadModel(`file://${dir}`);
  fs.rmSync(dir, { recursive: true, force: true });
  log(`trained the MNIST MLP: ${(100 * acc).toFixed(1)}% on 2,000 held-out digits (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return loaded;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--')) ?? process.env.MODEL_DIR;
  const model = dir !== undefined ? await gf.loadModel(`file://${path.resolve(dir)}`) : await trainServingMlp({ log: console.log });
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new gf.ValueError(`PORT must be a port number, got ${process.env.PORT}`);
  const server = createServer(model, { batcher: args.includes('--no-batcher') ? false : undefined });
  server.listen(port, '127.0.0.1', () => {
    const features = featureShape(model);
    console.log(`serving '${model.name}' (input [${features.join(', ')}]) on http://127.0.0.1:${port}`);
    console.log(`  curl -s 127.0.0.1:${port}/healthz`);
    const zeros = `new Array(${features.reduce((a, b) => a * b, 1)}).fill(0)`;
    if (features.length === 1) console.log(`  node -e 'console.log(JSON.stringify({instances: [${zeros}]}))' | curl -s 127.0.0.1:${port}/predict -d @-`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
