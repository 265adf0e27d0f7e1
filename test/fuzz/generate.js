// fast-check arbitraries of fuzz calls. A call is a plain JSON "spec" (see child.js for how it
// becomes real arguments): first a valid call of one export, with small random sizes, then
// zero to two mutations of its arguments (a wrong type, a length off by one, a bad or huge
// size, a huge size times a zero size, a shape/geometry getter that detaches or shrinks one of
// the call's buffers, a SharedArrayBuffer raced by a worker, an output overlapping an input,
// an op name with an embedded NUL, ...). Mostly-valid calls get past the first type check and
// reach the kernels. Every spec says what the contract requires of it (spec.refuse: reasons
// the call must throw), so the child can judge a normal return.
'use strict';
const fc = require('fast-check');
const { SIGNATURES, UNARY_OPS, BINARY_OPS, REDUCE_OPS, UPSAMPLE_MODES, RNN_CELLS, RNN_ACTIVATIONS, PLAN_FNS } = require('./signatures');
const { fixtureIO } = require('./plans');

const MAXSAFE = 2 ** 53 - 1;
const BIG_PAD = 1 << 17; // elements of slack that put a buffer above the mmap threshold

// ---- argument spec constructors -------------------------------------------------------------
const N = (v) => ({ t: 'num', v: encodeNum(v) });
const B = (v) => ({ t: 'bool', v });
const S = (v) => ({ t: 'str', v });
const NULL = { t: 'null' };
function encodeNum(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}
const FA = (ty, len, seed = 1) => ({ t: 'ta', ty, len, fill: { k: 'rand', s: seed }, mem: 'plain' });
const I32 = (len, m, lo = 0) => ({ t: 'ta', ty: 'i32', len, fill: { k: 'mod', m: Math.max(1, m), lo }, mem: 'plain' });

const ty = fc.constantFrom('f32', 'f32', 'f32', 'f64');
const small = (lo, hi) => fc.integer({ min: lo, max: hi });

function spec(fn, args, needs, extra = {}) {
  // refuse: reasons the call must throw, while generating {at, why, sized}: `at` the argument
  // it is about (a later mutation of that argument drops it), `sized` if it holds only while
  // no mutation changed a size (sizes decide how many elements each array needs)
  return { fn, args, needs, muts: [], refuse: [], sizeMutated: false, inPlaceOk: [], ...extra };
}
const idx = (fn, name) => SIGNATURES[fn].args.findIndex((a) => a.name === name);

/** needs: element counts each array argument must have, by argument index. */
function needsOf(fn, byName) {
  const out = {};
  for (const [k, v] of Object.entries(byName)) out[idx(fn, k)] = v;
  return out;
}

// ---- valid calls, one arbitrary per export --------------------------------------------------
const BASE = {
  backendInfo: fc.constant(spec('backendInfo', [], {})),
  setNumThreads: small(1, 4).map((n) => spec('setNumThreads', [N(n)], {})),
  setGemmKernel: fc.constantFrom('auto', 'ref').map((k) => spec('setGemmKernel', [S(k)], {})),
  fmaPeak: small(1, 2).map((t) => spec('fmaPeak', [S('sse2'), N(t), N(0.001)], {})),

  gemm: fc.record({
    t: ty, ta: fc.boolean(), tb: fc.boolean(), M: small(0, 5), Nn: small(0, 5), K: small(0, 5),
    pa: small(0, 2), pb: small(0, 2), pc: small(0, 2), alpha: fc.constantFrom(1, 0.5, -1, 0), beta: fc.constantFrom(0, 1, 0.5),
    bias: small(0, 2), act: small(0, 2),
  }).map((r) => {
    const mat = (rows, cols, pad) => ({ ld: cols + pad, len: rows === 0 || cols === 0 ? 0 : (rows - 1) * (cols + pad) + cols });
    const a = r.ta ? mat(r.K, r.M, r.pa) : mat(r.M, r.K, r.pa);
    const b = r.tb ? mat(r.Nn, r.K, r.pb) : mat(r.K, r.Nn, r.pb);
    const c = mat(r.M, r.Nn, r.pc);
    const args = [B(r.ta), B(r.tb), N(r.M), N(r.Nn), N(r.K), N(r.alpha), FA(r.t, a.len, 1), N(a.ld), FA(r.t, b.len, 2), N(b.ld),
      N(r.beta), FA(r.t, c.len, 3), N(c.ld)];
    const needs = needsOf('gemm', { A: a.len, B: b.len, C: c.len });
    if (r.bias > 0 || r.act > 0) {
      args.push(r.bias === 2 ? FA(r.t, r.Nn, 4) : NULL);
      if (r.bias === 2) needs[13] = r.Nn;
    }
    if (r.act > 0) args.push(S(r.act === 1 ? 'linear' : 'relu'));
    return spec('gemm', args, needs);
  }),

  unary: fc.record({ t: ty, op: fc.constantFrom(...UNARY_OPS), n: small(0, 8), alpha: fc.constantFrom(0.1, 2, -1), beta: fc.constantFrom(1, 0, 3) })
    .map((r) => spec('unary', [S(r.op), FA(r.t, r.n, 1), FA(r.t, r.n, 2), N(r.alpha), N(r.beta)], needsOf('unary', { x: r.n, out: r.n }))),
  unaryBackward: fc.record({ t: ty, op: fc.constantFrom(...UNARY_OPS), n: small(0, 8) })
    .map((r) => spec('unaryBackward', [S(r.op), FA(r.t, r.n, 1), FA(r.t, r.n, 2), FA(r.t, r.n, 3), FA(r.t, r.n, 4), N(0.2), N(1)],
      needsOf('unaryBackward', { x: r.n, y: r.n, dy: r.n, dx: r.n }))),

  binary: fc.record({
    t: ty, op: fc.constantFrom(...BINARY_OPS), dims: fc.array(small(0, 3), { maxLength: 4 }),
    ma: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), mb: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    la: small(0, 4), lb: small(0, 4),
  }).map((r) => {
    const rank = r.dims.length;
    let la = Math.min(r.la, rank), lb = Math.min(r.lb, rank);
    if (la > 0 && lb > 0) { if (la < lb) la = 0; else lb = 0; } // one of them has the full rank
    const out = [], as = [], bs = [];
    for (let i = 0; i < rank; i++) {
      const a1 = i < la || r.ma[i], b1 = i < lb || r.mb[i];
      const d = a1 && b1 ? 1 : r.dims[i];
      out.push(d);
      if (i >= la) as.push(a1 ? 1 : d);
      if (i >= lb) bs.push(b1 ? 1 : d);
    }
    const prod = (s) => s.reduce((p, d) => p * d, 1);
    const s = spec('binary', [S(r.op), FA(r.t, prod(as), 1), { t: 'shape', dims: as }, FA(r.t, prod(bs), 2), { t: 'shape', dims: bs },
      FA(r.t, prod(out), 3), { t: 'shape', dims: out }], needsOf('binary', { a: prod(as), b: prod(bs), out: prod(out) }));
    // binding.d.ts: out may be a or b when that operand has the output's size (not broadcast)
    if (prod(as) === prod(out)) s.inPlaceOk.push([5, 1]);
    if (prod(bs) === prod(out)) s.inPlaceOk.push([5, 3]);
    return s;
  }),

  reduce: fc.record({ t: ty, op: fc.constantFrom(...REDUCE_OPS), o: small(0, 4), n: small(0, 4), i: small(0, 4) })
    .map((r) => spec('reduce', [S(r.op), FA(r.t, r.o * r.n * r.i), N(r.o), N(r.n), N(r.i), FA(r.t, r.o * r.i, 2)],
      needsOf('reduce', { x: r.o * r.n * r.i, out: r.o * r.i }))),
  argReduce: fc.record({ t: ty, op: fc.constantFrom('argmax', 'argmin'), o: small(0, 4), n: small(1, 4), i: small(0, 4) })
    .map((r) => spec('argReduce', [S(r.op), FA(r.t, r.o * r.n * r.i), N(r.o), N(r.n), N(r.i), I32(r.o * r.i, 1)],
      needsOf('argReduce', { x: r.o * r.n * r.i, out: r.o * r.i }))),
  softmax: fc.record({ t: ty, r: small(0, 5), c: small(0, 5), log: fc.boolean() })
    .map((r) => spec('softmax', [FA(r.t, r.r * r.c), N(r.r), N(r.c), FA(r.t, r.r * r.c, 2), B(r.log)],
      needsOf('softmax', { x: r.r * r.c, out: r.r * r.c }))),
  softmaxBackward: fc.record({ t: ty, r: small(0, 5), c: small(0, 5), log: fc.boolean() })
    .map((r) => spec('softmaxBackward', [FA(r.t, r.r * r.c), FA(r.t, r.r * r.c, 2), N(r.r), N(r.c), FA(r.t, r.r * r.c, 3), B(r.log)],
      needsOf('softmaxBackward', { y: r.r * r.c, dy: r.r * r.c, dx: r.r * r.c }))),

  permute: fc.record({ t: fc.constantFrom('f32', 'f64', 'i32'), dims: fc.array(small(0, 3), { maxLength: 5 }), keys: fc.array(fc.nat(), { minLength: 5, maxLength: 5 }) })
    .map((r) => {
      const rank = r.dims.length;
      const perm = [...Array(rank).keys()].sort((x, y) => r.keys[x] - r.keys[y] || x - y);
      const n = r.dims.reduce((p, d) => p * d, 1);
      const arr = (seed) => (r.t === 'i32' ? I32(n, 100, -50) : FA(r.t, n, seed));
      return spec('permute', [arr(1), { t: 'shape', dims: r.dims }, { t: 'shape', dims: perm }, arr(2)], needsOf('permute', { x: n, out: n }));
    }),

  copyBox: fc.record({
    t: fc.constantFrom('f32', 'f64', 'i32'), size: fc.array(small(0, 3), { maxLength: 4 }),
    sp: fc.array(small(0, 2), { minLength: 4, maxLength: 4 }), dp: fc.array(small(0, 2), { minLength: 4, maxLength: 4 }),
    so: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }), do: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    fill: fc.constantFrom(undefined, 0, -3, 2.5),
  }).map((r) => {
    const ss = r.size.map((d, i) => d + r.sp[i]), ds = r.size.map((d, i) => d + r.dp[i]);
    const s0 = r.size.map((_, i) => r.so[i] % (r.sp[i] + 1)), d0 = r.size.map((_, i) => r.do[i] % (r.dp[i] + 1));
    const prod = (v) => v.reduce((p, d) => p * d, 1);
    const arr = (n, seed) => (r.t === 'i32' ? I32(n, 100, -50) : FA(r.t, n, seed));
    const sh = (dims) => ({ t: 'shape', dims });
    const args = [arr(prod(ss), 1), sh(ss), sh(s0), arr(prod(ds), 2), sh(ds), sh(d0), sh(r.size)];
    // an int32 dst takes int32 fills only
    if (r.fill !== undefined) args.push(N(r.t === 'i32' ? Math.trunc(r.fill) : r.fill));
    return spec('copyBox', args, needsOf('copyBox', { src: prod(ss), dst: prod(ds) }));
  }),
  gatherRows: fc.record({ t: fc.constantFrom('f32', 'f64', 'i32'), rows: small(1, 4), len: small(0, 3), n: small(0, 5) })
    .map((r) => {
      const arr = (n, seed) => (r.t === 'i32' ? I32(n, 100, -50) : FA(r.t, n, seed));
      return spec('gatherRows', [arr(r.rows * r.len, 1), N(r.rows), N(r.len), I32(r.n, r.rows), arr(r.n * r.len, 2)],
        // ids sets the count (any length is valid); out must hold ids.length rows
        needsOf('gatherRows', { x: r.rows * r.len, out: r.n * r.len }));
    }),
  scatterAddRows: fc.record({ t: ty, rows: small(1, 4), len: small(0, 3), n: small(0, 5) })
    .map((r) => spec('scatterAddRows', [FA(r.t, r.n * r.len, 1), I32(r.n, r.rows), N(r.rows), N(r.len), FA(r.t, r.rows * r.len, 2)],
      needsOf('scatterAddRows', { g: r.n * r.len, out: r.rows * r.len }))),

  sgdStep: fc.record({ t: ty, n: small(0, 8), mom: fc.constantFrom(0, 0.9), emptyV: fc.boolean(), nest: fc.boolean() })
    .map((r) => {
      const vl = r.mom === 0 && r.emptyV ? 0 : r.n;
      return spec('sgdStep', [FA(r.t, r.n), FA(r.t, r.n, 2), FA(r.t, vl, 3), N(0.01), N(r.mom), B(r.nest)], needsOf('sgdStep', { p: r.n, g: r.n, v: r.mom === 0 ? 0 : vl }));
    }),
  adamStep: fc.record({ t: ty, n: small(0, 8), step: small(1, 3) })
    .map((r) => spec('adamStep', [FA(r.t, r.n), FA(r.t, r.n, 2), { ...FA(r.t, r.n, 3), fill: { k: 'const', v: 0 } },
      { ...FA(r.t, r.n, 4), fill: { k: 'const', v: 0.5 } }, N(0.001), N(0.9), N(0.999), N(1e-7), N(r.step)],
    needsOf('adamStep', { p: r.n, g: r.n, m: r.n, v: r.n }))),
  rmspropStep: fc.record({ t: ty, n: small(0, 8) })
    .map((r) => spec('rmspropStep', [FA(r.t, r.n), FA(r.t, r.n, 2), { ...FA(r.t, r.n, 3), fill: { k: 'const', v: 0.5 } }, N(0.001), N(0.9), N(1e-7)],
      needsOf('rmspropStep', { p: r.n, g: r.n, ms: r.n }))),
  adagradStep: fc.record({ t: ty, n: small(0, 8) })
    .map((r) => spec('adagradStep', [FA(r.t, r.n), FA(r.t, r.n, 2), { ...FA(r.t, r.n, 3), fill: { k: 'const', v: 0.5 } }, N(0.01), N(1e-7)],
      needsOf('adagradStep', { p: r.n, g: r.n, acc: r.n }))),

  ...convBases(),
  ...poolBases(),

  globalPool2dForward: fc.record({ t: ty, max: fc.boolean(), n: small(0, 3), hw: small(1, 4), c: small(0, 3) })
    .map((r) => spec('globalPool2dForward', [S(r.max ? 'max' : 'avg'), N(r.n), N(r.hw), N(r.c), FA(r.t, r.n * r.hw * r.c), FA(r.t, r.n * r.c, 2),
      r.max ? I32(r.n * r.c, 1) : NULL], needsOf('globalPool2dForward', { x: r.n * r.hw * r.c, y: r.n * r.c, argmax: r.max ? r.n * r.c : 0 }))),
  globalPool2dBackward: fc.record({ t: ty, max: fc.boolean(), n: small(0, 3), hw: small(1, 4), c: small(0, 3) })
    .map((r) => spec('globalPool2dBackward', [S(r.max ? 'max' : 'avg'), N(r.n), N(r.hw), N(r.c), FA(r.t, r.n * r.c),
      r.max ? I32(r.n * r.c, r.hw) : NULL, FA(r.t, r.n * r.hw * r.c, 2)],
    needsOf('globalPool2dBackward', { dy: r.n * r.c, argmax: r.max ? r.n * r.c : 0, dx: r.n * r.hw * r.c }), { argmaxLimit: r.hw, argmaxMin: 0 })),

  ...upsampleBases(),
  ...batchNormBases(),
  ...rnnBases(),
  ...planBases(),
};

