#!/usr/bin/env node
// A fuzz worker process: loads the addon directly (build/Release/gradforge.node, or the path in
// GRADFORGE_ADDON, e.g. the ASan build) and runs calls described by JSON specs (generate.js),
// one per line on stdin: {"id": n, "spec": {...}}. For each it writes "S <id>" before the call
// and "R <id> <json verdict>" after, synchronously on fd 1, so the parent knows which call was
// running when this process crashed or went silent. The verdict applies the oracle: the call
// returned, or threw a TypeError/RangeError (or guard's plain Error) whose message starts with
// the function's name; and a call that the contract refuses (spec.refuse, an output that
// overlaps another array, a buffer detached or shrunk during the call) did not return normally.
//
//   node test/fuzz/child.js --replay file.json   runs one saved spec and prints its verdict
'use strict';
const fs = require('fs');
const path = require('path');
const { Worker } = require('worker_threads');
const { SIGNATURES, PLAN_FNS } = require('./signatures');

const root = path.join(__dirname, '..', '..');
const addonPath = process.env.GRADFORGE_ADDON || path.join(root, 'build/Release/gradforge.node');
const binding = require(path.resolve(addonPath));
const defaultThreads = binding.backendInfo().numThreads;

const SENTINEL = 'fuzz: getter threw on purpose';

function isDetached(buf) {
  if (buf instanceof SharedArrayBuffer) return false;
  try { new Uint8Array(buf, 0, 0); return false; } catch { return true; }
}
const CTORS = {
  f32: Float32Array, f64: Float64Array, i32: Int32Array, u8: Uint8Array, i8: Int8Array, u32: Uint32Array,
  bi64: BigInt64Array,
};

function num(v) {
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === '-0') return -0;
  return v;
}

// ---- the racing worker: flips one Int32 of a shared buffer between two values ---------------
const RACE_SLOTS = 1 << 16;
let race = null;
function racer() {
  if (race) return race;
  const ctrl = new Int32Array(new SharedArrayBuffer(20)); // [enabled, index, good, bad, started]
  const data = new SharedArrayBuffer(RACE_SLOTS * 4);
  const worker = new Worker(`
    const { workerData } = require('worker_threads');
    const ctrl = new Int32Array(workerData.ctrl), a = new Int32Array(workerData.data);
    Atomics.store(ctrl, 4, 1);
    Atomics.notify(ctrl, 4);
    for (;;) {
      if (Atomics.load(ctrl, 0) === 0) { Atomics.wait(ctrl, 0, 0, 50); continue; }
      const i = ctrl[1], good = ctrl[2], bad = ctrl[3];
      for (let k = 0; k < 1000; k++) { Atomics.store(a, i, bad); Atomics.store(a, i, good); }
    }`, { eval: true, workerData: { ctrl: ctrl.buffer, data } });
  worker.unref();
  Atomics.wait(ctrl, 4, 0, 10000); // until the worker runs: a race needs both sides
  race = { ctrl, data };
  return race;
}

// ---- specs -> values ------------------------------------------------------------------------
function fillArray(a, fill) {
  if (!fill || a instanceof BigInt64Array) return;
  let s = (fill.s ?? 1) * 2654435761 >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296; };
  for (let i = 0; i < a.length; i++) {
    if (fill.k === 'const') a[i] = fill.v;
    else if (fill.k === 'mod') a[i] = fill.lo + Math.floor(rnd() * fill.m);
    else if (fill.k === 'special') a[i] = [NaN, Infinity, -Infinity, 3e38, -0, 1e-45, 0, 1][Math.floor(rnd() * 8)];
    else a[i] = rnd() * 4 - 2;
  }
}

