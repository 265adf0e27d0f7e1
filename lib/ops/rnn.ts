/**
 * Recurrent networks over a whole sequence: SimpleRNN, LSTM and GRU (both Keras variants,
 * resetAfter true and false) in one native call each way (native/cpu/rnn.h), with Keras's
 * weight layouts and gate orders:
 *   kernel [in, G*units], recurrentKernel [units, G*units], bias [G*units]
 *   (GRU with resetAfter: [2, 3*units], input bias then recurrent bias);
 *   LSTM gates i, f, c, o (G = 4); GRU z, r, h (G = 3); SimpleRNN G = 1.
 *
 * rnn(x [batch, time, in]) returns y [batch, time, units] (every step's output, in processing
 * order: with goBackwards, y[:, s] is the s-th step taken, from the end) and the final states
 * hT, cT [batch, units]. y carries the gradient to x, the weights and the initial states;
 * hT and cT are values (for stateful layers and returnState) without a gradient of their own:
 * hT equals y's last step whenever masked steps carry their output (zeroOutputForMask false,
 * the default), so slicing y gives its gradient.
 *
 * Masks: mask [batch, time] (nonzero = keep). A masked step keeps the previous state; its
 * output is the carried state, or zeros with zeroOutputForMask. Gradients of gradients are
 * not supported (the backward pass is one native kernel).
 *
 * Recurrent dropout: recurrentMask [batch, units] (Keras's one mask per call, usually 0 or
 * 1/(1-rate)) multiplies h_{t-1} at every step wherever h_{t-1} multiplies the recurrent
 * kernel: (h*m) R for SimpleRNN, LSTM and GRU with resetAfter; z, r from (h*m) R and the
 * candidate from (r*(h*m)) R_h for GRU without resetAfter. GRU's state mix
 * z*h_{t-1} + (1-z)*h~ keeps the undropped h_{t-1}. The mask is a constant: no gradient.
 *
 * @example
 * const { y, hT } = gf.rnn(x, kernel, recurrentKernel, bias, { cell: 'lstm' });
 */
import type { RnnActivation, RnnCellName, RnnConfig } from '../../binding';
import { backendOf, FloatStorage } from '../backend';
import { record, isGradEnabled } from '../autograd';
import { Tensor, FloatDType } from '../tensor';
import { floatStorage } from './elementwise';
import { DTypeError, ShapeError, ValueError, fmtShape } from '../errors';

export type { RnnActivation, RnnCellName };

export interface RnnOptions {
  cell: RnnCellName;
  /** Default 'tanh'. */
  activation?: RnnActivation;
  /** Default 'sigmoid' (unused by simpleRNN). */
  recurrentActivation?: RnnActivation;
  /** GRU only: Keras 3's default true (the reset gate after the recurrent product). */
  resetAfter?: boolean;
  goBackwards?: boolean;
  /** Masked steps output zeros instead of the carried state. */
  zeroOutputForMask?: boolean;
  /** [batch, time], nonzero = keep. */
  mask?: Tensor | null;
  /** Initial states [batch, units] (zeros when absent); c0 for LSTM only. */
  h0?: Tensor | null;
  c0?: Tensor | null;
  /** Recurrent dropout mask [batch, units], the input's dtype (a constant, not differentiated). */
  recurrentMask?: Tensor | null;
}

export interface RnnResult {
  y: Tensor;
  hT: Tensor;
  cT: Tensor | null;
}

/** Gates per cell: the G of kernel [in, G*units] (Keras's layout). */
export const GATES: Record<RnnCellName, number> = { simpleRNN: 1, lstm: 4, gru: 3 };
const ACTIVATIONS: readonly RnnActivation[] = ['tanh', 'sigmoid', 'hardSigmoid', 'hardSigmoidLegacy', 'relu', 'linear'];

// ---- workspaces -----------------------------------------------------------------------------
// The workspace (what the forward keeps for the backward: every step's gates and states, about
// 10 * batch * time * units floats for an LSTM) is the op's own: no tensor exposes it. A fresh
// one page-faults on first touch, which costs more than the gate math, and calls outside a
// memory scope (a custom training loop, predict on one sequence) never get one from the
// buffer pool. So the op takes it as its backend's scratch (on the CPU lib/memory's pooled
// takeScratch) and gives it
// back once the backward has run (the native backward consumes it anyway, writing the gates'
// gradients over the gates, so a second backward through the same graph runs the forward
// again into another), or at once when no gradient is recorded. GRADFORGE_BUFFER_POOL=0 turns
// this off with the rest of the pool. Anything that keeps a workspace beyond the call (an
// execution plan recorded for replay, a kernel run on another thread) must not give it back.

