// The published package as a user gets it (issue 11): `npm pack`, then an install of the
// tarball into an empty project with install scripts off (npm cache first, the registry for
// anything missing: nothing else is fetched) and with
// no compiler, cmake or make on PATH; then require and import it, check that node-gyp-build
// resolved the prebuilt binary, and train a small model. Also: the packed file list, the
// tarball's size, the prebuild's portability (glibc symbol versions; AVX instructions only in
// the micro-kernels) and that it was built from today's native sources.
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..', '..');
const prebuild = path.join(root, 'prebuilds', 'linux-x64', 'gradforge.glibc.node');
const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { nativeSourceHash } = require('../../scripts/source-hash.js') as { nativeSourceHash(root: string): string };

/** The prebuild must load on glibc 2.28 (Debian 10, RHEL 8); it needs 2.18 today. */
const MAX_GLIBC = [2, 28];
const qemu = ['/usr/bin/qemu-x86_64', '/usr/local/bin/qemu-x86_64'].find((q) => fs.existsSync(q));
/** The tarball stays small: sources, compiled TypeScript and one binary. */
const MAX_TARBALL_BYTES = 3 * 1024 * 1024;

function sh(cmd: string, args: string[], opts: Parameters<typeof spawnSync>[2] = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts }) as SpawnSyncReturns<string>;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

function versionAbove(v: string, max: number[]): boolean {
  const p = v.split('.').map(Number);
  for (let i = 0; i < max.length; i++) {
    if ((p[i] ?? 0) !== max[i]) return (p[i] ?? 0) > max[i];
  }
  return false;
}

// The prebuilt binary is build output, not a committed file: `npm run prebuild` makes it
// (.ci/run does, before npm test). Without it the tests that need it are skipped, and in CI
// its absence is a failure.
const haveBinary = fs.existsSync(prebuild);
if (!haveBinary) {
  if (process.env.CI) {
    test('the prebuilt binary exists (.ci/run makes it with npm run prebuild)', () => {
      throw new Error(`${prebuild} is missing: npm run prebuild did not run or failed`);
    });
  } else {
    test.skip('the prebuilt binary (missing: run `npm run prebuild` first)', () => undefined);
  }
}
const withBinary = haveBinary ? describe : describe.skip;

withBinary('the prebuilt binary', () => {
  test('was built from the native sources of this checkout', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(prebuild), 'gradforge.json'), 'utf8'));
    expect(fs.existsSync(prebuild)).toBe(true);
    // When this fails, the kernels or the binding changed after the prebuild was made:
    // run `npm run prebuild` again (it builds in a Debian 11 root).
    expect(meta.sourceHash).toBe(nativeSourceHash(root));
  });

  test('needs nothing newer than glibc 2.28 and no libstdc++ at all', () => {
    const dyn = sh('objdump', ['-T', prebuild]).stdout;
    const glibc = [...dyn.matchAll(/\bGLIBC_([0-9.]+)\b/g)].map((m) => m[1]);
    expect(glibc.length).toBeGreaterThan(0);
    expect(glibc.filter((v) => versionAbove(v, MAX_GLIBC))).toEqual([]);
    expect(dyn).not.toMatch(/GLIBCXX_|CXXABI_/);
    const needed = sh('objdump', ['-p', prebuild]).stdout.match(/NEEDED\s+(\S+)/g) ?? [];
    expect(needed.map((n) => n.split(/\s+/)[1]).filter((l) => /stdc\+\+|libgcc_s/.test(l))).toEqual([]);
  });

  test('uses AVX/AVX-512 instructions only in the functions chosen by CPUID', () => {
    const asm = sh('objdump', ['-d', '--no-show-raw-insn', '-C', prebuild]).stdout;
    const offenders = new Set<string>();
    let fn = '';
    let avxFunctions = 0;
    for (const line of asm.split('\n')) {
      const head = /^[0-9a-f]+ <(.+)>:$/.exec(line);
      if (head) { fn = head[1]; continue; }
      const insn = /^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$/.exec(line);
      if (!insn) continue;
      const [, mnemonic, operands] = insn;
      const avx = (/^v/.test(mnemonic) && !/^ver[rw]$/.test(mnemonic)) || /%[yz]mm|%k[0-7]\b/.test(operands);
      if (!avx) continue;
      // The micro-kernel files (native/cpu/*_avx2*.cc, *_avx512*.cc) are the only ones built
      // with -m flags; everything they define carries the ISA in its name.
      if (/avx512|avx2/i.test(fn)) { avxFunctions++; continue; }
      offenders.add(fn);
    }
    expect([...offenders]).toEqual([]);
    expect(avxFunctions).toBeGreaterThan(0);  // the scan saw the kernels, so it reads this binary right
  });
});

