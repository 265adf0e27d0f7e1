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
  // GRADFORGE_ADDON names a .node file to load instead (the emulated CUDA build that
  // npm run test:cuda tests the cuda backend with; or a build of one's own).
  const override = process.env.GRADFORGE_ADDON;
  if (override !== undefined && override !== '') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(path.resolve(override)) as Binding;
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).trim().replace(/\s*\n\s*/g, '; ');
      throw new DeviceError(`gradforge: GRADFORGE_ADDON=${override} did not load (${why}); unset it to load the package's own addon`);
    }
  }
  const root = packageRoot();
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => Binding;
    return nodeGypBuild(root);
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).trim().replace(/\s*\n\s*/g, '; ');
    // An installed package (under node_modules) is rebuilt by its bin; a checkout by its script.
    const installed = root.split(path.sep).includes('node_modules');
    const fix = installed
      ? `This platform (${process.platform}-${process.arch}) has no prebuilt binary that loads here; ` +
        'build one from source with `npx gradforge build` (needs cmake >= 3.18 and a C++17 compiler).'
      : 'Build it with `npm run build:native` (needs cmake >= 3.18 and a C++17 compiler).';
    throw new DeviceError(`gradforge: the native addon did not load (${why}). ${fix}`);
  }
}

export const native: Binding = load();