function expectShape(op: string, name: string, t: Tensor, want: number[]): void {
  if (t.rank !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${op}: ${name} must have shape ${fmtShape(want)}, got ${fmtShape(t.shape)}`);
  }
}

export function rnn(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor | null, opts: RnnOptions): RnnResult {
  const op = opts.cell;
  if (!(op in GATES)) throw new ValueError(`rnn: cell must be 'simpleRNN', 'lstm' or 'gru', got '${String(op)}'`);
  const activation = opts.activation ?? 'tanh';
  const recurrentActivation = opts.recurrentActivation ?? 'sigmoid';
  for (const [k, a] of [['activation', activation], ['recurrentActivation', recurrentActivation]] as const) {
    if (!ACTIVATIONS.includes(a)) throw new ValueError(`${op}: ${k} must be one of ${ACTIVATIONS.join(', ')}, got '${String(a)}'`);
  }
  if (x.rank !== 3) throw new ShapeError(`${op}: input must be [batch, time, features] (rank 3), got ${fmtShape(x.shape)}`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`${op}: input must be float32 or float64, got ${x.dtype}`);
  const [N, T, In] = x.shape;
  const G = GATES[op];
  if (kernel.rank !== 2 || kernel.shape[0] !== In || kernel.shape[1] % G !== 0 || kernel.shape[1] === 0) {
    throw new ShapeError(`${op}: kernel must be [${In}, ${G}*units] for input ${fmtShape(x.shape)}, got ${fmtShape(kernel.shape)}`);
  }
  const U = kernel.shape[1] / G;
  expectShape(op, 'recurrentKernel', recurrentKernel, [U, G * U]);
  const resetAfter = op === 'gru' && (opts.resetAfter ?? true);
  if (bias !== null) expectShape(op, 'bias', bias, resetAfter ? [2, G * U] : [G * U]);
  const h0 = opts.h0 ?? null, c0 = opts.c0 ?? null;
  if (h0 !== null) expectShape(op, 'initial state h0', h0, [N, U]);
  if (c0 !== null) {
    if (op !== 'lstm') throw new ValueError(`${op}: only an LSTM has a cell state c0`);
    expectShape(op, 'initial state c0', c0, [N, U]);
  }
  const recurrentMask = opts.recurrentMask ?? null;
  if (recurrentMask !== null) expectShape(op, 'recurrentMask', recurrentMask, [N, U]);
  for (const [name, t] of [['kernel', kernel], ['recurrentKernel', recurrentKernel], ['bias', bias], ['h0', h0], ['c0', c0],
    ['recurrentMask', recurrentMask]] as const) {
    if (t !== null && t.dtype !== x.dtype) throw new DTypeError(`${op}: ${name} is ${t.dtype} but the input is ${x.dtype}`);
  }
  let mask: Uint8Array | null = null;
  if (opts.mask !== undefined && opts.mask !== null) {
    expectShape(op, 'mask', opts.mask, [N, T]);
    const m = opts.mask.dataSync();  // the kernels take the mask as bytes from the CPU (a device's backend uploads them)
    mask = new Uint8Array(m.length);
    for (let i = 0; i < m.length; i++) mask[i] = m[i] !== 0 ? 1 : 0;
  }
  const cfg: RnnConfig = {
    cell: op, N, T, In, U, activation, recurrentActivation, resetAfter,
    goBackwards: opts.goBackwards ?? false, zeroOutputForMask: opts.zeroOutputForMask ?? false,
  };

  const dt = x.dtype as FloatDType;
  const be = backendOf(op, [x, kernel, recurrentKernel, bias, h0, c0, recurrentMask]);
  const y = be.allocateOutput(dt, N * T * U, op, [N, T, U]);
  const hT = be.allocateOutput(dt, N * U, op, [N, U]);
  const cT = op === 'lstm' ? be.allocateOutput(dt, N * U, op, [N, U]) : null;
  const wsSize = be.kernels.rnnWorkspaceSize(cfg);
  const data = (t: Tensor | null): FloatStorage | null => (t === null ? null : floatStorage(t));
  const rmask = data(recurrentMask);
  const forward = (yOut: FloatStorage, hOut: FloatStorage | null, cOut: FloatStorage | null): FloatStorage => {
    const ws = be.scratch(dt, wsSize, op);
    be.kernels.rnnForward(cfg, floatStorage(x), floatStorage(kernel), floatStorage(recurrentKernel), data(bias),
      data(h0), data(c0), mask, yOut, hOut, cOut, ws, rmask);
    return ws;
  };
  let workspace: FloatStorage | null = forward(y, hT, cT);

  const inputs = [x, kernel, recurrentKernel, bias, h0, c0].filter((t): t is Tensor => t !== null);
  const out = record(op, inputs, new Tensor(y, [N, T, U]), (gy) => {
    if (isGradEnabled()) throw new ValueError(`${op}: gradients of gradients (createGraph) are not supported for recurrent layers`);
    // The first backward gives the workspace back; another one through the same graph
    // recomputes it (the same inputs give the same workspace).
    const ws = workspace ?? forward(be.allocateOutput(dt, N * T * U), null, null);
    workspace = null;
    backendOf(`${op} backward`, [x, gy]);
    const dx = be.allocateOutput(dt, x.size);
    const dW = be.allocateOutput(dt, kernel.size);
    const dR = be.allocateOutput(dt, recurrentKernel.size);
    const db = bias === null ? null : be.allocateOutput(dt, bias.size);
    const dh0 = h0 === null ? null : be.allocateOutput(dt, h0.size);
    const dc0 = c0 === null ? null : be.allocateOutput(dt, c0.size);
    be.kernels.rnnBackward(cfg, floatStorage(x), floatStorage(kernel), floatStorage(recurrentKernel), mask,
      floatStorage(gy), null, null, ws, dx, dh0, dc0, dW, dR, db, rmask);
    be.release(ws);
    const grads: Tensor[] = [new Tensor(dx, x.shape), new Tensor(dW, kernel.shape), new Tensor(dR, recurrentKernel.shape)];
    if (bias !== null) grads.push(new Tensor(db!, bias.shape));
    if (h0 !== null) grads.push(new Tensor(dh0!, h0.shape));
    if (c0 !== null) grads.push(new Tensor(dc0!, c0.shape));
    return grads;
  });
  if (out.gradFn === null) {  // nothing will read the workspace again
    be.release(workspace);
    workspace = null;
  }
  return { y: out, hT: new Tensor(hT, [N, U]), cT: cT === null ? null : new Tensor(cT, [N, U]) };
}
