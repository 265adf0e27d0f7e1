/**
 * Fetching data files: an HTTP(S) GET that follows redirects, verifies an MD5 checksum, and
 * writes atomically (temporary name, then rename) so a failed download never leaves a file
 * that looks complete.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import * as crypto from 'crypto';
import { ValueError } from '../errors';

const MAX_REDIRECTS = 5;
const TIMEOUT_MS = 60_000;

function get(url: string, redirects: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let client: typeof http | typeof https;
    try {
      client = new URL(url).protocol === 'https:' ? https : http;
    } catch {
      reject(new ValueError(`download: bad URL ${url}`));
      return;
    }
    const req = client.get(url, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new ValueError(`download: too many redirects fetching ${url}`));
          return;
        }
        get(new URL(res.headers.location, url).toString(), redirects + 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new ValueError(`download: ${url} answered HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', (e) => reject(new ValueError(`download: ${url} failed: ${e.message}`)));
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) => reject(new ValueError(`download: ${url} failed: ${e.message}`)));
  });
}

export function md5(bytes: Uint8Array): string {
  return crypto.createHash('md5').update(bytes).digest('hex');
}

/**
 * Downloads url to dest (creating its folder). When `expectedMd5` is given the bytes must
 * match it, or nothing is written.
 */
export async function downloadFile(url: string, dest: string, expectedMd5?: string): Promise<void> {
  const bytes = await get(url, 0);
  if (expectedMd5 !== undefined) {
    const got = md5(bytes);
    if (got !== expectedMd5) {
      throw new ValueError(`download: checksum mismatch for ${url}: md5 ${got}, expected ${expectedMd5}; nothing was saved`);
    }
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, dest);
}
