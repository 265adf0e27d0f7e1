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
const { SIGNATURES, UNARY_OPS, BINARY_OPS, REDUCE_OPS, UPSAMPLE_MODES, RNN_CELLS, RNN_ACTIVATIONS } = require('./signatures');

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
};

function convBases() {
  const geo = fc.record({
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
  };
}

function poolBases() {
  const geo = fc.record({
    t: ty, N: small(0, 2), H: small(1, 5), W: small(1, 5), C: small(1, 3), KH: small(1, 3), KW: small(1, 3),
    sh: small(1, 2), sw: small(1, 2), pt: fc.nat(), pl: fc.nat(), oh: fc.nat(), ow: fc.nat(),
  }).map((r) => {
    const g = {
      N: r.N, H: r.H, W: r.W, C: r.C, KH: r.KH, KW: r.KW,
      OH: 1 + (r.oh % (Math.floor((r.H + r.KH) / r.sh) + 1)), OW: 1 + (r.ow % (Math.floor((r.W + r.KW) / r.sw) + 1)),
      strideH: r.sh, strideW: r.sw, padTop: r.pt % r.KH, padLeft: r.pl % r.KW,
    };
    return { r, g, x: g.N * g.H * g.W * g.C, y: g.N * g.OH * g.OW * g.C };
  });
  const G = (g) => ({ t: 'geom', fields: g });
  return {
    maxPool2dForward: geo.map(({ r, g, x, y }) => spec('maxPool2dForward', [G(g), FA(r.t, x), FA(r.t, y, 2), I32(y, 1)],
      needsOf('maxPool2dForward', { x, y, argmax: y }))),
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
    const geo = s.args.findIndex((x) => x && x.t === 'geom');
    if (geo < 0) return false;
    const f = s.args[geo].fields;
    // the zeroed size: N for a geometry; any of N, T, In, U for an RNN config
    const zero = s.args[geo].rnn ? pick(['N', 'T', 'In', 'U'], a + b) : 'N';
    const keys = Object.keys(f).filter((k) => k !== zero && typeof f[k] === 'number');
    f[zero] = 0;
    clearAt(s, geo);
    delete s.args[geo].bad;
    delete s.args[geo].omit;
    const k = pick(keys, c);
    f[k] = pick([MAXSAFE, 2 ** 31, 2 ** 32, 2 ** 40], b);
    s.muts.push(`hugeTimesZero geometry ${zero} = 0, ${k} = ${f[k]}`);
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
  geometryProxy(s) {
    const h = s.args.findIndex((x) => x && x.t === 'geom');
    if (h < 0) return false;
    s.args[h].proxy = true;
    s.muts.push('geometry is a Proxy');
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

function applyMutations(base, muts) {
  const s = structuredClone(base);
  for (const m of muts) {
    if (!MUTATIONS[m.kind](s, m.a, m.b, m.c)) {
      // not applicable to this call: try the next kinds in order
      for (let k = 1; k < MUTATION_NAMES.length; k++) {
        const name = MUTATION_NAMES[(MUTATION_NAMES.indexOf(m.kind) + k) % MUTATION_NAMES.length];
        if (MUTATIONS[name](s, m.a, m.b, m.c)) break;
      }
    }
  }
  s.refuse = s.refuse.filter((r) => !r.sized || !s.sizeMutated).map((r) => r.why);
  return s;
}

/** The arbitrary of one fuzz call over the given exports (default: all). */
function callArbitrary(fns = Object.keys(BASE)) {
  const bases = fns.map((f) => BASE[f]);
  return fc.tuple(fc.oneof(...bases), mutationsArb).map(([base, muts]) => applyMutations(base, muts));
}

module.exports = { BASE, MUTATIONS, callArbitrary, applyMutations };
