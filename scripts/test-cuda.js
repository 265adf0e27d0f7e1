#!/usr/bin/env node
// The CUDA build and its tests, in build-cuda/ (never build/, which stays the CPU build that
// npm test uses; the folder ignores itself for git):
//   npm run build:cuda    node scripts/test-cuda.js --build-only
//   npm run test:cuda     node scripts/test-cuda.js
//   npm run bench:cuda    node scripts/test-cuda.js --bench [n ...]
//  1. builds kernels, addon and C++ tests with cmake-js (offline, as build:native and
//     test:asan do) with GRADFORGE_CUDA=ON and GRADFORGE_BUILD_TESTS=ON into build-cuda/; the
//     CUDA architectures are CMakeLists.txt's default list (75;80;86;89;90) unless
//     GRADFORGE_CUDA_ARCHITECTURES says otherwise (e.g. 90; passed as CMAKE_CUDA_ARCHITECTURES,
//     which the build folder then keeps until told another list);
//  2. (test) checks that the addon built there loads in a fresh node and reports
//     backendInfo().cuda.compiled, with or without a GPU (cudart is linked statically);
//  3. (test) runs ctest in build-cuda/: the CPU tests again, the CUDA tests (exit 77, counted
//     as skipped, without a device) and the emulated CUDA tests (they run anywhere);
//  4. (test) runs jest's test/cuda-*.test.ts with GRADFORGE_ADDON=build-cuda/emulated/gradforge.node
//     (the addon over the host emulation: the JavaScript cuda backend runs without a GPU);
//  5. prints "N passed, N failed, N skipped" (the first four words as npm test's, for .ci/run)
//     and writes it to build-cuda/test-summary.
// --bench runs build-cuda/bench_cuda and bench_cuda_cnn after an (incremental) build instead of 2-4.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { parseCtest, parseJestResults, summaryLine } = require('./test.js');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build-cuda');
const args = process.argv.slice(2);
const buildOnly = args.includes('--build-only');
const bench = args.includes('--bench');
const benchArgs = args.filter((a) => !a.startsWith('--'));
let passed = 0;
let failed = 0;
let skipped = 0;
const t0 = Date.now();
const secs = (t) => ((Date.now() - t) / 1000).toFixed(1);

function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`test:cuda: ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  return ok;
}

function finish() {
  const line = summaryLine(passed, failed, skipped);
  console.log(`test:cuda: ${secs(t0)} s in all`);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'test-summary'), line + '\n');
  console.log(line);
  process.exit(failed === 0 ? 0 : 1);
}

// ---- 1. build ------------------------------------------------------------------------------
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, '.gitignore'), '*\n');
const cmakeArgs = [require.resolve('cmake-js/bin/cmake-js'), 'compile', '-O', out,
  '--CDGRADFORGE_CUDA=ON', '--CDGRADFORGE_BUILD_TESTS=ON'];
if (process.env.GRADFORGE_CUDA_ARCHITECTURES) {
  cmakeArgs.push(`--CDCMAKE_CUDA_ARCHITECTURES=${process.env.GRADFORGE_CUDA_ARCHITECTURES}`);
}
let t = Date.now();
const build = spawnSync(process.execPath, cmakeArgs, { cwd: root, stdio: 'inherit' });
console.log(`test:cuda: build took ${secs(t)} s`);
const addon = path.join(out, 'Release', 'gradforge.node');
const built = build.status === 0 && fs.existsSync(addon);
if (buildOnly || bench) {
  if (!built) {
    console.error(`build:cuda: the build failed (cmake-js exited with ${build.status}); it needs the CUDA toolkit (nvcc)`);
    process.exit(1);
  }
  if (buildOnly) {
    console.log(`build:cuda: built ${path.relative(root, addon)} and the CUDA tests in ${path.relative(root, out)}/`);
    process.exit(0);
  }
  const b = spawnSync(path.join(out, 'bench_cuda'), benchArgs, { cwd: root, stdio: 'inherit' });
  // and the tutorial CNN's training step at batch 256 (its PyTorch twin: bench/torch_cnn_cuda.py)
  const c = spawnSync(path.join(out, 'bench_cuda_cnn'), ['256', '20'], { cwd: root, stdio: 'inherit' });
  process.exit(b.status === null || c.status === null ? 1 : b.status || c.status);
}
if (!check('build-cuda (cmake-js, GRADFORGE_CUDA=ON)', built)) finish();

// ---- 2. the addon loads without a GPU ------------------------------------------------------
const probe = spawnSync(process.execPath, ['-e',
  `const b = require(${JSON.stringify(addon)}); console.log(JSON.stringify(b.backendInfo().cuda));`],
{ cwd: root, encoding: 'utf8' });
let cuda = null;
try { cuda = JSON.parse((probe.stdout || '').trim()); } catch { /* reported below */ }
check('the CUDA addon loads in node and reports backendInfo().cuda', probe.status === 0 && cuda && cuda.compiled === true,
  cuda ? `available ${cuda.available}, ${cuda.devices} device(s)${cuda.reason ? `: ${cuda.reason}` : ''}`
    : (probe.stderr || '').trim().split('\n').slice(-3).join(' | '));

// ---- 3. ctest ------------------------------------------------------------------------------
t = Date.now();
const ctest = spawnSync('ctest', ['--test-dir', out, '--output-on-failure'], { cwd: root, encoding: 'utf8' });
process.stdout.write(ctest.stdout || '');
process.stderr.write(ctest.stderr || '');
console.log(`test:cuda: ctest took ${secs(t)} s`);
const c = parseCtest(ctest.stdout);
if (c) {
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
  if (c.skipped) {
    console.log(`test:cuda: ${c.skipped} test(s) skipped, not passed: ${c.skippedNames.join(', ')}` +
      (cuda && !cuda.available ? ` (no usable GPU: ${cuda.reason})` : ''));
  }
} else check('ctest reported a result', false);

// ---- 4. the JavaScript cuda backend over the emulated addon --------------------------------
// build-cuda/emulated/gradforge.node is the real binding with the kernels run by the host
// emulation: the device storage, the exports' CUDA dispatch and lib/backend/cuda.ts run here
// without a GPU (test/cuda-*.test.ts; npm test skips them, its addon having no device).
const emulated = path.join(out, 'emulated', 'gradforge.node');
if (check('the emulated CUDA addon was built', fs.existsSync(emulated))) {
  t = Date.now();
  const results = path.join(out, 'jest-cuda-results.json');
  try { fs.unlinkSync(results); } catch { /* none yet */ }
  const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--json', `--outputFile=${results}`,
    '--testPathPatterns', 'test/cuda-.*\\.test\\.ts$'],
  { cwd: root, stdio: 'inherit', env: { ...process.env, GRADFORGE_ADDON: emulated } });
  console.log(`test:cuda: jest over the emulated addon took ${secs(t)} s`);
  const j = parseJestResults(results);
  if (j) {
    passed += j.passed;
    failed += j.failed;
    skipped += j.skipped;
    if (j.skipped > 0) check('no cuda test skipped over the emulated addon (it has a device)', false, `${j.skipped} skipped`);
  } else {
    check(`jest wrote results (exit ${jest.status})`, false);
  }
}
finish();