/** A conv geometry as the conv exports' valid calls draw it: { r (the draws), g, x, w, y (element counts) }. */
function convGeoArb() {
  return fc.record({
    t: ty, N: small(0, 2), H: small(1, 5), W: small(1, 5), C: small(1, 3), KH: small(1, 3), KW: small(1, 3), O: small(1, 3),
    sh: small(1, 2), sw: small(1, 2), dh: small(1, 2), dw: small(1, 2), pt: fc.nat(), pl: fc.nat(), oh: fc.nat(), ow: fc.nat(),
    bias: fc.boolean(), act: small(0, 2),
  }).map((r) => {
    const spanH = r.KH * r.dh, spanW = r.KW * r.dw;
    const g = {
      N: r.N, H: r.H, W: r.W, C: r.C, KH: r.KH, KW: r.KW, O: r.O,
      OH: 1 + (r.oh % (Math.floor((r.H + spanH) / r.sh) + 1)), OW: 1 + (r.ow % (Math.floor((r.W + spanW) / r.sw) + 1)),
      strideH: r.sh, strideW: r.sw, dilationH: r.dh, dilationW: r.dw, padTop: r.pt % spanH, padLeft: r.pl % spanW,
    };
    return { r, g, x: g.N * g.H * g.W * g.C, w: g.KH * g.KW * g.C * g.O, y: g.N * g.OH * g.OW * g.O };
  });
}

// the draws of a pool geometry's window, strides, pads and output size (see poolFields)
function poolDraws() {
  return { KH: small(1, 3), KW: small(1, 3), sh: small(1, 2), sw: small(1, 2), pt: fc.nat(), pl: fc.nat(), oh: fc.nat(), ow: fc.nat() };
}
/** A valid pool geometry over an (N, H, W, C) input: padTop < KH, padLeft < KW, (OH-1)*strideH <= H + KH. */
function poolFields(n, h, w, c, r) {
  return {
    N: n, H: h, W: w, C: c, KH: r.KH, KW: r.KW,
    OH: 1 + (r.oh % (Math.floor((h + r.KH) / r.sh) + 1)), OW: 1 + (r.ow % (Math.floor((w + r.KW) / r.sw) + 1)),
    strideH: r.sh, strideW: r.sw, padTop: r.pt % r.KH, padLeft: r.pl % r.KW,
  };
}

function convBases() {
  const geo = convGeoArb();
  // conv2dMaxPool2dForward: a pool geometry over the conv's output (N, OH, OW, O)
  const convPool = fc.record({ conv: geo, pool: fc.record(poolDraws()) }).map(({ conv, pool }) => {
    const p = poolFields(conv.g.N, conv.g.OH, conv.g.OW, conv.g.O, pool);
    return { ...conv, p, py: p.N * p.OH * p.OW * p.C };
  });
  return {
    conv2dForward: geo.map(({ r, g, x, w, y }) => {
      const args = [{ t: 'geom', fields: g }, FA(r.t, x), FA(r.t, w, 2), r.bias ? FA(r.t, g.O, 3) : NULL, FA(r.t, y, 4)];
      if (r.act) args.push(S(r.act === 1 ? 'linear' : 'relu'));
      return spec('conv2dForward', args, needsOf('conv2dForward', { x, w, bias: r.bias ? g.O : 0, y }));
    }),
    conv2dBackwardInput: geo.map(({ r, g, x, w, y }) => spec('conv2dBackwardInput', [{ t: 'geom', fields: g }, FA(r.t, y), FA(r.t, w, 2), FA(r.t, x, 3)],
      needsOf('conv2dBackwardInput', { dy: y, w, dx: x }))),
    conv2dBackwardFilter: geo.map(({ r, g, x, w, y }) => spec('conv2dBackwardFilter',
      [{ t: 'geom', fields: g }, FA(r.t, x), FA(r.t, y, 2), FA(r.t, w, 3), r.bias ? FA(r.t, g.O, 4) : NULL],
      needsOf('conv2dBackwardFilter', { x, dy: y, dw: w, dbias: r.bias ? g.O : 0 }))),
    conv2dMaxPool2dForward: convPool.map(({ r, g, p, x, w, py }) => {
      const args = [{ t: 'geom', fields: g }, { t: 'geom', fields: p }, FA(r.t, x), FA(r.t, w, 2), r.bias ? FA(r.t, g.O, 3) : NULL, FA(r.t, py, 4)];
      if (r.act) args.push(S(r.act === 1 ? 'linear' : 'relu'));
      return spec('conv2dMaxPool2dForward', args, needsOf('conv2dMaxPool2dForward', { x, w, bias: r.bias ? g.O : 0, y: py }));
    }),
  };
}

function poolBases() {
  const geo = fc.record({ t: ty, N: small(0, 2), H: small(1, 5), W: small(1, 5), C: small(1, 3), ...poolDraws() }).map((r) => {
    const g = poolFields(r.N, r.H, r.W, r.C, r);
    return { r, g, x: g.N * g.H * g.W * g.C, y: g.N * g.OH * g.OW * g.C };
  });
  const G = (g) => ({ t: 'geom', fields: g });
  return {
    // argmax null one time in three: inference, y only
    maxPool2dForward: fc.record({ geo, am: fc.constantFrom(true, true, false) }).map(({ geo: { r, g, x, y }, am }) =>
      spec('maxPool2dForward', [G(g), FA(r.t, x), FA(r.t, y, 2), am ? I32(y, 1) : NULL], needsOf('maxPool2dForward', { x, y, argmax: am ? y : 0 }))),
    maxPool2dBackward: geo.map(({ r, g, x, y }) => spec('maxPool2dBackward', [G(g), FA(r.t, y), I32(y, g.H * g.W + 1, -1), FA(r.t, x, 2)],
      needsOf('maxPool2dBackward', { dy: y, argmax: y, dx: x }), { argmaxLimit: g.H * g.W, argmaxMin: -1 })),
    avgPool2dForward: geo.map(({ r, g, x, y }) => spec('avgPool2dForward', [G(g), FA(r.t, x), FA(r.t, y, 2)], needsOf('avgPool2dForward', { x, y }))),
    avgPool2dBackward: geo.map(({ r, g, x, y }) => spec('avgPool2dBackward', [G(g), FA(r.t, y), FA(r.t, x, 2)], needsOf('avgPool2dBackward', { dy: y, dx: x }))),
  };
}