function makeTyped(spec, st) {
  if (spec.ty === 'ab') return new ArrayBuffer(spec.len);
  if (spec.ty === 'dv') return new DataView(new ArrayBuffer(spec.len));
  const C = CTORS[spec.ty];
  const bpe = C.BYTES_PER_ELEMENT;
  const off = spec.off || 0, pad = spec.pad || 0;
  const bytes = (off + spec.len + pad) * bpe;
  let buf;
  let view;
  switch (spec.mem) {
    case 'sab': buf = new SharedArrayBuffer(bytes); break;
    case 'gsab': buf = new SharedArrayBuffer(bytes, { maxByteLength: bytes * 2 + 64 }); break;
    case 'rab': case 'rab-track': buf = new ArrayBuffer(bytes, { maxByteLength: bytes }); break;
    case 'race': {
      const r = racer();
      if (off + spec.len > RACE_SLOTS) throw new Error('race array too long');
      view = new Int32Array(r.data, off * 4, spec.len);
      break;
    }
    default: buf = new ArrayBuffer(bytes);
  }
  if (!view) view = spec.mem === 'rab-track' && off === 0 && pad === 0 ? new C(buf) : new C(buf, off * bpe, spec.len);
  fillArray(view, spec.fill);
  if (spec.poke) view[spec.poke.at] = spec.poke.v;
  if (spec.mem === 'race') {
    const r = race;
    Atomics.store(r.ctrl, 1, off + spec.race.idx);
    Atomics.store(r.ctrl, 2, view[spec.race.idx]);
    Atomics.store(r.ctrl, 3, spec.race.bad);
    st.raceOn = true;
  }
  if (spec.mem === 'detached') structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

function makeAlias(spec, src) {
  const C = CTORS[spec.ty] || Float32Array;
  if (!ArrayBuffer.isView(src) || src instanceof DataView) return new C(spec.len); // its source was mutated away
  if (isDetached(src.buffer)) { const v = new C(0); structuredClone(v.buffer, { transfer: [v.buffer] }); return v; }
  const bpe = C.BYTES_PER_ELEMENT;
  const total = src.buffer.byteLength;
  let byteOffset = Math.max(0, src.byteOffset + spec.shift * bpe);
  byteOffset = Math.min(byteOffset, total);
  byteOffset -= byteOffset % bpe;
  const len = Math.max(0, Math.min(spec.len, Math.floor((total - byteOffset) / bpe)));
  return new C(src.buffer, byteOffset, len);
}

function makeValue(a, vals, st) {
  switch (a.t) {
    case 'num': return num(a.v);
    case 'bool': return a.v;
    case 'str': return a.v;
    case 'undef': return undefined;
    case 'null': return null;
    case 'obj': return {};
    case 'sym': return Symbol('fuzz');
    case 'big': return 3n;
    case 'fn': return () => 0;
    case 'plain': return a.v.slice();
    case 'ta': return makeTyped(a, st);
    default: throw new Error(`unknown arg spec ${a.t}`);
  }
}

// A getter that, the first time it runs, detaches / shrinks one of the call's buffers, throws,
// or changes the array it belongs to; it then returns the element's value.
function makeGetter(g, value, holder, vals, st) {
  let fired = false;
  return function get() {
    if (!fired) {
      fired = true;
      const target = g.target !== null && g.target !== undefined ? vals[g.target] : null;
      if (g.act === 'throw') throw new Error(SENTINEL);
      if (g.act === 'pop' && Array.isArray(holder)) holder.length = Math.max(0, holder.length - 1);
      if (g.act === 'grow-shape' && Array.isArray(holder)) holder.push(5);
      if (target && ArrayBuffer.isView(target)) {
        const buf = target.buffer;
        const movable = !(buf instanceof SharedArrayBuffer) && !isDetached(buf);
        if (g.act === 'detach' && movable) {
          st.before = new Uint8Array(buf.slice(0));
          st.clone = structuredClone(buf, { transfer: [buf] });
          st.fired = { ...g };
        } else if (g.act === 'detach-free' && movable) {
          structuredClone(buf, { transfer: [buf] });
          if (global.gc) { global.gc(); global.gc(); }
          st.fired = { ...g };
        } else if (g.act === 'shrink' && movable && buf.resizable && buf.byteLength > 0) {
          buf.resize(0);
          st.fired = { ...g };
        }
      }
    }
    return value;
  };
}

function makeShape(a, vals, st) {
  const arr = a.dims.slice();
  if (a.bad) arr[a.bad.at] = makeValue(a.bad.v, vals, st);
  if (a.hole !== undefined) delete arr[a.hole];
  if (a.getter && a.getter.at < arr.length) {
    const k = a.getter.at;
    const v = arr[k];
    Object.defineProperty(arr, k, { get: makeGetter(a.getter, v, arr, vals, st), enumerable: true, configurable: true });
  }
  return arr;
}

function makeGeom(a, vals, st) {
  const o = { ...a.fields };
  if (a.bad) o[a.bad.key] = makeValue(a.bad.v, vals, st);
  if (a.omit) delete o[a.omit];
  if (a.getter && a.getter.at in o) {
    const v = o[a.getter.at];
    Object.defineProperty(o, a.getter.at, { get: makeGetter(a.getter, v, o, vals, st), enumerable: true, configurable: true });
  }
  return a.proxy ? new Proxy(o, { get: (t, k) => Reflect.get(t, k) }) : o;
}

function materialize(spec, st) {
  const vals = new Array(spec.args.length);
  // plain values and arrays first, then views on them, then the shapes/geometries whose
  // getters refer to the arrays
  spec.args.forEach((a, i) => { if (!['alias', 'shape', 'geom'].includes(a.t)) vals[i] = makeValue(a, vals, st); });
  const alias = (i, depth = 0) => {
    const a = spec.args[i];
    if (vals[i] !== undefined || a.t !== 'alias') return vals[i];
    vals[i] = makeAlias(a, depth < 8 ? alias(a.of, depth + 1) : undefined);
    return vals[i];
  };
  spec.args.forEach((a, i) => { if (a.t === 'alias') alias(i); });
  spec.args.forEach((a, i) => {
    if (a.t === 'shape') vals[i] = makeShape(a, vals, st);
    if (a.t === 'geom') vals[i] = makeGeom(a, vals, st);
  });
  return vals;
}

// ---- the oracle -----------------------------------------------------------------------------
function bytesOf(v, need) {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
  const n = Math.min(need, v.length);
  return { buf: v.buffer, lo: v.byteOffset, hi: v.byteOffset + n * v.BYTES_PER_ELEMENT, v };
}

/** Outputs that overlap another array of the call (within the elements the call needs). */
function overlaps(spec, vals) {
  const sig = SIGNATURES[spec.fn];
  const found = [];
  const arr = [];
  spec.args.forEach((a, i) => {
    const s = sig.args[i];
    if (!s || !['fa', 'i32', 'any', 'u8'].includes(s.kind)) return;
    if (spec.fn === 'sgdStep' && s.name === 'v' && vals[4] === 0) return; // momentum 0: v is not used
    const r = bytesOf(vals[i], spec.needs[i] ?? 0);
    if (r && r.hi > r.lo) arr.push({ i, r, out: !!s.out, name: s.name });
  });
  for (const o of arr) {
    if (!o.out) continue;
    for (const x of arr) {
      if (x === o || (x.out && x.i < o.i)) continue;
      if (x.r.buf !== o.r.buf || x.r.hi <= o.r.lo || o.r.hi <= x.r.lo) continue;
      const same = x.r.lo === o.r.lo && x.r.v.constructor === o.r.v.constructor;
      const byIndex = spec.inPlaceOk.some(([p, q]) => (p === o.i && q === x.i) || (p === x.i && q === o.i));
      const byName = spec.fn !== 'binary' && // binary: only where the input is not broadcast (byIndex)
        (sig.inPlace || []).some(([p, q]) => (p === o.name && q === x.name) || (p === x.name && q === o.name));
      const ok = same && (byIndex || byName);
      if (!ok) found.push(`output '${o.name}' ${same ? 'is' : 'overlaps'} '${x.name}'`);
    }
  }
  return found;
}

/** exactLen functions: their arrays must all have one length (sgdStep: v may be empty when unused). */
function lengthsDiffer(spec, vals) {
  const sig = SIGNATURES[spec.fn];
  if (!sig.exactLen) return [];
  const lens = [];
  sig.args.forEach((s, i) => {
    if (s.kind !== 'fa' || !ArrayBuffer.isView(vals[i])) return;
    if (spec.fn === 'sgdStep' && s.name === 'v' && vals[4] === 0) return;
    lens.push(`${s.name}=${vals[i].length}`);
  });
  const set = new Set(lens.map((l) => l.split('=')[1]));
  return set.size > 1 ? [`arrays of different lengths (${lens.join(', ')})`] : [];
}

function judgeError(fn, e) {
  if (e && e.message === SENTINEL) return null;
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e)}`;
  if ((e.name === 'TypeError' || e.name === 'RangeError') && e.message.startsWith(`${fn}: `)) return null;
  if (e.name === 'Error' && e.message.startsWith('gradforge native error')) return null;
  return `threw ${e.name} whose message does not start with '${fn}: ': ${e.message.slice(0, 200)}`;
}

function runSpec(spec, before) {
  const st = {};
  const vals = materialize(spec, st);
  const refuse = [...spec.refuse];
  if (!spec.sizeMutated) refuse.push(...overlaps(spec, vals), ...lengthsDiffer(spec, vals));
  const fn = binding[spec.fn];
  before();
  const reps = spec.repeat || 1;
  let verdict = null;
  if (st.raceOn) Atomics.store(race.ctrl, 0, 1);
  try {
    for (let r = 0; r < reps; r++) {
      let ret;
      let threw = null;
      try {
        ret = fn(...vals);
      } catch (e) {
        threw = e;
      }
      if (threw) {
        const bad = judgeError(spec.fn, threw);
        verdict = bad ? { kind: 'violation', detail: bad } : { kind: 'threw', name: threw.name, message: String(threw.message).slice(0, 300) };
        if (bad || !st.raceOn) break;
        st.raceThrew = (st.raceThrew || 0) + 1;
        continue;
      }
      const problems = [];
      if (refuse.length) problems.push(`returned normally, but the contract refuses this call: ${refuse.join('; ')}`);
      if (st.fired && (st.fired.act.startsWith('detach') || st.fired.act === 'shrink') && !spec.sizeMutated &&
          (spec.needs[st.fired.target] ?? 0) > 0) {
        problems.push(`returned normally although argument ${st.fired.target} ('${SIGNATURES[spec.fn].args[st.fired.target].name}') ` +
          `was ${st.fired.act === 'shrink' ? 'shrunk' : 'detached'} by a getter during the call`);
      }
      if (st.clone) {
        const now = new Uint8Array(st.clone);
        if (now.length !== st.before.length || now.some((b, k) => b !== st.before[k])) {
          problems.push('wrote into a buffer after a getter had detached it (use after detach)');
        }
      }
      const returnsNumber = spec.fn === 'fmaPeak' || spec.fn === 'rnnWorkspaceSize';
      if (returnsNumber ? typeof ret !== 'number' : spec.fn === 'backendInfo' ? typeof ret !== 'object' : ret !== undefined) {
        problems.push(`returned ${typeof ret}`);
      }
      verdict = problems.length ? { kind: 'violation', detail: problems.join(' | ') } : { kind: 'ok' };
      if (problems.length) break;
    }
  } finally {
    if (st.raceOn) Atomics.store(race.ctrl, 0, 0);
  }
  if (st.raceOn && verdict) verdict.raceThrew = st.raceThrew || 0; // calls whose check saw the bad index
  // state the fuzzer may have changed
  if (spec.fn === 'setNumThreads') binding.setNumThreads(defaultThreads);
  if (spec.fn === 'setGemmKernel') binding.setGemmKernel('auto');
  return verdict;
}

// The execution-plan exports: stateful (a recording per thread, runs on the libuv pool), set up
// and judged by plan-oracle.js. Every spec ends with no recording open (planAbort) and, for the
// plan ones, with every run it queued done.
const plans = require('./plan-oracle')({ binding, makeValue, makeAlias, isDetached, judgeError, SENTINEL });

async function runAny(spec, before) {
  try {
    return PLAN_FNS.includes(spec.fn) ? await plans.run(spec, before) : runSpec(spec, before);
  } finally {
    if (typeof binding.planAbort === 'function') binding.planAbort(); // (an older build has no plans)
  }
}

function write(line) {
  const b = Buffer.from(line + '\n');
  let off = 0;
  while (off < b.length) off += fs.writeSync(1, b, off);
}

if (process.argv[2] === '--replay') {
  const j = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  const spec = j.spec || j;
  process.stderr.write(`replaying ${spec.fn}: ${spec.muts.join(', ') || 'no mutation'}\n`);
  runAny(spec, () => {}).then((v) => {
    process.stderr.write(JSON.stringify(v) + '\n');
    process.exit(v.kind === 'violation' ? 1 : 0);
  });
} else {
  // one spec at a time (the driver sends the next after the verdict): a plan spec may wait for
  // its runs' dones on the event loop before its verdict
  let pending = '';
  let busy = false;
  let ended = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line) continue;
      const { id, spec } = JSON.parse(line);
      let v;
      try {
        v = await runAny(spec, () => write(`S ${id}`));
      } catch (e) {
        v = { kind: 'harness-error', detail: String(e && e.stack || e).slice(0, 500) };
      }
      write(`R ${id} ${JSON.stringify(v)}`);
    }
    busy = false;
    if (ended) process.exit(0);
  };
  process.stdin.on('data', (chunk) => {
    pending += chunk;
    pump();
  });
  process.stdin.on('end', () => { ended = true; if (!busy) process.exit(0); });
  write('READY');
}
