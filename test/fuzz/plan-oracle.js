// The child's side of the execution-plan exports (planBegin ... planCancel, planWeights): sets
// up the state a plan call needs (records the spec's fixture, plans.js; opens a recording;
// queues runs; makes weights handles with planWeights), makes the call's arguments, works out
// from those real arguments what the contract requires (binding.d.ts: a run binds arrays of
// exactly the recorded byte sizes, a RangeError otherwise; a TypeError for a non-plan /
// non-token first argument, non-Array lists, entries that are not typed arrays, planRunAsync
// weights that are not a handle from planWeights, a done that is not a function; the output
// shares no memory with the inputs (nor, for planRun, the weights); planRun, planRunAsync,
// planEnd and planWeights re-check every typed array they took once they read all their
// arguments: one that a getter run by the call detached or resized after the call took it is a
// RangeError "... was detached or resized while the call read its other arguments") and judges
// the call: the error it threw, or what it returned and wrote (a replay must write what the
// kernels compute directly from the same bytes: planRunAsync's weights from the bytes copied
// when planWeights ran, whatever happens to those arrays after). planRunAsync's output is
// written on the JS thread when the run completes, and only if it still has the memory and
// size it had at the call: otherwise done reports "output was detached or resized" and it is
// not written. done(error, cancelled, seconds) runs later: the verdict waits for every run the
// spec queued (a bounded wait, below the driver's watchdog), so no run of one call is still
// going during the next.
'use strict';
const crypto = require('crypto');
const { SIGNATURES } = require('./signatures');
const { bytesOfIO, recordFixture, expectsPlan, direct, fresh, CT } = require('./plans');

const WAIT_MS = 2500; // for the dones of one spec's runs (the driver's watchdog: 5000 ms)
const BLOCKER_ITERATIONS = 8000; // one pbkdf2 on the libuv pool: some milliseconds
const SENTINEL_BYTE = 0xab;
const SCRIBBLE_BYTE = 0x5a;
// what the contract's messages say
const RECHECK_MSG = 'was detached or resized while the call read its other arguments';
const OUTPUT_GONE_MSG = 'output was detached or resized';
const WEIGHTS_TYPE_MSG = 'must be weights from planWeights';
const SHARES_INPUT_MSG = 'output shares memory with an input';
// the typed arrays each function takes, in the order it reads them: these lists' elements
// (argument indices), then the output (argument index)
const READS = { planEnd: [0, 1], planRun: [1, 2], planRunAsync: [1], planWeights: [0] };
const OUT_AT = { planEnd: 2, planRun: 3, planRunAsync: 3 };

