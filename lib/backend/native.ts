// The sole loader of the native addon. Everything else reaches the kernels through
// lib/backend/index.ts, so a missing or broken build fails here, once, with a clear message.
import * as fs from 'fs';
import * as path from 'path';
import type { Binding } from '../../binding';
import { DeviceError } from '../errors';

/** The package root: the nearest folder above this file whose package.json is gradforge's. */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if (JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'gradforge') return dir;
      } catch {
        // an unreadable package.json is not ours; keep looking upward
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new DeviceError(`gradforge: cannot find the package root above ${__dirname}`);
    dir = up;
  }
}

function load(): Binding {
  const root = packageRoot();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => Binding;
    return nodeGypBuild(root);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DeviceError(
      `gradforge: the native addon did not load (${why}). Build it with \`npm run build:native\` ` +
      `(needs cmake and a C++17 compiler) or reinstall with \`npm install\`.`);
  }
}

export const native: Binding = load();