function upsampleBases() {
  const r0 = fc.record({ t: ty, mode: fc.constantFrom(...UPSAMPLE_MODES), N: small(0, 2), H: small(1, 3), W: small(1, 3), C: small(1, 3), sh: small(1, 3), sw: small(1, 3) });
  const sz = (r) => [N(r.N), N(r.H), N(r.W), N(r.C), N(r.sh), N(r.sw)];
  return {
    upSampling2dForward: r0.map((r) => {
      const small_ = r.N * r.H * r.W * r.C, big = small_ * r.sh * r.sw;
      return spec('upSampling2dForward', [S(r.mode), ...sz(r), FA(r.t, small_), FA(r.t, big, 2)], needsOf('upSampling2dForward', { x: small_, y: big }));
    }),
    upSampling2dBackward: r0.map((r) => {
      const small_ = r.N * r.H * r.W * r.C, big = small_ * r.sh * r.sw;
      return spec('upSampling2dBackward', [S(r.mode), ...sz(r), FA(r.t, big), FA(r.t, small_, 2)], needsOf('upSampling2dBackward', { dy: big, dx: small_ }));
    }),
  };
}

function batchNormBases() {
  const r0 = fc.record({ t: ty, M: small(1, 5), C: small(0, 4), g: fc.boolean(), b: fc.boolean(), mm: fc.boolean(), dg: fc.boolean(), db: fc.boolean(), M0: fc.boolean() });
  const pos = (t, n, seed) => ({ ...FA(t, n, seed), fill: { k: 'const', v: 0.5 } });
  const opt = (present, t, n, seed) => (present ? FA(t, n, seed) : NULL);
  return {
    batchNormTrain: r0.map((r) => {
      const n = r.M * r.C;
      return spec('batchNormTrain', [N(r.M), N(r.C), FA(r.t, n), opt(r.g, r.t, r.C, 2), opt(r.b, r.t, r.C, 3), N(1e-3), N(0.99),
        FA(r.t, n, 4), FA(r.t, r.C, 5), FA(r.t, r.C, 6), opt(r.mm, r.t, r.C, 7), r.mm ? pos(r.t, r.C, 8) : NULL],
      needsOf('batchNormTrain', { x: n, gamma: r.g ? r.C : 0, beta: r.b ? r.C : 0, y: n, mean: r.C, invStd: r.C, movingMean: r.mm ? r.C : 0, movingVar: r.mm ? r.C : 0 }));
    }),
    batchNormInference: r0.map((r) => {
      const M = r.M0 ? 0 : r.M, n = M * r.C;
      return spec('batchNormInference', [N(M), N(r.C), FA(r.t, n), opt(r.g, r.t, r.C, 2), opt(r.b, r.t, r.C, 3), FA(r.t, r.C, 4), pos(r.t, r.C, 5),
        N(1e-3), FA(r.t, n, 6)], needsOf('batchNormInference', { x: n, gamma: r.g ? r.C : 0, beta: r.b ? r.C : 0, movingMean: r.C, movingVar: r.C, y: n }));
    }),
    batchNormBackward: r0.map((r) => {
      const n = r.M * r.C;
      return spec('batchNormBackward', [N(r.M), N(r.C), FA(r.t, n), FA(r.t, n, 2), opt(r.g, r.t, r.C, 3), FA(r.t, r.C, 4), pos(r.t, r.C, 5),
        FA(r.t, n, 6), opt(r.dg, r.t, r.C, 7), opt(r.db, r.t, r.C, 8)],
      needsOf('batchNormBackward', { x: n, dy: n, gamma: r.g ? r.C : 0, mean: r.C, invStd: r.C, dx: n, dgamma: r.dg ? r.C : 0, dbeta: r.db ? r.C : 0 }));
    }),
    batchNormBackwardInference: r0.map((r) => {
      const M = r.M0 ? 0 : r.M, n = M * r.C;
      return spec('batchNormBackwardInference', [N(M), N(r.C), FA(r.t, n), FA(r.t, n, 2), opt(r.g, r.t, r.C, 3), FA(r.t, r.C, 4), pos(r.t, r.C, 5),
        N(1e-3), FA(r.t, n, 6), opt(r.dg, r.t, r.C, 7), opt(r.db, r.t, r.C, 8)],
      needsOf('batchNormBackwardInference', { x: n, dy: n, gamma: r.g ? r.C : 0, movingMean: r.C, movingVar: r.C, dx: n, dgamma: r.dg ? r.C : 0, dbeta: r.db ? r.C : 0 }));
    }),
  };
}

/** Elements of the RNN workspace: native/cpu/rnn.cc's Layout, replicated. */
function rnnWorkspace(c) {
  const lstm = c.cell === 'lstm', gru = c.cell === 'gru', ra = gru && c.resetAfter;
  const G = lstm ? 4 : gru ? 3 : 1, GU = G * c.U, M = c.N * c.T, MU = M * c.U, NU = c.N * c.U;
  return M * GU + MU + (lstm || gru ? MU : 0) + (gru ? MU : 0) + NU + (lstm ? NU : 0) + (ra ? c.N * GU : 0) + // forward part
    (ra ? M * GU : 0) + NU + (lstm ? NU : 0) + (gru ? NU : 0) + c.N * GU + (ra ? c.N * GU : 0); // backward scratch (dgates over the gates)
}

function rnnBases() {
  const r0 = fc.record({
    t: ty, cell: fc.constantFrom(...RNN_CELLS), N: small(0, 2), T: small(0, 3), In: small(0, 3), U: small(0, 3),
    act: fc.constantFrom(...RNN_ACTIVATIONS), rac: fc.constantFrom(...RNN_ACTIVATIONS), ra: fc.boolean(), gb: fc.boolean(), zo: fc.boolean(),
    opt: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), rm: fc.integer({ min: 0, max: 2 }),
  }).map((r) => {
    const fields = { cell: r.cell, N: r.N, T: r.T, In: r.In, U: r.U, activation: r.act, recurrentActivation: r.rac,
      resetAfter: r.ra, goBackwards: r.gb, zeroOutputForMask: r.zo };
    const lstm = r.cell === 'lstm', G = lstm ? 4 : r.cell === 'gru' ? 3 : 1, GU = G * r.U;
    const z = {
      x: r.N * r.T * r.In, W: r.In * GU, R: r.U * GU, b: (r.cell === 'gru' && r.ra ? 2 : 1) * GU, st: r.N * r.U,
      y: r.N * r.T * r.U, mask: r.N * r.T, ws: rnnWorkspace(fields),
    };
    const cfg = { t: 'geom', fields, rnn: true, enums: { cell: RNN_CELLS, activation: RNN_ACTIVATIONS, recurrentActivation: RNN_ACTIVATIONS } };
    return { r, cfg, z, lstm };
  });
  const opt = (present, t, n, seed) => (present ? FA(t, n, seed) : NULL);
  const mask = (present, n) => (present ? { t: 'ta', ty: 'u8', len: n, fill: { k: 'mod', m: 2, lo: 0 }, mem: 'plain' } : NULL);
  return {
    rnnWorkspaceSize: r0.map(({ cfg }) => spec('rnnWorkspaceSize', [cfg], {})),
    rnnForward: r0.map(({ r, cfg, z, lstm }) => {
      const o = r.opt, c0 = lstm && o[2], cT = lstm && o[5];
      return spec('rnnForward', [cfg, FA(r.t, z.x), FA(r.t, z.W, 2), FA(r.t, z.R, 3), opt(o[0], r.t, z.b, 4), opt(o[1], r.t, z.st, 5),
        opt(c0, r.t, z.st, 6), mask(o[3], z.mask), FA(r.t, z.y, 7), opt(o[4], r.t, z.st, 8), opt(cT, r.t, z.st, 9), FA(r.t, z.ws, 10),
        ...(r.rm === 0 ? [] : [opt(r.rm === 2, r.t, z.st, 11)])],
      needsOf('rnnForward', { x: z.x, W: z.W, R: z.R, b: o[0] ? z.b : 0, h0: o[1] ? z.st : 0, c0: c0 ? z.st : 0, mask: o[3] ? z.mask : 0,
        y: z.y, hT: o[4] ? z.st : 0, cT: cT ? z.st : 0, workspace: z.ws, ...(r.rm === 2 ? { recurrentMask: z.st } : {}) }));
    }),
    rnnBackward: r0.map(({ r, cfg, z, lstm }) => {
      const o = r.opt, dcT = lstm && o[3], dc0 = lstm && o[6];
      return spec('rnnBackward', [cfg, FA(r.t, z.x), FA(r.t, z.W, 2), FA(r.t, z.R, 3), mask(o[0], z.mask), opt(o[1], r.t, z.y, 4),
        opt(o[2], r.t, z.st, 5), opt(dcT, r.t, z.st, 6), FA(r.t, z.ws, 7), opt(o[4], r.t, z.x, 8), opt(o[5], r.t, z.st, 9),
        opt(dc0, r.t, z.st, 10), FA(r.t, z.W, 11), FA(r.t, z.R, 12), opt(o[7], r.t, z.b, 13),
        ...(r.rm === 0 ? [] : [opt(r.rm === 2, r.t, z.st, 14)])],
      needsOf('rnnBackward', { x: z.x, W: z.W, R: z.R, mask: o[0] ? z.mask : 0, dy: o[1] ? z.y : 0, dhT: o[2] ? z.st : 0,
        dcT: dcT ? z.st : 0, workspace: z.ws, dx: o[4] ? z.x : 0, dh0: o[5] ? z.st : 0, dc0: dc0 ? z.st : 0, dW: z.W, dR: z.R,
        db: o[7] ? z.b : 0, ...(r.rm === 2 ? { recurrentMask: z.st } : {}) }));
    }),
  };
}

