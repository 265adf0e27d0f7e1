#!/usr/bin/env node
// npm run test:asan: the native code under AddressSanitizer + UndefinedBehaviorSanitizer.
//  1. builds kernels, addon and C++ tests with GRADFORGE_SANITIZE=ON into build-asan/ (never
//     build/; the folder ignores itself for git);
//  2. proves the sanitizers are live: a tiny out-of-bounds program and a tiny signed-overflow
//     program compiled with the same flags must be caught, and the addon must link the ASan
//     runtime (ldd) and carry its instrumentation (nm: __asan_report_*);
//  3. runs ctest in build-asan/;
//  4. runs the boundary fuzzer (test/fuzz/) against build-asan's addon, in node with the ASan
//     runtime preloaded, a fixed seed and a bounded time (ASAN_FUZZ_SECONDS, default 60).
// Prints its own closing line "N passed, N failed" and writes it to build-asan/test-summary
// (for .ci/run).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const out = path.join(root, 'build-asan');
const seconds = Number(process.env.ASAN_FUZZ_SECONDS || 60);
const seed = Number(process.env.FUZZ_SEED || 20261201);
let passed = 0;
let failed = 0;
const t0 = Date.now();
const lap = (what, t) => console.log(`test:asan: ${what} took ${((Date.now() - t) / 1000).toFixed(1)} s`);

function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`test:asan: ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
  return ok;
}

function finish() {
  const line = `${passed} passed, ${failed} failed`;
  console.log(`test:asan: ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'test-summary'), line + '\n');
  console.log(line);
  process.exit(failed === 0 ? 0 : 1);
}

// ---- 1. build ------------------------------------------------------------------------------
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, '.gitignore'), '*\n');
let t = Date.now();
const build = spawnSync(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '-O', out,
  '--CDGRADFORGE_SANITIZE=ON', '--CDGRADFORGE_BUILD_TESTS=ON'], { cwd: root, stdio: 'inherit' });
lap('build', t);
const addon = path.join(out, 'Release', 'gradforge.node');
if (!check('build-asan (cmake-js, GRADFORGE_SANITIZE=ON)', build.status === 0 && fs.existsSync(addon))) finish();

// ---- 2. are the sanitizers live? -----------------------------------------------------------
const cxx = process.env.CXX || 'c++';
const gcc = process.env.CC || 'gcc';
const runtime = (lib) => {
  const r = spawnSync(gcc, [`-print-file-name=${lib}`], { encoding: 'utf8' });
  const p = (r.stdout || '').trim();
  return p && path.isAbsolute(p) && fs.existsSync(p) ? p : null;
};
const libasan = runtime('libasan.so');
const libubsan = runtime('libubsan.so');
check('the ASan runtime is found', !!libasan, libasan || `${gcc} -print-file-name=libasan.so`);

const flags = ['-std=c++17', '-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=undefined', '-O1', '-g'];
function canary(name, src, expect) {
  const file = path.join(out, `canary_${name}.cc`);
  const exe = path.join(out, `canary_${name}`);
  fs.writeFileSync(file, src);
  const c = spawnSync(cxx, [...flags, file, '-o', exe], { encoding: 'utf8' });
  if (c.status !== 0) return check(`canary ${name} compiles`, false, c.stderr.slice(0, 300));
  const r = spawnSync(exe, [], { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0' } });
  return check(`canary ${name} is caught`, r.status !== 0 && expect.test(r.stderr || ''), (r.stderr.match(expect) || ['not caught'])[0]);
}
canary('heap_overflow', '#include <vector>\nint main(int c, char**) { std::vector<int> v(4); return v.data()[c + 3]; }\n',
  /AddressSanitizer: heap-buffer-overflow/);
canary('signed_overflow', '#include <climits>\nint main(int c, char**) { int x = INT_MAX - 1 + c; return x + c; }\n',
  /runtime error: signed integer overflow/);
const ldd = spawnSync('ldd', [addon], { encoding: 'utf8' });
check('the addon links the ASan runtime (ldd)', /libasan\.so/.test(ldd.stdout || ''), ((ldd.stdout || '').match(/libasan\S*/) || [''])[0]);
const nm = spawnSync('nm', ['-u', addon], { encoding: 'utf8', maxBuffer: 64 << 20 });
const reports = ((nm.stdout || '').match(/__asan_report_\w+/g) || []).length;
check('the addon is instrumented (nm: __asan_report_* calls)', reports > 0, `${reports} report symbols`);

// ---- 3. ctest ------------------------------------------------------------------------------
const sanEnv = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' };
t = Date.now();
const ctest = spawnSync('ctest', ['--test-dir', out, '--output-on-failure'], { cwd: root, encoding: 'utf8', env: sanEnv });
process.stdout.write(ctest.stdout || '');
process.stderr.write(ctest.stderr || '');
lap('ctest', t);
const m = /(\d+)% tests passed, (\d+) tests failed out of (\d+)/.exec(ctest.stdout || '');
if (m) {
  failed += Number(m[2]);
  passed += Number(m[3]) - Number(m[2]);
} else check('ctest reported a result', false);

// ---- 4. the fuzzer against the sanitized addon ---------------------------------------------
// Node itself is not instrumented: the runtime is preloaded, leaks are not reported (node
// leaks at exit), and any report aborts the child, which the fuzzer sees as a crash.
t = Date.now();
const preload = [libasan, libubsan].filter(Boolean).join(' ');
const fuzz = spawnSync(process.execPath, [path.join(root, 'scripts', 'fuzz.js'), '--seed', String(seed), '--seconds', String(seconds),
  '--timeout', '20000', '--addon', addon], {
  cwd: root, encoding: 'utf8', env: { ...sanEnv, LD_PRELOAD: preload }, maxBuffer: 256 << 20,
});
process.stdout.write((fuzz.stdout || '').split('\n').filter((l) => !/^\d+ passed, \d+ failed$/.test(l)).join('\n') + '\n');
process.stderr.write((fuzz.stderr || '').slice(-20000));
lap('fuzz', t);
const calls = /fuzz: (\d+) calls/.exec(fuzz.stdout || '');
check(`fuzz under ASan/UBSan (seed ${seed}, ${seconds} s${calls ? `, ${calls[1]} calls` : ''})`, fuzz.status === 0 && !!calls,
  fuzz.status === 0 ? '' : `exit ${fuzz.status}`);
finish();
