// Image grids and PNG files: exact pixel values through encode/decode, the value mapping, the
// layout, validation, and atomic saving.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodePng, encodePng, saveGrid, toGrid } from '../../lib/image';
import { tensor, Tensor } from '../../lib/tensor';
import { DTypeError, ShapeError, ValueError } from '../../lib/errors';

function t(values: number[], shape: number[]): Tensor {
  return tensor(new Float32Array(values), shape);
}

/** A deterministic byte pattern that differs between neighbours and channels. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** What an RGBA decode of a gray or RGB image must hold. */
function toRgba(pixels: Uint8Array, channels: 1 | 3 | 4): number[] {
  const out: number[] = [];
  for (let i = 0; i < pixels.length; i += channels) {
    if (channels === 1) out.push(pixels[i], pixels[i], pixels[i], 255);
    else if (channels === 3) out.push(pixels[i], pixels[i + 1], pixels[i + 2], 255);
    else out.push(pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]);
  }
  return out;
}

/** The PNG IHDR color type byte: 0 gray, 2 RGB, 6 RGBA. */
function colorTypeOf(png: Uint8Array): number {
  return png[25];
}

let tmpRoot = '';
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gf-image-'));
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});
function freshDir(name: string): string {
  const d = path.join(tmpRoot, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

describe('encodePng / decodePng', () => {
  test.each([
    [1, 'gray', 0],
    [3, 'RGB', 2],
    [4, 'RGBA', 6],
  ] as const)('%i channels (%s) round-trip every byte exactly, stored as color type %i', (channels, _name, type) => {
    // odd, non-square sizes catch swapped width/height and row strides
    const width = 7;
    const height = 5;
    const pixels = bytes(width * height * channels, channels);
    const png = encodePng({ width, height, channels, pixels });
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(colorTypeOf(png)).toBe(type);
    const back = decodePng(png);
    expect(back.width).toBe(width);
    expect(back.height).toBe(height);
    expect(back.channels).toBe(4);
    expect(Array.from(back.pixels)).toEqual(toRgba(pixels, channels));
  });

  test('a grid from toGrid round-trips exactly (gray and RGB)', () => {
    for (const c of [1, 3]) {
      const data = Array.from(bytes(5 * 3 * 4 * c, 11 + c), (b) => b / 255);
      const grid = toGrid(t(data, [5, 3, 4, c]), { padding: 1, padValue: 77 });
      expect(grid.channels).toBe(c);
      const back = decodePng(encodePng(grid));
      expect([back.width, back.height]).toEqual([grid.width, grid.height]);
      expect(Array.from(back.pixels)).toEqual(toRgba(grid.pixels, grid.channels));
    }
  });

  test('bad images and bad bytes are rejected', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(3) }))
      .toThrow(new ShapeError('encodePng: pixels has 3 bytes but [2, 2, 1] needs 4'));
    expect(() => encodePng({ width: 0, height: 2, channels: 1, pixels: new Uint8Array(0) })).toThrow(/width must be an integer in \[1, /);
    expect(() => encodePng({ width: 1, height: 1, channels: 2 as never, pixels: new Uint8Array(2) })).toThrow(/channels must be 1 \(gray\), 3 \(RGB\) or 4 \(RGBA\), got 2/);
    expect(() => decodePng(Buffer.from('not a png at all'))).toThrow(ValueError);
    expect(() => decodePng(Buffer.from('not a png at all'))).toThrow(/decodePng: not a valid PNG \(16 bytes\)/);
  });
});

