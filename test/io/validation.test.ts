// Loading validates everything before allocating: each broken file throws ModelFormatError
// saying what is wrong and where.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let dir: string;
let good: Json;
let bin: Buffer;

beforeAll(async () => {
  gf.setSeed(21);
  const m = gf.sequential([
    gf.layers.conv2d({ filters: 2, kernelSize: 3, inputShape: [6, 6, 1], name: 'c' }),
    gf.layers.flatten({ name: 'f' }),
    gf.layers.dense({ units: 3, activation: 'softmax', name: 'd' }),
  ], { name: 'v' });
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-valid-'));
  await m.save(`file://${dir}`, { includeOptimizer: true });
  good = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  bin = fs.readFileSync(path.join(dir, 'weights.bin'));
});

async function loadWith(json: Json | string, weights: Buffer = bin): Promise<gf.Sequential> {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-valid-'));
  if (weights !== bin && typeof json !== 'string') {
    // hand-made weights: a model.json without the checksum gradforge records (as TensorFlow.js writes it)
    json = { ...json };
    delete json.weightsChecksums;
  }
  fs.writeFileSync(path.join(d, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
  fs.writeFileSync(path.join(d, 'weights.bin'), weights);
  return gf.loadModel(`file://${d}`);
}

function edit(fn: (j: Json) => void): Json {
  const j = JSON.parse(JSON.stringify(good));
  fn(j);
  return j;
}

const layer = (j: Json, i: number): Json => j.modelTopology.config.layers[i].config;

test('the unmodified file loads (and is compiled with its optimizer state)', async () => {
  const m = await loadWith(good);
  expect(m.optimizer.className).toBe('Adam');
});

test.each<[string, () => Json | string, RegExp]>([
  ['not JSON', () => '{"format": "layers-model", ', /not valid JSON/],
  ['an array', () => '[1, 2]', /expected a JSON object/],
  ['a graph model', () => edit((j) => { j.format = 'graph-model'; }), /format must be 'layers-model'/],
  ['no topology', () => edit((j) => { delete j.modelTopology; }), /modelTopology must be an object/],
  ['a functional model', () => edit((j) => { j.modelTopology.class_name = 'Functional'; }), /functional models are not supported/],
  ['an unknown layer class', () => edit((j) => { j.modelTopology.config.layers[1].class_name = 'Lambda'; }), /layer 1.*unknown layer class 'Lambda'/],
  ['a float16 weight', () => edit((j) => { j.weightsManifest[0].weights[0].dtype = 'float16'; }), /weight 'c\/kernel'.*dtype must be 'float32' or 'int32'/],
  ['an int32 model weight', () => edit((j) => { j.weightsManifest[0].weights[1].dtype = 'int32'; }), /weight 'c\/bias' has dtype int32, expected float32/],
  ['a shape that disagrees with the topology', () => edit((j) => { layer(j, 2).units = 4; }), /weight 'd\/kernel' has shape \[32,3\], the topology needs \[32,4\]/],
  ['a path escaping the folder', () => edit((j) => { j.weightsManifest[0].paths = ['../weights.bin']; }), /escapes the model folder/],
  ['an absolute path', () => edit((j) => { j.weightsManifest[0].paths = ['/etc/passwd']; }), /escapes the model folder/],
  ['an encoded ../', () => edit((j) => { j.weightsManifest[0].paths = ['%2e%2e%2fweights.bin']; }), /escapes the model folder/],
  ['a 10^12-element tensor', () => edit((j) => { j.weightsManifest[0].weights[0].shape = [1000000, 1000000]; }), /more than \d+ elements; refusing to allocate/],
  ['a missing weight file', () => edit((j) => { j.weightsManifest[0].paths = ['nope.bin']; }), /nope\.bin cannot be read \(ENOENT\)/],
  ['a negative dimension', () => edit((j) => { j.weightsManifest[0].weights[0].shape = [3, -3, 1, 2]; }), /must hold integers >= 0/],
  ['a bad layer field', () => edit((j) => { layer(j, 2).units = 'three'; }), /layer 2 \(Dense 'd'\): config.units must be a finite number/],
  ['a layer argument the layer refuses', () => edit((j) => { layer(j, 0).padding = 'full'; }), /layer 0 \(Conv2D 'c'\): .*padding/],
  ['a topology that does not fit together', () => edit((j) => { layer(j, 0).kernel_size = [9, 9]; }), /layer 0 \(Conv2D 'c'\).*does not fit/],
  ['a layer dtype other than float32', () => edit((j) => { layer(j, 2).dtype = 'float16'; }), /config.dtype must be 'float32'/],
  ['a weight the model does not have', () => edit((j) => { j.weightsManifest[0].weights.splice(2, 0, { name: 'x/y', shape: [0], dtype: 'float32' }); }), /weights the model does not: \["x\/y"\]/],
  ['an unknown loss', () => edit((j) => { j.trainingConfig.loss = 'my_loss'; }), /trainingConfig.loss 'my_loss' is not a known loss/],
  ['an unknown optimizer', () => edit((j) => { j.trainingConfig.optimizer_config.class_name = 'Lion'; }), /trainingConfig.optimizer_config.*unknown optimizer/],
  ['quantized weights', () => edit((j) => { j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 1, min: 0 }; }), /quantized weights are not supported/],
  ['a non-Sequential InputLayer position', () => edit((j) => { j.modelTopology.config.layers.splice(1, 0, { class_name: 'InputLayer', config: { batch_shape: [null, 3] } }); }), /InputLayer may only come first/],
])('%s', async (_what, make, message) => {
  const p = loadWith(make());
  await expect(p).rejects.toThrow(gf.ModelFormatError);
  await expect(p).rejects.toThrow(message);
});

test('an iteration count that is not a count', async () => {
  const specs: Json[] = good.weightsManifest[0].weights;
  const k = specs.findIndex((w) => w.name.endsWith('/iterations'));
  const off = specs.slice(0, k).reduce((n, w) => n + 4 * w.shape.reduce((a: number, b: number) => a * b, 1), 0);
  const b = Buffer.from(bin);
  b.writeInt32LE(-1, off);
  await expect(loadWith(good, b)).rejects.toThrow(/'adam\/iterations' must hold one integer >= 0/);
  b.writeFloatLE(0.5, off);
  await expect(loadWith(edit((j) => { j.weightsManifest[0].weights[k].dtype = 'float32'; }), b)).rejects.toThrow(/must hold one integer >= 0/);
});

test('a flipped weight byte: the checksum model.json records catches it, naming the file, expected and actual', async () => {
  expect(good.weightsChecksums).toEqual({ 'weights.bin': { bytes: bin.length, fnv1a: expect.any(Number) } });
  const b = Buffer.from(bin);
  b[Math.floor(b.length / 2)] ^= 0x10;
  const withSum = (): Json => JSON.parse(JSON.stringify(good));
  const p = (async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-valid-'));
    fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify(withSum()));
    fs.writeFileSync(path.join(d, 'weights.bin'), b);
    return gf.loadModel(`file://${d}`);
  })();
  await expect(p).rejects.toThrow(gf.ModelFormatError);
  await expect(p).rejects.toThrow(new RegExp(`weights\\.bin is damaged: its FNV-1a checksum is \\d+, model\\.json records ${good.weightsChecksums['weights.bin'].fnv1a}`));
  // the same bytes without a recorded checksum (a TensorFlow.js file) load: the format has none
  await expect(loadWith(good, b)).resolves.toBeDefined();
  // and a malformed or incomplete record is refused
  await expect(loadWith(edit((j) => { j.weightsChecksums = { 'weights.bin': { bytes: bin.length, fnv1a: -1 } }; }))).rejects.toThrow(/weightsChecksums\["weights.bin"\] must be \{bytes, fnv1a\}/);
  await expect(loadWith(edit((j) => { j.weightsChecksums = { 'other.bin': { bytes: 4, fnv1a: 1 } }; }))).rejects.toThrow(/weightsChecksums has no entry for the weight file "weights.bin"/);
  await expect(loadWith(edit((j) => { j.weightsChecksums['weights.bin'].bytes += 4; }))).rejects.toThrow(/holds \d+ bytes, weightsChecksums records \d+/);
});

