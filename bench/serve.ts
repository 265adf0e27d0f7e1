// bench/serve: the example server (examples/serve.ts) under load, with and without the batcher.
// The model is the README's MNIST MLP (784-128-128-10, trained for one epoch: the weights do
// not change the cost), the common serving case; each request is one real test digit as JSON
// (POST /predict {"instances": [[784 numbers]]}). autocannon drives it from a worker thread
// (its own event loop, so its work does not show as the server's event-loop delay; it does
// share the CPU) with a fixed number of connections against 127.0.0.1, for a fixed time per
// configuration after an unrecorded warm-up. Reported: requests/s, latency p50/p99, non-2xx
// answers, connection errors, the server's event-loop delay p99 (perf_hooks), and the mean
// batch the model saw (rows per predictAsync; 1 without the batcher).
//   npm run bench:serve                (10 s per configuration)
//   npm run bench:serve -- --quick     (2 s per configuration, a smoke run)
import * as http from 'http';
import * as os from 'os';
import { AddressInfo } from 'net';
import { monitorEventLoopDelay } from 'perf_hooks';
import * as gf from '../lib';
import { createServer, trainServingMlp, DEFAULT_BATCHER, ServeOptions } from '../examples/serve';
import { writeResults } from './util';

// ---- the part of autocannon's API used here (it ships no types) ----
interface Histogram {
  average: number;
  p50: number;
  p99: number;
  total: number;
}
interface AutocannonResult {
  requests: Histogram;
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
interface AutocannonOptions {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
  workers?: number;
}
type Autocannon = (opts: AutocannonOptions) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

const QUICK = process.argv.includes('--quick');
const DURATION_S = QUICK ? 2 : 10;
const WARMUP_S = QUICK ? 0.5 : 2;
const CONNECTIONS = 32;

interface Config {
  name: string;
  opts: ServeOptions;
}

const CONFIGS: Config[] = [
  { name: 'no batcher', opts: { batcher: false } },
  { name: 'batcher', opts: { batcher: DEFAULT_BATCHER } },
  // every batch size from 1 to 32 is a shape of its own: more than the plan cache keeps (16)
  { name: 'batcher, unpadded', opts: { batcher: { ...DEFAULT_BATCHER, batchSizes: undefined } } },
  { name: 'batcher, maxInFlight 2', opts: { batcher: { ...DEFAULT_BATCHER, maxInFlight: 2 } } },
];

interface Row {
  config: string;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  eventLoopDelayP99Ms: number;
  meanBatchSize: number;
}

function getJson(port: number, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString('utf8'); });
      res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    }).on('error', reject);
  });
}

/** Rows and batches the model has seen so far (from /healthz; a request is one batch without the batcher). */
async function batchCounts(port: number, answered: number): Promise<{ rows: number; batches: number }> {
  const b = (await getJson(port, '/healthz')).batcher as { rows: number; batches: number } | null;
  return b ?? { rows: answered, batches: answered };
}

async function measure(model: gf.Sequential, config: Config, body: string): Promise<Row> {
  const server = createServer(model, config.opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const load = (duration: number): Promise<AutocannonResult> => autocannon({
    url: `http://127.0.0.1:${port}/predict`, method: 'POST', headers: { 'content-type': 'application/json' },
    body, connections: CONNECTIONS, duration, workers: 1,
  });
  try {
    await load(WARMUP_S);      // plans recorded for the batch shapes, JIT warm
    const before = await batchCounts(port, 0);
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    const r = await load(DURATION_S);
    loop.disable();
    const after = await batchCounts(port, r['2xx']);
    const batches = after.batches - before.batches;
    return {
      config: config.name,
      requestsPerSecond: r.requests.average,
      latencyP50Ms: r.latency.p50,
      latencyP99Ms: r.latency.p99,
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
      eventLoopDelayP99Ms: loop.percentile(99) / 1e6,
      meanBatchSize: batches > 0 ? (after.rows - before.rows) / batches : 0,
    };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

function table(rows: Row[]): string {
  const head = ['configuration', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'loop p99 ms', 'mean batch'];
  const cells = rows.map((r) => [
    r.config, r.requestsPerSecond.toFixed(0), r.latencyP50Ms.toFixed(1), r.latencyP99Ms.toFixed(1),
    String(r.non2xx), String(r.errors), r.eventLoopDelayP99Ms.toFixed(1), r.meanBatchSize.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const model = await trainServingMlp({ epochs: 1, log: console.log });
  const { xTest } = gf.datasets.mnistDigits();
  const digit = Array.from(gf.sliceRows(xTest, 0, 1).dataSync());
  const body = JSON.stringify({ instances: [digit] });
  console.log(`POST /predict with one digit (${body.length} bytes), ${CONNECTIONS} connections, ${DURATION_S} s per configuration` +
    ` after ${WARMUP_S} s of warm-up; ${os.cpus().length} CPUs, ${gf.backendInfo().numThreads} native threads\n`);
  const rows: Row[] = [];
  for (const c of CONFIGS) rows.push(await measure(model, c, body));
  console.log(table(rows));
  const file = writeResults('serve', {
    date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, quick: QUICK,
    model: 'MNIST MLP 784-128-128-10', body: 'one 784-float digit per request', connections: CONNECTIONS,
    durationSeconds: DURATION_S, warmupSeconds: WARMUP_S, batcherDefaults: DEFAULT_BATCHER, rows,
  });
  console.log(`\nwrote ${file}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
