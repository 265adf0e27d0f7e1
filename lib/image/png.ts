/**
 * PNG encoding and decoding of 8-bit images, through the pure-JavaScript `pngjs` package (no
 * native code, so it works wherever the library loads). This is the codec only: laying
 * tensors out as an image is grid.ts.
 *
 * @example
 * const buf = gf.image.encodePng({ width: 2, height: 1, channels: 1, pixels: new Uint8Array([0, 255]) });
 * const { pixels } = gf.image.decodePng(buf); // RGBA: [0, 0, 0, 255, 255, 255, 255, 255]
 */
import { PNG, ColorType } from 'pngjs';
import { ShapeError, ValueError } from '../errors';

/** An 8-bit image, rows top to bottom, channels interleaved (gray, RGB or RGBA). */
export interface PngImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  /** `width * height * channels` bytes. */
  pixels: Uint8Array;
}

/** A decoded PNG, always expanded to 8-bit RGBA whatever the file's color type and depth. */
export interface DecodedPng {
  width: number;
  height: number;
  channels: 4;
  /** `width * height * 4` bytes (a copy; free to modify). */
  pixels: Uint8Array;
}

const COLOR_TYPE: Record<1 | 3 | 4, ColorType> = { 1: 0, 3: 2, 4: 6 };

/** The largest side PNG allows (the IHDR fields are 31-bit). */
const MAX_SIDE = 2 ** 31 - 1;

/**
 * Encodes an 8-bit gray, RGB or RGBA image as a PNG file's bytes. Gray stays gray (color
 * type 0) and RGB stays RGB (type 2): the pixels are stored exactly as given.
 *
 * @example
 * const buf = gf.image.encodePng({ width: 1, height: 1, channels: 3, pixels: new Uint8Array([255, 0, 0]) });
 * fs.writeFileSync('red.png', buf);
 */
export function encodePng(image: PngImage): Buffer {
  const { width, height, channels, pixels } = image;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) {
      throw new ValueError(`encodePng: ${name} must be an integer in [1, ${MAX_SIDE}], got ${v}`);
    }
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new ValueError(`encodePng: channels must be 1 (gray), 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  }
  if (!(pixels instanceof Uint8Array)) {
    throw new ValueError(`encodePng: pixels must be a Uint8Array, got ${Object.prototype.toString.call(pixels)}`);
  }
  const need = width * height * channels;
  if (pixels.length !== need) {
    throw new ShapeError(`encodePng: pixels has ${pixels.length} bytes but [${height}, ${width}, ${channels}] needs ${need}`);
  }
  const colorType = COLOR_TYPE[channels];
  // pngjs's sync writer only reads width, height, data and gamma; constructing an empty PNG
  // avoids the RGBA buffer it would otherwise allocate for the given size.
  const png = new PNG();
  png.width = width;
  png.height = height;
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  // Equal input and output color types at 8 bits make pngjs pass the bytes through untouched
  // (its conversion path would average RGB into gray and blend alpha against a background).
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4, bitDepth: 8 });
}

/**
 * Decodes PNG bytes (any color type, bit depth or interlacing) to 8-bit RGBA; 16-bit files are
 * scaled down to 8 bits.
 *
 * @example
 * const { width, height, pixels } = gf.image.decodePng(fs.readFileSync('samples.png'));
 * const red00 = pixels[0], alpha00 = pixels[3];
 */
export function decodePng(buf: Uint8Array): DecodedPng {
  if (!(buf instanceof Uint8Array)) {
    throw new ValueError(`decodePng: expected a Buffer or Uint8Array, got ${Object.prototype.toString.call(buf)}`);
  }
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new ValueError(`decodePng: not a valid PNG (${bytes.length} bytes): ${(e as Error).message ?? String(e)}`);
  }
  const need = png.width * png.height * 4;
  if (png.data.length !== need) {
    throw new ValueError(`decodePng: decoded ${png.data.length} bytes but a ${png.width}x${png.height} RGBA image needs ${need}`);
  }
  // a copy: pngjs's buffer may be a view into a larger shared allocation
  return { width: png.width, height: png.height, channels: 4, pixels: new Uint8Array(png.data) };
}
