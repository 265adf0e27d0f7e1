// Large models: weights are read and written in bounded chunks (one Node read or write may not
// pass 2 GiB), a weight may be as long as a typed array can be, and a manifest that cannot fit
// in this machine's memory is refused before anything is allocated or read.
//
// The real thing (a 2.2 GB model, one weight over 2^29 elements, saved and loaded back) runs
// with GRADFORGE_BIG_TESTS=1: it needs about 7 GB of memory and a minute.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';
import { setIoTuning } from '../../lib/io/file';
import { MAX_TENSOR_ELEMENTS } from '../../lib/io/format';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const tmp = (p: string): string => fs.mkdtempSync(path.join(os.tmpdir(), p));

/** The prototype of fs/promises' FileHandle (read and write live there). */
async function fileHandleProto(): Promise<{ read: (...a: unknown[]) => Promise<{ bytesRead: number }>; write: (...a: unknown[]) => Promise<{ bytesWritten: number }> }> {
  const f = path.join(tmp('gf-fh-'), 'x');
  fs.writeFileSync(f, '');
  const fh = await fs.promises.open(f, 'r');
  const proto = Object.getPrototypeOf(fh);
  await fh.close();
  return proto;
}

test('weights are read and written in chunks of at most chunkBytes, and short reads and writes are continued', async () => {
  gf.setSeed(5);
  const m = gf.sequential([
    gf.layers.dense({ units: 13, activation: 'relu', inputShape: [11] }),
    gf.layers.dense({ units: 3 }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
  const x = gf.randn([4, 11], { seed: 6 });
  await m.fit(x, gf.randn([4, 3], { seed: 7 }), { epochs: 2, verbose: 0 });
  const dir = tmp('gf-chunks-');
  const proto = await fileHandleProto();
  const realRead = proto.read;
  const realWrite = proto.write;
  const reads: number[] = [];
  const writes: number[] = [];
  // every call moves at most half of what it was asked for (at least one byte), as a slow disk may
  const read = jest.spyOn(proto, 'read').mockImplementation(function (this: unknown, buf: unknown, off: unknown, len: unknown, pos: unknown) {
    reads.push(len as number);
    return realRead.call(this, buf, off, Math.max(1, Math.floor((len as number) / 2)), pos);
  });
  const write = jest.spyOn(proto, 'write').mockImplementation(function (this: unknown, buf: unknown, off: unknown, len: unknown, pos: unknown) {
    writes.push(len as number);
    return realWrite.call(this, buf, off, Math.max(1, Math.floor((len as number) / 2)), pos);
  });
  const prev = setIoTuning({ chunkBytes: 37 });  // not a multiple of 4: chunks split floats
  try {
    await m.save(`file://${dir}`, { includeOptimizer: true });
    const back = await gf.loadModel(`file://${dir}`);
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));
    expect(back.optimizer.iterations).toBe(m.optimizer.iterations);
    // the artifacts path (restore, gan) reads the same way
    const a = await gf.io.fileSystem(dir).load();
    const mem = await m.save(gf.io.toMemory(), { includeOptimizer: true });
    expect(Buffer.from(a.weightData!).equals(Buffer.from(mem.weightData!))).toBe(true);
  } finally {
    setIoTuning(prev);
    read.mockRestore();
    write.mockRestore();
  }
  const weightBytes = fs.statSync(path.join(dir, 'weights.bin')).size;
  expect(weightBytes).toBeGreaterThan(37 * 10);
  expect(Math.max(...reads)).toBeLessThanOrEqual(37);
  expect(Math.max(...writes)).toBeLessThanOrEqual(37);
  expect(reads.length).toBeGreaterThan((2 * weightBytes) / 37);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('sharded weights whose file boundaries cut through tensors load in chunks too', async () => {
  gf.setSeed(8);
  const m = gf.sequential([gf.layers.dense({ units: 7, inputShape: [5] }), gf.layers.dense({ units: 2 })]);
  const src = tmp('gf-shard-src-');
  await m.save(`file://${src}`);
  const j: Json = JSON.parse(fs.readFileSync(path.join(src, 'model.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(src, 'weights.bin'));
  const dir = tmp('gf-shard-');
  const cuts = [0, 9, 61, 62, bin.length];  // odd places, one shard of a single byte
  const names = cuts.slice(1).map((_, i) => `group1-shard${i + 1}of${cuts.length - 1}.bin`);
  names.forEach((n, i) => fs.writeFileSync(path.join(dir, n), bin.subarray(cuts[i], cuts[i + 1])));
  j.weightsManifest[0].paths = names;
  delete j.weightsChecksums;  // as TensorFlow.js writes it
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
  const prev = setIoTuning({ chunkBytes: 5 });
  try {
    const back = await gf.loadModel(`file://${dir}`);
    const x = gf.randn([3, 5], { seed: 9 });
    expect(Array.from(back.predict(x).data)).toEqual(Array.from(m.predict(x).data));
  } finally {
    setIoTuning(prev);
  }
  fs.rmSync(src, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A Dense model.json whose kernel is [inputs, units], with whatever weights file is there. */
function denseJson(inputs: number, units: number, paths = ['weights.bin']): Json {
  return {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'big', layers: [{ class_name: 'Dense', config: { name: 'd', units, batch_input_shape: [null, inputs] } }] } },
    weightsManifest: [{ paths, weights: [{ name: 'd/kernel', shape: [inputs, units], dtype: 'float32' }, { name: 'd/bias', shape: [units], dtype: 'float32' }] }],
  };
}

test('a weight over 2^29 elements is not refused: only its bytes are checked against the file', async () => {
  expect(MAX_TENSOR_ELEMENTS).toBeGreaterThanOrEqual(2 ** 32);  // as long as a Float32Array may be in Node 20
  const dir = tmp('gf-big-spec-');
  const n = 2 ** 29 + 1;
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(denseJson(n, 1)));
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(8));
  // (this used to say "more than 536870912 elements; refusing to allocate it")
  await expect(gf.loadModel(`file://${dir}`)).rejects.toThrow(`the weight files hold 8 bytes, the manifest's weights need ${4 * (n + 1)}`);
  // one longer than a typed array can be is refused
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(denseJson(MAX_TENSOR_ELEMENTS + 1, 1)));
  await expect(gf.loadModel(`file://${dir}`)).rejects.toThrow(/more than \d+ elements; refusing to allocate/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a manifest that needs more than this machine\'s memory is refused before any file is opened', async () => {
  const dir = tmp('gf-too-big-');
  // 4 x 2^31 float32 kernels: 4 x 8 GiB, more than this test machine has; no weights file at all
  const j = denseJson(2 ** 16, 2 ** 15);
  const spec = j.weightsManifest[0].weights[0];
  const need = Math.floor(os.totalmem() / (4 * 2 ** 31)) + 1;
  j.weightsManifest[0].weights = Array.from({ length: need }, (_, i) => ({ ...spec, name: `w${i}` }));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(j));
  const p = gf.loadModel(`file://${dir}`);
  await expect(p).rejects.toThrow(gf.ModelFormatError);
  await expect(p).rejects.toThrow(new RegExp(`the weights take ${need * 4 * 2 ** 31} bytes \\(.* GB\\), more than this machine's memory \\(${os.totalmem()} bytes`));
  fs.rmSync(dir, { recursive: true, force: true });
});

const big = process.env.GRADFORGE_BIG_TESTS === '1' ? test : test.skip;

big('a 2.2 GB model with a weight over 2^29 elements saves and loads back, predicting the same', async () => {
  const dir = tmp('gf-2gb-');
  try {
    gf.setSeed(1);
    // the repro, with 27200 units so that the kernel (19800 x 27200) passes 2^29 elements too
    // (zeros, then a cheap pattern: the random initializer takes minutes for 538M values)
    const m = gf.sequential([
      gf.layers.dense({ units: 27200, inputShape: [19800], kernelInitializer: 'zeros' }),
      gf.layers.dense({ units: 400, kernelInitializer: 'zeros' }),
    ]);
    const imul = Math.imul;  // (a global lookup per element is slow in jest's vm context)
    for (const w of m.weights) {
      const d = w.value.data;
      for (let i = 0, n = d.length; i < n; i++) d[i] = ((imul(i, 0x9e3779b1) >>> 0) / 4294967296 - 0.5) * 0.02;
    }
    expect(m.layers[0].weights[0].value.size).toBeGreaterThan(2 ** 29);
    const x = gf.randn([2, 19800], { seed: 2 });
    const y = Array.from(m.predict(x).data);
    let t = Date.now();
    await m.save(`file://${dir}`);
    const saveMs = Date.now() - t;
    const size = fs.statSync(path.join(dir, 'weights.bin')).size;
    expect(size).toBeGreaterThan(2 ** 31);
    t = Date.now();
    const back = await gf.loadModel(`file://${dir}`);
    const loadMs = Date.now() - t;
    expect(Array.from(back.predict(x).data)).toEqual(y);
    process.stdout.write(`2.2 GB model: weights.bin ${size} bytes, save ${saveMs} ms, load ${loadMs} ms\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
