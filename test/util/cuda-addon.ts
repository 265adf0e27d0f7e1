// What the device-dispatch tests of the addon (test/cuda-device-*.test.ts) share: the addon
// GRADFORGE_ADDON names (the emulated CUDA build under npm run test:cuda), whether it has a
// usable device (else the tests skip), and comparisons of device results with the CPU's.
import type { Binding, CudaBinding, CudaHandle } from '../../binding';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const addon: Binding | null = process.env.GRADFORGE_ADDON ? (require(process.env.GRADFORGE_ADDON) as Binding) : null;
export const hasDevice = addon !== null && addon.cuda !== undefined && addon.backendInfo().cuda.available;

export function rng(seed: number): (s?: number) => number {
  let state = seed >>> 0 || 1;
  return (s = 1) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32 * 2 - 1) * s;
  };
}

/** An error thrown in the addon (made in Node's main realm: compare name and message). */
export function expectError(f: () => unknown, name: string, message: RegExp): void {
  let err: unknown = null;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).not.toBeNull();
  const e = err as Error;
  expect(e.name).toBe(name);
  expect(e.message).toMatch(message);
}

export function close(what: string, got: Float32Array, want: Float32Array, tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])))) {
      throw new Error(`${what}[${i}]: device ${got[i]}, CPU ${want[i]} (tolerance ${tol})`);
    }
  }
}


/**
 * Device arrays for one describe, all disposed after each test (call it in the describe's body;
 * it touches the addon only when a test runs): up uploads, alloc allocates float32, nanOut is
 * an output prefilled with NaN (anything left unwritten shows), down/downIndex read back.
 */
export function deviceArrays() {
  let live: CudaHandle[] = [];
  const cuda = (): CudaBinding => addon!.cuda!;
  afterEach(() => {
    for (const h of live) cuda().dispose(h);
    live = [];
  });
  const keep = (h: CudaHandle): CudaHandle => {
    live.push(h);
    return h;
  };
  const read = <T extends Float32Array | Int32Array>(h: CudaHandle, out: T): T => {
    cuda().download(h, out);
    return out;
  };
  return {
    up: (a: Float32Array | Float64Array | Int32Array | Uint8Array): CudaHandle => keep(cuda().upload(a)),
    alloc: (n: number): CudaHandle => keep(cuda().alloc('float32', n, false)),
    nanOut: (n: number): CudaHandle => keep(cuda().upload(new Float32Array(n).fill(NaN))),
    down: (h: CudaHandle, n: number): Float32Array => read(h, new Float32Array(n)),
    downIndex: (h: CudaHandle, n: number): Int32Array => read(h, new Int32Array(n)),
  };
}
