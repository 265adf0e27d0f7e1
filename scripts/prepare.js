#!/usr/bin/env node
// npm install hook: use a prebuilt binary when one loads for this platform, otherwise build the
// addon from source with cmake-js (node-gyp-build's own fallback would call node-gyp, which
// this project does not use).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
const fromSource = process.argv.includes('--build-from-source') ||
  process.env.npm_config_build_from_source === 'true';

if (!fromSource) {
  try {
    require('node-gyp-build')(root);
    console.log('gradforge: using the prebuilt native addon');
    process.exit(0);
  } catch {
    // no prebuilt binary for this platform: build it below
  }
}

const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const args = [cmakeJs, 'compile', '--CDGRADFORGE_BUILD_TESTS=ON'];
console.log('gradforge: building the native addon from source (cmake-js)');
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