withBinary('npm pack, then an install with no scripts, no network and no compiler', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gradforge-pack-'));
  let tarball = '';
  let files: string[] = [];
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test('the tarball holds what users need and nothing of the build tree', () => {
    const manifestBefore = fs.readFileSync(path.join(root, 'package.json'), 'utf8');
    const out = sh(process.execPath, [npmCli, 'pack', '--json', '--pack-destination', work], { cwd: root }).stdout;
    // (prepare's build output comes first on stdout; the JSON array is the rest)
    const start = out.search(/^\[\s*\{/m);
    const info = JSON.parse(out.slice(start))[0] as { filename: string; size: number; files: { path: string }[] };
    tarball = path.join(work, info.filename);
    files = info.files.map((f) => f.path);
    for (const need of ['package.json', 'README.md', 'binding.d.ts', 'dist/lib/index.js', 'dist/lib/index.d.ts',
      'prebuilds/linux-x64/gradforge.glibc.node', 'scripts/gradforge.js', 'CMakeLists.txt',
      'native/binding/addon.cc', 'native/cpu/gemm.cc', 'native/cuda/gemm.cu', 'docs/ARCHITECTURE.md']) {
      expect(files).toContain(need);
    }
    const unwanted = files.filter((f) => /^(build|test|bench|examples|dist\/(test|bench|examples))\/|\.test\.|\.tsbuildinfo$|^\.|\.o$/.test(f) ||
      (f.startsWith('native/tests/') && !/\.(cc|h)$/.test(f)));
    expect(unwanted).toEqual([]);
    expect(info.size).toBeLessThan(MAX_TARBALL_BYTES);
    // prepack set the scripts aside and postpack put them back (scripts/pack-manifest.js)
    expect(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).toBe(manifestBefore);
    expect(fs.existsSync(path.join(root, 'package.json.orig'))).toBe(false);
    console.log(`tarball ${info.filename}: ${info.size} bytes, ${files.length} files`);
  });

  test('installs and trains, loaded from prebuilds/', () => {
    expect(tarball).not.toBe('');
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    // A PATH with node and nothing else: no cc, c++, g++, cmake or make to fall back on.
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = { HOME: os.homedir(), PATH: bin, npm_config_cache: path.join(os.homedir(), '.npm') };
    for (const tool of ['cc', 'c++', 'g++', 'cmake', 'make']) {
      expect(spawnSync(tool, ['--version'], { env }).error).toBeDefined();  // really not on PATH
    }
    sh(process.execPath, [npmCli, 'install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env });

    const pkgDir = path.join(app, 'node_modules', 'gradforge');
    expect(fs.existsSync(path.join(pkgDir, 'build'))).toBe(false);
    // The published manifest has no lifecycle scripts at all (npm 12 asks about every one).
    expect(JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).scripts).toBeUndefined();
    // No installed package needs an install script (npm 12 would block it).
    const withScripts: string[] = [];
    const walk = (dir: string): void => {
      for (const name of fs.readdirSync(dir)) {
        if (name.startsWith('.')) continue;
        const d = path.join(dir, name);
        if (name.startsWith('@')) { walk(d); continue; }
        const pj = path.join(d, 'package.json');
        if (fs.existsSync(pj)) {
          const s = JSON.parse(fs.readFileSync(pj, 'utf8')).scripts ?? {};
          if (s.install || s.preinstall || s.postinstall) withScripts.push(name);
        }
        if (fs.existsSync(path.join(d, 'node_modules'))) walk(path.join(d, 'node_modules'));
      }
    };
    walk(path.join(app, 'node_modules'));
    expect(withScripts).toEqual([]);

    const cjs = `
      const gf = require('gradforge');
      const where = require('node-gyp-build').resolve(require('path').dirname(require.resolve('gradforge/package.json')));
      gf.setSeed(1);
      const x = gf.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
      const y = gf.tensor([[0], [1], [1], [0]]);
      const m = gf.sequential([gf.layers.dense({units: 4, activation: 'tanh', inputShape: [2]}), gf.layers.dense({units: 1, activation: 'sigmoid'})]);
      m.compile({optimizer: gf.optimizers.adam({learningRate: 0.1}), loss: 'binaryCrossentropy'});
      m.fit(x, y, {epochs: 200, batchSize: 4, verbose: 0}).then((h) => {
        const l = h.history.loss;
        console.log(JSON.stringify({where, first: l[0], last: l[l.length - 1], kernel: gf.backendInfo().gemmKernel,
          pred: Array.from(m.predict(x).data)}));
      });`;
    const r = JSON.parse(sh(process.execPath, ['-e', cjs], { cwd: app, env }).stdout.trim());
    expect(r.where).toBe(path.join(pkgDir, 'prebuilds', 'linux-x64', 'gradforge.glibc.node'));
    expect(r.last).toBeLessThan(r.first / 4);
    expect(r.pred.map(Math.round)).toEqual([0, 1, 1, 0]);

    // The same on a CPU without AVX (qemu-user emulating a Nehalem: SSE4.2 only), where any
    // AVX instruction outside the CPUID-chosen kernels would be SIGILL.
    if (qemu) {
      const old = JSON.parse(sh(qemu, ['-cpu', 'Nehalem', process.execPath, '-e', cjs], { cwd: app, env }).stdout.trim());
      expect(old.kernel).toBe('ref');
      expect(old.pred.map(Math.round)).toEqual([0, 1, 1, 0]);
    } else {
      console.warn('qemu-x86_64 not installed (apt-get install qemu-user): the old-CPU run was skipped');
    }

    // ES modules: named and default imports of the same package.
    const esm = `import gf, { tensor, backendInfo } from 'gradforge';
      console.log(JSON.stringify({ sum: tensor([1, 2, 3]).sum().item(), same: gf.tensor === tensor, kernel: backendInfo().gemmKernel }));`;
    const e = JSON.parse(sh(process.execPath, ['--input-type=module', '-e', esm], { cwd: app, env }).stdout.trim());
    expect(e).toEqual({ sum: 6, same: true, kernel: r.kernel });

    // The command an installed user runs when nothing loads, without a compiler: a clear no.
    const build = spawnSync(process.execPath, [path.join(pkgDir, 'scripts', 'gradforge.js'), 'build'], { cwd: app, env, encoding: 'utf8' });
    expect(build.status).toBe(1);
    expect(build.stderr).toMatch(/needs CMake >= 3\.18 on PATH/);
  });
});

describe('when no binary loads', () => {
  test('an installed package tells the user to run npx gradforge build', () => {
    // A package folder under node_modules with the compiled loader and no binary at all.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gradforge-nobin-'));
    try {
      const pkg = path.join(tmp, 'node_modules', 'gradforge');
      fs.mkdirSync(path.join(pkg, 'dist', 'lib', 'backend'), { recursive: true });
      fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'gradforge', version: '0.0.0' }));
      for (const f of ['backend/native.js', 'errors.js']) {
        fs.copyFileSync(path.join(root, 'dist', 'lib', f), path.join(pkg, 'dist', 'lib', f));
      }
      fs.symlinkSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(tmp, 'node_modules', 'node-gyp-build'));
      const r = spawnSync(process.execPath, ['-e', "require('gradforge/dist/lib/backend/native.js')"], { cwd: tmp, encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/DeviceError: gradforge: the native addon did not load .*npx gradforge build/);
      expect(r.stderr).not.toMatch(/npm run build:native/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
