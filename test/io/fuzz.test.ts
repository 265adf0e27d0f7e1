// Fuzz: thousands of seeded mutations of a saved model (model.json's structure and text, the
// weight file's length and bytes, memory artifacts). Each one either loads (and predicts) or
// throws ModelFormatError; never another error type, a crash or a hang.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gf from '../../lib';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CASES = 3000;

const STRINGS = ['', 'Dense', 'Conv2D', 'InputLayer', 'Sequential', 'float16', 'int32', 'float32', 'optimizer', 'same',
  'valid', 'relu', 'softmax', '../weights.bin', '/etc/passwd', 'weights.bin', 'x'.repeat(300), 'channels_first', 'adam',
  'categorical_crossentropy', 'Lion', '%2e%2e/a', 'model.json', 'batch_input_shape', 'nope'];
const NUMBERS = [0, -1, 1, 2, 3, 0.5, -0.5, 7, 1e9, 1e12, 2 ** 31, 2 ** 53, -(2 ** 31), 1e-9, 255, 4096];

function randomValue(r: gf.Rng, depth = 0): unknown {
  switch (r.int(depth > 1 ? 5 : 8)) {
    case 0: return NUMBERS[r.int(NUMBERS.length)];
    case 1: return STRINGS[r.int(STRINGS.length)];
    case 2: return null;
    case 3: return r.uniform() < 0.5;
    case 4: return r.int(5) - 1;
    case 5: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    case 6: return { class_name: STRINGS[r.int(STRINGS.length)], config: r.uniform() < 0.5 ? {} : randomValue(r, depth + 1) };
    default: return {};
  }
}

/** Every [parent, key] in the tree. */
function slots(j: Json, out: [Json, string | number][] = []): [Json, string | number][] {
  if (j !== null && typeof j === 'object') {
    for (const k of Array.isArray(j) ? j.keys() : Object.keys(j)) {
      out.push([j, k]);
      slots(j[k], out);
    }
  }
  return out;
}

function mutateJson(j: Json, r: gf.Rng): void {
  const all = slots(j);
  const [parent, key] = all[r.int(all.length)];
  const v = parent[key];
  switch (r.int(7)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 1:
      if (Array.isArray(parent)) parent.splice(key as number, 0, JSON.parse(JSON.stringify(v ?? null)));
      else parent[key] = [v];
      break;
    case 2:
      if (typeof v === 'number') parent[key] = [v + 1, v - 1, -v, v * 1000, v / 2, 0][r.int(6)];
      else parent[key] = randomValue(r);
      break;
    case 3:
      if (Array.isArray(v) && v.length > 1) v.reverse();
      else parent[key] = randomValue(r);
      break;
    default:
      parent[key] = randomValue(r);
  }
}

function mutateText(text: string, r: gf.Rng): string {
  const i = r.int(text.length);
  switch (r.int(3)) {
    case 0: return text.slice(0, i);
    case 1: return text.slice(0, i) + '"{[,:0-e'.charAt(r.int(8)) + text.slice(i + 1);
    default: return text.slice(0, i) + text.slice(i + 1 + r.int(20));
  }
}

function mutateBytes(b: Buffer, r: gf.Rng): Buffer {
  switch (r.int(3)) {
    case 0: return b.subarray(0, r.int(b.length + 1));
    case 1: return Buffer.concat([b, Buffer.alloc(1 + r.int(64), r.int(256))]);
    default: {
      const c = Buffer.from(b);
      for (let k = 0; k < 1 + r.int(8); k++) c[r.int(c.length)] = r.int(256);
      return c;
    }
  }
}

test(`${CASES} mutated models: each loads or throws ModelFormatError`, async () => {
  gf.setSeed(99);
  const m = gf.sequential([
    gf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 1] }),
    gf.layers.batchNormalization(),
    gf.layers.maxPooling2d({ poolSize: 2 }),
    gf.layers.flatten(),
    gf.layers.dropout({ rate: 0.5 }),
    gf.layers.dense({ units: 3, activation: 'softmax' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const saved = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-fuzz-'));
  await m.save(`file://${saved}`, { includeOptimizer: true });
  const jsonText = fs.readFileSync(path.join(saved, 'model.json'), 'utf8');
  const bin: Buffer = fs.readFileSync(path.join(saved, "weights.bin"));
  const mem = await m.save(gf.io.toMemory(), { includeOptimizer: true });
  const x = gf.randn([2, 6, 6, 1], { seed: 1 });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-fuzz-'));
  const r = new gf.Rng(12345);
  const outcomes = { loaded: 0, rejected: 0 };
  const failures: string[] = [];
  for (let c = 0; c < CASES && failures.length < 5; c++) {
    const kind = r.int(10);
    let load: () => Promise<gf.Sequential>;
    let what: string;
    if (kind < 2) {
      // memory artifacts with a mutated topology / specs / training config
      const a: Json = JSON.parse(JSON.stringify({ modelTopology: mem.modelTopology, weightSpecs: mem.weightSpecs, trainingConfig: mem.trainingConfig }));
      for (let k = 0; k < 1 + r.int(3); k++) mutateJson(a, r);
      const data = r.uniform() < 0.8 ? mem.weightData : mutateBytes(Buffer.from(mem.weightData!), r);
      what = "memory";
      load = () => gf.loadModel(gf.io.fromMemory({ ...a, weightData: data }));
    } else {
      let text = jsonText;
      let weights: Buffer = bin;
      if (kind < 7) {
        const j = JSON.parse(jsonText);
        for (let k = 0; k < 1 + r.int(3); k++) mutateJson(j, r);
        text = JSON.stringify(j);
      } else if (kind < 8) {
        text = mutateText(jsonText, r);
      } else {
        weights = mutateBytes(bin, r);
      }
      fs.writeFileSync(path.join(dir, 'model.json'), text);
      fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
      what = 'file';
      load = () => gf.loadModel(`file://${dir}`);
    }
    try {
      const loaded = await load();
      // a model that loads must also run
      const y = loaded.predict(x);
      if (y.shape[0] !== 2) throw new Error(`prediction has shape [${y.shape.join(', ')}]`);
      outcomes.loaded++;
    } catch (e) {
      if (e instanceof gf.ModelFormatError) outcomes.rejected++;
      else failures.push(`case ${c} (${what}): ${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack?.split('\n').slice(1, 4).join('\n')}`);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(saved, { recursive: true, force: true });
  expect(failures).toEqual([]);
  expect(outcomes.loaded + outcomes.rejected).toBe(CASES);
  // both outcomes happen, so the mutations are neither all fatal nor all harmless
  expect(outcomes.loaded).toBeGreaterThan(CASES / 20);
  expect(outcomes.rejected).toBeGreaterThan(CASES / 5);
}, 60_000);
