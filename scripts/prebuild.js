#!/usr/bin/env node
// npm run prebuild: makes prebuilds/linux-x64/gradforge.glibc.node, the binary the published
// package ships (node-gyp-build finds it at require time; no install script runs).
//
// Portable by construction: it is compiled inside a Debian 11 ("bullseye") root against glibc
// 2.31, with the math functions bound to their oldest symbol versions
// (native/binding/glibc_symver.h), so it needs no glibc newer than 2.18; libstdc++ and libgcc
// are linked in statically (hidden); it is compiled for baseline x86-64 (only the GEMM and FMA
// micro-kernel files get -m flags, and they run after a CPUID check). Then it is loaded by
// Debian 11's own Node inside the root and made to compute. The root is made
// once with debootstrap (root privileges and the Debian mirror this machine's apt uses) and
// kept in ~/.cache/gradforge/ (or GRADFORGE_PREBUILD_ROOT).
//
// Beside the binary it writes gradforge.json: the hash of the native sources it was built from
// (test/package checks it, so a prebuild older than the kernels fails the suite), the
// toolchain, and the highest GLIBC_ symbol version the binary needs.
//
//   npm run prebuild                  build in the Debian 11 root (made when missing)
//   npm run prebuild -- --check       only say whether the prebuild matches the sources
//
// This script does what prebuildify would, for a cmake-js project: prebuildify 6 drives
// node-gyp only, and a shim that made it call cmake inside a chroot would be more code than this.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { nativeSourceHash } = require('./source-hash');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const outFile = path.join(outDir, 'gradforge.glibc.node');
const metaFile = path.join(outDir, 'gradforge.json');
const buildRoot = process.env.GRADFORGE_PREBUILD_ROOT ||
  path.join(os.homedir(), '.cache', 'gradforge', 'debian11-root');
const SUITE = 'bullseye';
// The compiler and build tools, and Debian 11's Node (12.22, N-API 8) to try the binary with.
const ROOT_PACKAGES = 'g++,make,cmake,binutils,nodejs';
const chrootEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C', DEBIAN_FRONTEND: 'noninteractive' };

