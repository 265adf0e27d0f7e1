import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { AddressInfo } from 'net';
import * as gf from '../../lib';
import { md5 } from '../../lib/data/download';

const FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** Small IDX files in the standard layout: n images of 28x28 whose pixel value encodes the label. */
function makeFiles(nTrain: number, nTest: number): Record<string, Buffer> {
  const images = (n: number): Buffer => {
    const px = new Uint8Array(n * 784);
    for (let i = 0; i < n; i++) px.fill((i % 10) * 25, i * 784, (i + 1) * 784);
    return zlib.gzipSync(gf.data.encodeIdx([n, 28, 28], px));
  };
  const labels = (n: number): Buffer => zlib.gzipSync(gf.data.encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10)));
  return { [FILES[0]]: images(nTrain), [FILES[1]]: labels(nTrain), [FILES[2]]: images(nTest), [FILES[3]]: labels(nTest) };
}

describe('IDX reader', () => {
  test('round-trips uint8 and int32, gzipped or not', () => {
    const raw = gf.data.encodeIdx([2, 3], Uint8Array.from([1, 2, 3, 4, 5, 255]));
    expect(gf.data.parseIdx(raw)).toEqual({ dims: [2, 3], data: Uint8Array.from([1, 2, 3, 4, 5, 255]) });
    const ints = gf.data.parseIdx(zlib.gzipSync(gf.data.encodeIdx([3], Int32Array.from([-1, 70000, 3]))));
    expect(Array.from(ints.data)).toEqual([-1, 70000, 3]);
  });

  test('bad magic, truncation and trailing bytes are clear errors naming the file', () => {
    const good = gf.data.encodeIdx([4], Uint8Array.from([1, 2, 3, 4]));
    const badMagic = Buffer.from(good);
    badMagic[2] = 0x42;
    expect(() => gf.data.parseIdx(badMagic, 'x.idx')).toThrow(/x.idx: bad IDX magic number 0x00004201/);
    expect(() => gf.data.parseIdx(good.subarray(0, good.length - 1), 'x.idx')).toThrow('x.idx: dimensions [4] of uint8 need 12 bytes but the file has 11 (truncated)');
    expect(() => gf.data.parseIdx(Buffer.concat([good, Buffer.from([0])]), 'x.idx')).toThrow(/\(trailing data\)/);
    expect(() => gf.data.parseIdx(good.subarray(0, 6), 'x.idx')).toThrow(/truncated header/);
    expect(() => gf.data.parseIdx(zlib.gzipSync(good).subarray(0, 10), 'x.gz')).toThrow(/x.gz: gzip data is corrupt or truncated/);
    expect(() => gf.data.readIdx('/nonexistent/file.idx')).toThrow(/cannot read \/nonexistent\/file.idx/);
  });
});

