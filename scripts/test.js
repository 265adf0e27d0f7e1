#!/usr/bin/env node
// npm test: the native kernel tests (ctest) and then the jest suite. Prints one closing line
// "N passed, N failed" over both, and writes it to .test-summary for .ci/run.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const buildDir = path.join(root, 'build');
let passed = 0;
let failed = 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  return r;
}

// The C++ tests are built by the install step; a prebuilt-binary install has none yet.
if (!fs.existsSync(path.join(buildDir, 'CTestTestfile.cmake'))) {
  const r = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--CDGRADFORGE_BUILD_TESTS=ON'],
    { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed += 1;
}

const ctest = run('ctest', ['--test-dir', buildDir, '--output-on-failure']);
const m = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(ctest.stdout || '');
if (m) {
  const total = Number(m[3]);
  failed += Number(m[2]);
  passed += total - Number(m[2]);
} else {
  console.error('npm test: ctest did not report a result');
  failed += 1;
}

const results = path.join(root, '.jest-results.json');
try { fs.unlinkSync(results); } catch { /* none yet */ }
const extra = process.argv.slice(2);
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--json', `--outputFile=${results}`, ...extra],
  { cwd: root, stdio: 'inherit' });
try {
  const j = JSON.parse(fs.readFileSync(results, 'utf8'));
  passed += j.numPassedTests;
  failed += j.numFailedTests;
  // a suite that fails to run (syntax error, crash) has no failed tests but must count
  failed += j.numRuntimeErrorTestSuites || 0;
  if (j.numTotalTests === 0) failed += 1;
} catch {
  console.error(`npm test: jest wrote no results (exit ${jest.status})`);
  failed += 1;
}
if (jest.status !== 0 && failed === 0) failed += 1;

const line = `${passed} passed, ${failed} failed`;
fs.writeFileSync(path.join(root, '.test-summary'), line + '\n');
console.log(line);
process.exit(failed === 0 ? 0 : 1);
