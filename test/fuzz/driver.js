// The fuzz driver (parent side): fast-check generates call specs (generate.js) and shrinks the
// failing ones; each call runs in a child process (child.js) that loads the addon, so a crash
// only kills the child. A per-call watchdog kills a child that stays silent for longer than
// `callTimeoutMs` and reports the call as a hang. After a finding the run goes on (a fresh
// child, the next seed derived from the first) until the run count or the time is used up.
// Findings are saved, shrunk, as JSON under out/fuzz-findings/ (out/ is gitignored); replay one
// with `node test/fuzz/child.js --replay FILE` (GRADFORGE_ADDON=... for another build).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const fc = require('fast-check');
const { callArbitrary } = require('./generate');

const root = path.join(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'child.js');

/** One child process running specs one at a time, with a watchdog. */
class Child {
  constructor(opts) {
    this.opts = opts;
    this.proc = null;
    this.buf = '';
    this.stderr = '';
    this.waiter = null;
    this.starts = 0;
  }

  start() {
    const env = { ...process.env, ...this.opts.env, MALLOC_MMAP_THRESHOLD_: '65536' };
    if (this.opts.addon) env.GRADFORGE_ADDON = this.opts.addon;
    const p = spawn(process.execPath, ['--expose-gc', CHILD], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = p;
    this.starts++;
    this.buf = '';
    this.stderr = '';
    this.ready = new Promise((resolve) => { this.onReady = resolve; });
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d) => this.onData(d));
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-20000); });
    p.stdin.on('error', () => {});
    p.on('exit', (code, signal) => {
      if (this.proc !== p) return;
      this.proc = null;
      if (this.onReady) this.onReady(false);
      const w = this.waiter;
      this.waiter = null;
      if (w) {
        clearTimeout(w.timer);
        w.resolve({ kind: 'crash', detail: `child exited with ${signal ? `signal ${signal}` : `code ${code}`}` +
          `${w.started ? '' : ' (before the call started)'}`, stderr: tail(this.stderr) });
      }
    });
  }

  onData(d) {
    this.buf += d;
    let nl;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line === 'READY') { const r = this.onReady; this.onReady = null; if (r) r(true); continue; }
      const w = this.waiter;
      if (!w) continue;
      if (line.startsWith('S ')) { w.started = true; continue; }
      if (line.startsWith('R ')) {
        const sp = line.indexOf(' ', 2);
        if (Number(line.slice(2, sp)) !== w.id) continue;
        clearTimeout(w.timer);
        this.waiter = null;
        w.resolve(JSON.parse(line.slice(sp + 1)));
      }
    }
  }

  async run(spec) {
    if (!this.proc) this.start();
    if (!(await this.ready)) {
      return { kind: 'crash', detail: 'child died while loading the addon', stderr: tail(this.stderr) };
    }
    if (!this.proc) return { kind: 'stopped', detail: 'the run was stopped while the child loaded' }; // (not a failure)
    const id = (this.nextId = (this.nextId || 0) + 1);
    this.stderr = '';
    return new Promise((resolve) => {
      const timeout = this.opts.callTimeoutMs * (spec.repeat ? 4 : 1);
      const timer = setTimeout(() => {
        this.waiter = null;
        const p = this.proc;
        this.proc = null;
        if (p) p.kill('SIGKILL');
        resolve({ kind: 'hang', detail: `no answer within ${timeout} ms`, stderr: tail(this.stderr) });
      }, timeout);
      this.waiter = { id, resolve, timer, started: false };
      this.proc.stdin.write(JSON.stringify({ id, spec }) + '\n');
    });
  }

  stop() {
    const p = this.proc;
    this.proc = null;
    // a call still waiting (fast-check's time limit abandoned it) gets no answer now: its
    // watchdog would only keep this process alive
    if (this.waiter) { clearTimeout(this.waiter.timer); this.waiter = null; }
    if (p) { p.stdin.end(); setTimeout(() => p.kill('SIGKILL'), 2000).unref(); }
  }
}

function tail(s) {
  return s.length > 4000 ? '...' + s.slice(-4000) : s;
}

/** What makes two failures "the same finding": kind, function, what the oracle said (digits and
 * names of sizes aside) and, for crashes and hangs, the kinds of mutation that led there. */
function keyOf(spec, v) {
  const muts = spec.muts.map((m) => m.split(' ')[0]).sort().join('+');
  const d = v.detail || '';
  const category = /overlap|output '[^']*' is/.test(d) ? 'overlap' : /NUL/.test(d) ? 'nul' : /detached|shrunk/.test(d) ? 'detach'
    : /not a known name/.test(d) ? 'name' : /wrong type/.test(d) ? 'type' : d.replace(/'[^']*'/g, "'_'").replace(/[0-9]+/g, 'N');
  const detail = v.kind === 'crash' || v.kind === 'hang' ? muts : category;
  return `${v.kind} ${spec.fn} ${detail}`;
}