describe('datasets.mnist / fashionMnist', () => {
  let server: http.Server;
  let base = '';
  let requests: string[] = [];
  const files = makeFiles(30, 12);
  let tmp = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(req.url ?? '');
      const name = (req.url ?? '').split('/').pop() ?? '';
      if (req.url === '/moved/' + name) {
        res.writeHead(302, { location: `/data/${name}` });
        res.end();
        return;
      }
      const body = files[name];
      if (body === undefined || !(req.url ?? '').startsWith('/data/')) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-data-'));
    requests = [];
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const checksums = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, md5(v)]));

  test('downloads into the cache (verifying checksums, following redirects), then loads from it', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const ds = await gf.datasets.mnist({ cacheDir, systemDir: path.join(tmp, 'none'), baseUrl: `${base}/moved/`, checksums });
    expect(ds.train.images.shape).toEqual([30, 28, 28, 1]);
    expect(ds.test.images.shape).toEqual([12, 28, 28, 1]);
    expect(ds.train.labels.dtype).toBe('int32');
    expect(ds.train.labelsOneHot.shape).toEqual([30, 10]);
    // image i has every pixel (i % 10) * 25 / 255 and label i % 10
    expect(ds.train.images.data[7 * 784 + 100]).toBeCloseTo((7 * 25) / 255, 6);
    expect(ds.train.labels.data[7]).toBe(7);
    expect(ds.train.labelsOneHot.data[7 * 10 + 7]).toBe(1);
    expect(requests.length).toBe(8); // 4 redirects + 4 files
    for (const f of FILES) expect(fs.existsSync(path.join(cacheDir, f))).toBe(true);
    expect(fs.readdirSync(cacheDir).some((f) => f.endsWith('.tmp'))).toBe(false);
    requests = [];
    const again = await gf.datasets.mnist({ cacheDir, systemDir: path.join(tmp, 'none'), baseUrl: `${base}/data/`, checksums });
    expect(requests).toEqual([]);
    expect(again.train.labels.size).toBe(30);
    const limited = await gf.datasets.mnist({ cacheDir, trainLimit: 5 });
    expect(limited.train.images.shape).toEqual([5, 28, 28, 1]);
  });

  test('the system folder is used before downloading', async () => {
    const sys = path.join(tmp, 'sys');
    fs.mkdirSync(sys);
    for (const f of FILES) fs.writeFileSync(path.join(sys, f), files[f]);
    const ds = await gf.datasets.fashionMnist({ cacheDir: path.join(tmp, 'cache'), systemDir: sys, baseUrl: `${base}/data/` });
    expect(ds.train.images.shape[0]).toBe(30);
    expect(requests).toEqual([]);
  });

  test('a checksum mismatch saves nothing and says which file', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const wrong = { ...checksums, [FILES[1]]: '0'.repeat(32) };
    await expect(gf.datasets.mnist({ cacheDir, systemDir: path.join(tmp, 'none'), baseUrl: `${base}/data/`, checksums: wrong }))
      .rejects.toThrow(/downloading train-labels-idx1-ubyte.gz failed: download: checksum mismatch/);
    expect(fs.existsSync(path.join(cacheDir, FILES[1]))).toBe(false);
  });

  test('missing files: the error names the files and every place looked', async () => {
    const cacheDir = path.join(tmp, 'cache');
    await expect(gf.datasets.fashionMnist({ cacheDir, systemDir: path.join(tmp, 'none'), download: false }))
      .rejects.toThrow(new RegExp(`Looked in ${cacheDir} \\(missing train-images-idx3-ubyte.gz, .*\\) and ${tmp}/none; downloading is off. On Debian: apt-get install dataset-fashion-mnist`));
    await expect(gf.datasets.mnist({ cacheDir, systemDir: path.join(tmp, 'none'), baseUrl: `${base}/nothing/` }))
      .rejects.toThrow(/downloading train-images-idx3-ubyte.gz failed: download: http:\/\/127.0.0.1:\d+\/nothing\/train-images-idx3-ubyte.gz answered HTTP 404/);
  });

  test('a corrupt cached file is reported with its path', async () => {
    const cacheDir = path.join(tmp, 'cache');
    fs.mkdirSync(cacheDir);
    for (const f of FILES) fs.writeFileSync(path.join(cacheDir, f), files[f]);
    fs.writeFileSync(path.join(cacheDir, FILES[3]), zlib.gzipSync(gf.data.encodeIdx([5], new Uint8Array(5))));
    await expect(gf.datasets.mnist({ cacheDir })).rejects.toThrow(/t10k-labels-idx1-ubyte.gz: expected 12 labels to match/);
  });

  const debian = '/usr/share/datasets/fashion-mnist';
  (fs.existsSync(path.join(debian, FILES[0])) ? test : test.skip)('the real Fashion-MNIST from Debian\'s package loads', async () => {
    const ds = await gf.datasets.fashionMnist({ cacheDir: path.join(tmp, 'empty'), download: false });
    expect(ds.train.images.shape).toEqual([60000, 28, 28, 1]);
    expect(ds.test.labels.shape).toEqual([10000]);
    const counts = new Array(10).fill(0);
    for (const v of ds.test.labels.data) counts[v]++;
    expect(counts).toEqual(new Array(10).fill(1000));
  });
});
