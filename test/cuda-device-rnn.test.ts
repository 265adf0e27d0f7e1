// The recurrent exports (rnnForward, rnnBackward: native/binding/rnn.cc) on device storage
// (their CUDA dispatch, native/binding/device_rnn.cc, over the launchers of native/cuda/rnn.h):
// the same call on typed arrays (the CPU kernels) and on device handles must agree, for every
// cell, with and without initial states, bias, input mask, goBackwards and recurrent mask, and
// both backward outputs and forward ones. The addon is the one GRADFORGE_ADDON names (npm run
// test:cuda: the emulated CUDA build, whose kernels run over the host emulation, so sizes are
// tiny and odd); without it, or without a usable device, the tests are skipped. Also: the
// workspace rnnWorkspaceSize reports fits both devices, a shorter one is a RangeError, and a
// call mixing device and CPU arrays (or float64 device storage) is a TypeError.
import type { Binding, CudaHandle, RnnConfig } from '../binding';
import { addon as loaded, deviceArrays, hasDevice, rng, expectError, close } from './util/cuda-addon';

const addon = loaded;
const ok = hasDevice;
const d = ok ? describe : describe.skip;

const GATES = { simpleRNN: 1, lstm: 4, gru: 3 } as const;

interface Case {
  cell: RnnConfig['cell'];
  resetAfter?: boolean;
  goBackwards?: boolean;
  zeroOutputForMask?: boolean;
  activation?: RnnConfig['activation'];
  recurrentActivation?: RnnConfig['recurrentActivation'];
  bias?: boolean;
  h0?: boolean;  // h0 (and c0 for an LSTM)
  mask?: boolean;
  rmask?: boolean;
  dState?: boolean;  // dhT (and dcT) given to the backward
  N?: number; T?: number; In?: number; U?: number;
}

