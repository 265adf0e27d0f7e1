/**
 * Image grids: a batch of images (a GAN's samples, a dataset's first digits) laid out as one
 * 8-bit picture, and saved as a PNG. Tensors are NHWC (Keras layout), float values.
 *
 * Pixel mapping, for a value range [lo, hi] (see `GridOptions.range`), applied to every
 * channel value v:
 *   NaN            -> 0
 *   v <= lo        -> 0        (this covers -Infinity)
 *   v >= hi        -> 255      (this covers +Infinity)
 *   otherwise      -> Math.round((v - lo) / (hi - lo) * 255)   (halves round up)
 * so with the tanh range [-1, 1]: -1 -> 0, 0 -> 128, 1 -> 255; with [0, 1]: 0.5 -> 128.
 *
 * Not here: resizing, colour maps, or per-image normalisation.
 */
import * as path from 'path';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';
import { Tensor } from '../tensor';
import { encodePng } from './png';
import { writeFilesAtomic } from '../io/file';

/** Value range mapped to 0..255: `[lo, hi]`, or `'auto'` for the tensor's own finite min and max. */
export type GridRange = readonly [number, number] | 'auto';

export interface GridOptions {
  /** Rows of cells. Default `ceil(n / cols)`. */
  rows?: number;
  /** Columns of cells. Default `ceil(sqrt(n))`, or `ceil(n / rows)` when only `rows` is given. */
  cols?: number;
  /** Pixels between cells and around the border. Default 2. */
  padding?: number;
  /**
   * Output value (0..255, applied to every channel) of the padding and of cells past the last
   * image. Default 0 (black). It is an output byte, not a tensor value: it is not mapped
   * through `range`.
   */
  padValue?: number;
  /**
   * Tensor values mapped to 0 and 255 (values outside are clipped). Default: [-1, 1] when every
   * value lies in [-1, 1] and some value is negative (a tanh generator's output), else [0, 1].
   * `'auto'` uses the tensor's finite min and max (a constant tensor then maps to 0).
   */
  range?: GridRange;
}

/** A grid as 8-bit pixels, rows top to bottom, channels interleaved; ready for `encodePng`. */
export interface GridImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** `width * height * channels` bytes. */
  pixels: Uint8Array;
}

export interface SaveGridResult {
  /** The absolute path of the written file. */
  path: string;
  width: number;
  height: number;
}

/** Larger grids than this are surely a mistake (rows/cols far too big), and PNG tools choke on them. */
const MAX_GRID_BYTES = 2 ** 31 - 1;

function checkInt(op: string, name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const bound = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new ValueError(`${op}: ${name} must be an integer ${bound}, got ${String(v)}`);
  }
  return v;
}

/** The range to map from, resolved from the option and the data. */
function resolveRange(op: string, data: ArrayLike<number>, range: GridRange | undefined): [number, number] {
  if (range === 'auto') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // infinities would stretch the range so far that every finite value maps to one byte
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    // all values NaN or infinite: any range gives the same pixels
    return lo <= hi ? [lo, hi] : [0, 1];
  }
  if (range !== undefined) {
    if (!Array.isArray(range) || range.length !== 2) {
      throw new ValueError(`${op}: range must be [lo, hi] or 'auto', got ${String(range)}`);
    }
    const [lo, hi] = range;
    if (typeof lo !== 'number' || typeof hi !== 'number' || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new ValueError(`${op}: range must be two finite numbers [lo, hi] with lo < hi, got [${String(lo)}, ${String(hi)}]`);
    }
    return [lo, hi];
  }
  let negative = false;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0) negative = true;
    if (v < -1 || v > 1) return [0, 1];
  }
  return negative ? [-1, 1] : [0, 1];
}

function layout(op: string, n: number, rowsOpt: number | undefined, colsOpt: number | undefined): [number, number] {
  const rowsIn = rowsOpt === undefined ? undefined : checkInt(op, 'rows', rowsOpt, 1);
  const colsIn = colsOpt === undefined ? undefined : checkInt(op, 'cols', colsOpt, 1);
  if (rowsIn !== undefined && colsIn !== undefined) {
    if (rowsIn * colsIn < n) {
      throw new ValueError(`${op}: ${n} images do not fit in rows=${rowsIn} x cols=${colsIn} (${rowsIn * colsIn} cells)`);
    }
    return [rowsIn, colsIn];
  }
  if (rowsIn !== undefined) return [rowsIn, Math.ceil(n / rowsIn)];
  const cols = colsIn ?? Math.ceil(Math.sqrt(n));
  return [Math.ceil(n / cols), cols];
}