describe('toGrid value mapping', () => {
  test('tanh output (all in [-1, 1], some negative) maps -1 -> 0, 0 -> 128, 1 -> 255', () => {
    // round((v + 1) / 2 * 255): -0.5 -> 63.75 -> 64, 0 -> 127.5 -> 128 (halves round up), 0.5 -> 191.25 -> 191
    const g = toGrid(t([-1, -0.5, 0, 0.5, 1], [1, 1, 5, 1]), { padding: 0 });
    expect([g.width, g.height, g.channels]).toEqual([5, 1, 1]);
    expect(Array.from(g.pixels)).toEqual([0, 64, 128, 191, 255]);
  });

  test('non-negative values default to [0, 1], clipped above', () => {
    const g = toGrid(t([0, 0.25, 0.5, 1, 2, 0.2], [1, 1, 6, 1]), { padding: 0 });
    expect(Array.from(g.pixels)).toEqual([0, 64, 128, 255, 255, 51]);
  });

  test('values outside [-1, 1] with negatives default to [0, 1]: negatives clip to 0', () => {
    // under [-1, 1] these would be 64, 191, 255
    const g = toGrid(t([-0.5, 0.5, 1.5], [1, 1, 3, 1]), { padding: 0 });
    expect(Array.from(g.pixels)).toEqual([0, 128, 255]);
  });

  test('an explicit range maps lo -> 0 and hi -> 255 and clips', () => {
    const g = toGrid(t([0, 100, 255, 300, -5], [1, 1, 5, 1]), { padding: 0, range: [0, 255] });
    expect(Array.from(g.pixels)).toEqual([0, 100, 255, 255, 0]);
    const h = toGrid(t([-2, 0, 1, 2], [1, 1, 4, 1]), { padding: 0, range: [-2, 2] });
    expect(Array.from(h.pixels)).toEqual([0, 128, 191, 255]);
    // an explicit [-1, 1] overrides the default even for non-negative data
    const k = toGrid(t([0, 1], [1, 1, 2, 1]), { padding: 0, range: [-1, 1] });
    expect(Array.from(k.pixels)).toEqual([128, 255]);
  });

  test("'auto' uses the finite min and max; infinities clip; a constant tensor is 0", () => {
    const g = toGrid(t([2, 4, 6, 3], [1, 1, 4, 1]), { padding: 0, range: 'auto' });
    expect(Array.from(g.pixels)).toEqual([0, 128, 255, 64]);
    const inf = toGrid(t([2, Infinity, 6, NaN, -Infinity, 4], [1, 1, 6, 1]), { padding: 0, range: 'auto' });
    expect(Array.from(inf.pixels)).toEqual([0, 255, 255, 0, 0, 128]);
    const flat = toGrid(t([3, 3, 3], [1, 1, 3, 1]), { padding: 0, range: 'auto' });
    expect(Array.from(flat.pixels)).toEqual([0, 0, 0]);
  });

  test('NaN pixels become 0 and do not change the default range', () => {
    const a = toGrid(t([NaN, 0.5, 1], [1, 1, 3, 1]), { padding: 0 });
    expect(Array.from(a.pixels)).toEqual([0, 128, 255]);
    // still detected as tanh output: -0.5 -> 64 (it would be 0 under [0, 1])
    const b = toGrid(t([NaN, -0.5, 1], [1, 1, 3, 1]), { padding: 0 });
    expect(Array.from(b.pixels)).toEqual([0, 64, 255]);
    const all = toGrid(t([NaN, NaN], [1, 1, 2, 1]), { padding: 0, range: 'auto' });
    expect(Array.from(all.pixels)).toEqual([0, 0]);
  });

  test('float64 tensors are accepted', () => {
    const g = toGrid(tensor(new Float64Array([0, 0.5, 1]), [1, 1, 3]), { padding: 0 });
    expect(Array.from(g.pixels)).toEqual([0, 128, 255]);
  });
});