// ---- execution plans (planBegin ... planCancel) ---------------------------------------------
// A plan call's spec carries `plan`: the fixture that the child records first (plans.js: a
// unary, a gemm or a gemm + relu on fresh arrays), the seed of its arrays, and the state the
// child sets up before the call (an open recording, queued runs). The arguments are specs of
// their own kinds: {t: 'plan', which} (the fixture's plan, 'same': another plan of the same
// fixture, 'other': a plan of other sizes), {t: 'runtok', which} (a planRunAsync token),
// {t: 'list', items} (an Array of typed arrays), {t: 'wpack', items, src} (planRunAsync's
// weights: the child calls planWeights on these arrays; src: what it does to them after, see
// wsource), {t: 'fx', role, k} (one of the arrays the fixture recorded, for planEnd),
// {t: 'done'} (a callback the child watches). The child judges
// these calls by the contract it works out from the real arguments (plan-oracle.js): byte
// sizes, types, overlaps, getters that fired. So the plan mutations below only say what they
// changed; spec.refuse is kept for the generic wrongType and argCount.
function planBases() {
  const seed = fc.nat({ max: 100000 });
  const runFixture = fc.record({
    kind: fc.constantFrom('unary', 'gemm', 'chain'), ty, op: fc.constantFrom(...UNARY_OPS), n: small(1, 8),
    M: small(1, 4), N: small(1, 4), K: small(1, 4), bias: fc.boolean(), act: small(0, 2), extra: fc.boolean(), wIn: fc.boolean(),
    refusal: fc.constantFrom(null, null, null, null, null, 'outputIsInput'),
  });
  // planEnd also sees empty arrays and recordings it must refuse
  const endFixture = fc.record({
    kind: fc.constantFrom('unary', 'gemm', 'chain'), ty, op: fc.constantFrom(...UNARY_OPS), n: small(0, 8),
    M: small(0, 4), N: small(0, 4), K: small(0, 4), bias: fc.boolean(), act: small(0, 2), extra: fc.boolean(), wIn: fc.boolean(),
    refusal: fc.constantFrom(null, null, null, null, 'beta', 'unrecordable', 'inputWritten', 'notWritten', 'planRan', 'jsBetween',
      'outputIsInput'),
  }).map((f) => {
    const fits = { beta: f.kind !== 'unary', jsBetween: f.kind === 'chain', inputWritten: f.kind === 'unary' };
    return fits[f.refusal] === false ? { ...f, refusal: null } : f;
  });
  const bound = (f, sd) => {
    const io = fixtureIO(f);
    return [
      { t: 'list', items: io.inputs.map((n, k) => FA(f.ty, n, sd + 11 + k)) },
      { t: 'list', items: io.weights.map((n, k) => FA(f.ty, n, sd + 21 + k)) },
      { ...FA(f.ty, io.output, sd + 31), fill: { k: 'const', v: 0 } },
    ];
  };
  const MAIN = { t: 'plan', which: 'main' };
  return {
    planBegin: fc.constant(spec('planBegin', [], {}, { plan: { open: false } })),
    planAbort: fc.boolean().map((open) => spec('planAbort', [], {}, { plan: { open } })),
    planEnd: fc.record({ fix: endFixture, sd: seed }).map(({ fix, sd }) => {
      const io = fixtureIO(fix);
      const empty = [fix.n, fix.M, fix.N, fix.K].some((v, i) => v === 0 && (fix.kind === 'unary' ? i === 0 : i > 0));
      const expect = empty ? null : fix.refusal === null || fix.refusal === 'outputIsInput';
      return spec('planEnd', [{ t: 'list', items: io.inputs.map((_, k) => ({ t: 'fx', role: 'inputs', k })) },
        { t: 'list', items: io.weights.map((_, k) => ({ t: 'fx', role: 'weights', k })) }, { t: 'fx', role: 'output' }], {},
      { plan: { fix, seed: sd, expect } });
    }),
    planInfo: fc.record({ fix: runFixture, sd: seed }).map(({ fix, sd }) => spec('planInfo', [MAIN], {}, { plan: { fix, seed: sd } })),
    planRun: fc.record({ fix: runFixture, sd: seed })
      .map(({ fix, sd }) => spec('planRun', [MAIN, ...bound(fix, sd)], {}, { plan: { fix, seed: sd } })),
    // the weights: mostly those of the fixture's plan; sometimes arrays of any sizes and types.
    // spoil: what the child does to the arrays once planWeights returned, before it runs the
    // fixture's plan with the handle (the run must use the bytes copied at the call)
    planWeights: fc.record({
      fix: runFixture, sd: seed, any: fc.constantFrom(false, false, false, true), spoil: fc.constantFrom('overwrite', 'detach', 'none'),
      items: fc.array(fc.record({ t: fc.constantFrom('f32', 'f64', 'i32', 'u8'), n: small(0, 6) }), { maxLength: 3 }),
    }).map(({ fix, sd, any, spoil, items }) => {
      const list = any ? items.map((x, k) => (x.t === 'i32' || x.t === 'u8' ? { ...I32(x.n, 100), ty: x.t } : FA(x.t, x.n, sd + 41 + k)))
        : bound(fix, sd)[1].items;
      return spec('planWeights', [{ t: 'list', items: list }], {}, { plan: { fix, seed: sd, spoil } });
    }),
    planRunAsync: fc.record({ fix: runFixture, sd: seed })
      .map(({ fix, sd }) => {
        const [ins, ws, out] = bound(fix, sd);
        return spec('planRunAsync', [MAIN, ins, { t: 'wpack', items: ws.items }, out, { t: 'done' }], {}, { plan: { fix, seed: sd } });
      }),
    // state: the run's token when planCancel is called: just queued, completed (its done ran),
    // or cancelled once already; busy: libuv pool threads kept busy first, so the run waits
    planCancel: fc.record({ fix: runFixture, sd: seed, busy: fc.constantFrom(0, 4, 4), state: fc.constantFrom('queued', 'queued', 'completed', 'cancelledOnce') })
      .map(({ fix, sd, busy, state }) => spec('planCancel', [{ t: 'runtok', which: 'target' }], {}, { plan: { fix, seed: sd, busy, state } })),
  };
}

// ---- mutations ------------------------------------------------------------------------------
const WRONG = [{ t: 'undef' }, NULL, B(true), S('3'), { t: 'obj' }, { t: 'plain', v: [1, 2, 3] }, { t: 'big' }, { t: 'sym' }, { t: 'fn' },
  N(3), { t: 'ta', ty: 'u8', len: 4, fill: { k: 'const', v: 0 }, mem: 'plain' }, { t: 'ta', ty: 'f32', len: 4, fill: { k: 'const', v: 0 }, mem: 'plain' },
  { t: 'ta', ty: 'i32', len: 4, fill: { k: 'const', v: 0 }, mem: 'plain' }, { t: 'ta', ty: 'dv', len: 16, mem: 'plain' },
  { t: 'ta', ty: 'ab', len: 16, mem: 'plain' }, { t: 'ta', ty: 'bi64', len: 2, mem: 'plain' }, { t: 'ta', ty: 'u32', len: 4, mem: 'plain' }];
const BAD_SIZES = [-1, NaN, 0.5, Infinity, -Infinity, 2 ** 53, 2 ** 64, -(2 ** 31), 1e300];
const HUGE_SIZES = [MAXSAFE, 2 ** 31, 2 ** 32, 2 ** 31 - 1, 2 ** 32 + 1, 2 ** 40, MAXSAFE - 1];
const BAD_NUMS = [NaN, Infinity, -Infinity, 1e308, -0, 5e-324];
const MEMS = ['sab', 'gsab', 'rab', 'rab-track', 'offset'];
const GETTER_ACTS = ['detach', 'detach-free', 'shrink', 'shrink-track', 'throw', 'pop', 'grow-shape'];

const isArraySpec = (a) => a && (a.t === 'ta' || a.t === 'alias');
const sigArg = (s, i) => SIGNATURES[s.fn].args[i];
const pick = (xs, n) => xs[n % xs.length];

function arrayArgs(s) {
  const r = [];
  s.args.forEach((a, i) => { if (isArraySpec(a) && ['fa', 'i32', 'any', 'u8'].includes(sigArg(s, i)?.kind)) r.push(i); });
  return r;
}
function argsOfKind(s, kinds) {
  const r = [];
  s.args.forEach((a, i) => { const k = sigArg(s, i)?.kind; if (kinds.includes(k)) r.push(i); });
  return r;
}
// `at`: 'count', an argument index ('3': the whole value) or an aspect of one ('3:len', '3:mem')
function refuse(s, at, why, sized = false) { s.refuse.push({ at: String(at), why, sized }); }
function clearAt(s, at) { const k = String(at); s.refuse = s.refuse.filter((r) => r.at !== k && !r.at.startsWith(k + ':')); }

function setLen(a, len) {
  if (a.t === 'ta') a.len = len;
  else if (a.t === 'alias') a.len = len;
}