function buildGrid(op: string, images: Tensor, opts: GridOptions): GridImage {
  if (!(images instanceof Tensor)) {
    throw new ValueError(`${op}: expected a Tensor of shape [n, h, w, c] or [n, h, w], got ${Object.prototype.toString.call(images)}`);
  }
  const shape = images.shape;
  if (images.dtype !== 'float32' && images.dtype !== 'float64') {
    throw new DTypeError(`${op}: images must be float32 (or float64), got ${images.dtype} tensor of shape ${fmtShape(shape)}`);
  }
  if (shape.length !== 3 && shape.length !== 4) {
    throw new ShapeError(`${op}: images must have shape [n, h, w, c] or [n, h, w], got rank ${shape.length} shape ${fmtShape(shape)}`);
  }
  const [n, h, w] = shape;
  const c = shape.length === 4 ? shape[3] : 1;
  if (c !== 1 && c !== 3) {
    throw new ShapeError(`${op}: images must have 1 (gray) or 3 (RGB) channels (NHWC), got ${c} in shape ${fmtShape(shape)}`);
  }
  if (n === 0) throw new ValueError(`${op}: no images to draw (shape ${fmtShape(shape)})`);
  if (h === 0 || w === 0) throw new ShapeError(`${op}: images have zero height or width (shape ${fmtShape(shape)})`);

  const padding = checkInt(op, 'padding', opts.padding ?? 2, 0);
  const padValue = checkInt(op, 'padValue', opts.padValue ?? 0, 0, 255);
  const [rows, cols] = layout(op, n, opts.rows, opts.cols);
  const width = cols * w + (cols + 1) * padding;
  const height = rows * h + (rows + 1) * padding;
  const bytes = width * height * c;
  if (bytes > MAX_GRID_BYTES) {
    throw new ValueError(`${op}: a ${rows}x${cols} grid of ${fmtShape(shape)} images would be ${width}x${height}x${c} = ${bytes} bytes, over ${MAX_GRID_BYTES}`);
  }

  const data = images.data;
  const [lo, hi] = resolveRange(op, data, opts.range);
  const span = hi - lo;
  const pixels = new Uint8Array(bytes).fill(padValue);
  const rowBytes = width * c;
  const cellBytes = h * w * c;
  for (let i = 0; i < n; i++) {
    const x0 = padding + (i % cols) * (w + padding);
    const y0 = padding + Math.floor(i / cols) * (h + padding);
    const src0 = i * cellBytes;
    for (let y = 0; y < h; y++) {
      let dst = (y0 + y) * rowBytes + x0 * c;
      let src = src0 + y * w * c;
      for (let k = 0; k < w * c; k++) {
        const v = data[src++];
        // the order matters: NaN fails every comparison, and v <= lo comes first so that a
        // zero span ('auto' on a constant tensor) never divides by zero
        pixels[dst++] = v !== v ? 0 : v <= lo ? 0 : v >= hi ? 255 : Math.round(((v - lo) / span) * 255);
      }
    }
  }
  return { width, height, channels: c, pixels };
}

/**
 * Lays a batch of images out as one 8-bit picture: `rows x cols` cells in row-major order,
 * `padding` pixels of `padValue` between and around them. Values map to bytes as described in
 * this module's header (NaN becomes 0).
 *
 * @example
 * const fake = generator.predict(gf.randn([16, 100]));          // [16, 28, 28, 1], tanh output
 * const { width, height, pixels } = gf.image.toGrid(fake);      // 4x4 cells: 122x122 gray
 */
export function toGrid(images: Tensor, opts: GridOptions = {}): GridImage {
  return buildGrid('toGrid', images, opts);
}

/**
 * Saves a batch of images as a PNG grid (see `toGrid` for the layout and value mapping).
 * Creates the parent folder; `path` may start with `file://`. The write is atomic: an error
 * or a crash mid-save leaves the previous file at `path` as it was.
 *
 * @example
 * // after each GAN epoch
 * await gf.image.saveGrid(generator.predict(noise), `samples/epoch-${epoch}.png`, { cols: 8 });
 */
export async function saveGrid(images: Tensor, filePath: string, opts: GridOptions = {}): Promise<SaveGridResult> {
  if (typeof filePath !== 'string') {
    throw new ValueError(`saveGrid: path must be a string, got ${Object.prototype.toString.call(filePath)}`);
  }
  const fsPath = filePath.startsWith('file://') ? filePath.slice('file://'.length) : filePath;
  if (fsPath === '') throw new ValueError(`saveGrid: path is empty ('${filePath}')`);
  const grid = buildGrid('saveGrid', images, opts);
  const png = encodePng(grid);
  const target = path.resolve(fsPath);
  // Atomic, as model saves are: an error or a crash mid-save leaves the previous file intact.
  await writeFilesAtomic(path.dirname(target), [{ name: path.basename(target), data: png }], { cleanStaleTemps: false });
  return { path: target, width: grid.width, height: grid.height };
}