d('recurrent exports on CUDA device storage agree with the CPU kernels', () => {
  // (a skipped describe still runs this body: nothing here may touch the addon before a test)
  const b = addon as Binding;
  const { up, alloc, nanOut, down } = deviceArrays();

  function config(c: Case): RnnConfig {
    return {
      cell: c.cell, N: c.N ?? 2, T: c.T ?? 3, In: c.In ?? 3, U: c.U ?? 5,
      activation: c.activation ?? 'tanh', recurrentActivation: c.recurrentActivation ?? 'sigmoid',
      resetAfter: c.resetAfter ?? true, goBackwards: c.goBackwards ?? false, zeroOutputForMask: c.zeroOutputForMask ?? false,
    };
  }

  /** The inputs of one case (every float array Float32Array; absent ones null). */
  function inputs(c: Case, cfg: RnnConfig, seed: number) {
    const r = rng(seed);
    const { N, T, In, U } = cfg;
    const G = GATES[cfg.cell];
    const lstm = cfg.cell === 'lstm';
    const rand = (n: number, s = 0.8): Float32Array => Float32Array.from({ length: n }, () => r(s));
    const biasLen = (cfg.cell === 'gru' && cfg.resetAfter ? 2 : 1) * G * U;
    let mask: Uint8Array | null = null;
    if (c.mask) {
      mask = new Uint8Array(N * T).fill(1);
      mask[1] = 0;  // batch 0, step 1 masked
      mask[N * T - 1] = 0;  // the last batch row's last step too
    }
    return {
      x: rand(N * T * In, 1), W: rand(In * G * U, 0.6), R: rand(U * G * U, 0.6),
      b: c.bias === false ? null : rand(biasLen, 0.3),
      h0: c.h0 ? rand(N * U, 0.7) : null, c0: c.h0 && lstm ? rand(N * U, 0.7) : null,
      mask,
      rmask: c.rmask ? Float32Array.from({ length: N * U }, (_, i) => (i % 3 === 1 ? 0 : 1.25)) : null,
      dy: rand(N * T * U, 1),
      dhT: c.dState ? rand(N * U, 1) : null, dcT: c.dState && lstm ? rand(N * U, 1) : null,
    };
  }

  function run(c: Case, seed: number): void {
    const cfg = config(c);
    const { N, T, In, U } = cfg;
    const G = GATES[cfg.cell];
    const lstm = cfg.cell === 'lstm';
    const a = inputs(c, cfg, seed);
    const ws = b.rnnWorkspaceSize(cfg);
    const sizes = { y: N * T * U, s: N * U, x: N * T * In, W: In * G * U, R: U * G * U, b: a.b?.length ?? 0 };

    // CPU
    const y = new Float32Array(sizes.y), hT = new Float32Array(sizes.s), cT = lstm ? new Float32Array(sizes.s) : null;
    const wsC = new Float32Array(ws);
    b.rnnForward(cfg, a.x, a.W, a.R, a.b, a.h0, a.c0, a.mask, y, hT, cT, wsC, a.rmask);
    const dx = new Float32Array(sizes.x), dW = new Float32Array(sizes.W), dR = new Float32Array(sizes.R);
    const db = a.b ? new Float32Array(sizes.b) : null;
    const dh0 = new Float32Array(sizes.s), dc0 = lstm ? new Float32Array(sizes.s) : null;
    b.rnnBackward(cfg, a.x, a.W, a.R, a.mask, a.dy, a.dhT, a.dcT, wsC, dx, dh0, dc0, dW, dR, db, a.rmask);

    // device: the same call on handles
    const opt = (v: Float32Array | null): CudaHandle | null => (v === null ? null : up(v));
    const X = up(a.x), Wd = up(a.W), Rd = up(a.R), B = opt(a.b), H0 = opt(a.h0), C0 = opt(a.c0);
    const M = a.mask === null ? null : up(a.mask), RM = opt(a.rmask);
    const Y = nanOut(sizes.y), HT = nanOut(sizes.s), CT = lstm ? nanOut(sizes.s) : null;
    const WS = alloc(ws);
    const raw = b as unknown as Record<string, (...args: unknown[]) => unknown>;
    raw.rnnForward(cfg, X, Wd, Rd, B, H0, C0, M, Y, HT, CT, WS, RM);
    close('y', down(Y, sizes.y), y);
    close('hT', down(HT, sizes.s), hT);
    if (lstm) close('cT', down(CT!, sizes.s), cT!);

    const DX = nanOut(sizes.x), DW = nanOut(sizes.W), DR = nanOut(sizes.R), DB = a.b ? nanOut(sizes.b) : null;
    const DH0 = nanOut(sizes.s), DC0 = lstm ? nanOut(sizes.s) : null;
    raw.rnnBackward(cfg, X, Wd, Rd, M, up(a.dy), opt(a.dhT), opt(a.dcT), WS, DX, DH0, DC0, DW, DR, DB, RM);
    close('dx', down(DX, sizes.x), dx);
    close('dW', down(DW, sizes.W), dW);
    close('dR', down(DR, sizes.R), dR);
    if (db) close('db', down(DB!, sizes.b), db);
    close('dh0', down(DH0, sizes.s), dh0);
    if (lstm) close('dc0', down(DC0!, sizes.s), dc0!);
  }

  const cells: Case[] = [
    { cell: 'simpleRNN' },
    { cell: 'lstm' },
    { cell: 'gru', resetAfter: true },
    { cell: 'gru', resetAfter: false },
  ];
  for (const base of cells) {
    const name = base.cell === 'gru' ? `gru resetAfter=${base.resetAfter}` : base.cell;
    test(`${name}: plain (zero initial state, bias)`, () => run(base, 11));
    test(`${name}: h0${base.cell === 'lstm' ? '/c0' : ''}, mask with masked steps, dhT${base.cell === 'lstm' ? '/dcT' : ''}`, () =>
      run({ ...base, h0: true, mask: true, dState: true }, 12));
    test(`${name}: goBackwards, recurrentMask, mask with zeroOutputForMask, no bias`, () =>
      run({ ...base, goBackwards: true, rmask: true, mask: true, zeroOutputForMask: true, bias: false, h0: true }, 13));
    test(`${name}: goBackwards with h0 and recurrentMask, other activations`, () =>
      run({ ...base, goBackwards: true, rmask: true, h0: true, dState: true, activation: 'relu', recurrentActivation: 'hardSigmoid' }, 14));
  }

  test('empty sizes: T = 0 passes h0 through; U = 0 zeroes dx; N = 0 zeroes the weight gradients', () => {
    run({ cell: 'lstm', T: 0, h0: true, dState: true }, 21);
    run({ cell: 'gru', N: 0, T: 2 }, 22);
    const cfg = config({ cell: 'simpleRNN', N: 1, T: 2, In: 2, U: 0 });
    const raw = b as unknown as Record<string, (...args: unknown[]) => unknown>;
    const e = alloc(0), DX = nanOut(4);
    raw.rnnForward(cfg, up(new Float32Array(4)), e, e, null, null, null, null, e, null, null, e);
    raw.rnnBackward(cfg, up(new Float32Array(4)), e, e, null, null, null, null, e, DX, null, null, e, e, null);
    expect(Array.from(down(DX, 4))).toEqual([0, 0, 0, 0]);
  });

  test('rnnWorkspaceSize fits the CUDA layout; a shorter device workspace is a RangeError', () => {
    for (const c of cells) {
      const cfg = config({ ...c, T: 4 });
      const { N, T, In, U } = cfg;
      const G = GATES[cfg.cell];
      // the CUDA kernels' size (native/cuda/rnn.h's layout)
      let cudaSize = N * T * G * U + 2 * N * T * U + 6 * N * U;
      if (cfg.cell !== 'simpleRNN') cudaSize += N * T * U;
      if (cfg.cell === 'gru' && cfg.resetAfter) cudaSize += N * T * G * U + N * G * U;
      const ws = b.rnnWorkspaceSize(cfg);
      expect(ws).toBeGreaterThanOrEqual(cudaSize);
      const raw = b as unknown as Record<string, (...args: unknown[]) => unknown>;
      const X = up(new Float32Array(N * T * In)), Wd = up(new Float32Array(In * G * U)), Rd = up(new Float32Array(U * G * U));
      const Y = alloc(N * T * U), short = alloc(ws - 1);
      const hc = cfg.cell === 'lstm' ? alloc(N * U) : null;
      expectError(() => raw.rnnForward(cfg, X, Wd, Rd, null, null, null, null, Y, alloc(N * U), hc, short),
        'RangeError', new RegExp(`^rnnForward: workspace has ${ws - 1} elements but rnnWorkspaceSize for .* needs ${ws}$`));
      expectError(() => raw.rnnBackward(cfg, X, Wd, Rd, null, Y, null, null, short, null, null, null,
        alloc(In * G * U), alloc(U * G * U), null), 'RangeError', /^rnnBackward: workspace has/);
      // exactly the reported size runs
      raw.rnnForward(cfg, X, Wd, Rd, null, null, null, null, Y, null, null, alloc(ws));
    }
  });

  test('device and CPU arrays in one call, or float64 device storage, are TypeErrors', () => {
    const cfg = config({ cell: 'lstm' });
    const { N, T, In, U } = cfg;
    const G = 4;
    const ws = b.rnnWorkspaceSize(cfg);
    const raw = b as unknown as Record<string, (...args: unknown[]) => unknown>;
    const X = up(new Float32Array(N * T * In)), Wd = up(new Float32Array(In * G * U)), Rd = up(new Float32Array(U * G * U));
    const Y = alloc(N * T * U), WS = alloc(ws);
    // a device x with a CPU W
    expectError(() => raw.rnnForward(cfg, X, new Float32Array(In * G * U), Rd, null, null, null, null, Y, null, null, WS),
      'TypeError', /same device/);
    // a CPU mask with device arrays
    expectError(() => raw.rnnForward(cfg, X, Wd, Rd, null, null, null, new Uint8Array(N * T).fill(1), Y, null, null, WS),
      'TypeError', /argument 'mask' is a CPU array: every array of one call must be on the same device/);
    // a CPU workspace in the backward
    expectError(() => raw.rnnBackward(cfg, X, Wd, Rd, null, Y, null, null, new Float32Array(ws), null, null, null,
      alloc(In * G * U), alloc(U * G * U), null), 'TypeError', /same device/);
    // a float mask handle where a uint8 one belongs
    expectError(() => raw.rnnForward(cfg, X, Wd, Rd, null, null, null, up(new Float32Array(N * T)), Y, null, null, WS),
      'TypeError', /mask.*float32 device storage but must be uint8/);
    // float64 device storage: the CUDA kernels compute in float32
    const x64 = up(new Float64Array(N * T * In)), W64 = up(new Float64Array(In * G * U)), R64 = up(new Float64Array(U * G * U));
    expectError(() => raw.rnnForward(cfg, x64, W64, R64, null, null, null, null, up(new Float64Array(N * T * U)), null, null,
      up(new Float64Array(ws))), 'TypeError', /float64 device storage/);
  });
});