// Each mutation: (spec, a, b, c) => true if it applied. They edit the spec in place.
const MUTATIONS = {
  wrongType(s, a, b) {
    if (s.args.length === 0) return false;
    const i = a % s.args.length, sa = sigArg(s, i);
    if (!sa) return false;
    const v = structuredClone(pick(WRONG, b));
    // values that this parameter accepts are not wrong types
    const accepts = (x) => {
      // the plan exports' kinds: a plan / a run token / an Array of typed arrays (none of these
      // values is one), any typed array (its byte size decides), a function
      if (sa.kind === 'plan' || sa.kind === 'run' || sa.kind === 'list' || sa.kind === 'wpack') return false;
      if (sa.kind === 'bytes') return x.t === 'ta' && x.ty !== 'dv' && x.ty !== 'ab' ? null : false;
      if (sa.kind === 'fn') return x.t === 'fn';
      if (x.t === 'undef') return sa.optional;
      if (x.t === 'null') return sa.nullable;
      if (x.t === 'num') return ['size', 'num', 'finite', 'seconds'].includes(sa.kind);
      if (x.t === 'bool') return sa.kind === 'bool';
      if (x.t === 'str') return sa.kind === 'enum' && sa.values.includes(x.v);
      if (x.t === 'plain') return sa.kind === 'shape';
      if (x.t === 'obj') return sa.kind === 'conv' || sa.kind === 'pool' || sa.kind === 'rnn' ? null : false; // {} lacks fields: refused anyway
      if (x.t === 'ta' && x.ty === 'u8') return sa.kind === 'u8' ? null : false;
      if (x.t === 'ta' && x.ty === 'f32') return sa.kind === 'fa' || sa.kind === 'any' ? null : false;
      if (x.t === 'ta' && x.ty === 'i32') return sa.kind === 'i32' || sa.kind === 'any' ? null : false;
      return false;
    };
    const acc = accepts(v);
    if (acc === true) return false;
    clearAt(s, i);
    s.args[i] = v;
    s.muts.push(`wrongType ${sa.name} -> ${describe(v)}`);
    if (acc === false) refuse(s, i, `argument '${sa.name}' has a wrong type (${describe(v)})`);
    else s.sizeMutated = true; // a right-typed array of another length: lengths decide
    return true;
  },
  argCount(s, a) {
    const [min, max] = require('./signatures').argCount(s.fn);
    if (a % 2 === 0) {
      if (s.args.length === 0) return false;
      s.args.pop();
      clearAt(s, s.args.length);
      clearAt(s, 'count');
      // an alias of the argument just dropped becomes an array of its own
      s.args.forEach((x, i) => {
        if (x && x.t === 'alias' && x.of >= s.args.length) s.args[i] = { t: 'ta', ty: x.ty, len: x.len, fill: { k: 'rand', s: i + 1 }, mem: 'plain' };
      });
      s.muts.push(`argCount ${s.args.length}`);
      if (s.args.length < min) refuse(s, 'count', `${s.args.length} arguments, fewer than ${min}`);
    } else {
      s.args.push(N(0));
      clearAt(s, 'count');
      s.muts.push(`argCount ${s.args.length}`);
      if (s.args.length > max) refuse(s, 'count', `${s.args.length} arguments, more than ${max}`);
      else s.sizeMutated = true;
    }
    return true;
  },
  badSize(s, a, b) {
    const sizes = argsOfKind(s, ['size']);
    if (!sizes.length) return false;
    const i = pick(sizes, a), sa = sigArg(s, i);
    const v = b % 5 === 0 && sa.min > 0 ? 0 : pick(BAD_SIZES, b);
    clearAt(s, i);
    s.args[i] = N(v);
    s.muts.push(`badSize ${sa.name} = ${v}`);
    refuse(s, i, `size '${sa.name}' = ${v} is not a valid size`);
    s.sizeMutated = true;
    return true;
  },
  hugeSize(s, a, b) {
    const sizes = argsOfKind(s, ['size']);
    if (!sizes.length) return false;
    const i = pick(sizes, a);
    clearAt(s, i);
    s.args[i] = N(pick(HUGE_SIZES, b));
    s.muts.push(`hugeSize ${sigArg(s, i).name} = ${s.args[i].v}`);
    s.sizeMutated = true;
    return true;
  },
  hugeTimesZero(s, a, b, c) {
    const sizes = argsOfKind(s, ['size']);
    if (sizes.length >= 2) {
      const i = pick(sizes, a);
      const others = sizes.filter((j) => j !== i);
      const j = pick(others, c);
      clearAt(s, i);
      clearAt(s, j);
      s.args[i] = N(pick([MAXSAFE, 2 ** 31, 2 ** 32, 2 ** 40], b));
      s.args[j] = N(0);
      s.muts.push(`hugeTimesZero ${sigArg(s, i).name} = ${s.args[i].v}, ${sigArg(s, j).name} = 0`);
      s.sizeMutated = true;
      return true;
    }
    const geos = s.args.map((x, i) => i).filter((i) => s.args[i] && s.args[i].t === 'geom');
    if (!geos.length) return false;
    const geo = pick(geos, a);
    const f = s.args[geo].fields;
    // the zeroed size: N for a geometry (for every geometry of the call: conv2dMaxPool2dForward's
    // two share it); any of N, T, In, U for an RNN config
    const zero = s.args[geo].rnn ? pick(['N', 'T', 'In', 'U'], a + b) : 'N';
    const keys = Object.keys(f).filter((k) => k !== zero && typeof f[k] === 'number');
    for (const j of s.args[geo].rnn ? [geo] : geos) {
      s.args[j].fields[zero] = 0;
      clearAt(s, j);
      delete s.args[j].bad;
      delete s.args[j].omit;
    }
    const k = pick(keys, c);
    f[k] = pick([MAXSAFE, 2 ** 31, 2 ** 32, 2 ** 40], b);
    s.muts.push(`hugeTimesZero geometry ${geos.length > 1 ? `${sigArg(s, geo).name}.` : ''}${zero} = 0, ${k} = ${f[k]}`);
    s.sizeMutated = true;
    return true;
  },
  sizeEdge(s, a, b) {
    const sizes = argsOfKind(s, ['size']);
    if (!sizes.length) return false;
    const i = pick(sizes, a);
    const old = typeof s.args[i].v === 'number' ? s.args[i].v : 0;
    const v = pick([0, old + 1, Math.max(0, old - 1), 1], b);
    clearAt(s, i);
    s.args[i] = N(v);
    s.muts.push(`sizeEdge ${sigArg(s, i).name} = ${v}`);
    if (v < sigArg(s, i).min) refuse(s, i, `size '${sigArg(s, i).name}' = ${v} is below ${sigArg(s, i).min}`);
    s.sizeMutated = true;
    return true;
  },
  arrayLength(s, a, b) {
    const arrs = arrayArgs(s).filter((i) => s.args[i].t === 'ta');
    if (!arrs.length) return false;
    const i = pick(arrs, a), need = s.needs[i] ?? 0, name = sigArg(s, i).name;
    const d = pick([-1, +1, 'zero', -2], b);
    const len = d === 'zero' ? 0 : Math.max(0, s.args[i].len + d);
    if (len === s.args[i].len) return false;
    setLen(s.args[i], len);
    clearAt(s, `${i}:len`);
    s.muts.push(`arrayLength ${name} = ${len} (needs ${need})`);
    // (exactLen functions: the child checks that the lengths still agree)
    if (len < need && !SIGNATURES[s.fn].exactLen) refuse(s, `${i}:len`, `array '${name}' has ${len} elements, needs ${need}`, true);
    return true;
  },
  memory(s, a, b) {
    const arrs = arrayArgs(s).filter((i) => s.args[i].t === 'ta');
    if (!arrs.length) return false;
    const i = pick(arrs, a);
    const m = pick(MEMS, b);
    if (m === 'offset') s.args[i].off = 1 + (b % 3);
    else { s.args[i].mem = m; clearAt(s, `${i}:mem`); }
    s.muts.push(`memory ${sigArg(s, i).name} on ${m}`);
    return true;
  },
  detachedBefore(s, a) {
    const arrs = arrayArgs(s).filter((i) => s.args[i].t === 'ta');
    if (!arrs.length) return false;
    const i = pick(arrs, a);
    clearAt(s, `${i}:mem`);
    s.args[i].mem = 'detached';
    s.muts.push(`detachedBefore ${sigArg(s, i).name}`);
    if ((s.needs[i] ?? 0) > 0 && !SIGNATURES[s.fn].exactLen) refuse(s, `${i}:mem`, `array '${sigArg(s, i).name}' is detached`, true);
    return true;
  },
  getter(s, a, b, c) {
    const holders = argsOfKind(s, ['shape', 'conv', 'pool', 'rnn']).filter((i) => s.args[i] && (s.args[i].t === 'shape' || s.args[i].t === 'geom'));
    if (!holders.length) return false;
    const h = pick(holders, a);
    const holder = s.args[h];
    const keys = holder.t === 'shape' ? holder.dims.map((_, k) => k) : Object.keys(holder.fields);
    if (!keys.length) return false;
    const at = pick(keys, c);
    let act = pick(GETTER_ACTS, b);
    if (holder.t === 'geom' && (act === 'pop' || act === 'grow-shape')) act = 'detach';
    const arrs = arrayArgs(s);
    let target = null;
    if (act.startsWith('detach') || act.startsWith('shrink')) {
      if (!arrs.length) return false;
      target = pick(arrs, c + b);
      let base = target;
      while (s.args[base].t === 'alias') base = s.args[base].of;
      clearAt(s, `${base}:mem`); // its memory kind is replaced below: earlier reasons go
      if (act.startsWith('shrink')) s.args[base].mem = act === 'shrink' ? 'rab' : 'rab-track';
      else if (s.args[base].mem === 'sab' || s.args[base].mem === 'gsab' || s.args[base].mem === 'race') s.args[base].mem = 'plain';
      if (act !== 'detach') s.args[base].pad = Math.max(s.args[base].pad || 0, BIG_PAD); // freed/decommitted pages fault
      if (act === 'shrink-track') act = 'shrink';
    }
    clearAt(s, `${h}:getter`); // a holder has one getter: a replaced one's reasons go with it
    holder.getter = { at, act, target };
    s.muts.push(`getter ${sigArg(s, h).name}[${at}] ${act}${target !== null ? ' ' + sigArg(s, target).name : ''}`);
    if (act === 'pop' && typeof at === 'number' && at < holder.dims.length - 1) refuse(s, `${h}:getter`, `shape '${sigArg(s, h).name}' shrinks while read`, true);
    if (act === 'grow-shape') s.sizeMutated = true; // (the binding read the length before)
    return true;
  },
  shapeElement(s, a, b, c) {
    const holders = s.args.map((x, i) => i).filter((i) => s.args[i] && (s.args[i].t === 'shape' || s.args[i].t === 'geom'));
    if (!holders.length) return false;
    const h = pick(holders, a), holder = s.args[h], name = sigArg(s, h).name;
    const vals = [{ v: N(-1), bad: true }, { v: N(NaN), bad: true }, { v: N(1.5), bad: true }, { v: S('2'), bad: true }, { v: NULL, bad: true },
      { v: N(2 ** 53), bad: true }, { v: N(2 ** 31), bad: false }, { v: N(MAXSAFE), bad: false }, { v: N(0), bad: null }, { v: { t: 'undef' }, bad: true }];
    const choice = pick(vals, b);
    if (holder.t === 'shape') {
      if (c % 7 === 6) { // too long, or a hole
        if (c % 2) { holder.dims = [...holder.dims, ...Array(9 - holder.dims.length).fill(1)]; refuse(s, h, `shape '${name}' has rank 9`); s.muts.push(`shapeElement ${name} rank 9`); }
        else { holder.hole = holder.dims.length; holder.dims = [...holder.dims, 1]; refuse(s, h, `shape '${name}' has a hole`); s.muts.push(`shapeElement ${name} hole`); }
        s.sizeMutated = true;
        return true;
      }
      if (!holder.dims.length) return false;
      const k = c % holder.dims.length;
      clearAt(s, `${h}:bad`); // one bad element per holder: a replaced one's reasons go with it
      holder.bad = { at: k, v: choice.v };
      s.muts.push(`shapeElement ${name}[${k}] = ${describe(choice.v)}`);
      if (choice.bad) refuse(s, `${h}:bad`, `shape '${name}[${k}]' = ${describe(choice.v)}`);
    } else {
      const keys = Object.keys(holder.fields);
      const k = pick(keys, c);
      if (b % 11 === 10) { clearAt(s, `${h}:omit`); holder.omit = k; s.muts.push(`geometry omit ${k}`); refuse(s, `${h}:omit`, `geometry.${k} missing`); s.sizeMutated = true; return true; }
      clearAt(s, `${h}:bad`);
      // an RNN config's names and booleans accept none of these values; its sizes may be 0
      const notSize = holder.rnn && typeof holder.fields[k] !== 'number';
      holder.bad = { key: k, v: choice.v };
      s.muts.push(`geometry ${k} = ${describe(choice.v)}`);
      const lo = holder.rnn || ['N', 'padTop', 'padLeft'].includes(k) ? 0 : 1;
      if (choice.bad || notSize || (choice.v.t === 'num' && choice.v.v < lo)) refuse(s, `${h}:bad`, `geometry.${k} = ${describe(choice.v)}`);
    }
    s.sizeMutated = true;
    return true;
  },
  geometryProxy(s, a) {
    const hs = s.args.map((x, i) => i).filter((i) => s.args[i] && s.args[i].t === 'geom');
    if (!hs.length) return false;
    const h = pick(hs, a);
    s.args[h].proxy = true;
    s.muts.push(`geometry ${hs.length > 1 ? `${sigArg(s, h).name} ` : ''}is a Proxy`);
    return true;
  },
  opName(s, a, b) {
    const strs = argsOfKind(s, ['enum']).filter((i) => s.args[i] && s.args[i].t === 'str');
    const cfg = s.args.findIndex((x) => x && x.t === 'geom' && x.enums);
    if (!strs.length && cfg >= 0) { // a name inside an RNN config object
      const holder = s.args[cfg], keys = Object.keys(holder.enums), k = pick(keys, a);
      if (holder.bad && holder.bad.key === k) return false;
      const name = holder.fields[k];
      if (typeof name !== 'string') return false;
      const v = pick([`${name}\0junk`, `${name}\0`, `\0${name}`, '', name.toUpperCase(), `${name} `, 'x'.repeat(100000), `${name}\u00e9`, name.slice(0, -1)], b);
      if (v === name) return false;
      holder.fields[k] = v;
      clearAt(s, `${cfg}:name:${k}`); // a second rename of the same field replaces the first
      s.muts.push(`opName cfg.${k} = ${JSON.stringify(v.length > 40 ? v.slice(0, 20) + '...' : v)}`);
      if (!holder.enums[k].includes(v)) refuse(s, `${cfg}:name:${k}`, `cfg.${k} '${JSON.stringify(v).slice(0, 40)}' is not a known name${v.includes('\0') ? ' (embedded NUL)' : ''}`);
      return true;
    }
    if (!strs.length) return false;
    const i = pick(strs, a), name = s.args[i].v, sa = sigArg(s, i);
    const v = pick([`${name}\0junk`, `${name}\0`, `\0${name}`, '', name.toUpperCase(), `${name} `, 'x'.repeat(100000), `${name}\u00e9`, name.slice(0, -1)], b);
    if (v === name) return false;
    clearAt(s, i);
    s.args[i] = S(v);
    s.muts.push(`opName ${sa.name} = ${JSON.stringify(v.length > 40 ? v.slice(0, 20) + '...' : v)}`);
    if (!sa.values.includes(v)) refuse(s, i, `${sa.name} '${JSON.stringify(v).slice(0, 40)}' is not a known name${v.includes('\0') ? ' (embedded NUL)' : ''}`);
    return true;
  },
  overlap(s, a, b, c) {
    const real = (i) => s.args[i].t === 'ta' && ['f32', 'f64', 'i32', 'u8'].includes(s.args[i].ty);
    const outs = arrayArgs(s).filter((i) => sigArg(s, i).out && real(i));
    const all = arrayArgs(s).filter(real);
    if (!outs.length || all.length < 2) return false;
    const o = pick(outs, a);
    const others = all.filter((j) => j !== o);
    const j = pick(others, c);
    const src = s.args[j], dst = s.args[o];
    // shift 0 with the same length is the very same view; other shifts overlap partly
    const shift = pick([0, 0, 1, -1, 2], b);
    const bpe = (t) => (t === 'f64' ? 8 : t === 'u8' ? 1 : 4);
    const bpeDst = bpe(dst.ty), bpeSrc = bpe(src.ty);
    const len = dst.len;
    let start = shift; // in dst elements, from src's start
    if (start < 0) { src.off = Math.max(src.off || 0, Math.ceil((-start * bpeDst) / bpeSrc)); }
    const endBytes = (start * bpeDst) + len * bpeDst;
    const haveBytes = src.len * bpeSrc + (src.pad || 0) * bpeSrc;
    if (endBytes > haveBytes) src.pad = Math.ceil((endBytes - src.len * bpeSrc) / bpeSrc) + 1;
    clearAt(s, o);
    s.args[o] = { t: 'alias', of: j, shift: start, len, ty: dst.ty };
    s.muts.push(`overlap ${sigArg(s, o).name} = ${sigArg(s, j).name}${start ? ` shifted by ${start}` : ''}`);
    return true;
  },
  race(s, a, b) {
    // an argmax index array on a SharedArrayBuffer that a worker flips between a valid and an
    // invalid index while the call runs (check, then use)
    if (s.fn !== 'maxPool2dBackward' && s.fn !== 'globalPool2dBackward') return false;
    const i = idx(s.fn, 'argmax');
    const arg = s.args[i];
    if (!arg || arg.t !== 'ta' || arg.ty !== 'i32' || !(s.needs[i] > 0)) return false;
    clearAt(s, `${i}:mem`);
    arg.mem = 'race';
    arg.race = { idx: a % s.needs[i], bad: pick([2 ** 31 - 1, -(2 ** 31), s.argmaxLimit, 1 << 24], b) };
    s.repeat = 200;
    s.muts.push(`race argmax[${arg.race.idx}] <-> ${arg.race.bad}`);
    return true;
  },
  badIndex(s, a, b) {
    if (s.argmaxLimit === undefined) return false;
    const i = idx(s.fn, 'argmax');
    const arg = s.args[i];
    if (!arg || arg.t !== 'ta' || !(s.needs[i] > 0)) return false;
    const v = pick([s.argmaxLimit, s.argmaxMin - 1, 2 ** 31 - 1, -(2 ** 31)], b);
    arg.poke = { at: a % s.needs[i], v };
    s.muts.push(`badIndex argmax[${arg.poke.at}] = ${v}`);
    refuse(s, i, `argmax[${arg.poke.at}] = ${v} is outside the image`, true);
    return true;
  },
  number(s, a, b) {
    const nums = argsOfKind(s, ['num', 'finite', 'seconds', 'bool']);
    if (!nums.length) return false;
    const i = pick(nums, a), sa = sigArg(s, i);
    if (sa.kind === 'bool') {
      const v = pick([N(0), N(1), S('true'), NULL, { t: 'undef' }], b);
      clearAt(s, i);
      s.args[i] = v;
      s.muts.push(`number ${sa.name} = ${describe(v)}`);
      refuse(s, i, `boolean '${sa.name}' = ${describe(v)}`);
      return true;
    }
    const v = sa.kind === 'seconds' ? pick([NaN, Infinity, 0, -1, 11, 1e-9, -0], b) : pick(BAD_NUMS, b);
    clearAt(s, i);
    s.args[i] = N(v);
    s.muts.push(`number ${sa.name} = ${v}`);
    const fin = Number.isFinite(v);
    if ((sa.kind === 'finite' && !fin) || (sa.positive && !(v > 0)) || (sa.kind === 'seconds' && !(v > 0 && v <= 10))) {
      refuse(s, i, `number '${sa.name}' = ${v}`);
    }
    return true;
  },
  floats(s, a, b) {
    const arrs = arrayArgs(s).filter((i) => s.args[i].t === 'ta' && s.args[i].ty !== 'i32' && s.args[i].ty !== 'u8');
    if (!arrs.length) return false;
    const i = pick(arrs, a);
    s.args[i].fill = { k: 'special', s: b };
    s.muts.push(`floats ${sigArg(s, i).name} NaN/Inf/huge`);
    return true;
  },
};
const MUTATION_NAMES = Object.keys(MUTATIONS);
// how often each is drawn (the ones that reach deep in the binding more often)
const WEIGHTS = {
  wrongType: 2, argCount: 1, badSize: 2, hugeSize: 2, hugeTimesZero: 3, sizeEdge: 2, arrayLength: 3, memory: 2, detachedBefore: 1,
  getter: 4, shapeElement: 2, geometryProxy: 1, opName: 2, overlap: 4, race: 2, badIndex: 1, number: 2, floats: 1,
};

