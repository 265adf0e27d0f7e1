#!/usr/bin/env node
// The `gradforge` command of the installed package (package.json "bin"; npm never blocks a bin
// as it blocks install scripts):
//
//   npx gradforge build [--cuda] [--debug]   rebuild the addon from the shipped sources into
//                                            this package's build/Release, which node-gyp-build
//                                            prefers over prebuilds/ from then on
//   npx gradforge info                       where the addon loads from, and what it runs on
//
// Needs CMake >= 3.18 and a C++17 compiler; --cuda (or GRADFORGE_CUDA=1) also the CUDA toolkit.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const usage = 'usage: gradforge build [--cuda] [--debug] | gradforge info';

function fail(msg) {
  console.error(`gradforge: ${msg}`);
  process.exit(1);
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Loads the addon in a fresh process (this one may have loaded an older one) and describes it. */
function describeAddon() {
  const code = `const b = require('node-gyp-build'); const p = b.resolve(${JSON.stringify(root)});
    const info = require(p).backendInfo();
    console.log(JSON.stringify({ path: p, gemmKernel: info.gemmKernel, threads: info.numThreads, build: info.build }));`;
  const r = spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return null;
  return JSON.parse(r.stdout.trim());
}

function build(args) {
  const unknown = args.filter((a) => !['--cuda', '--debug'].includes(a));
  if (unknown.length) fail(`unknown option ${unknown[0]}\n${usage}`);
  const cuda = args.includes('--cuda') || process.env.GRADFORGE_CUDA === '1';
  const debug = args.includes('--debug');
  if (!has('cmake')) fail('building from source needs CMake >= 3.18 on PATH (e.g. apt-get install cmake)');
  if (!has('c++') && !has('g++') && !has('clang++')) fail('building from source needs a C++17 compiler on PATH (g++ or clang++)');
  if (cuda && !has('nvcc') && !process.env.CUDACXX) {
    fail('--cuda needs the CUDA toolkit: nvcc was not found on PATH (set CUDACXX to its path)');
  }
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    fail('cmake-js is missing from this installation (reinstall gradforge)');
  }
  const cmakeArgs = [cmakeJs, 'rebuild', '--CDGRADFORGE_BUILD_TESTS=OFF', `--CDGRADFORGE_CUDA=${cuda ? 'ON' : 'OFF'}`];
  if (debug) cmakeArgs.push('--debug');
  console.log(`gradforge: building the native addon from source in ${root}${cuda ? ' (CUDA requested)' : ''}${debug ? ' (debug)' : ''}`);
  const r = spawnSync(process.execPath, cmakeArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`the build failed (cmake-js exited with ${r.status}); the prebuilt binary, if any, is still used`);
  // cmake-js puts a debug build in build/Debug, which node-gyp-build does not look at.
  // (rebuild, not compile: a build folder configured earlier would keep its old options)
  if (debug) {
    const from = path.join(root, 'build', 'Debug', 'gradforge.node');
    const to = path.join(root, 'build', 'Release', 'gradforge.node');
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
  }
  const d = describeAddon();
  if (!d) fail('the new build does not load');
  console.log(`gradforge: built; it loads from ${d.path} (${d.build}; GEMM kernel ${d.gemmKernel})`);
}

function info() {
  const d = describeAddon();
  if (!d) fail('no native addon loads (run: npx gradforge build)');
  console.log(JSON.stringify(d, null, 2));
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === 'build') build(rest);
else if (cmd === 'info') info();
else fail(usage);
