/**
 * Images: batches of NHWC tensors laid out as grids and written as PNG files (for GAN samples
 * and dataset previews), plus the PNG codec itself.
 *
 * @example
 * await gf.image.saveGrid(generator.predict(noise), 'samples/epoch-10.png');
 */

/**
 * Saves a batch `[n, h, w, c]` (c = 1 or 3) or `[n, h, w]` as one PNG grid, atomically.
 * @example
 * const { path, width, height } = await gf.image.saveGrid(fake, 'file://./out/grid.png', { cols: 8, range: [-1, 1] });
 */
export { saveGrid } from './grid';

/**
 * Lays a batch out as 8-bit grid pixels without writing anything.
 * @example
 * const grid = gf.image.toGrid(xTrain.slice([0, 0, 0, 0], [16, 28, 28, 1]), { padding: 1, padValue: 255 });
 */
export { toGrid } from './grid';

/**
 * Encodes 8-bit gray/RGB/RGBA pixels as PNG bytes.
 * @example
 * fs.writeFileSync('grid.png', gf.image.encodePng(gf.image.toGrid(fake)));
 */
export { encodePng } from './png';

/**
 * Decodes PNG bytes to 8-bit RGBA.
 * @example
 * const { width, height, pixels } = gf.image.decodePng(fs.readFileSync('grid.png'));
 */
export { decodePng } from './png';

export type { GridOptions, GridRange, GridImage, SaveGridResult } from './grid';
export type { PngImage, DecodedPng } from './png';