module.exports = function planOracle(h) {
  const { binding, makeValue, makeAlias, isDetached, judgeError, SENTINEL } = h;
  const planFix = new WeakMap(); // every plan the child made -> its fixture
  const tokens = new WeakSet(); // every run token the child got
  const handles = new WeakMap(); // every weights handle planWeights gave the child -> { sizes, snap } (the bytes it copied)
  let other = null; // a plan of sizes no generated fixture has

  const isTA = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView);
  // the typed arrays the plan exports take (AnyTypedArray): any other is a TypeError
  const isAny = (v) => v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;
  const gone = (v) => !isTA(v) || isDetached(v.buffer);
  const copyBytes = (v) => (gone(v) || v.byteLength === 0 ? new Uint8Array(0) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice());
  const tick = () => new Promise((r) => setImmediate(r));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const firstDiff = (a, b) => { for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i; return -1; };
  const what = (v) => (isTA(v) ? `${v.constructor.name}(${v.length})` : Array.isArray(v) ? 'an Array' : v === null ? 'null' : typeof v);
  const gc = () => { if (global.gc) { global.gc(); global.gc(); } };

  function record(fix, seed, opts) {
    const r = recordFixture(binding, fix, seed, opts);
    if (r.plan) planFix.set(r.plan, fix);
    return r;
  }
  function otherPlan() {
    if (!other) other = record({ kind: 'unary', ty: 'f32', op: 'neg', n: 97, extra: false, refusal: null }, 5);
    return other;
  }
  /** planWeights(items), remembering the sizes and bytes it copied (the items as they are now). */
  function makeHandle(items) {
    const hd = binding.planWeights(items);
    handles.set(hd, { sizes: items.map((x) => x.byteLength), types: items.map((x) => x.constructor), snap: items.map(copyBytes) });
    return hd;
  }
  /** Overwrites, detaches (keeping the moved buffer in `moved`, to see that nothing writes it) or
   * detaches and frees the buffers of these arrays. */
  function spoil(items, act, moved, label) {
    const seen = new Set();
    for (const x of items) {
      if (!isTA(x) || gone(x) || seen.has(x.buffer)) continue;
      seen.add(x.buffer);
      if (act === 'overwrite') {
        if (x.byteLength) new Uint8Array(x.buffer, x.byteOffset, x.byteLength).fill(SCRIBBLE_BYTE);
      } else if ((act === 'detach' || act === 'detach-free') && !(x.buffer instanceof SharedArrayBuffer)) {
        const before = act === 'detach' ? new Uint8Array(x.buffer.slice(0)) : null;
        const clone = structuredClone(x.buffer, { transfer: [x.buffer] });
        if (before && moved) moved.push({ buf: clone, before, label });
      }
    }
    if (act === 'detach-free') gc();
  }

  // ---- runs queued with planRunAsync, and their dones ----------------------------------------
  function watch() {
    const w = { calls: [] };
    w.promise = new Promise((res) => { w.resolve = res; });
    w.fn = (...args) => { w.calls.push(args); w.resolve(); };
    return w;
  }
  /** Queues a run of a plan on fresh arrays (and weights, unless a handle is given); its output starts as SENTINEL_BYTE bytes. */
  function queueRun(ctx, plan, label, hd = null) {
    const fix = planFix.get(plan);
    const io = bytesOfIO(fix);
    const C = CT[fix.ty];
    const ins = io.inputs.map((b, k) => fresh(fix.ty, b / C.BYTES_PER_ELEMENT, 500 + k));
    if (!hd) hd = makeHandle(io.weights.map((b, k) => fresh(fix.ty, b / C.BYTES_PER_ELEMENT, 600 + k)));
    const out = new C(io.output / C.BYTES_PER_ELEMENT);
    new Uint8Array(out.buffer).fill(SENTINEL_BYTE);
    const w = watch();
    const token = binding.planRunAsync(plan, ins, hd, out, w.fn);
    tokens.add(token);
    const run = { label, w, out, fix, inBytes: ins.map(copyBytes), wBytes: handles.get(hd).snap, token, cancels: [], expect: 'ok' };
    ctx.runs.push(run);
    return run;
  }
  /** Waits for the dones of every run of the spec (bounded); the problems found. */
  async function settle(ctx) {
    const problems = [];
    const all = Promise.all([...ctx.runs.map((r) => r.w.promise), ...ctx.blockers]);
    await Promise.race([all, sleep(WAIT_MS)]);
    await tick(); // a second call of a done would come now
    for (const r of ctx.runs) {
      const { calls } = r.w;
      if (calls.length === 0) { problems.push(`the done of ${r.label} did not run within ${WAIT_MS} ms`); continue; }
      if (calls.length > 1) problems.push(`the done of ${r.label} ran ${calls.length} times`);
      const [err, cancelled, seconds] = calls[0];
      if (calls[0].length !== 3) problems.push(`the done of ${r.label} got ${calls[0].length} arguments, not (error, cancelled, seconds)`);
      if (typeof cancelled !== 'boolean') problems.push(`the done of ${r.label} got cancelled = ${String(cancelled)}, not a boolean`);
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) problems.push(`the done of ${r.label} got seconds = ${String(seconds)}`);
      else if (cancelled === true && seconds !== 0) problems.push(`the done of ${r.label} reported cancelled with seconds = ${seconds}, not 0`);
      const cancelledByUs = r.cancels.includes(true);
      const goneErr = typeof err === 'string' && err.includes(OUTPUT_GONE_MSG);
      if (r.expect === 'outputGone') { // detached or resized after the call: never written
        if (cancelled !== cancelledByUs) problems.push(`the done of ${r.label} reported cancelled = ${cancelled}, but planCancel returned ${JSON.stringify(r.cancels)}`);
        else if (!cancelled && !goneErr) {
          problems.push(`the done of ${r.label} reported ${err === null ? 'success' : `the error ${JSON.stringify(String(err).slice(0, 200))}`} although its output ` +
            `was detached or resized before done ran (the contract: an error containing '${OUTPUT_GONE_MSG}')`);
        }
        continue;
      }
      if (err !== null) {
        if (!(r.expect === 'either' && goneErr && !cancelled)) problems.push(`the done of ${r.label} reported an error: ${String(err).slice(0, 200)}`);
        continue;
      }
      if (cancelled !== cancelledByUs) {
        problems.push(`the done of ${r.label} reported cancelled = ${cancelled}, but planCancel returned ${JSON.stringify(r.cancels)}`);
        continue;
      }
      const now = copyBytes(r.out);
      if (cancelled) {
        if (!now.every((b) => b === SENTINEL_BYTE)) problems.push(`${r.label} was cancelled but wrote its output`);
      } else {
        if (!r.expected) r.expected = direct(binding, r.fix, r.inBytes, r.wBytes);
        if (!sameBytes(now, r.expected)) problems.push(`${r.label} completed but its output differs from the kernels' (first byte ${firstDiff(now, r.expected)})`);
      }
    }
    return problems;
  }

  // ---- arguments ------------------------------------------------------------------------------
  /** The getter of a list element (li: the list's argument index) that detaches / frees / shrinks one array, or throws. */
  function planGetter(g, li, value, targetOf, st) {
    let fired = false;
    return function get() {
      if (fired) return value;
      fired = true;
      if (g.act === 'throw') { st.fired = { act: 'throw', li, at: g.at }; throw new Error(SENTINEL); }
      const t = targetOf();
      if (!isTA(t)) return value;
      const buf = t.buffer;
      const movable = !(buf instanceof SharedArrayBuffer) && !isDetached(buf);
      const bytes = t.byteLength;
      if (g.act === 'detach' && movable) {
        st.before = new Uint8Array(buf.slice(0));
        st.clone = structuredClone(buf, { transfer: [buf] });
        st.fired = { act: 'detach', bytes, buf, li, at: g.at };
      } else if (g.act === 'detach-free' && movable) {
        structuredClone(buf, { transfer: [buf] });
        gc();
        st.fired = { act: 'detach-free', bytes, buf, li, at: g.at };
      } else if (g.act === 'shrink' && movable && buf.resizable && buf.byteLength > 0) {
        buf.resize(0);
        st.fired = { act: 'shrink', bytes, buf, li, at: g.at };
      }
      return value;
    };
  }

  function materialize(spec, ctx, st) {
    const vals = new Array(spec.args.length);
    st.raw = new Map(); // list value (or weights handle) -> its elements as made (no getter runs when the oracle looks)
    st.proxies = new Set();
    st.lists = [];
    st.wpacks = []; // weights handles made for the call: { a, items, hd }
    st.moved = []; // buffers detached while a run may still write: { buf (the moved one), before, label }
    let cur = -1; // the argument being made
    const fx = (a) => {
      const m = ctx.main;
      if (a.role === 'inputs') return m.inputs[a.k];
      if (a.role === 'weights') return m.weights[a.k];
      if (a.role === 'output') return m.output;
      return m.arrays[a.name];
    };
    const one = (a) => {
      switch (a.t) {
        case 'plan': return a.which === 'main' ? ctx.main.plan : a.which === 'same' ? (ctx.same = ctx.same || record(ctx.fix, ctx.seed + 1000)).plan
          : otherPlan().plan;
        case 'runtok': return a.which === 'target' ? ctx.target.token : queueRun(ctx, ctx.main.plan, 'a run queued for the call').token;
        case 'fx': return fx(a);
        case 'done': { const w = watch(); st.doneWatch = w; return w.fn; }
        case 'alias': return undefined; // below
        case 'wpack': { // planWeights of these arrays (any typed arrays: it must accept them)
          const items = a.items.map(one);
          let hd;
          try {
            hd = makeHandle(items);
          } catch (e) {
            if (items.every(isAny)) st.setup = `planWeights threw for typed arrays (${items.map(what).join(', ')}): ${e && e.name}: ${String(e && e.message).slice(0, 200)}`;
            hd = {};
          }
          st.raw.set(hd, items);
          st.wpacks.push({ a, items, hd });
          return hd;
        }
        case 'list': {
          const raw = a.items.map(one);
          if (a.hole !== undefined) raw[a.hole] = undefined;
          const arr = raw.slice();
          if (a.hole !== undefined) delete arr[a.hole];
          const v = a.proxy ? new Proxy(arr, {}) : arr;
          if (a.proxy) st.proxies.add(v);
          st.raw.set(v, raw);
          st.lists.push({ a, arr, raw, v, li: cur });
          return v;
        }
        case 'arraylike': {
          const o = { length: a.items.length };
          a.items.forEach((x, k) => { o[k] = one(x); });
          return o;
        }
        default: return makeValue(a, vals, st);
      }
    };
    spec.args.forEach((a, i) => { cur = i; vals[i] = one(a); });
    const itemOf = (li, k) => { const raw = st.raw.get(vals[li]); return raw ? raw[k] : undefined; };
    spec.args.forEach((a, i) => { if (a.t === 'alias') vals[i] = makeAlias(a, a.item !== undefined ? itemOf(a.of, a.item) : vals[a.of]); });
    for (const { a, arr, raw, li } of st.lists) {
      if (!a.getter || a.getter.at >= raw.length) continue;
      const g = a.getter;
      const targetOf = () => (Array.isArray(g.target) ? itemOf(g.target[0], g.target[1]) : g.target === null ? null : vals[g.target]);
      Object.defineProperty(arr, g.at, { get: planGetter(g, li, raw[g.at], targetOf, st), enumerable: true, configurable: true });
    }
    // the weights handle's arrays spoiled before the call (it holds a copy)
    for (const wp of st.wpacks) if (wp.a.src && wp.a.src.when === 'before') spoil(wp.items, wp.a.src.act, st.moved, "a weights handle's array");
    return vals;
  }

  /** The typed arrays the call takes, in the order it reads them: { li, k, v, bytes (before the call) }. */
  function readOrder(fn, vals, st) {
    const order = [];
    for (const li of READS[fn] || []) {
      const L = vals[li];
      if (!Array.isArray(L)) break; // (the call stops there)
      (st.raw.get(L) || []).forEach((v, k) => order.push({ li, k, v, bytes: isTA(v) ? v.byteLength : 0 }));
    }
    const o = OUT_AT[fn];
    if (o !== undefined) order.push({ li: 'output', k: 0, v: vals[o], bytes: isTA(vals[o]) ? vals[o].byteLength : 0 });
    return order;
  }

  // ---- the contract -------------------------------------------------------------------------
  /** What the contract says of a call: type / range reasons, a state Error, 'either' (no verdict on the error class). */
  function contract(spec, vals, st) {
    // (spec.refuse, the generic wrongType / argCount reasons, is not needed: the count and
    // every argument's type are checked here, in the order the binding checks them)
    const c = { type: [], range: [], state: null, doneBad: false, either: false, pf: null, lists: [], wh: null, typeMsg: null, rangeMsg: null, countRange: false, elemType: [] };
    const want = SIGNATURES[spec.fn].args.length;
    if (vals.length !== want) c.count = `${vals.length} arguments, the function takes ${want}`;
    const listAt = (i, name) => {
      const L = vals[i];
      if (!Array.isArray(L)) { c.type.push(`${name} is not an Array`); return null; }
      if (st.proxies.has(L)) c.either = true; // a Proxy of an Array: an Array to JavaScript, not to N-API
      const raw = st.raw.get(L) || L;
      raw.forEach((x, k) => { if (!isAny(x)) c.type.push(`${name}[${k}] is not a Float32Array, Float64Array, Int32Array or Uint8Array`); });
      return raw;
    };
    switch (spec.fn) {
      case 'planBegin':
        if (spec.plan.open) c.state = 'a recording already runs on this thread';
        break;
      case 'planEnd':
        if (spec.plan.noRecording) c.state = 'no recording runs on this thread';
        listAt(0, 'inputs');
        listAt(1, 'weights');
        if (!isAny(vals[2])) c.type.push('output is not a Float32Array, Float64Array, Int32Array or Uint8Array');
        break;
      case 'planWeights':
        c.lists = [listAt(0, 'weights')];
        break;
      case 'planInfo':
        if (!planFix.has(vals[0])) c.type.push('plan is not a plan');
        else c.pf = planFix.get(vals[0]);
        break;
      case 'planCancel':
        if (!tokens.has(vals[0])) c.type.push('run is not a run token');
        break;
      case 'planRun': case 'planRunAsync': {
        const async_ = spec.fn === 'planRunAsync';
        if (!planFix.has(vals[0])) c.type.push('plan is not a plan');
        else c.pf = planFix.get(vals[0]);
        const ins = listAt(1, 'inputs');
        let ws = null, wsizes = null;
        if (async_) {
          c.wh = (vals[2] !== null && (typeof vals[2] === 'object' || typeof vals[2] === 'function') && handles.get(vals[2])) || null;
          if (!c.wh) {
            c.type.push(`weights is not a handle from planWeights (${what(vals[2])})`);
            if (c.type.length === 1) c.typeMsg = WEIGHTS_TYPE_MSG; // (the only wrong type: its message says so)
          } else wsizes = c.wh.sizes;
        } else {
          ws = listAt(2, 'weights');
          if (ws && ws.every(isAny)) wsizes = ws.map((x) => x.byteLength);
        }
        const out = vals[3];
        if (!isAny(out)) { c.type.push('output is not a Float32Array, Float64Array, Int32Array or Uint8Array'); c.typeMsg = null; }
        if (c.type.length > 1) c.typeMsg = null;
        if (async_ && typeof vals[4] !== 'function') c.doneBad = true;
        c.lists = [ins, ws];
        if (!c.pf || !ins || !wsizes || c.type.length) break;
        const io = bytesOfIO(c.pf);
        const wr = [];
        // the counts first (RangeError), then the element types the plan was recorded with
        // (TypeError: the kernels read them as such), then the sizes (RangeError)
        const wtypes = async_ ? c.wh.types : ws.map((x) => x.constructor);
        if (ins.length !== io.inputs.length || wtypes.length !== io.weights.length) c.countRange = true;
        else {
          const want = CT[c.pf.ty];
          ins.forEach((x, k) => { if (x.constructor !== want) c.elemType.push(`inputs[${k}] is not a ${want.name}`); });
          wtypes.forEach((T, k) => { if (T !== want) c.elemType.push(`weights[${k}] is not a ${want.name}`); });
        }
        if (ins.length !== io.inputs.length) c.range.push(`${ins.length} inputs, the plan takes ${io.inputs.length}`);
        else ins.forEach((x, k) => { if (x.byteLength !== io.inputs[k]) c.range.push(`inputs[${k}] has ${x.byteLength} bytes, recorded ${io.inputs[k]}`); });
        if (wsizes.length !== io.weights.length) wr.push(`${wsizes.length} weights, the plan reads ${io.weights.length}`);
        else wsizes.forEach((b, k) => { if (b !== io.weights[k]) wr.push(`weights[${k}] has ${b} bytes, recorded ${io.weights[k]}`); });
        c.range.push(...wr);
        if (isTA(out) && out.byteLength !== io.output) c.range.push(`output has ${out.byteLength} bytes, the plan makes ${io.output}`);
        const shares = (x) => isTA(out) && x.buffer === out.buffer && x.byteLength > 0 && out.byteLength > 0 &&
          x.byteOffset < out.byteOffset + out.byteLength && out.byteOffset < x.byteOffset + x.byteLength;
        const sh = [];
        ins.forEach((x, k) => { if (shares(x)) sh.push(`output shares memory with inputs[${k}]`); });
        c.range.push(...sh);
        if (ws) ws.forEach((x, k) => { if (shares(x)) c.range.push(`output shares memory with weights[${k}]`); });
        if (c.range.length && sh.length === c.range.length) c.rangeMsg = SHARES_INPUT_MSG;
        if (c.range.length && wr.length === c.range.length) c.rangeMsg = 'weights';
        break;
      }
      default: break;
    }
    return c;
  }
  /** The error class the binding must throw (its checks run in this order), or null: any of them. */
  function expectedError(spec, c) {
    if (c.count) return 'TypeError';
    if (c.either) return null;
    if (spec.fn === 'planBegin' && c.state) return 'Error';
    if (spec.fn === 'planEnd' && c.state) return 'Error';
    if (c.type.length) return 'TypeError';
    if (c.countRange) return 'RangeError';
    if (c.elemType && c.elemType.length) return 'TypeError';
    if (c.range.length) return 'RangeError';
    if (c.doneBad) return 'TypeError';
    return undefined; // must not throw
  }
  /**
   * What the call must do, the getters it ran included: { throws: 'must' | 'may' | 'never',
   * classes (the error classes it may throw, null: any), msg (a text its message must hold, or
   * null), why (the reasons) }. A getter that detached or resized a buffer (of more than 0
   * bytes) of an array the call had already taken: a RangeError (after any TypeError of a later
   * argument); one that did so before the call took the array: the call sees 0 bytes (planRun
   * and planRunAsync: a wrong size, a RangeError; planEnd, planWeights: accepted).
   */
  function expectation(spec, c, st, order) {
    const fn = spec.fn;
    const why = [c.count, ...c.type, ...(c.elemType || []), ...c.range, c.state, c.doneBad && 'done is not a function'].filter(Boolean);
    const base = expectedError(spec, c);
    const e = base === undefined ? { throws: 'never', classes: null, msg: null, why }
      : base === null ? { throws: 'may', classes: null, msg: null, why }
        : { throws: 'must', classes: [base], msg: base === 'TypeError' && !c.count ? c.typeMsg : base === 'RangeError' ? c.rangeMsg : null, why };
    const f = st.fired;
    if (!f || f.act === 'throw' || c.either || c.count || !READS[fn]) return e;
    const at = order.findIndex((x) => x.li === f.li && x.k === f.at);
    const hit = (x) => isTA(x.v) && x.v.buffer === f.buf && x.bytes > 0;
    const hard = order.some((x, i) => i < at && hit(x)), later = order.some((x, i) => i >= at && hit(x));
    const T = c.type.length > 0;
    if (!hard && !later) {
      // only arrays of 0 bytes taken before: whether their data pointer changed is V8's business
      const soft = order.some((x, i) => i < at && isTA(x.v) && x.v.buffer === f.buf);
      return soft && !T && e.throws !== 'must' ? { throws: 'may', classes: ['RangeError'], msg: RECHECK_MSG, why: [...why, 'a getter detached or resized an array of 0 bytes the call had taken'] } : e;
    }
    const w = [...why, `a getter on ${SIGNATURES[fn].args[f.li].name}[${f.at}] ` +
      `${f.act === 'shrink' ? 'shrank' : 'detached'} ${hard ? 'an array the call had already taken' : 'an array before the call took it'}`];
    if (fn === 'planRun' || fn === 'planRunAsync') {
      // detached before it was taken (only): the re-check passes, and a wrong element type comes
      // before the sizes (a detached array has 0 bytes)
      const TE = T || (!hard && !c.countRange && c.elemType.length > 0);
      return { throws: 'must', classes: TE ? ['TypeError'] : c.doneBad ? ['TypeError', 'RangeError'] : ['RangeError'],
        msg: hard && !later && !T && !c.range.length && !c.doneBad ? RECHECK_MSG : null, why: w };
    }
    if (hard) return { throws: 'must', classes: T ? ['TypeError'] : ['RangeError'], msg: T || later ? null : RECHECK_MSG, why: w };
    if (fn === 'planEnd' && !T) return { throws: 'may', classes: ['RangeError'], msg: null, why: w }; // (0 bytes: a string or a plan)
    return { ...e, why: w }; // planWeights copies 0 bytes
  }

  /** Right after planRunAsync returned (before any done can run): what the spec does to its arrays then; the run's expectation. */
  function afterRunAsync(spec, vals, c, st, outBytesAtCall) {
    if (spec.plan.scribble) { // the inputs were copied
      for (const x of c.lists[0] || []) if (isTA(x) && !gone(x) && x.byteLength) new Uint8Array(x.buffer, x.byteOffset, x.byteLength).fill(SCRIBBLE_BYTE);
    }
    for (const wp of st.wpacks) if (wp.a.src && wp.a.src.when === 'after') spoil(wp.items, wp.a.src.act, st.moved, "a weights handle's array");
    const out = vals[3];
    const act = spec.plan.outputAfter;
    let regrown = false;
    if (act && isTA(out) && !gone(out)) {
      const buf = out.buffer;
      if (act === 'write') {
        if (out.byteLength) new Uint8Array(buf, out.byteOffset, out.byteLength).fill(SCRIBBLE_BYTE);
      } else if ((act === 'detach' || act === 'detach-free') && !(buf instanceof SharedArrayBuffer)) {
        spoil([out], act, st.moved, "the output's buffer");
      } else if ((act === 'shrink' || act === 'shrink-regrow') && buf.resizable && buf.byteLength > 0) {
        const n = buf.byteLength;
        buf.resize(0);
        if (act === 'shrink-regrow') { buf.resize(n); regrown = true; }
      }
    }
    if (spec.plan.gcHandle) { // only the run holds the weights handle now
      for (const wp of st.wpacks) { st.raw.delete(wp.hd); wp.hd = null; }
      vals[2] = null;
      gc();
    }
    if (gone(out) || out.byteLength !== outBytesAtCall) return 'outputGone';
    return regrown ? 'either' : 'ok'; // (grown back in place: the same memory and size, or not)
  }

  // ---- one spec ------------------------------------------------------------------------------
  async function run(spec, before) {
    const st = {};
    const ctx = { fix: spec.plan.fix, seed: spec.plan.seed || 0, main: null, same: null, runs: [], blockers: [], target: null };
    const problems = [];
    const fn = spec.fn;
    // setup
    if (fn === 'planBegin' || fn === 'planAbort') {
      if (spec.plan.open) binding.planBegin();
    } else if (fn === 'planEnd') {
      const helper = ctx.fix.refusal === 'planRan' ? otherPlan() : null;
      const h2 = helper && { plan: helper.plan, inputs: helper.inputs, weights: helper.weights, ty: 'f32', outLen: 97 };
      ctx.main = record(ctx.fix, ctx.seed, { open: true, planToRun: h2 });
      if (spec.plan.noRecording) binding.planAbort();
    } else {
      ctx.main = record(ctx.fix, ctx.seed);
      if (!ctx.main.plan) {
        return { kind: 'violation', detail: `planEnd refused a recording it can replay (${ctx.fix.kind}): ${String(ctx.main.why).slice(0, 200)}` };
      }
      if (fn === 'planCancel') {
        for (let i = 0; i < (spec.plan.busy || 0); i++) {
          ctx.blockers.push(new Promise((res) => crypto.pbkdf2('fuzz', 'salt', BLOCKER_ITERATIONS, 32, 'sha256', () => res())));
        }
        ctx.target = queueRun(ctx, ctx.main.plan, 'the run given to planCancel');
        if (spec.plan.state === 'completed') await Promise.race([ctx.target.w.promise, sleep(WAIT_MS)]);
        if (spec.plan.state === 'cancelledOnce') ctx.target.cancels.push(binding.planCancel(ctx.target.token));
      }
    }
    const vals = materialize(spec, ctx, st);
    if (st.setup) problems.push(st.setup);
    if (fn === 'planRunAsync' && spec.plan.shareHandle && handles.has(vals[2])) {
      // another run with the very same handle, queued first (when it fits the fixture's plan)
      const io = bytesOfIO(ctx.fix), h = handles.get(vals[2]), sz = h.sizes;
      if (sz.length === io.weights.length && sz.every((b, k) => b === io.weights[k]) && h.types.every((T) => T === CT[ctx.fix.ty])) {
        try {
          queueRun(ctx, ctx.main.plan, 'a run queued first with the same weights handle', vals[2]);
        } catch (e) {
          problems.push(`planRunAsync refused a handle of the plan's weights sizes: ${e && e.name}: ${String(e && e.message).slice(0, 200)}`);
        }
      }
    }
    if (spec.plan.duringRecording) binding.planBegin();
    const c = contract(spec, vals, st);
    const order = readOrder(fn, vals, st);
    const refused = c.count || c.type.length || c.range.length || c.state || c.doneBad;
    // what a replay must produce: the bytes bound now (before the call); planRunAsync's weights:
    // the bytes planWeights copied
    let inBytes = null, wBytes = null;
    if ((fn === 'planRun' || fn === 'planRunAsync') && !refused) {
      inBytes = c.lists[0].map(copyBytes);
      wBytes = fn === 'planRun' ? c.lists[1].map(copyBytes) : c.wh.snap;
    }
    const outBytesAtCall = isTA(vals[3]) ? vals[3].byteLength : 0;
    before();
    let ret, threw = null;
    try {
      ret = binding[fn](...vals);
    } catch (e) {
      threw = e;
    }
    const runExpect = fn === 'planRunAsync' && !threw ? afterRunAsync(spec, vals, c, st, outBytesAtCall) : 'ok';
    const exp = expectation(spec, c, st, order);
    if (fn === 'planEnd') { // planEnd ends the recording, whatever it returns or throws
      try { binding.planBegin(); } catch (e) { problems.push(`a recording still runs after planEnd: ${e.message}`); }
      binding.planAbort();
    }
    if (spec.plan.duringRecording) {
      // planRun refuses the recording it runs in; planRunAsync need not
      let why;
      try { why = binding.planEnd([], [], new Float32Array(0)); } catch (e) { why = e; }
      if (fn === 'planRun' && !threw && exp.throws === 'never' && !(typeof why === 'string' && /plan ran/.test(why))) {
        problems.push(`planRun ran during a recording, and planEnd did not refuse it: ${typeof why === 'string' ? why : String(why)}`);
      }
    }
    const reasons = () => exp.why.join('; ') || 'nothing';
    let verdict;
    if (threw) {
      let bad = null;
      if (threw && threw.message === SENTINEL) {
        if (!(st.fired && st.fired.act === 'throw')) bad = 'threw the getter\'s error although no getter threw';
      } else if (c.state && threw instanceof Error && threw.name === 'Error' && threw.message.startsWith(`${fn}: `)) {
        bad = null; // the documented state error (planBegin twice, planEnd without planBegin)
      } else {
        bad = judgeError(fn, threw);
        const native = threw.name === 'Error' && String(threw.message).startsWith('gradforge native error');
        const msg = String(threw.message).slice(0, 200);
        if (!bad && exp.throws === 'never') {
          bad = `threw ${threw.name} although the contract accepts the call${exp.why.length ? ` (${reasons()})` : ''}: ${msg}`;
        } else if (!bad && exp.classes && !exp.classes.includes(threw.name) && !native) {
          bad = `threw ${threw.name}, but the contract asks for a ${exp.classes.join(' or ')} (${reasons()}): ${msg}`;
        } else if (!bad && exp.msg && exp.classes && exp.classes.includes(threw.name) && !String(threw.message).includes(exp.msg)) {
          bad = `threw a ${threw.name} without '${exp.msg}' in its message (${reasons()}): ${msg}`;
        }
      }
      if (bad) problems.push(bad);
      if (st.doneWatch) { // a call that threw queued nothing: its done never runs
        await sleep(5);
        await tick();
        if (st.doneWatch.calls.length) problems.push(`planRunAsync threw, but its done ran: ${JSON.stringify(st.doneWatch.calls)}`);
      }
      verdict = { kind: 'threw', name: threw.name, message: String(threw.message).slice(0, 300) };
    } else {
      if (exp.throws === 'must') problems.push(`returned normally, but the contract refuses this call: ${reasons()}`);
      if (st.fired && st.fired.act === 'throw') problems.push('returned normally although a getter it ran threw (the exception was lost)');
      if (st.clone && !sameBytes(new Uint8Array(st.clone), st.before)) problems.push('wrote into a buffer after a getter had detached it (use after detach)');
      problems.push(...await judgeReturn(spec, vals, ret, c, ctx, st, { inBytes, wBytes, exp, runExpect }));
      verdict = { kind: 'ok' };
      if (st.note) verdict.note = st.note;
      if (fn === 'planCancel') verdict.returned = ret;
    }
    binding.planAbort();
    problems.push(...await settle(ctx));
    for (const m of st.moved) {
      if (!sameBytes(new Uint8Array(m.buf), m.before)) problems.push(`wrote into ${m.label} after it was detached (use after detach; first byte ${firstDiff(new Uint8Array(m.buf), m.before)})`);
    }
    binding.planAbort();
    return problems.length ? { kind: 'violation', detail: problems.join(' | ') } : verdict;
  }

  async function judgeReturn(spec, vals, ret, c, ctx, st, o) {
    const p = [];
    const fn = spec.fn;
    const checked = o.exp.throws === 'never'; // (a call it must refuse is reported already; 'may': no verdict)
    switch (fn) {
      case 'planBegin':
        if (ret !== undefined) p.push(`returned ${typeof ret}`);
        if (checked) { // a recording runs now: planEnd of nothing says why it is no plan
          let r;
          try { r = binding.planEnd([], [], new Float32Array(0)); } catch (e) { r = e; }
          if (typeof r !== 'string') p.push(`planBegin returned, but then planEnd gave ${r instanceof Error ? `${r.name}: ${r.message}` : typeof r}`);
        }
        break;
      case 'planAbort':
        if (ret !== undefined) p.push(`returned ${typeof ret}`);
        if (checked) {
          try { binding.planBegin(); } catch (e) { p.push(`planAbort returned, but a recording still runs: ${e.message}`); }
        }
        break;
      case 'planEnd': {
        if (typeof ret !== 'string' && (typeof ret !== 'object' || ret === null)) { p.push(`returned ${typeof ret}`); break; }
        if (typeof ret === 'object') planFix.set(ret, ctx.fix);
        if (spec.muts.length || spec.plan.expect === null) break; // (the arrays are not the recorded ones: plan or reason)
        if (spec.plan.expect !== expectsPlan(ctx.fix)) break;
        if (spec.plan.expect && typeof ret === 'string') { p.push(`planEnd refused a recording it can replay (${ctx.fix.kind}): ${ret.slice(0, 200)}`); break; }
        if (!spec.plan.expect && typeof ret !== 'string') { p.push(`planEnd made a plan of a recording it must refuse (${ctx.fix.refusal})`); break; }
        if (typeof ret === 'object') {
          p.push(...infoProblems(binding.planInfo(ret), ctx.fix));
          // the new plan replays the recorded pass on other arrays
          const io = bytesOfIO(ctx.fix), C = CT[ctx.fix.ty], bpe = C.BYTES_PER_ELEMENT;
          const ins = io.inputs.map((b, k) => fresh(ctx.fix.ty, b / bpe, 700 + k));
          const ws = io.weights.map((b, k) => fresh(ctx.fix.ty, b / bpe, 800 + k));
          const out = new C(io.output / bpe);
          binding.planRun(ret, ins, ws, out);
          const want = direct(binding, ctx.fix, ins.map(copyBytes), ws.map(copyBytes));
          if (!sameBytes(copyBytes(out), want)) p.push(`the plan planEnd made computes other values than its kernels (first byte ${firstDiff(copyBytes(out), want)})`);
        }
        break;
      }
      case 'planInfo':
        if (typeof ret !== 'object' || ret === null) p.push(`returned ${typeof ret}`);
        else if (c.pf) p.push(...infoProblems(ret, c.pf));
        break;
      case 'planWeights': {
        if (typeof ret !== 'object' || ret === null) { p.push(`returned ${ret === null ? 'null' : typeof ret}, not a weights handle`); break; }
        const raw = c.lists[0];
        if (!checked || !raw) break;
        // (what it copied: the arrays as they are now; one detached before the call took it has 0 bytes)
        const info = { sizes: raw.map((x) => x.byteLength), types: raw.map((x) => x.constructor), snap: raw.map(copyBytes) };
        handles.set(ret, info);
        for (const f of ['planInfo', 'planCancel']) { // a handle is neither a plan nor a run token
          let r;
          try { r = binding[f](ret); } catch (e) { r = e; }
          if (!(r instanceof TypeError)) p.push(`${f} of a weights handle gave ${r instanceof Error ? `${r.name}: ${r.message}` : typeof r}, not a TypeError`);
        }
        // the handle holds a copy: spoil the arrays, then run the fixture's plan with it
        spoil(raw, spec.plan.spoil || 'none', st.moved, 'an array given to planWeights');
        const io = bytesOfIO(ctx.fix);
        // the plan's weights: their count, then their element types (the recorded ones), then sizes
        const fits = info.sizes.length === io.weights.length && info.types.every((T) => T === CT[ctx.fix.ty]) &&
          info.sizes.every((b, k) => b === io.weights[k]);
        let e2 = null;
        try { queueRun(ctx, ctx.main.plan, 'a run of the fixture\'s plan with the handle from planWeights', ret); } catch (e) { e2 = e; }
        if (fits && e2) p.push(`planRunAsync refused the handle planWeights made of the plan's weights: ${e2.name}: ${String(e2.message).slice(0, 200)}`);
        if (!fits && !e2) p.push(`planRunAsync accepted a handle of ${info.sizes.length} weights (${info.sizes.join(', ')} bytes) for a plan that reads ${io.weights.join(', ')}`);
        if (!fits && e2 && !((e2 instanceof RangeError || e2 instanceof TypeError) && /weights/.test(e2.message))) {
          p.push(`planRunAsync with a handle of other sizes or types than the plan's weights threw ${e2.name}: ${String(e2.message).slice(0, 200)} (the contract: a RangeError or TypeError about the weights)`);
        }
        break;
      }
      case 'planRun':
        if (ret !== undefined) p.push(`returned ${typeof ret}`);
        if (checked) {
          const want = direct(binding, c.pf, o.inBytes, o.wBytes);
          const got = copyBytes(vals[3]);
          if (!sameBytes(got, want)) p.push(`planRun wrote other values than the kernels compute from the same bytes (first byte ${firstDiff(got, want)})`);
        }
        break;
      case 'planRunAsync':
        if (typeof ret !== 'object' || ret === null) { p.push(`returned ${typeof ret}`); break; }
        if (st.doneWatch) {
          const run = { label: 'the run of the call', w: st.doneWatch, out: vals[3], fix: c.pf, inBytes: o.inBytes, wBytes: o.wBytes, token: ret, cancels: [],
            expect: o.runExpect };
          if (checked) ctx.runs.push(run);
          else await Promise.race([st.doneWatch.promise, sleep(WAIT_MS)]); // wrote who knows what: only wait for it
        }
        if (o.exp.throws !== 'must') {
          await Promise.race([st.doneWatch ? st.doneWatch.promise : null, sleep(WAIT_MS)].filter(Boolean));
          let again;
          try { again = binding.planCancel(ret); } catch (e) { again = e; }
          if (again !== false) p.push(`planCancel of the returned token after its done ran gave ${again instanceof Error ? again.message : String(again)}, not false`);
        }
        break;
      case 'planCancel': {
        if (typeof ret !== 'boolean') { p.push(`returned ${typeof ret}`); break; }
        const r = ctx.runs.find((x) => x.token === vals[0]);
        if (!r) break;
        const before = r.cancels.slice();
        r.cancels.push(ret);
        if (r === ctx.target && spec.plan.state === 'completed' && r.w.calls.length && ret) p.push('planCancel returned true for a run whose done had run');
        if (before.length && before[0] === false && ret) p.push('planCancel returned false, then true for the same run');
        // (true twice in a row, before the done ran, is noted, not judged: see the report)
        if (before.length && before[0] === true && ret) st.note = 'planCancel returned true twice for one run';
        break;
      }
      default: break;
    }
    return p;
  }

  function infoProblems(info, fix) {
    const io = bytesOfIO(fix), p = [];
    if (!info || !Array.isArray(info.kernels) || JSON.stringify(info.kernels) !== JSON.stringify(io.kernels)) {
      p.push(`planInfo kernels ${JSON.stringify(info && info.kernels)}, recorded ${JSON.stringify(io.kernels)}`);
    }
    if (info.inputs !== io.inputs.length) p.push(`planInfo inputs ${info.inputs}, bound ${io.inputs.length}`);
    if (info.weights !== io.weights.length) p.push(`planInfo weights ${info.weights}, bound ${io.weights.length}`);
    if (info.outputBytes !== io.output) p.push(`planInfo outputBytes ${info.outputBytes}, the output has ${io.output}`);
    if (!(Number.isInteger(info.arenaBytes) && info.arenaBytes >= 0)) p.push(`planInfo arenaBytes ${info.arenaBytes}`);
    return p;
  }

  return { run };
};
