#!/usr/bin/env node
// `prepare`: what `npm install` in a checkout (and `npm pack`) runs: build the addon from
// source with cmake-js, with the C++ tests, into build/Release (node-gyp-build prefers it over
// prebuilds/), then compile the TypeScript. The published package has no install script at
// all: it ships prebuilds/linux-x64/gradforge.glibc.node, and `npx gradforge build` rebuilds
// from source in an installed package (scripts/gradforge.js).
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');

function step(what, args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`gradforge: ${what} failed (exit ${r.status}); it needs cmake >= 3.18 and a C++17 compiler`);
    process.exit(r.status === null ? 1 : r.status);
  }
}

console.log('gradforge: building the native addon from source (cmake-js)');
step('the native build', [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--CDGRADFORGE_BUILD_TESTS=ON']);
step('the TypeScript build', [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
