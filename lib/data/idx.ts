/**
 * The IDX file format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, a
 * type code, the number of dimensions, then each dimension as a uint32) followed by the
 * values. Files may be gzipped (detected from the gzip magic bytes, not the name).
 *
 * @example
 * const {dims, data} = gf.data.readIdx('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz');
 * // dims [10000], data Uint8Array
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { ValueError } from '../errors';

export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxData {
  dims: number[];
  data: IdxArray;
}

const TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

/** Parses IDX bytes (gzipped or not); `source` names the file in error messages. */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxData {
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new ValueError(`${source}: gzip data is corrupt or truncated (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (buf.length < 4) throw new ValueError(`${source}: ${buf.length} bytes is too short for an IDX header`);
  if (buf[0] !== 0 || buf[1] !== 0 || TYPES[buf[2]] === undefined) {
    const magic = buf.readUInt32BE(0).toString(16).padStart(8, '0');
    throw new ValueError(`${source}: bad IDX magic number 0x${magic} (expected 0x000008NN..0x00000eNN)`);
  }
  const type = TYPES[buf[2]];
  const rank = buf[3];
  if (rank === 0) throw new ValueError(`${source}: IDX header declares 0 dimensions`);
  const headerBytes = 4 + 4 * rank;
  if (buf.length < headerBytes) throw new ValueError(`${source}: truncated header: ${rank} dimensions need ${headerBytes} bytes, file has ${buf.length}`);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = buf.readUInt32BE(4 + 4 * i);
    dims.push(d);
    count *= d;
  }
  const want = headerBytes + count * type.bytes;
  if (buf.length !== want) {
    throw new ValueError(`${source}: dimensions [${dims.join(', ')}] of ${type.name} need ${want} bytes but the file has ${buf.length}` +
      (buf.length < want ? ' (truncated)' : ' (trailing data)'));
  }
  const body = buf.subarray(headerBytes);
  let data: IdxArray;
  if (type.bytes === 1) {
    data = type.name === 'uint8' ? new Uint8Array(body) : new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  } else {
    // values are big-endian: read them one by one rather than reinterpret the bytes
    const read: Record<string, (o: number) => number> = {
      int16: (o) => body.readInt16BE(o), int32: (o) => body.readInt32BE(o),
      float32: (o) => body.readFloatBE(o), float64: (o) => body.readDoubleBE(o),
    };
    const out = type.name === 'int16' ? new Int16Array(count) : type.name === 'int32' ? new Int32Array(count)
      : type.name === 'float32' ? new Float32Array(count) : new Float64Array(count);
    const r = read[type.name];
    for (let i = 0; i < count; i++) out[i] = r(i * type.bytes);
    data = out;
  }
  return { dims, data };
}

/** Reads and parses an IDX file (gzipped or not). */
export function readIdx(path: string): IdxData {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new ValueError(`readIdx: cannot read ${path} (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseIdx(bytes, path);
}

/** Encodes an IDX file (uint8 or int32 data), e.g. to make small test files. */
export function encodeIdx(dims: readonly number[], data: Uint8Array | Int32Array): Buffer {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ValueError(`encodeIdx: dimensions [${dims.join(', ')}] need ${count} values, got ${data.length}`);
  const bytesPer = data instanceof Uint8Array ? 1 : 4;
  const buf = Buffer.alloc(4 + 4 * dims.length + count * bytesPer);
  buf[2] = bytesPer === 1 ? 0x08 : 0x0c;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * dims.length;
  for (let i = 0; i < count; i++) {
    if (bytesPer === 1) buf[off + i] = data[i];
    else buf.writeInt32BE(data[i], off + 4 * i);
  }
  return buf;
}