describe('toGrid layout', () => {
  test('3 images of 2x2 in a 2x2 grid with padding 1: exact positions, empty 4th cell is padValue', () => {
    // image i pixel (y, x) = 10 * (i + 1) + 2 * y + x, read back as bytes under range [0, 255]
    const vals: number[] = [];
    for (let i = 0; i < 3; i++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) vals.push(10 * (i + 1) + 2 * y + x);
    const g = toGrid(t(vals, [3, 2, 2, 1]), { rows: 2, cols: 2, padding: 1, padValue: 200, range: [0, 255] });
    expect([g.width, g.height, g.channels]).toEqual([7, 7, 1]);
    const P = 200;
    const expected = [
      [P, P, P, P, P, P, P],
      [P, 10, 11, P, 20, 21, P],
      [P, 12, 13, P, 22, 23, P],
      [P, P, P, P, P, P, P],
      [P, 30, 31, P, P, P, P],
      [P, 32, 33, P, P, P, P],
      [P, P, P, P, P, P, P],
    ].flat();
    expect(Array.from(g.pixels)).toEqual(expected);
  });

  test('non-square RGB images: channels interleaved, cells in row-major order', () => {
    // 2 images of h=1, w=2, RGB; default cols = ceil(sqrt(2)) = 2, one row; padding 1, pad 9
    const vals = [1, 2, 3, 4, 5, 6, /* image 1 */ 7, 8, 9, 10, 11, 12];
    const g = toGrid(t(vals, [2, 1, 2, 3]), { padding: 1, padValue: 9, range: [0, 255] });
    expect([g.width, g.height, g.channels]).toEqual([2 * 2 + 3, 1 + 2, 3]);
    const pad = [9, 9, 9];
    const row = (...px: number[][]) => px.flat();
    expect(Array.from(g.pixels)).toEqual([
      ...row(pad, pad, pad, pad, pad, pad, pad),
      ...row(pad, [1, 2, 3], [4, 5, 6], pad, [7, 8, 9], [10, 11, 12], pad),
      ...row(pad, pad, pad, pad, pad, pad, pad),
    ]);
  });

  test('tall images stacked in one column: rows advance by h + padding', () => {
    // 2 images of h=3, w=1 in cols=1 with padding 2 -> width 5, height 3*2 + 2*3 = 12
    const g = toGrid(t([1, 2, 3, 4, 5, 6], [2, 3, 1]), { cols: 1, padding: 2, range: [0, 255] });
    expect([g.width, g.height, g.channels]).toEqual([5, 12, 1]);
    const at = (x: number, y: number) => g.pixels[y * g.width + x];
    expect([at(2, 2), at(2, 3), at(2, 4)]).toEqual([1, 2, 3]);
    expect([at(2, 7), at(2, 8), at(2, 9)]).toEqual([4, 5, 6]);
    expect(Array.from(g.pixels).reduce((a, b) => a + b, 0)).toBe(21); // everything else is 0
  });

  test('default rows/cols and padding', () => {
    const img = (n: number) => t(new Array(n * 4 * 4).fill(0.5), [n, 4, 4, 1]);
    // n = 5: cols = ceil(sqrt 5) = 3, rows = 2; padding 2
    const a = toGrid(img(5));
    expect([a.width, a.height]).toEqual([3 * 4 + 4 * 2, 2 * 4 + 3 * 2]);
    // only rows: cols = ceil(5 / 1)
    const b = toGrid(img(5), { rows: 1 });
    expect([b.width, b.height]).toEqual([5 * 4 + 6 * 2, 4 + 2 * 2]);
    // only cols: rows = ceil(5 / 2) = 3
    const c = toGrid(img(5), { cols: 2, padding: 0 });
    expect([c.width, c.height]).toEqual([8, 12]);
    // both, more cells than images: the extra cells are padding
    const d = toGrid(img(5), { rows: 3, cols: 3, padding: 0, padValue: 7 });
    expect([d.width, d.height]).toEqual([12, 12]);
    expect(d.pixels[11 * 12 + 11]).toBe(7);
    expect(d.pixels[4 * 12 + 4]).toBe(128);
  });

  test('rows x cols too small, and bad rows/cols/padding/padValue, are ValueErrors', () => {
    const x = t(new Array(3 * 4).fill(0), [3, 2, 2, 1]);
    expect(() => toGrid(x, { rows: 1, cols: 2 })).toThrow(new ValueError('toGrid: 3 images do not fit in rows=1 x cols=2 (2 cells)'));
    expect(() => toGrid(x, { rows: 0 })).toThrow(new ValueError('toGrid: rows must be an integer >= 1, got 0'));
    expect(() => toGrid(x, { cols: 1.5 })).toThrow(/toGrid: cols must be an integer >= 1, got 1.5/);
    expect(() => toGrid(x, { padding: -1 })).toThrow(/toGrid: padding must be an integer >= 0, got -1/);
    expect(() => toGrid(x, { padValue: 256 })).toThrow(/toGrid: padValue must be an integer in \[0, 255\], got 256/);
    expect(() => toGrid(x, { rows: 1, cols: 2 })).toThrow(ValueError);
  });
});

describe('toGrid input validation', () => {
  test('rank not 3 or 4 is a ShapeError naming the shape', () => {
    expect(() => toGrid(t([0, 0, 0, 0], [2, 2]))).toThrow(ShapeError);
    expect(() => toGrid(t([0, 0, 0, 0], [2, 2]))).toThrow(/rank 2 shape \[2, 2\]/);
    expect(() => toGrid(t([0, 0], [1, 1, 1, 1, 2]))).toThrow(/rank 5 shape \[1, 1, 1, 1, 2\]/);
  });

  test('channels other than 1 or 3 are a ShapeError naming the shape', () => {
    expect(() => toGrid(t(new Array(8).fill(0), [1, 2, 2, 2]))).toThrow(
      new ShapeError('toGrid: images must have 1 (gray) or 3 (RGB) channels (NHWC), got 2 in shape [1, 2, 2, 2]'));
    // RGBA is not an NHWC image the grid accepts
    expect(() => toGrid(t(new Array(4).fill(0), [1, 1, 1, 4]))).toThrow(/got 4 in shape \[1, 1, 1, 4\]/);
  });

  test('int32 is a DTypeError naming the shape', () => {
    const x = tensor([1, 2, 3, 4], [1, 2, 2, 1], { dtype: 'int32' });
    expect(() => toGrid(x)).toThrow(DTypeError);
    expect(() => toGrid(x)).toThrow(/got int32 tensor of shape \[1, 2, 2, 1\]/);
  });

  test('an empty batch is a ValueError; zero-sized images a ShapeError', () => {
    expect(() => toGrid(t([], [0, 2, 2, 1]))).toThrow(new ValueError('toGrid: no images to draw (shape [0, 2, 2, 1])'));
    expect(() => toGrid(t([], [2, 0, 2, 1]))).toThrow(ShapeError);
  });

  test('a non-finite or empty range is a ValueError', () => {
    const x = t([0, 1], [1, 1, 2]);
    expect(() => toGrid(x, { range: [0, Infinity] })).toThrow(new ValueError('toGrid: range must be two finite numbers [lo, hi] with lo < hi, got [0, Infinity]'));
    expect(() => toGrid(x, { range: [NaN, 1] })).toThrow(/got \[NaN, 1\]/);
    expect(() => toGrid(x, { range: [1, 1] })).toThrow(/got \[1, 1\]/);
    expect(() => toGrid(x, { range: [2, 1] })).toThrow(/got \[2, 1\]/);
    expect(() => toGrid(x, { range: 'minmax' as never })).toThrow(/range must be \[lo, hi\] or 'auto', got minmax/);
  });
});