test('deeply nested JSON where a name or a shape should be', async () => {
  const deep = '['.repeat(100000) + ']'.repeat(100000);
  const text = JSON.stringify(good).replace('"name":"d"', `"name":${deep}`);
  await expect(loadWith(text)).rejects.toThrow(/layer 2 \(Dense\): config.name must be a string, got \[object Array\]/);
  const text2 = JSON.stringify(good).replace('"shape":[3]', `"shape":${deep}`);
  await expect(loadWith(text2)).rejects.toThrow(gf.ModelFormatError);
});

test('truncated and extended weight files: the byte count against the manifest', async () => {
  await expect(loadWith(good, bin.subarray(0, bin.length - 1))).rejects.toThrow(/hold \d+ bytes, the manifest's weights need \d+/);
  await expect(loadWith(good, Buffer.concat([bin, Buffer.alloc(4)]))).rejects.toThrow(gf.ModelFormatError);
  await expect(loadWith(good, Buffer.alloc(0))).rejects.toThrow(gf.ModelFormatError);
});

test('a missing folder, an oversized model.json, memory artifacts with the wrong byte count', async () => {
  await expect(gf.loadModel('file:///nonexistent/gf-model')).rejects.toThrow(/model file .*model.json cannot be read \(ENOENT\)/);
  const a = await gf.loadModel(`file://${dir}`).then((m) => m.save(gf.io.toMemory()));
  await expect(gf.loadModel(gf.io.fromMemory({ ...a, weightData: a.weightData!.slice(4) }))).rejects.toThrow(/weightData holds \d+ bytes, the weight specs need \d+/);
  await expect(gf.loadModel(gf.io.fromMemory({ ...a, weightData: 'abc' as never }))).rejects.toThrow(gf.ModelFormatError);
  expect(() => gf.modelFromJSON('{')).toThrow(gf.ModelFormatError);
  expect(() => gf.modelFromJSON({ class_name: 'Sequential', config: { layers: [{ class_name: 'UpSampling2D', config: { size: [100000, 100000], batch_input_shape: [null, 8, 8, 3] } }] } }))
    .toThrow(/output shape \[null,800000,800000,3\] is not a sane size/);
  expect(() => gf.modelFromJSON({ class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 2 ** 40, batch_input_shape: [null, 2 ** 20] } }] } }))
    .toThrow(/refusing to allocate/);
});
