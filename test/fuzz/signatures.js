// The fuzzer's table of the addon's exports: for every method of `interface Binding` in
// binding.d.ts, its parameters in order (same names as the .d.ts; fuzz.test.ts checks that the
// names, the order and the set of functions agree with binding.d.ts and with the addon), what
// kind of value each takes, and which arrays the call writes.
//
// Kinds: bool, size (non-negative integer; min = the smallest value the contract accepts),
// num (any number), finite (finite number), enum (a string from `values`), fa (Float32Array or
// Float64Array, every float array of a call the same type), i32 (Int32Array), any (fa or i32),
// shape (an Array of sizes), conv / pool (a geometry object, Conv2dGeometry / Pool2dGeometry),
// rnn (an RnnConfig object: sizes, names and booleans), u8 (Uint8Array, a mask).
// The execution-plan exports' kinds: plan (a PlanHandle from planEnd), run (a PlanRunHandle
// from planRunAsync), list (an Array of typed arrays; a run binds exactly the recorded byte
// sizes), bytes (any typed array: its byte size is what counts), fn (a callback), wpack (a
// PlanWeightsHandle from planWeights: a copy of some typed arrays' bytes, owned by the handle).
// Flags: out (the call writes it), nullable (null accepted), optional (may be left out, at the
// end of the list).
// inPlace: pairs [output, input] that may be the very same memory (same start, same type)
// because the kernel is elementwise or row-wise over them (binding.d.ts: "may be"); any other
// overlap of an output with another array of the call, outputs with each other included, must
// be refused (binding.d.ts, the conventions of the boundary).
// exactLen: the arrays must all have the same length (same_length), so one element more is
// also a wrong length.
'use strict';

const UNARY_OPS = ['neg', 'exp', 'log', 'sqrt', 'abs', 'square', 'reciprocal', 'sign', 'relu', 'leakyRelu',
  'elu', 'selu', 'sigmoid', 'tanh', 'softplus', 'clip', 'powScalar', 'scale', 'log1p', 'logSigmoid'];
const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'greater', 'greaterEqual', 'less',
  'lessEqual', 'equal'];
const REDUCE_OPS = ['sum', 'mean', 'max', 'min'];
const UPSAMPLE_MODES = ['nearest', 'bilinear', 'bilinearLegacy'];
const ACTIVATIONS = ['linear', 'relu'];
const RNN_CELLS = ['simpleRNN', 'lstm', 'gru'];
const RNN_ACTIVATIONS = ['tanh', 'sigmoid', 'hardSigmoid', 'hardSigmoidLegacy', 'relu', 'linear'];

const bool = (name) => ({ name, kind: 'bool' });
const size = (name, min = 0) => ({ name, kind: 'size', min });
const num = (name) => ({ name, kind: 'num' });
const finite = (name) => ({ name, kind: 'finite' });
const enm = (name, values, extra = {}) => ({ name, kind: 'enum', values, ...extra });
const fa = (name, extra = {}) => ({ name, kind: 'fa', ...extra });
const i32 = (name, extra = {}) => ({ name, kind: 'i32', ...extra });
const u8 = (name, extra = {}) => ({ name, kind: 'u8', ...extra });
const out = { out: true };
const nul = { nullable: true };
const nulOut = { nullable: true, out: true };
const rnnCfg = { name: 'cfg', kind: 'rnn' };
const plan = { name: 'plan', kind: 'plan' };
const list = (name) => ({ name, kind: 'list' });
const bytes = (name, extra = {}) => ({ name, kind: 'bytes', ...extra });

