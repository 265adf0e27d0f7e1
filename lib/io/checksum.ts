/**
 * The checksum of saved files: FNV-1a, 32 bits. model.json records it for each weights file
 * (weightsChecksums, see file.ts) and gan.json for each network's weights file; loading
 * compares. It catches flipped or mixed-up bytes, not a deliberate forgery.
 *
 * Incremental: fnv1a(b, fnv1a(a)) is the checksum of a followed by b, so a file read or
 * written in chunks is checked on the way.
 *
 * @example
 * let h = FNV1A_INIT;
 * for (const chunk of chunks) h = fnv1a(chunk, h);
 */

/** The FNV-1a offset basis: the checksum of no bytes. */
export const FNV1A_INIT = 0x811c9dc5;

// a module-level binding, not a global lookup per byte: in a vm context (jest) looking up the
// global Math each time made the loop 50-100x slower
const imul = Math.imul;

/** FNV-1a (32 bits) of `bytes`, continuing from `h` (the checksum of the bytes before them). */
export function fnv1a(bytes: Uint8Array, h: number = FNV1A_INIT): number {
  let x = h >>> 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    x ^= bytes[i];
    x = imul(x, 0x01000193) >>> 0;
  }
  return x >>> 0;
}

/** Whether v can be an FNV-1a (32-bit) checksum. */
export function isChecksum(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
}