function die(msg) {
  console.error(`prebuild: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) die(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error || r.status !== 0) die(`${cmd} ${args.join(' ')} failed: ${r.error ? r.error.message : r.stderr}`);
  return r.stdout;
}

/** The Debian mirror this machine's apt is set up with (never a host written into the repo). */
function debianMirror() {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of fs.readdirSync('/etc/apt/sources.list.d')) files.push(path.join('/etc/apt/sources.list.d', f));
  } catch { /* none */ }
  for (const f of files) {
    if (!/\.(list|sources)$/.test(f)) continue;
    let text;
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const deb822 = /^URIs:\s*(\S+)/.exec(line);
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line);
      const uri = (deb822 || oneLine || [])[1];
      if (uri && /\/debian\/?$/.test(uri)) return uri;
    }
  }
  return process.env.GRADFORGE_DEBIAN_MIRROR || die('no Debian mirror found in /etc/apt (set GRADFORGE_DEBIAN_MIRROR)');
}

function ensureBuildRoot() {
  if (fs.existsSync(path.join(buildRoot, 'usr', 'bin', 'g++'))) return;
  if (process.getuid && process.getuid() !== 0) {
    die(`the Debian 11 build root ${buildRoot} is missing, and making it (debootstrap, chroot) needs root`);
  }
  if (spawnSync('which', ['debootstrap']).status !== 0) {
    die('debootstrap is not installed (apt-get install debootstrap)');
  }
  console.log(`prebuild: making a Debian 11 build root in ${buildRoot} (once; a few minutes)`);
  fs.mkdirSync(path.dirname(buildRoot), { recursive: true });
  const partial = `${buildRoot}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  run('debootstrap', ['--variant=minbase', `--include=${ROOT_PACKAGES}`, SUITE, partial, debianMirror()]);
  fs.renameSync(partial, buildRoot);
}

/**
 * Loads the new binary with Debian 11's own Node (12.22, N-API 8) on Debian 11's glibc and
 * runs a GEMM and a convolution through it: the prebuild is proven to load and compute on the
 * oldest system it is made for, not only to have the right symbol versions.
 */
function checkInRoot(built) {
  if (!fs.existsSync(path.join(buildRoot, 'usr', 'bin', 'node'))) {
    run('chroot', [buildRoot, 'apt-get', 'install', '-y', '-q', '--no-install-recommends', 'nodejs'], { env: chrootEnv });
  }
  const code = `
    const b = require('/gf-src/build/gradforge.node');
    const A = new Float32Array([1, 2, 3, 4, 5, 6]), B = new Float32Array([7, 8, 9, 10, 11, 12]), C = new Float32Array(4);
    b.gemm(false, false, 2, 2, 3, 1, A, 3, B, 2, 0, C, 2);
    const g = {N: 1, H: 3, W: 3, C: 1, KH: 2, KW: 2, O: 1, OH: 2, OW: 2, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0};
    const y = new Float32Array(4);
    b.conv2dForward(g, new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), new Float32Array([1, 0, 0, 1]), null, y);
    const info = b.backendInfo();
    console.log(JSON.stringify({ gemm: Array.from(C), conv: Array.from(y), node: process.version, kernel: info.gemmKernel }));`;
  const out = JSON.parse(capture('chroot', [buildRoot, 'node', '-e', code], { env: chrootEnv }).trim());
  const want = { gemm: [58, 64, 139, 154], conv: [6, 8, 12, 14] };
  if (JSON.stringify(out.gemm) !== JSON.stringify(want.gemm) || JSON.stringify(out.conv) !== JSON.stringify(want.conv)) {
    die(`the binary computes wrong results on Debian 11: ${JSON.stringify(out)}`);
  }
  if (path.resolve(built) !== path.join(buildRoot, 'gf-src', 'build', 'gradforge.node')) die('internal: unexpected build path');
  return `loads and computes on Debian 11 (glibc 2.31, Node ${out.node}, GEMM kernel ${out.kernel})`;
}

/** Copies what the addon's build needs into the root and builds it there. */
function buildInRoot() {
  const src = path.join(buildRoot, 'gf-src');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  fs.cpSync(path.join(root, 'native'), path.join(src, 'native'), { recursive: true });
  fs.copyFileSync(path.join(root, 'CMakeLists.txt'), path.join(src, 'CMakeLists.txt'));
  fs.cpSync(path.dirname(require.resolve('node-api-headers/package.json')), path.join(src, 'node-api-headers'), { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addonApi = require('node-addon-api').include.replace(/"/g, '');
  fs.cpSync(addonApi, path.join(src, 'node-addon-api'), { recursive: true });
  const script = [
    'set -e',
    'cd /gf-src',
    'cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGRADFORGE_BUILD_TESTS=OFF -DGRADFORGE_STATIC_RUNTIME=ON ' +
      '-DCMAKE_JS_INC=/gf-src/node-api-headers/include -DNODE_ADDON_API_DIR=/gf-src/node-addon-api >/dev/null',
    `cmake --build build --target gradforge_addon -- -j${Math.max(1, os.cpus().length)}`,
    'g++ --version | head -1',
    'ldd --version | head -1',
  ].join('\n');
  const out = capture('chroot', [buildRoot, '/bin/sh', '-c', script], { env: chrootEnv, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.trim().split('\n');
  return { built: path.join(src, 'build', 'gradforge.node'), toolchain: `${lines[lines.length - 2]}; ${lines[lines.length - 1]}` };
}

/** Highest version of each versioned dependency (GLIBC_, GLIBCXX_, GCC_) the binary needs. */
function symbolVersions(file) {
  const text = capture('objdump', ['-T', file]);
  const max = {};
  for (const m of text.matchAll(/\b(GLIBC|GLIBCXX|CXXABI|GCC)_([0-9.]+)\b/g)) {
    const [, lib, v] = m;
    if (!max[lib] || compareVersions(v, max[lib]) > 0) max[lib] = v;
  }
  return max;
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number), pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

function main() {
  const hash = nativeSourceHash(root);
  if (process.argv.includes('--check')) {
    let meta = null;
    try { meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')); } catch { /* none */ }
    const ok = meta && meta.sourceHash === hash && fs.existsSync(outFile);
    console.log(ok ? 'prebuild: up to date with the native sources' : 'prebuild: missing or older than the native sources (npm run prebuild)');
    process.exit(ok ? 0 : 1);
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') die('prebuilds are made for linux-x64 only');
  ensureBuildRoot();
  const { built, toolchain } = buildInRoot();
  const versions = symbolVersions(built);
  if (versions.GLIBCXX || versions.CXXABI) die(`the binary still needs libstdc++ (${JSON.stringify(versions)})`);
  const checked = checkInRoot(built);
  console.log(`prebuild: ${checked}`);
  fs.mkdirSync(outDir, { recursive: true });
  const tmp = `${outFile}.tmp-${process.pid}`;
  fs.copyFileSync(built, tmp);
  fs.renameSync(tmp, outFile);
  const meta = {
    file: path.basename(outFile),
    sourceHash: hash,
    toolchain,
    needs: versions,
    checked,
    target: `linux-x64, glibc >= ${versions.GLIBC}, no libstdc++ needed, baseline x86-64 (AVX2/AVX-512 micro-kernels chosen at run time)`,
  };
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
  console.log(`prebuild: ${path.relative(root, outFile)} (${fs.statSync(outFile).size} bytes), needs ${JSON.stringify(versions)}`);
}

main();