function describe(v) {
  switch (v.t) {
    case 'num': return `number ${v.v}`;
    case 'str': return `string ${JSON.stringify(v.v).slice(0, 30)}`;
    case 'ta': return `${v.ty}(${v.len})`;
    default: return v.t;
  }
}

const mutationArb = fc.record({
  kind: fc.oneof(...MUTATION_NAMES.map((k) => ({ arbitrary: fc.constant(k), weight: WEIGHTS[k] }))),
  a: fc.nat({ max: 1000 }), b: fc.nat({ max: 1000 }), c: fc.nat({ max: 1000 }),
});
const mutationsArb = fc.oneof({ arbitrary: fc.constant([]), weight: 1 }, { arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 1 }), weight: 5 },
  { arbitrary: fc.array(mutationArb, { minLength: 2, maxLength: 2 }), weight: 4 });

// ---- mutations of plan calls ----------------------------------------------------------------
// planArgs(spec, a, b, c) changes one thing of a plan call (see planBases); the child works out
// what the contract then requires.
const PBPE = { f32: 4, f64: 8, i32: 4, u8: 1 };
const BAD_ITEMS = [{ t: 'obj' }, N(1), NULL, { t: 'undef' }, { t: 'ta', ty: 'dv', len: 16, mem: 'plain' }, { t: 'ta', ty: 'ab', len: 16, mem: 'plain' },
  { t: 'plain', v: [1, 2] }, S('x'), { t: 'fn' }, { t: 'big' }, { t: 'sym' },
  // typed arrays of types AnyTypedArray does not list
  { t: 'ta', ty: 'u32', len: 4, mem: 'plain' }, { t: 'ta', ty: 'i8', len: 8, mem: 'plain' }, { t: 'ta', ty: 'bi64', len: 2, mem: 'plain' }];
const BAD_PLANS = [{ t: 'obj' }, FA('f32', 4), { t: 'runtok', which: 'extra' }, { t: 'plan', which: 'other' }, { t: 'plan', which: 'same' }, NULL,
  { t: 'undef' }, N(1), S('plan'), { t: 'fn' }, { t: 'ta', ty: 'u8', len: 8, fill: { k: 'const', v: 0 }, mem: 'plain' }];
const BAD_RUNS = [{ t: 'plan', which: 'main' }, { t: 'obj' }, FA('f32', 4), NULL, { t: 'undef' }, N(1), { t: 'runtok', which: 'extra' }, { t: 'fn' },
  S('run')];
const BAD_DONE = [N(1), NULL, { t: 'undef' }, { t: 'obj' }, S('done'), FA('f32', 1)];
const PLAN_GETTER_ACTS = ['detach', 'detach-free', 'shrink', 'throw'];
const PLAN_MEMS = ['sab', 'gsab', 'rab', 'rab-track', 'offset', 'u8odd'];

const listIdx = (s) => s.args.map((x, i) => i).filter((i) => s.args[i] && s.args[i].t === 'list');
/** [listIndex, itemIndex] of every typed-array spec in the call's lists. */
function listItems(s) {
  const r = [];
  for (const li of listIdx(s)) s.args[li].items.forEach((x, k) => { if (x && x.t === 'ta') r.push([li, k]); });
  return r;
}
/** [2, k] of every typed-array spec that planRunAsync's weights handle is made of. */
function wpItems(s) {
  const w = s.args[2];
  return w && w.t === 'wpack' ? w.items.map((x, k) => (x && x.t === 'ta' ? [2, k] : null)).filter(Boolean) : [];
}
const outIdx = (s) => (s.fn === 'planEnd' ? 2 : 3);
/** The call's typed arrays: list items and weights-handle sources as [li, k], the output as its index. */
function planArrays(s) {
  const r = [...listItems(s), ...wpItems(s)];
  const o = outIdx(s);
  if (s.args[o] && s.args[o].t === 'ta' && s.fn !== 'planEnd') r.push(o);
  return r;
}
const taAt = (s, where) => (Array.isArray(where) ? s.args[where[0]].items[where[1]] : s.args[where]);
const nameAt = (s, where) => (Array.isArray(where) ? `${sigArg(s, where[0]).name}[${where[1]}]` : sigArg(s, where).name);

