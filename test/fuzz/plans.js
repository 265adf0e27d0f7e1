// Execution-plan fixtures for the fuzzer (generate.js describes them, child.js builds them): a
// small forward pass recorded between planBegin and planEnd on fresh arrays, and the same pass
// computed directly by the kernels, the oracle of a replay.
//
// A fixture is a plain JSON object:
//   kind    'unary' (x -> unary op -> y), 'gemm' (y = x * w (+ bias) (relu)), 'chain' (h = gemm,
//           y = relu(h): an intermediate in the arena)
//   ty      'f32' | 'f64';  op, n (unary);  M, N, K, bias, act (gemm, chain);  extra (unary: an
//           unused weight bound too);  wIn (gemm, chain: w bound as a second input, not a weight)
//   refusal what makes planEnd refuse the recording (then it returns a string), or null:
//           'beta' (gemm reads C, which no kernel wrote), 'unrecordable' (an optimizer step ran),
//           'inputWritten' (unary in place on the input), 'notWritten' (the output is an array no
//           kernel wrote), 'planRan' (a plan ran during the recording), 'jsBetween' (the second
//           kernel reads an array that JavaScript filled), or 'outputIsInput' (the output is the
//           input: a plan that only copies, accepted)
'use strict';

const BPE = { f32: 4, f64: 8 };
const CT = { f32: Float32Array, f64: Float64Array };

/** What a fixture's plan binds: element counts of its inputs, weights and output, and its kernels. */
function fixtureIO(f) {
  if (f.kind === 'unary') {
    return {
      inputs: [f.n], weights: f.extra ? [3] : [], output: f.refusal === 'outputIsInput' ? f.n : f.n, kernels: ['unary'],
      ty: f.ty,
    };
  }
  const weights = f.wIn ? [] : [f.K * f.N];
  if (f.bias) weights.push(f.N);
  return {
    inputs: f.wIn ? [f.M * f.K, f.K * f.N] : [f.M * f.K], weights, output: f.refusal === 'outputIsInput' ? f.M * f.K : f.M * f.N,
    kernels: f.kind === 'chain' ? ['gemm', 'unary'] : ['gemm'], ty: f.ty,
  };
}
const bytesOfIO = (f) => {
  const io = fixtureIO(f), b = BPE[f.ty];
  return { inputs: io.inputs.map((n) => n * b), weights: io.weights.map((n) => n * b), output: io.output * b, kernels: io.kernels };
};

function rand(seed) {
  let s = (seed * 2654435761) >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 4294967296 * 4 - 2; };
}
function fresh(ty, n, seed) {
  const a = new CT[ty](n);
  const r = rand(seed);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

const ACT = ['linear', 'linear', 'relu'];

/** Runs the fixture's kernels on x, w (, bias) into y, h. The same calls record and compute directly. */
function runKernels(binding, f, a) {
  if (f.kind === 'unary') {
    binding.unary(f.op, a.x, f.refusal === 'inputWritten' ? a.x : a.y, 0.5, 1);
    return;
  }
  const c = f.kind === 'chain' ? a.h : a.y;
  const args = [false, false, f.M, f.N, f.K, 1, a.x, f.K, a.w, f.N, f.refusal === 'beta' ? 1 : 0, c, f.N];
  if (f.bias || f.act) args.push(f.bias ? a.bias : null);
  if (f.act) args.push(ACT[f.act]);
  binding.gemm(...args);
  if (f.kind === 'chain') binding.unary('relu', f.refusal === 'jsBetween' ? a.js : a.h, a.y, 0, 0);
}

/**
 * Records the fixture: planBegin, its kernels on fresh arrays, then (unless open) planEnd.
 * Returns { arrays, inputs, weights, output, plan (or null), why (planEnd's string) }.
 * helpers: { planToRun } a plan to run during the recording ('planRan').
 */
function recordFixture(binding, f, seed, { open = false, planToRun = null } = {}) {
  const io = fixtureIO(f);
  const a = {};
  a.x = fresh(f.ty, io.inputs[0], seed + 1);
  if (f.kind === 'unary') {
    a.y = new CT[f.ty](f.n);
    if (f.extra) a.w = fresh(f.ty, 3, seed + 2);
  } else {
    a.w = fresh(f.ty, f.K * f.N, seed + 2);
    if (f.bias) a.bias = fresh(f.ty, f.N, seed + 3);
    a.y = fresh(f.ty, f.M * f.N, seed + 4); // (beta 1 reads it)
    if (f.kind === 'chain') a.h = fresh(f.ty, f.M * f.N, seed + 5);
    if (f.refusal === 'jsBetween') a.js = fresh(f.ty, f.M * f.N, seed + 6);
  }
  const inputs = f.kind !== 'unary' && f.wIn ? [a.x, a.w] : [a.x];
  const weights = f.kind === 'unary' ? (f.extra ? [a.w] : []) : [...(f.wIn ? [] : [a.w]), ...(f.bias ? [a.bias] : [])];
  let output = a.y;
  if (f.refusal === 'notWritten') output = new CT[f.ty](io.output);
  if (f.refusal === 'outputIsInput') output = a.x;
  binding.planBegin();
  try {
    runKernels(binding, f, a);
    if (f.refusal === 'unrecordable') {
      const p = new Float32Array(2), g = new Float32Array(2), v = new Float32Array(2);
      binding.sgdStep(p, g, v, 0.1, 0, false);
    }
    if (f.refusal === 'planRan' && planToRun) {
      binding.planRun(planToRun.plan, planToRun.inputs, planToRun.weights, new CT[planToRun.ty](planToRun.outLen));
    }
  } catch (e) {
    binding.planAbort();
    throw e;
  }
  const r = { arrays: a, inputs, weights, output, plan: null, why: null };
  if (open) return r;
  const ret = binding.planEnd(inputs, weights, output);
  if (typeof ret === 'string') r.why = ret;
  else r.plan = ret;
  return r;
}

/** Whether planEnd must make a plan of the fixture (true), must refuse it (false), or may do either (null). */
function expectsPlan(f) {
  if (f.refusal && f.refusal !== 'outputIsInput') return false;
  return true;
}

/**
 * The fixture's output computed by the kernels directly (no plan) from the bytes bound as its
 * inputs and weights: a Uint8Array of the output's bytes.
 */
function direct(binding, f, inBytes, wBytes) {
  const io = fixtureIO(f);
  const C = CT[f.ty];
  const view = (bytes, n) => {
    const v = new C(n);
    new Uint8Array(v.buffer).set(bytes.subarray(0, n * C.BYTES_PER_ELEMENT));
    return v;
  };
  if (f.refusal === 'outputIsInput') return new Uint8Array(inBytes[0]);
  const a = { x: view(inBytes[0], io.inputs[0]) };
  if (f.kind === 'unary') {
    a.y = new C(f.n);
  } else {
    a.w = f.wIn ? view(inBytes[1], f.K * f.N) : view(wBytes[0], f.K * f.N);
    if (f.bias) a.bias = view(wBytes[f.wIn ? 0 : 1], f.N);
    a.y = new C(f.M * f.N);
    if (f.kind === 'chain') a.h = new C(f.M * f.N);
  }
  runKernels(binding, { ...f, refusal: null }, a);
  return new Uint8Array(a.y.buffer, a.y.byteOffset, a.y.byteLength);
}

module.exports = { fixtureIO, bytesOfIO, recordFixture, expectsPlan, direct, fresh, BPE, CT };
