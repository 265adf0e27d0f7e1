// examples/serve.ts: the HTTP server in front of a batcher, driven in-process with node:http
// requests: correct predictions (equal to model.predict, bit for bit, through JSON), and every
// status code it promises: 400, 404, 405, 413, 500, 503, 504.
import * as http from 'http';
import { AddressInfo } from 'net';
import * as gf from '../../lib';
import { createServer, ServeOptions, ServedModel } from '../../examples/serve';

gf.setSeed(11);
const model = gf.sequential([
  gf.layers.dense({ units: 8, activation: 'relu', inputShape: [4] }),
  gf.layers.dense({ units: 3, activation: 'softmax' }),
], { name: 'tiny' });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/**
 * One request. The server may answer before it has read the whole body (413) and close the
 * connection: a write error after the answer is not a failure.
 */
function request(port: number, method: string, path: string, body?: string | Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON: the test says */ }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
      res.on('error', reject);
    });
    req.on('error', (e) => { if (!answered) reject(e); });
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const post = (port: number, body: unknown): Promise<Reply> => request(port, 'POST', '/predict', typeof body === 'string' ? body : JSON.stringify(body), { 'Content-Type': 'application/json' });

async function listen(m: ServedModel, opts: ServeOptions = {}): Promise<{ server: http.Server; port: number }> {
  const server = createServer(m, opts);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** predictAsync held until released, around the real model (a batch the test controls). */
class HeldModel implements ServedModel {
  readonly name = 'held';
  readonly inputShape = [null, 4];
  readonly pending: (() => void)[] = [];
  predictAsync(x: gf.Tensor): Promise<gf.Tensor> {
    return new Promise((resolve) => this.pending.push(() => resolve(model.predict(x))));
  }
  releaseAll(): void {
    for (const r of this.pending.splice(0)) r();
  }
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

type Stats = Record<string, number>;

/** Polls GET /healthz until the batcher's stats satisfy cond. */
async function untilStats(port: number, cond: (s: Stats) => boolean, what: string): Promise<Stats> {
  const until = Date.now() + 3000;
  for (;;) {
    const s = (await request(port, 'GET', '/healthz')).json.batcher as Stats;
    if (cond(s)) return s;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
  }
}

const instances = (n: number, seed: number): number[][] => gf.randn([n, 4], { seed }).toArray() as number[][];
/** What model.predict gives for these instances, as the numbers JSON carries. */
const expected = (xs: number[][]): number[][] => model.predict(gf.tensor(xs)).toArray() as number[][];

describe('serve example: with the batcher', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => ({ server, port } = await listen(model, { batcher: { maxBatchSize: 8, maxDelayMs: 2 }, maxBodyBytes: 4096 })));
  afterAll(() => close(server));

  test('POST /predict answers model.predict, bit for bit, one prediction per instance', async () => {
    const xs = instances(3, 1);
    const r = await post(port, { instances: xs });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.json.predictions).toEqual(expected(xs));
  });

  test('a single instance is answered as a list of one prediction', async () => {
    const [x] = instances(1, 2);
    const r = await post(port, { instances: x });
    expect(r.status).toBe(200);
    expect(r.json.predictions).toEqual(expected([x]));
  });

  test('concurrent requests are batched, and each gets its own rows', async () => {
    const before = (await request(port, 'GET', '/healthz')).json.batcher as Stats;
    const xs = Array.from({ length: 24 }, (_, i) => instances(1 + (i % 3), 100 + i));
    const replies = await Promise.all(xs.map((x) => post(port, { instances: x })));
    replies.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.json.predictions).toEqual(expected(xs[i]));
    });
    const after = (await request(port, 'GET', '/healthz')).json.batcher as Stats;
    expect(after.requests - before.requests).toBe(24);
    expect(after.batches - before.batches).toBeLessThan(24);
  });

  test.each([
    ['not JSON', '{"instances": [[1, 2, 3, 4]', /not JSON/],
    ['no instances', { inputs: [[1, 2, 3, 4]] }, /\{"instances": \[\.\.\.\]\}/],
    ['a JSON array', [[1, 2, 3, 4]], /\{"instances"/],
    ['null', 'null', /\{"instances"/],
    ['an empty list', { instances: [] }, /empty/],
    ['too few features', { instances: [[1, 2, 3]] }, /instances\[0\] must be a list of 4/],
    ['too deep', { instances: [[[1, 2, 3, 4]]] }, /nested 3 deep: expected 2 \(a list of instances of shape \[4\]\) or 1/],
    ['deeper in a later instance', { instances: [[1, 2, 3, 4], [[1], 2, 3, 4]] }, /instances\[1\]\[0\] is \[1\], not a finite number/],
    ['ragged', { instances: [[1, 2, 3, 4], [1, 2]] }, /instances\[1\] must be a list of 4/],
    ['a string', { instances: [[1, 2, '3', 4]] }, /instances\[0\]\[2\] is "3", not a finite number/],
    ['null element', { instances: [[1, null, 3, 4]] }, /instances\[0\]\[1\] is null/],
    ['Infinity (1e999)', '{"instances": [[1, 2, 1e999, 4]]}', /instances\[0\]\[2\] is Infinity, not a finite number/],
  ])('400 for %s', async (_, body, message) => {
    const r = await post(port, body);
    expect(r.status).toBe(400);
    expect(String(r.json.error)).toMatch(message);
  });

  test('413 for a body above maxBodyBytes, declared or streamed; the server goes on', async () => {
    const big = JSON.stringify({ instances: instances(200, 3) });
    expect(big.length).toBeGreaterThan(4096);
    const declared = await request(port, 'POST', '/predict', big, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(big) });
    expect(declared.status).toBe(413);
    expect(String(declared.json.error)).toMatch(/larger than 4096 bytes/);
    expect(declared.headers.connection).toBe('close');
    const chunked = await request(port, 'POST', '/predict', big, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    expect(chunked.status).toBe(413);
    const xs = instances(1, 4);
    const ok = await post(port, { instances: xs });
    expect(ok.json.predictions).toEqual(expected(xs));
  });

  test('GET /healthz: the model and the batcher', async () => {
    const r = await request(port, 'GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'ok', model: { name: 'tiny', inputShape: [null, 4], features: [4] } });
    expect(r.json.batcher).toMatchObject({ options: { maxBatchSize: 8, maxDelayMs: 2 }, queueDepth: 0, closed: false });
  });

  test('404 for an unknown path, 405 with Allow for a known one', async () => {
    expect((await request(port, 'GET', '/nope')).status).toBe(404);
    const get = await request(port, 'GET', '/predict');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const postHealth = await request(port, 'POST', '/healthz', '{}');
    expect(postHealth.status).toBe(405);
    expect(postHealth.headers.allow).toBe('GET');
    expect((await request(port, 'GET', '/healthz?verbose=1')).status).toBe(200);
  });
});

describe('serve example: a held batch', () => {
  test('503 with Retry-After when the queue is full; the held requests are then served', async () => {
    const held = new HeldModel();
    const { server, port } = await listen(held, { batcher: { maxBatchSize: 8, maxDelayMs: 0, maxQueue: 1 } });
    try {
      const x1 = instances(1, 5);
      const x2 = instances(2, 6);
      const first = post(port, { instances: x1 });          // dispatched and held
      await waitFor(() => held.pending.length === 1, 'the first batch');
      const second = post(port, { instances: x2 });         // the one queued request
      await untilStats(port, (s) => s.queueDepth === 1, 'the second request to queue');
      const refused = await post(port, { instances: instances(1, 7) });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(String(refused.json.error)).toMatch(/maxQueue 1/);
      held.releaseAll();
      await waitFor(() => held.pending.length === 1, 'the second batch');
      held.releaseAll();
      const [r1, r2] = await Promise.all([first, second]);
      expect(r1.json.predictions).toEqual(expected(x1));
      expect(r2.json.predictions).toEqual(expected(x2));
    } finally {
      held.releaseAll();
      await close(server);
    }
  });

  test('504 when no answer comes within timeoutMs, with or without the batcher', async () => {
    for (const batcher of [{ maxDelayMs: 0 }, false as const]) {
      const held = new HeldModel();
      const { server, port } = await listen(held, { batcher, timeoutMs: 50 });
      try {
        const r = await post(port, { instances: instances(1, 8) });
        expect(r.status).toBe(504);
        expect(String(r.json.error)).toMatch(/50 ms/);
      } finally {
        held.releaseAll();
        await close(server);
      }
    }
  });

  test('a client that hangs up takes its request out of the queue', async () => {
    const held = new HeldModel();
    const { server, port } = await listen(held, { batcher: { maxBatchSize: 8, maxDelayMs: 0 } });
    try {
      const first = post(port, { instances: instances(1, 9) });
      await waitFor(() => held.pending.length === 1, 'the first batch');
      const body = JSON.stringify({ instances: instances(1, 10) });
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/predict', agent: false, headers: { 'Content-Length': Buffer.byteLength(body) } });
      req.on('error', () => undefined);
      req.end(body);
      await untilStats(port, (s) => s.queueDepth === 1, 'the request to queue');
      req.destroy();
      const stats = await untilStats(port, (s) => s.aborted === 1, 'the abort');
      expect(stats.queueDepth).toBe(0);
      held.releaseAll();
      expect((await first).status).toBe(200);
    } finally {
      held.releaseAll();
      await close(server);
    }
  });
});

describe('serve example: without the batcher, and failures', () => {
  test('batcher: false computes each request alone, with the same answers', async () => {
    const { server, port } = await listen(model, { batcher: false });
    try {
      const xs = instances(5, 12);
      const r = await post(port, { instances: xs });
      expect(r.status).toBe(200);
      expect(r.json.predictions).toEqual(expected(xs));
      expect((await request(port, 'GET', '/healthz')).json.batcher).toBeNull();
    } finally {
      await close(server);
    }
  });

  test('a model error is a 500 that says nothing inside, and the server goes on', async () => {
    let broken = true;
    const flaky: ServedModel = {
      inputShape: [null, 4],
      predictAsync: (x) => (broken ? Promise.reject(new Error('secret internals')) : Promise.resolve(model.predict(x))),
    };
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { server, port } = await listen(flaky);
    try {
      const r = await post(port, { instances: instances(1, 13) });
      expect(r.status).toBe(500);
      expect(r.body).not.toMatch(/secret/);
      expect(errors).toHaveBeenCalled();
      broken = false;
      const xs = instances(2, 14);
      expect((await post(port, { instances: xs })).json.predictions).toEqual(expected(xs));
    } finally {
      errors.mockRestore();
      await close(server);
    }
  });

  test('a model whose input shape is unknown is refused at createServer', () => {
    const unbuilt = gf.sequential([gf.layers.dense({ units: 2 })]) as unknown as ServedModel;
    expect(() => createServer(unbuilt)).toThrow(/input shape must be known/);
    expect(() => createServer(model, { maxBodyBytes: 0 })).toThrow(/maxBodyBytes must be an integer >= 1/);
  });
});