const PLAN_MUTS = {
  planArg(s, a, b) {
    const k = SIGNATURES[s.fn].args[0]?.kind;
    if (!s.args.length || (k !== 'plan' && k !== 'run')) return false;
    const v = structuredClone(pick(k === 'plan' ? BAD_PLANS : BAD_RUNS, b));
    clearAt(s, 0);
    s.args[0] = v;
    s.muts.push(`planArg ${sigArg(s, 0).name} -> ${v.t === 'plan' || v.t === 'runtok' ? `${v.t} ${v.which}` : describe(v)}`);
    return true;
  },
  itemType(s, a, b, c) {
    const ls = listIdx(s);
    if (!ls.length) return false;
    const li = pick(ls, a), L = s.args[li], v = structuredClone(pick(BAD_ITEMS, b));
    const k = L.items.length ? c % L.items.length : 0;
    L.items[k] = v;
    s.muts.push(`itemType ${sigArg(s, li).name}[${k}] -> ${describe(v)}`);
    return true;
  },
  itemSize(s, a, b) {
    const arrs = listItems(s);
    if (!arrs.length) return false;
    const w = pick(arrs, a), x = taAt(s, w);
    const d = pick([-1, +1, 'zero', +2], b);
    const len = d === 'zero' ? 0 : Math.max(0, x.len + d);
    if (len === x.len) return false;
    x.len = len;
    s.muts.push(`itemSize ${nameAt(s, w)} = ${len}`);
    return true;
  },
  retype(s, a, b) {
    // the same bytes in another element type of AnyTypedArray (valid: sizes are bytes)
    const arrs = planArrays(s).filter((w) => PBPE[taAt(s, w).ty]);
    if (!arrs.length) return false;
    const w = pick(arrs, a), x = taAt(s, w), bytes = x.len * PBPE[x.ty];
    const tys = Object.keys(PBPE).filter((t) => t !== x.ty && bytes % PBPE[t] === 0);
    if (!tys.length) return false;
    const t = pick(tys, b);
    x.ty = t;
    x.len = bytes / PBPE[t];
    if (t === 'u8' || t === 'i32') x.fill = { k: 'mod', m: t === 'u8' ? 256 : 1 << 30, lo: 0 };
    s.muts.push(`retype ${nameAt(s, w)} as ${t}(${x.len})`);
    return true;
  },
  listShape(s, a, b) {
    const ls = listIdx(s);
    if (!ls.length) return false;
    const li = pick(ls, a), L = s.args[li], name = sigArg(s, li).name;
    let op = pick(['drop', 'extra', 'hole', 'proxy', 'empty'], b);
    if ((op === 'drop' || op === 'empty') && !L.items.length) op = 'extra';
    if (op === 'drop') L.items.pop();
    if (op === 'extra') L.items.push(FA('f32', 1 + (b % 3), 77));
    if (op === 'empty') L.items = [];
    if (op === 'hole') { L.hole = L.items.length; L.items.push(NULL); }
    if (op === 'proxy') L.proxy = true;
    s.muts.push(`listShape ${name} ${op}`);
    return true;
  },
  listNotArray(s, a, b) {
    const ls = listIdx(s);
    if (!ls.length) return false;
    const li = pick(ls, a), L = s.args[li];
    const v = pick([FA('f32', 4), { t: 'obj' }, { t: 'arraylike', items: L.items }, S('x'), NULL, { t: 'undef' }, N(0)], b);
    clearAt(s, li);
    s.args[li] = structuredClone(v);
    s.muts.push(`listNotArray ${sigArg(s, li).name} -> ${describe(v)}`);
    return true;
  },
  outputOverlap(s, a, b) {
    // the output as a view of an input's or a weight's buffer: the same bytes, or shifted
    // (planRunAsync: onto an input, a RangeError; onto an array its weights handle was made of,
    // valid: the handle holds a copy)
    const o = outIdx(s), out = s.args[o];
    const srcs = [...listItems(s), ...wpItems(s)].filter((w) => PBPE[taAt(s, w).ty]);
    if (s.fn === 'planEnd' || s.fn === 'planWeights' || !out || out.t !== 'ta' || !PBPE[out.ty] || !srcs.length) return false;
    const w = pick(srcs, a), src = taAt(s, w);
    const shift = pick([0, 0, 1, -1, 2], b);
    const bd = PBPE[out.ty], bs = PBPE[src.ty];
    if (shift < 0) src.off = Math.max(src.off || 0, Math.ceil((-shift * bd) / bs));
    const endBytes = shift * bd + out.len * bd;
    if (endBytes > (src.len + (src.pad || 0)) * bs) src.pad = Math.ceil((endBytes - src.len * bs) / bs) + 1;
    clearAt(s, o);
    s.args[o] = { t: 'alias', of: w[0], item: w[1], shift, len: out.len, ty: out.ty };
    s.muts.push(`outputOverlap output = ${nameAt(s, w)}${shift ? ` shifted by ${shift}` : ''}`);
    return true;
  },
  outputSize(s, a, b) {
    const o = outIdx(s), out = s.args[o];
    if (s.fn === 'planEnd' || !out || out.t !== 'ta') return false;
    const d = pick([-1, +1, 'zero', +3], b);
    const len = d === 'zero' ? 0 : Math.max(0, out.len + d);
    if (len === out.len) return false;
    out.len = len;
    s.muts.push(`outputSize output = ${len}`);
    return true;
  },
  memory(s, a, b) {
    const arrs = planArrays(s);
    if (!arrs.length) return false;
    const w = pick(arrs, a), x = taAt(s, w), m = pick(PLAN_MEMS, b);
    if (m === 'offset') x.off = 1 + (b % 3);
    else if (m === 'u8odd') { // a Uint8Array at an odd byte offset: the kernels see unaligned floats
      if (!PBPE[x.ty]) return false;
      x.len *= PBPE[x.ty];
      x.ty = 'u8';
      x.off = 1;
      x.fill = { k: 'mod', m: 256, lo: 0 };
    } else x.mem = m;
    s.muts.push(`memory ${nameAt(s, w)} on ${m}`);
    return true;
  },
  detached(s, a) {
    const arrs = planArrays(s);
    if (!arrs.length) return false;
    const w = pick(arrs, a);
    taAt(s, w).mem = 'detached';
    s.muts.push(`detached ${nameAt(s, w)}`);
    return true;
  },
  getter(s, a, b, c) {
    // a getter on a list element that, when the binding reads it, detaches / frees / shrinks
    // one of the call's arrays (one read before it, after it, or itself) or throws
    const ls = listIdx(s).filter((li) => s.args[li].items.length);
    if (!ls.length) return false;
    // (mostly on the last element: more arrays are taken before it)
    const li = pick(ls, a), L = s.args[li], at = c % 3 ? L.items.length - 1 : c % L.items.length;
    const act = pick(PLAN_GETTER_ACTS, b);
    let target = null;
    let act_ = act;
    if (act !== 'throw') {
      // planEnd: the arrays the fixture recorded (fx: made by the child, plain buffers) too
      const arrs = s.fn === 'planEnd' ? [...listIdx(s).flatMap((l) => s.args[l].items.map((x, k) => (x && (x.t === 'ta' || x.t === 'fx') ? [l, k] : null))
        .filter(Boolean)), ...(s.args[2] && s.args[2].t === 'fx' ? [2] : [])] : planArrays(s);
      if (!arrs.length) return false;
      // two times in three, one the call took before the getter runs (if any): the re-check's case
      const taken = arrs.filter((w) => Array.isArray(w) && s.args[w[0]].t === 'list' && (w[0] < li || (w[0] === li && w[1] < at)));
      target = taken.length && (a + c) % 3 ? pick(taken, a) : pick(arrs, a + c);
      const x = taAt(s, target);
      if (x.t === 'fx') {
        if (act_ === 'shrink') act_ = 'detach';
      } else {
        if (act_ === 'shrink') x.mem = 'rab';
        else if (x.mem === 'sab' || x.mem === 'gsab') x.mem = 'plain';
        if (act_ !== 'detach') x.pad = Math.max(x.pad || 0, BIG_PAD); // freed/decommitted pages fault
      }
    }
    L.getter = { at, act: act_, target };
    s.muts.push(`getter ${sigArg(s, li).name}[${at}] ${act_}${target !== null ? ' ' + nameAt(s, target) : ''}`);
    return true;
  },
  done(s, a, b) {
    if (s.fn !== 'planRunAsync' || s.args.length < 5) return false;
    const v = structuredClone(pick(BAD_DONE, b));
    clearAt(s, 4);
    s.args[4] = v;
    s.muts.push(`done -> ${describe(v)}`);
    return true;
  },
  floats(s, a, b) {
    const arrs = [...listItems(s), ...wpItems(s)].filter((w) => ['f32', 'f64'].includes(taAt(s, w).ty));
    if (!arrs.length) return false;
    const w = pick(arrs, a);
    taAt(s, w).fill = { k: 'special', s: b };
    s.muts.push(`floats ${nameAt(s, w)} NaN/Inf/huge`);
    return true;
  },
  duringRecording(s) {
    if (s.plan.duringRecording) return false;
    s.plan.duringRecording = true;
    s.muts.push('duringRecording (a recording runs on this thread)');
    return true;
  },
  scribble(s) {
    if (s.fn !== 'planRunAsync' || s.plan.scribble) return false;
    s.plan.scribble = true;
    s.muts.push('scribble (the inputs are overwritten once the call returns)');
    return true;
  },
  // planRunAsync's weights handle (and planRun's weights given one)
  weightsArg(s, a, b) {
    if (s.fn === 'planRun' && s.args[2] && s.args[2].t === 'list') {
      // planRun reads its weights in place: a handle from planWeights is no Array
      clearAt(s, 2);
      s.args[2] = { t: 'wpack', items: s.args[2].items.filter((x) => x && x.t === 'ta' && PBPE[x.ty]) };
      s.muts.push('weightsArg weights -> a handle from planWeights');
      return true;
    }
    if (s.fn !== 'planRunAsync' || s.args.length < 3) return false;
    const w = s.args[2];
    const items = w && (w.t === 'wpack' || w.t === 'list') ? w.items : [FA('f32', 4)];
    const v = structuredClone(pick([{ t: 'list', items }, { t: 'plan', which: 'main' }, { t: 'runtok', which: 'extra' }, { t: 'obj' },
      FA('f32', 4), NULL, { t: 'undef' }, { t: 'plain', v: [1, 2] }, { t: 'fn' }, { t: 'ta', ty: 'ab', len: 16, mem: 'plain' }], b));
    clearAt(s, 2);
    s.args[2] = v;
    s.muts.push(`weightsArg weights -> ${v.t === 'list' ? 'an Array of its typed arrays' : v.t === 'plan' || v.t === 'runtok' ? `${v.t} ${v.which}` : describe(v)}`);
    return true;
  },
  wpackShape(s, a, b) {
    // the handle made of other arrays than the plan reads: one fewer, one more, another size
    const w = s.args[2];
    if (s.fn !== 'planRunAsync' || !w || w.t !== 'wpack') return false;
    let op = pick(['drop', 'extra', 'size', 'size', 'empty'], b);
    if ((op === 'drop' || op === 'size' || op === 'empty') && !w.items.length) op = 'extra';
    if (op === 'drop') w.items.pop();
    if (op === 'extra') w.items.push(FA(pick(['f32', 'f64'], a), 1 + (a % 3), 78));
    if (op === 'empty') w.items = [];
    let what = op;
    if (op === 'size') {
      const k = a % w.items.length, x = w.items[k];
      const len = pick([x.len - 1, x.len + 1, 0, x.len + 2], a + b);
      if (len < 0 || len === x.len) return false;
      x.len = len;
      what = `weights[${k}] = ${len}`;
    }
    s.muts.push(`wpackShape ${what}`);
    return true;
  },
  wsource(s, a, b) {
    // the arrays the weights handle was made of, overwritten / detached / detached and freed,
    // right after planWeights (before the call) or once the call returned (before done)
    const w = s.args[2];
    if (s.fn !== 'planRunAsync' || !w || w.t !== 'wpack' || !w.items.length || w.src) return false;
    const act = pick(['overwrite', 'detach', 'detach-free'], b), when = pick(['before', 'after'], a);
    if (act === 'detach-free') for (const x of w.items) if (x.t === 'ta') x.pad = Math.max(x.pad || 0, BIG_PAD);
    if (act !== 'overwrite') for (const x of w.items) if (x.mem === 'sab' || x.mem === 'gsab') x.mem = 'plain';
    w.src = { act, when };
    s.muts.push(`wsource ${act} the weights' arrays ${when} the call`);
    return true;
  },
  outputAfter(s, a, b) {
    // once planRunAsync returned, before done: the output detached (kept / freed), shrunk,
    // shrunk and grown back, or overwritten (done must report the output gone, or the
    // completion writes it)
    const o = s.args[3];
    if (s.fn !== 'planRunAsync' || !o || s.plan.outputAfter) return false;
    const act = pick(['detach', 'detach-free', 'shrink', 'shrink-regrow', 'write'], b);
    if (o.t === 'ta') {
      if ((act === 'shrink' || act === 'shrink-regrow') && o.mem !== 'rab' && o.mem !== 'rab-track') o.mem = pick(['rab', 'rab-track'], a);
      if ((act === 'detach' || act === 'detach-free') && (o.mem === 'sab' || o.mem === 'gsab')) o.mem = 'plain';
      if (act === 'detach-free') o.pad = Math.max(o.pad || 0, BIG_PAD);
    }
    s.plan.outputAfter = act;
    s.muts.push(`outputAfter ${act} the output before done`);
    return true;
  },
  shareHandle(s) {
    // another run queued first with the very same weights handle
    if (s.fn !== 'planRunAsync' || !s.args[2] || s.args[2].t !== 'wpack' || s.plan.shareHandle) return false;
    s.plan.shareHandle = true;
    s.muts.push('shareHandle (a run with the same weights handle queued first)');
    return true;
  },
  gcHandle(s) {
    // the child drops the weights handle once the call returned and collects garbage
    if (s.fn !== 'planRunAsync' || !s.args[2] || s.args[2].t !== 'wpack' || s.plan.gcHandle) return false;
    s.plan.gcHandle = true;
    s.muts.push('gcHandle (the weights handle dropped and collected before done)');
    return true;
  },
  // planEnd
  outputType(s, a, b) {
    if (s.fn !== 'planEnd' || s.args.length < 3) return false;
    const v = structuredClone(pick([{ t: 'obj' }, N(1), NULL, { t: 'undef' }, { t: 'ta', ty: 'dv', len: 16, mem: 'plain' },
      { t: 'ta', ty: 'ab', len: 16, mem: 'plain' }, { t: 'plain', v: [1] }, S('y'), { t: 'ta', ty: 'u32', len: 4, mem: 'plain' }], b));
    clearAt(s, 2);
    s.args[2] = v;
    s.muts.push(`outputType output -> ${describe(v)}`);
    return true;
  },
  outputOther(s, a, b) {
    if (s.fn !== 'planEnd' || s.args.length < 3) return false;
    const v = structuredClone(pick([FA('f32', 4, 5), { t: 'fx', role: 'inputs', k: 0 }, { t: 'fx', role: 'weights', k: 0 },
      { t: 'fx', role: 'arrays', name: 'h' }, { t: 'fx', role: 'arrays', name: 'y' }], b));
    clearAt(s, 2);
    s.args[2] = v;
    s.muts.push(`outputOther output -> ${v.t === 'fx' ? `${v.role} ${v.k ?? v.name}` : describe(v)}`);
    return true;
  },
  swap(s) {
    if (s.fn !== 'planEnd' || s.args.length < 2) return false;
    [s.args[0], s.args[1]] = [s.args[1], s.args[0]];
    s.refuse = s.refuse.map((r) => (r.at === '0' ? { ...r, at: '1' } : r.at === '1' ? { ...r, at: '0' } : r));
    s.muts.push('swap inputs <-> weights');
    return true;
  },
  freshItem(s, a) {
    if (s.fn !== 'planEnd') return false;
    const ls = listIdx(s).filter((li) => s.args[li].items.length);
    if (!ls.length) return false;
    const li = pick(ls, a), L = s.args[li], k = a % L.items.length;
    L.items[k] = FA(s.plan.fix.ty, 1 + (a % 6), 9);
    s.muts.push(`freshItem ${sigArg(s, li).name}[${k}]`);
    return true;
  },
  noRecording(s) {
    if (s.fn !== 'planEnd' || s.plan.noRecording) return false;
    s.plan.noRecording = true;
    s.muts.push('noRecording (planEnd without planBegin)');
    return true;
  },
  // planBegin, planAbort, planCancel
  state(s, a) {
    if (s.fn === 'planBegin' && !s.plan.open) { s.plan.open = true; s.muts.push('state recording-open'); return true; }
    if (s.fn === 'planAbort') { s.plan.open = !s.plan.open; s.muts.push(`state ${s.plan.open ? 'recording-open' : 'no-recording'}`); return true; }
    if (s.fn === 'planCancel') {
      s.plan.state = pick(['queued', 'completed', 'cancelledOnce'].filter((x) => x !== s.plan.state), a);
      s.muts.push(`state ${s.plan.state}`);
      return true;
    }
    return false;
  },
};
// which plan mutations each function draws from (repeats: drawn more often)
const PLAN_MUT_TABLE = {
  planBegin: ['state'],
  planAbort: ['state'],
  planEnd: ['itemType', 'listShape', 'listNotArray', 'outputType', 'outputOther', 'swap', 'freshItem', 'noRecording', 'getter', 'itemType'],
  planInfo: ['planArg'],
  planRun: ['planArg', 'itemType', 'itemSize', 'itemSize', 'retype', 'listShape', 'listNotArray', 'outputOverlap', 'outputOverlap', 'outputSize',
    'memory', 'memory', 'detached', 'getter', 'getter', 'getter', 'floats', 'duringRecording', 'weightsArg'],
  planWeights: ['itemType', 'itemSize', 'retype', 'listShape', 'listNotArray', 'memory', 'memory', 'detached', 'getter', 'getter', 'getter',
    'floats', 'duringRecording'],
  // (weights overlapping the output: impossible here, the handle holds a copy)
  planRunAsync: ['planArg', 'itemType', 'itemSize', 'retype', 'listShape', 'listNotArray', 'outputOverlap', 'outputOverlap',
    'outputSize', 'memory', 'memory', 'detached', 'getter', 'getter', 'getter', 'floats', 'duringRecording', 'done', 'scribble',
    'weightsArg', 'weightsArg', 'wpackShape', 'wpackShape', 'wsource', 'wsource', 'wsource', 'outputAfter', 'outputAfter', 'outputAfter',
    'shareHandle', 'gcHandle'],
  planCancel: ['planArg', 'planArg', 'state'],
};