const isFailure = (v) => v.kind === 'crash' || v.kind === 'hang' || v.kind === 'violation' || v.kind === 'harness-error' ||
  v.kind === 'refused-valid';

/**
 * Runs the fuzzer. opts: seed, runs (calls to generate), timeMs (stop generating after this),
 * callTimeoutMs (watchdog), addon (path, default build/Release), fns (exports to fuzz),
 * shrinkCalls (most calls spent shrinking one finding), outDir, log (a function).
 * Returns { calls, runs, findings, perFn, childStarts }.
 */
async function fuzz(opts) {
  const o = {
    seed: 1, runs: 1e9, timeMs: 60000, callTimeoutMs: 5000, shrinkCalls: 150, fns: undefined,
    outDir: path.join(root, 'out', 'fuzz-findings'), log: () => {}, ...opts,
  };
  const child = new Child(o);
  const arb = callArbitrary(o.fns);
  const t0 = Date.now();
  const findings = [];
  const perFn = {};
  let calls = 0;
  let runs = 0;
  let seed = o.seed >>> 0;
  const known = new Set(); // findings already reported: later calls that fail alike are counted, not stopped on
  let repeats = 0;
  try {
    while (runs < o.runs && Date.now() - t0 < o.timeMs) {
      let target = null; // the first failure of this fc.check; shrinking looks for the same kind
      let shrinkLeft = o.shrinkCalls;
      let last = null;
      const prop = fc.asyncProperty(arb, async (spec) => {
        if (target && shrinkLeft-- <= 0) return true; // shrink budget spent: keep the best so far
        const v = await child.run(spec);
        calls++;
        if (!target) {
          const st = (perFn[spec.fn] = perFn[spec.fn] || { calls: 0, returned: 0, threw: 0 });
          st.calls++;
          if (v.kind === 'ok') st.returned++;
          if (v.kind === 'threw') st.threw++;
          if (v.kind === 'threw' && spec.muts.length === 0) {
            v.kind = 'refused-valid';
            v.detail = `a valid call threw ${v.name}: ${v.message}`;
          }
        }
        if (!isFailure(v)) return true;
        if (!target && known.has(keyOf(spec, v))) { repeats++; return true; } // found (and shrunk) before
        if (!target) target = { fn: spec.fn, kind: v.kind, key: keyOf(spec, v) };
        else if (v.kind !== target.kind || spec.fn !== target.fn) return true;
        last = { spec, verdict: v };
        return false;
      });
      const left = Math.max(1, Math.min(o.runs - runs, 1e9));
      const res = await fc.check(prop, {
        seed, numRuns: left, interruptAfterTimeLimit: Math.max(1, o.timeMs - (Date.now() - t0)), markInterruptAsFailure: false,
        endOnFailure: false,
      });
      runs += res.numRuns;
      if (!res.failed || !last) break;
      const f = {
        kind: last.verdict.kind, fn: last.spec.fn, detail: last.verdict.detail, stderr: last.verdict.stderr,
        seed, path: res.counterexamplePath, shrinks: res.numShrinks, spec: last.spec,
      };
      known.add(target.key);
      known.add(keyOf(last.spec, last.verdict));
      {
        fs.mkdirSync(o.outDir, { recursive: true });
        const file = path.join(o.outDir, `${f.kind}-${f.fn}-seed${seed}.json`);
        fs.writeFileSync(file, JSON.stringify({ ...f, replay: `node test/fuzz/child.js --replay ${path.relative(root, file)}` }, null, 1) + '\n');
        f.file = file;
        findings.push(f);
        o.log(`FOUND ${f.kind} in ${f.fn} (seed ${seed}, path ${f.path}, ${f.shrinks} shrinks): ${f.detail}\n  call: ${JSON.stringify(f.spec)}\n  saved: ${path.relative(root, file)}`);
      }
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; // the next seed, derived: the whole run replays from o.seed
    }
  } finally {
    child.stop();
  }
  return { calls, runs, findings, repeats, perFn, childStarts: child.starts, ms: Date.now() - t0 };
}

function summary(r) {
  const lines = [`fuzz: ${r.calls} calls (${r.runs} generated, the rest shrinking) in ${(r.ms / 1000).toFixed(1)} s, ` +
    `${r.childStarts} child process(es), ${r.findings.length} finding(s) (${r.repeats} more calls failed like one of them)`];
  for (const [fn, s] of Object.entries(r.perFn).sort()) lines.push(`  ${fn.padEnd(28)} ${String(s.calls).padStart(6)} calls, ${String(s.returned).padStart(5)} returned, ${String(s.threw).padStart(5)} threw`);
  for (const f of r.findings) lines.push(`  ${f.kind} ${f.fn}: ${f.detail}\n    ${JSON.stringify(f.spec)}\n    replay: node test/fuzz/child.js --replay ${path.relative(root, f.file)}`);
  return lines.join('\n');
}

module.exports = { fuzz, summary, Child };
