#!/usr/bin/env node
// npm test: the native kernel tests (ctest) and then the jest suite. Prints one closing line
// "N passed, N failed, N skipped" over both, and writes it to .test-summary for .ci/run (which
// reads the first four words, "N passed, N failed", with `read -r p1 _ f1 _`). A ctest test
// that exits 77 (SKIP_RETURN_CODE: a CUDA test on a machine without a GPU) is skipped, not
// passed: ctest counts it inside "N% tests passed", so the names listed under "The following
// tests did not run:" with "(Skipped)" are taken out of the passed count. Jest's skipped
// (pending) tests count as skipped too.
// Required as a module (scripts/test-cuda.js), it runs nothing and exports the parsing.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

/**
 * Reads ctest's output: { passed, failed, skipped, skippedNames }, or null when ctest printed
 * no result line. Skipped tests are those listed as "(Skipped)" under "The following tests did
 * not run:"; ctest's own total includes them among the passed.
 */
function parseCtest(out) {
  const m = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(out || '');
  if (!m) return null;
  const total = Number(m[3]);
  const failed = Number(m[2]);
  const skippedNames = [];
  let inList = false;
  for (const line of (out || '').split(/\r?\n/)) {
    if (/^The following tests did not run:/.test(line)) {
      inList = true;
      continue;
    }
    if (!inList) continue;
    const s = /^\s*\d+\s+-\s+(.+?)\s+\(Skipped\)\s*$/.exec(line);
    if (s) skippedNames.push(s[1]);
    else if (!/^\s*\d+\s+-\s+/.test(line)) inList = false;  // the list ended ((Disabled) lines stay in it)
  }
  const skipped = skippedNames.length;
  return { passed: total - failed - skipped, failed, skipped, skippedNames };
}

/** The closing line: its first four words stay "N passed, N failed" for .ci/run. */
function summaryLine(passed, failed, skipped) {
  return `${passed} passed, ${failed} failed, ${skipped} skipped`;
}

function main() {
  const root = path.join(__dirname, '..');
  const buildDir = path.join(root, 'build');
  let passed = 0;
  let failed = 0;
  let skipped = 0;

  const run = (cmd, args, opts = {}) => {
    const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    process.stdout.write(r.stdout || '');
    process.stderr.write(r.stderr || '');
    return r;
  };

  // The C++ tests are built by the install step; a prebuilt-binary install has none yet.
  if (!fs.existsSync(path.join(buildDir, 'CTestTestfile.cmake'))) {
    const r = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--CDGRADFORGE_BUILD_TESTS=ON'],
      { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) failed += 1;
  }

  const ctest = run('ctest', ['--test-dir', buildDir, '--output-on-failure']);
  const c = parseCtest(ctest.stdout);
  if (c) {
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
    if (c.skipped) console.log(`npm test: ${c.skipped} native test(s) skipped (not passed): ${c.skippedNames.join(', ')}`);
  } else {
    console.error('npm test: ctest did not report a result');
    failed += 1;
  }

  const results = path.join(root, '.jest-results.json');
  try { fs.unlinkSync(results); } catch { /* none yet */ }
  const extra = process.argv.slice(2);
  const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--json', `--outputFile=${results}`, ...extra],
    { cwd: root, stdio: 'inherit' });
  const j = parseJestResults(results);
  if (j) {
    passed += j.passed;
    failed += j.failed;
    skipped += j.skipped;
  } else {
    console.error(`npm test: jest wrote no results (exit ${jest.status})`);
    failed += 1;
  }
  if (jest.status !== 0 && failed === 0) failed += 1;

  const line = summaryLine(passed, failed, skipped);
  fs.writeFileSync(path.join(root, '.test-summary'), line + '\n');
  console.log(line);
  process.exit(failed === 0 ? 0 : 1);
}

/**
 * Counts from the file jest --json --outputFile wrote, or null when there is none. A suite that
 * fails to run (syntax error, crash) has no failed tests but counts as a failure, and so does a
 * run that found no tests.
 */
function parseJestResults(file) {
  let j;
  try { j = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return null; }
  return {
    passed: j.numPassedTests,
    failed: j.numFailedTests + (j.numRuntimeErrorTestSuites || 0) + (j.numTotalTests === 0 ? 1 : 0),
    skipped: j.numPendingTests || 0,
  };
}

module.exports = { parseCtest, parseJestResults, summaryLine };
if (require.main === module) main();