/** One mutation of a plan call: the generic wrongType / argCount (by the drawn kind), else a plan mutation. */
function applyPlanMutation(s, m) {
  const generic = ['wrongType', 'badSize'].includes(m.kind) ? 'wrongType' : ['argCount', 'sizeEdge'].includes(m.kind) ? 'argCount' : null;
  if (generic && MUTATIONS[generic](s, m.a, m.b, m.c)) return;
  const table = PLAN_MUT_TABLE[s.fn];
  const first = m.a % table.length;
  for (let k = 0; k < table.length; k++) if (PLAN_MUTS[table[(first + k) % table.length]](s, m.b, m.c, m.a)) return;
  if (!MUTATIONS.wrongType(s, m.a, m.b, m.c)) MUTATIONS.argCount(s, m.a | 1);
}

// Geometries that must agree: conv2dMaxPool2dForward's pool geometry (p) describes its conv's
// output (g): p.N, p.H, p.W, p.C = g.N, g.OH, g.OW, g.O, else a RangeError, whatever the arrays.
const GEOMETRY_MATCH = {
  conv2dMaxPool2dForward: { a: 0, b: 1, pairs: [['N', 'N'], ['OH', 'H'], ['OW', 'W'], ['O', 'C']] },
};
/** The value the child gives field k of a geometry spec (undefined where left out or not a number). */
function geomNumber(h, k) {
  if (h.omit === k) return undefined;
  const v = h.bad && h.bad.key === k ? h.bad.v : N(h.fields[k]);
  if (!v || v.t !== 'num') return undefined;
  return v.v === 'NaN' ? NaN : v.v === 'Infinity' ? Infinity : v.v === '-Infinity' ? -Infinity : v.v === '-0' ? -0 : v.v;
}
/**
 * Reasons to refuse that depend on the final values of several arguments (worked out once all
 * mutations applied): two geometries that no longer agree. (Where either value is no valid
 * size the call is refused anyway.)
 */
function crossRefusals(s) {
  const m = GEOMETRY_MATCH[s.fn];
  if (!m) return [];
  const ga = s.args[m.a], gb = s.args[m.b];
  if (!ga || !gb || ga.t !== 'geom' || gb.t !== 'geom') return [];
  const why = [];
  for (const [ka, kb] of m.pairs) {
    const va = geomNumber(ga, ka), vb = geomNumber(gb, kb);
    if (typeof va === 'number' && typeof vb === 'number' && va !== vb) {
      why.push(`${sigArg(s, m.b).name}.${kb} = ${vb} is not ${sigArg(s, m.a).name}.${ka} = ${va} (the pooling's input is not the convolution's output)`);
    }
  }
  return why;
}

function applyMutations(base, muts) {
  const s = structuredClone(base);
  const isPlan = PLAN_FNS.includes(s.fn);
  for (const m of muts) {
    if (isPlan) { applyPlanMutation(s, m); continue; }
    if (!MUTATIONS[m.kind](s, m.a, m.b, m.c)) {
      // not applicable to this call: try the next kinds in order
      for (let k = 1; k < MUTATION_NAMES.length; k++) {
        const name = MUTATION_NAMES[(MUTATION_NAMES.indexOf(m.kind) + k) % MUTATION_NAMES.length];
        if (MUTATIONS[name](s, m.a, m.b, m.c)) break;
      }
    }
  }
  s.refuse = [...s.refuse.filter((r) => !r.sized || !s.sizeMutated).map((r) => r.why), ...crossRefusals(s)];
  return s;
}

/** The arbitrary of one fuzz call over the given exports (default: all). */
function callArbitrary(fns = Object.keys(BASE)) {
  const bases = fns.map((f) => BASE[f]);
  return fc.tuple(fc.oneof(...bases), mutationsArb).map(([base, muts]) => applyMutations(base, muts));
}

module.exports = { BASE, MUTATIONS, PLAN_MUTS, PLAN_MUT_TABLE, callArbitrary, applyMutations };