describe('saveGrid', () => {
  const sample = (seed: number, c: 1 | 3) => t(Array.from(bytes(6 * 5 * 3 * c, seed), (b) => b / 127.5 - 1), [6, 5, 3, c]);

  test('writes a PNG (creating folders) whose decoded pixels equal toGrid', async () => {
    for (const c of [1, 3] as const) {
      const dir = path.join(freshDir(`write-${c}`), 'a', 'b');
      const target = path.join(dir, 'grid.png');
      const x = sample(c, c);
      const res = await saveGrid(x, target, { cols: 4, padding: 1 });
      const grid = toGrid(x, { cols: 4, padding: 1 });
      expect(res).toEqual({ path: target, width: grid.width, height: grid.height });
      const file = fs.readFileSync(target);
      expect(colorTypeOf(file)).toBe(c === 1 ? 0 : 2);
      const back = decodePng(file);
      expect([back.width, back.height]).toEqual([grid.width, grid.height]);
      expect(Array.from(back.pixels)).toEqual(toRgba(grid.pixels, c));
      expect(fs.readdirSync(dir)).toEqual(['grid.png']);
    }
  });

  test("accepts a 'file://' path and returns the absolute path", async () => {
    const dir = freshDir('url');
    const res = await saveGrid(sample(3, 1), `file://${dir}/u.png`);
    expect(res.path).toBe(path.join(dir, 'u.png'));
    expect(fs.readdirSync(dir)).toEqual(['u.png']);
    expect(Array.from(decodePng(fs.readFileSync(res.path)).pixels)).toEqual(toRgba(toGrid(sample(3, 1)).pixels, 1));
  });

  test('saving over an existing file replaces it and leaves no temporaries', async () => {
    const dir = freshDir('replace');
    const target = path.join(dir, 'grid.png');
    await saveGrid(sample(1, 1), target);
    const first = fs.readFileSync(target);
    const firstInode = fs.statSync(target).ino;
    await saveGrid(sample(2, 1), target);
    const second = fs.readFileSync(target);
    expect(second.equals(first)).toBe(false);
    // a new file renamed into place, not the old one truncated and rewritten
    expect(fs.statSync(target).ino).not.toBe(firstInode);
    expect(Array.from(decodePng(second).pixels)).toEqual(toRgba(toGrid(sample(2, 1)).pixels, 1));
    expect(fs.readdirSync(dir)).toEqual(['grid.png']);
  });

  test('a failing save leaves what was there and no temporaries', async () => {
    const dir = freshDir('fail');
    // the rename onto a non-empty folder fails after the temporary file has been written
    const target = path.join(dir, 'taken');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'keep');
    await expect(saveGrid(sample(1, 1), target)).rejects.toThrow();
    expect(fs.readdirSync(dir)).toEqual(['taken']);
    expect(fs.readFileSync(path.join(target, 'keep.txt'), 'utf8')).toBe('keep');

    // an existing grid survives a save that fails validation
    const old = path.join(dir, 'old.png');
    await saveGrid(sample(4, 3), old);
    const before = fs.readFileSync(old);
    await expect(saveGrid(sample(5, 3), old, { rows: 1, cols: 1 })).rejects.toThrow(/saveGrid: 6 images do not fit in rows=1 x cols=1/);
    expect(fs.readFileSync(old).equals(before)).toBe(true);
    expect(fs.readdirSync(dir).sort()).toEqual(['old.png', 'taken']);
  });

  test('an empty path is a ValueError', async () => {
    await expect(saveGrid(sample(1, 1), 'file://')).rejects.toThrow(new ValueError("saveGrid: path is empty ('file://')"));
  });
});