const SIGNATURES = {
  backendInfo: { args: [] },
  setNumThreads: { args: [size('n', 1)] },
  setGemmKernel: { args: [enm('name', ['auto', 'avx512', 'avx2', 'ref'])] },
  gemm: {
    args: [bool('transA'), bool('transB'), size('M'), size('N'), size('K'), num('alpha'), fa('A'), size('lda'),
      fa('B'), size('ldb'), num('beta'), fa('C', out), size('ldc'), fa('bias', { nullable: true, optional: true }),
      enm('activation', ACTIVATIONS, { optional: true })],
  },
  fmaPeak: { args: [enm('isa', ['avx512', 'avx2', 'sse2']), size('threads', 1), { name: 'seconds', kind: 'seconds' }] },
  unary: {
    args: [enm('op', UNARY_OPS), fa('x'), fa('out', out), num('alpha'), num('beta')],
    inPlace: [['out', 'x']], exactLen: true,
  },
  unaryBackward: {
    args: [enm('op', UNARY_OPS), fa('x'), fa('y'), fa('dy'), fa('dx', out), num('alpha'), num('beta')],
    inPlace: [['dx', 'x'], ['dx', 'y'], ['dx', 'dy']], exactLen: true,
  },
  binary: {
    args: [enm('op', BINARY_OPS), fa('a'), { name: 'aShape', kind: 'shape' }, fa('b'), { name: 'bShape', kind: 'shape' },
      fa('out', out), { name: 'outShape', kind: 'shape' }],
    // elementwise only where the input is not broadcast (the generator marks those calls)
    inPlace: [['out', 'a'], ['out', 'b']],
  },
  reduce: { args: [enm('op', REDUCE_OPS), fa('x'), size('outer'), size('n'), size('inner'), fa('out', out)] },
  argReduce: { args: [enm('op', ['argmax', 'argmin']), fa('x'), size('outer'), size('n', 1), size('inner'), i32('out', out)] },
  softmax: { args: [fa('x'), size('rows'), size('cols'), fa('out', out), bool('log')], inPlace: [['out', 'x']] },
  softmaxBackward: {
    args: [fa('y'), fa('dy'), size('rows'), size('cols'), fa('dx', out), bool('log')], inPlace: [['dx', 'y'], ['dx', 'dy']],
  },
  permute: {
    args: [{ name: 'x', kind: 'any' }, { name: 'shape', kind: 'shape' }, { name: 'perm', kind: 'shape' },
      { name: 'out', kind: 'any', out: true }],
  },
  copyBox: {
    args: [{ name: 'src', kind: 'any' }, { name: 'srcShape', kind: 'shape' }, { name: 'srcStart', kind: 'shape' },
      { name: 'dst', kind: 'any', out: true }, { name: 'dstShape', kind: 'shape' }, { name: 'dstStart', kind: 'shape' },
      { name: 'size', kind: 'shape' }, { name: 'fill', kind: 'num', optional: true }],
  },
  gatherRows: {
    args: [{ name: 'x', kind: 'any' }, size('rows'), size('rowLength'), i32('ids'), { name: 'out', kind: 'any', out: true }],
  },
  scatterAddRows: { args: [fa('g'), i32('ids'), size('rows'), size('rowLength'), fa('out', out)] },
  sgdStep: {
    args: [fa('p', out), fa('g'), fa('v', out), finite('lr'), finite('momentum'), bool('nesterov')],
    inPlace: [['p', 'g'], ['v', 'g']], exactLen: true,
  },
  adamStep: {
    args: [fa('p', out), fa('g'), fa('m', out), fa('v', out), finite('lr'), finite('beta1'), finite('beta2'),
      finite('epsilon'), size('step', 1)],
    inPlace: [['p', 'g'], ['m', 'g'], ['v', 'g']], exactLen: true,
  },
  rmspropStep: {
    args: [fa('p', out), fa('g'), fa('ms', out), finite('lr'), finite('rho'), finite('epsilon')],
    inPlace: [['p', 'g'], ['ms', 'g']], exactLen: true,
  },
  adagradStep: {
    args: [fa('p', out), fa('g'), fa('acc', out), finite('lr'), finite('epsilon')],
    inPlace: [['p', 'g'], ['acc', 'g']], exactLen: true,
  },
  conv2dForward: {
    args: [{ name: 'g', kind: 'conv' }, fa('x'), fa('w'), fa('bias', { nullable: true }), fa('y', out),
      enm('activation', ACTIVATIONS, { optional: true })],
  },
  conv2dBackwardInput: { args: [{ name: 'g', kind: 'conv' }, fa('dy'), fa('w'), fa('dx', out)] },
  conv2dBackwardFilter: {
    args: [{ name: 'g', kind: 'conv' }, fa('x'), fa('dy'), fa('dw', out), fa('dbias', { nullable: true, out: true })],
  },
  // inference: maxPool2d (values only) of conv2dForward's output; p must describe the conv's
  // output (p.N, p.H, p.W, p.C = g.N, g.OH, g.OW, g.O), else a RangeError
  conv2dMaxPool2dForward: {
    args: [{ name: 'g', kind: 'conv' }, { name: 'p', kind: 'pool' }, fa('x'), fa('w'), fa('bias', { nullable: true }), fa('y', out),
      enm('activation', ACTIVATIONS, { optional: true })],
  },
  maxPool2dForward: { args: [{ name: 'g', kind: 'pool' }, fa('x'), fa('y', out), i32('argmax', { nullable: true, out: true })] },
  maxPool2dBackward: { args: [{ name: 'g', kind: 'pool' }, fa('dy'), i32('argmax'), fa('dx', out)] },
  avgPool2dForward: { args: [{ name: 'g', kind: 'pool' }, fa('x'), fa('y', out)] },
  avgPool2dBackward: { args: [{ name: 'g', kind: 'pool' }, fa('dy'), fa('dx', out)] },
  globalPool2dForward: {
    args: [enm('op', ['avg', 'max']), size('N'), size('HW', 1), size('C'), fa('x'), fa('y', out),
      i32('argmax', { nullable: true, out: true })],
  },
  globalPool2dBackward: {
    args: [enm('op', ['avg', 'max']), size('N'), size('HW', 1), size('C'), fa('dy'), i32('argmax', { nullable: true }),
      fa('dx', out)],
  },
  upSampling2dForward: {
    args: [enm('mode', UPSAMPLE_MODES), size('N'), size('H', 1), size('W', 1), size('C', 1), size('sh', 1), size('sw', 1),
      fa('x'), fa('y', out)],
  },
  upSampling2dBackward: {
    args: [enm('mode', UPSAMPLE_MODES), size('N'), size('H', 1), size('W', 1), size('C', 1), size('sh', 1), size('sw', 1),
      fa('dy'), fa('dx', out)],
  },
  batchNormTrain: {
    args: [size('M', 1), size('C'), fa('x'), fa('gamma', { nullable: true }), fa('beta', { nullable: true }),
      { name: 'epsilon', kind: 'finite', positive: true }, finite('momentum'), fa('y', out), fa('mean', out),
      fa('invStd', out), fa('movingMean', { nullable: true, out: true }), fa('movingVar', { nullable: true, out: true })],
  },
  batchNormInference: {
    args: [size('M'), size('C'), fa('x'), fa('gamma', { nullable: true }), fa('beta', { nullable: true }), fa('movingMean'),
      fa('movingVar'), { name: 'epsilon', kind: 'finite', positive: true }, fa('y', out)],
  },
  batchNormBackward: {
    args: [size('M', 1), size('C'), fa('x'), fa('dy'), fa('gamma', { nullable: true }), fa('mean'), fa('invStd'),
      fa('dx', out), fa('dgamma', { nullable: true, out: true }), fa('dbeta', { nullable: true, out: true })],
  },
  batchNormBackwardInference: {
    args: [size('M'), size('C'), fa('x'), fa('dy'), fa('gamma', { nullable: true }), fa('movingMean'), fa('movingVar'),
      { name: 'epsilon', kind: 'finite', positive: true }, fa('dx', out), fa('dgamma', { nullable: true, out: true }),
      fa('dbeta', { nullable: true, out: true })],
  },
  rnnWorkspaceSize: { args: [rnnCfg] },
  rnnForward: {
    args: [rnnCfg, fa('x'), fa('W'), fa('R'), fa('b', nul), fa('h0', nul), fa('c0', nul), u8('mask', nul), fa('y', out),
      fa('hT', nulOut), fa('cT', nulOut), fa('workspace', out), fa('recurrentMask', { nullable: true, optional: true })],
  },
  rnnBackward: {
    // the workspace is read (the forward's part) and written (scratch): an output
    args: [rnnCfg, fa('x'), fa('W'), fa('R'), u8('mask', nul), fa('dy', nul), fa('dhT', nul), fa('dcT', nul), fa('workspace', out),
      fa('dx', nulOut), fa('dh0', nulOut), fa('dc0', nulOut), fa('dW', out), fa('dR', out), fa('db', nulOut),
      fa('recurrentMask', { nullable: true, optional: true })],
  },
  // execution plans (stateful: the child records a small plan before each call, see plans.js)
  planBegin: { args: [] },
  planAbort: { args: [] },
  planEnd: { args: [list('inputs'), list('weights'), bytes('output')] },
  planInfo: { args: [plan] },
  planRun: { args: [plan, list('inputs'), list('weights'), bytes('output', out)] },
  planWeights: { args: [list('weights')] },
  // weights: a handle from planWeights (copied bytes), not an Array; the output is written on
  // the JS thread when the run completes
  planRunAsync: { args: [plan, list('inputs'), { name: 'weights', kind: 'wpack' }, bytes('output', out), { name: 'done', kind: 'fn' }] },
  planCancel: { args: [{ name: 'run', kind: 'run' }] },
};
const PLAN_FNS = ['planBegin', 'planAbort', 'planEnd', 'planInfo', 'planRun', 'planWeights', 'planRunAsync', 'planCancel'];

/** [min, max] argument counts of a function (trailing optional parameters may be left out). */
function argCount(fn) {
  const args = SIGNATURES[fn].args;
  let min = args.length;
  while (min > 0 && args[min - 1].optional) min--;
  return [min, args.length];
}

module.exports = { SIGNATURES, argCount, PLAN_FNS, UNARY_OPS, BINARY_OPS, REDUCE_OPS, UPSAMPLE_MODES, RNN_CELLS, RNN_ACTIVATIONS };
