// Types of every function the native addon (native/binding/addon.cc) exports.
// test/binding.test.ts fails if the addon and this file disagree, so change both together.
//
// Conventions of the boundary:
// - Float kernels take Float32Array or Float64Array; every float array of one call has the
//   same type (float64 exists for gradcheck; training computes in float32).
// - Arrays are dense and row-major; sizes are element counts. Offsets are expressed by passing
//   a subarray.
// - The addon checks every argument (types, non-negative integer sizes, array lengths against
//   the sizes, product overflow) and throws TypeError/RangeError naming the function, the
//   argument and the sizes. It never reads or writes out of bounds.
// - Outputs never overlap each other, and overlap an input only where a comment below says
//   it "may be" that input (in place, exactly the same elements); anything else that shares
//   memory is a RangeError.
// - An array that user code run by the call itself (a getter on a shape Array or a geometry
//   object) detaches or resizes is a RangeError. Index arrays (argmax) may live in shared
//   memory: an entry changed after the check to a position outside its image is skipped,
//   never followed out of bounds.
// - Names (ops, modes, kernels) are exact: one with a NUL character is a RangeError.
// - A call whose arrays are all empty returns at once, however large its other sizes.

export type FloatArray = Float32Array | Float64Array;

/** Unary elementwise ops. alpha/beta parameterize some of them (see comments). */
export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square' | 'reciprocal' | 'sign'
  | 'relu'
  | 'leakyRelu'   // x > 0 ? x : alpha * x
  | 'elu'         // x > 0 ? x : alpha * (exp(x) - 1)
  | 'selu'        // Keras constants: scale 1.0507009873554805, alpha 1.6732632423543772
  | 'sigmoid' | 'tanh'
  | 'softplus'    // log(1 + exp(x)), computed stably
  | 'clip'        // min(max(x, alpha), beta)
  | 'powScalar'   // x ** alpha
  | 'scale'       // alpha * x + beta
  | 'log1p' | 'logSigmoid';

/** Binary ops with NumPy broadcasting. Comparisons write 1 or 0. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'greater' | 'greaterEqual' | 'less' | 'lessEqual' | 'equal';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';

/** A forward conv2d's sizes (see native/cpu/conv.h): x (N,H,W,C), w (KH,KW,C,O), y (N,OH,OW,O). */
export interface Conv2dGeometry {
  N: number; H: number; W: number; C: number;
  KH: number; KW: number; O: number;
  OH: number; OW: number;
  strideH: number; strideW: number;
  dilationH: number; dilationW: number;
  padTop: number; padLeft: number;
}

/** A 2-D pooling's sizes (see native/cpu/pool.h): x (N,H,W,C) -> y (N,OH,OW,C), window KH x KW. */
export interface Pool2dGeometry {
  N: number; H: number; W: number; C: number;
  KH: number; KW: number;
  OH: number; OW: number;
  strideH: number; strideW: number;
  padTop: number; padLeft: number;
}

export type UpsampleMode = 'nearest' | 'bilinear' | 'bilinearLegacy';

export type RnnCellName = 'simpleRNN' | 'lstm' | 'gru';
export type RnnActivation = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'hardSigmoidLegacy' | 'relu' | 'linear';
/**
 * One recurrent layer's sizes and options (see native/cpu/rnn.h): x (N, T, In), U units, G gates
 * per cell (simpleRNN 1, lstm 4, gru 3). Each field is read once (a getter runs once) and checked:
 * names exact, sizes non-negative safe integers, the booleans real booleans. resetAfter matters
 * for 'gru' only.
 */
export interface RnnConfig {
  cell: RnnCellName; N: number; T: number; In: number; U: number;
  activation: RnnActivation; recurrentActivation: RnnActivation;
  resetAfter: boolean; goBackwards: boolean; zeroOutputForMask: boolean;
}

export interface CudaInfo {
  /** Whether the addon was built with the CUDA kernels (GRADFORGE_CUDA=ON). */
  compiled: boolean;
  /** Whether a CUDA device is usable here. */
  available: boolean;
  /** CUDA devices found (0 without a driver or GPU). */
  devices: number;
  /** Why no device is usable ('' when one is). */
  reason: string;
}

export interface BackendInfo {
  /** Threads in the native pool (GRADFORGE_NUM_THREADS or the core count). */
  numThreads: number;
  /** Micro-kernel the GEMM uses now: 'avx512' | 'avx2' | 'ref'. */
  gemmKernel: string;
  /** Micro-kernels this CPU can run, best first. */
  availableGemmKernels: string[];
  /** CPU features found by CPUID, e.g. ['avx2', 'fma', 'avx512f']. */
  cpuFeatures: string[];
  /** The CUDA kernels: compiled into this build, and usable here (devices found, else why not). */
  cuda: CudaInfo;
  /** Compiler and build type, for bug reports. */
  build: string;
}

/** An execution plan made by planEnd (native/plan): opaque; the garbage collector frees it. */
export interface PlanHandle { readonly __gradforgePlan: never }
/** Weights copied by planWeights into memory the addon owns, for planRunAsync. */
export interface PlanWeightsHandle { readonly __gradforgePlanWeights: never }
/** One queued or running planRunAsync execution, for planCancel. */
export interface PlanRunHandle { readonly __gradforgePlanRun: never }
/** What planInfo reports about a plan. */
export interface PlanInfo {
  /** The recorded kernel calls in order, e.g. ['gemm', 'gemm', 'softmax']. */
  kernels: string[];
  /** Bytes of one execution's arena (intermediates and input copies). */
  arenaBytes: number;
  inputs: number;
  weights: number;
  outputBytes: number;
}
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/**
 * Device memory from cuda.alloc/upload/view (native/binding/device_storage.h): opaque. A kernel
 * takes it wherever it takes a typed array (every array of one call on the device, float32
 * only); the garbage collector frees it, dispose() sooner.
 */
export interface CudaHandle { readonly __gradforgeCuda: never }
export type CudaDType = 'float32' | 'float64' | 'int32' | 'uint8';
/** Device memory this addon holds (all its live allocations) and its pool's figures. */
export interface CudaMemory { buffers: number; bytes: number; poolReserved: number; poolUsed: number }
/**
 * Tensors in CUDA device memory (present only in a build with CUDA). All device work is queued
 * on one stream in call order; download/downloadAsync/synchronize wait for it. A CUDA error is
 * an Error with code 'GF_CUDA_ERROR'.
 */
export interface CudaBinding {
  /** length elements of dtype, zeroed when zero. */
  alloc(dtype: CudaDType, length: number, zero: boolean): CudaHandle;
  /** A copy of the array in device memory. */
  upload(array: AnyTypedArray): CudaHandle;
  /** Copies array into h (same dtype and length). */
  write(h: CudaHandle, array: AnyTypedArray): void;
  /** Copies h into out (same dtype and length), after all queued work. */
  download(h: CudaHandle, out: AnyTypedArray): void;
  /** The same, waiting on a worker thread: the promise settles once out holds the data. */
  downloadAsync(h: CudaHandle, out: AnyTypedArray): Promise<void>;
  /** Device-to-device copy of src into dst (same dtype and length). */
  copy(dst: CudaHandle, src: CudaHandle): void;
  /** length elements of h from offset, sharing its memory. */
  view(h: CudaHandle, offset: number, length: number): CudaHandle;
  /** Drops this handle's memory now (freed once no view or running call holds it). */
  dispose(h: CudaHandle): void;
  memory(): CudaMemory;
  /** Waits for all queued device work; reports a CUDA error raised by any of it. */
  synchronize(): void;
}

export interface Binding {
  /** Device memory, in a build with CUDA only (backendInfo().cuda.compiled). */
  readonly cuda?: CudaBinding;
  backendInfo(): BackendInfo;
  /** Resize the thread pool; n >= 1. */
  setNumThreads(n: number): void;
  /** Force a micro-kernel: 'auto' | 'avx512' | 'avx2' | 'ref'. Throws if this CPU cannot run it. */
  setGemmKernel(name: string): void;

  /**
   * C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is M x K, op(B) is K x N.
   * A is M x K (lda >= K) or, transposed, K x M (lda >= M); likewise B. beta = 0 ignores C's
   * contents (NaN in C does not propagate), as BLAS defines. Optional epilogue, applied as C
   * is stored: C = activation(... + bias), bias of length N (one per column) or null.
   */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
       A: FloatArray, lda: number, B: FloatArray, ldb: number,
       beta: number, C: FloatArray, ldc: number,
       bias?: FloatArray | null, activation?: 'linear' | 'relu'): void;

  /**
   * Measured single-precision peak in GFLOP/s: `threads` threads at once running independent
   * FMA chains of `isa` ('avx512' | 'avx2' | 'sse2' (mul+add, the baseline)) for `seconds`
   * (0 < seconds <= 10). Blocks the calling thread; for benchmarks (bench/gemm.ts). Throws a
   * RangeError when this CPU cannot run `isa`.
   */
  fmaPeak(isa: string, threads: number, seconds: number): number;

  /** out[i] = f(x[i]); x and out have the same length (out may be x: in place). */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, alpha: number, beta: number): void;
  /**
   * dx[i] = dy[i] * f'(x[i]); y = f(x) is passed too because some derivatives are cheaper
   * from it (sigmoid, tanh, exp, elu). All four have the same length; dx may be x, y or dy.
   */
  unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray,
                alpha: number, beta: number): void;

  /**
   * out = a (op) b with broadcasting. Shapes are aligned from the right; outShape is the
   * broadcast shape (the binding checks it). Rank <= 8. out may be a or b (in place) when
   * that operand has the output's size (is not broadcast).
   */
  binary(op: BinaryOp, a: FloatArray, aShape: number[], b: FloatArray, bShape: number[],
         out: FloatArray, outShape: number[]): void;

  /**
   * Reduce the middle axis of x viewed as (outer, n, inner): out[o, i] = op_k x[o, k, i].
   * out has outer * inner elements. n = 0 gives 0 for sum, NaN for mean, -Inf/+Inf for max/min.
   */
  reduce(op: ReduceOp, x: FloatArray, outer: number, n: number, inner: number, out: FloatArray): void;
  /** Index of the maximum along the middle axis (first one on ties); n >= 1. */
  argReduce(op: 'argmax' | 'argmin', x: FloatArray, outer: number, n: number, inner: number,
            out: Int32Array): void;

  /** Softmax (or log-softmax when log) of each row of x viewed as (rows, cols); out may be x. */
  softmax(x: FloatArray, rows: number, cols: number, out: FloatArray, log: boolean): void;
  /**
   * Gradient of softmax/log-softmax given its output y:
   * softmax:    dx = y * (dy - sum(dy * y))
   * logSoftmax: dx = dy - exp(y) * sum(dy)
   * dx may be y or dy.
   */
  softmaxBackward(y: FloatArray, dy: FloatArray, rows: number, cols: number, dx: FloatArray,
                  log: boolean): void;

  /**
   * out = x transposed by perm (out.shape[i] = shape[perm[i]]). x and out are both Float32Array,
   * both Float64Array or both Int32Array. Rank <= 8.
   */
  permute(x: FloatArray | Int32Array, shape: number[], perm: number[], out: FloatArray | Int32Array): void;

  /**
   * dst[dstStart + i] = src[srcStart + i] for every index i of the box `size` (slice, pad,
   * concat); the rest of dst is untouched, or set to `fill` when given (an int32 value for an
   * Int32Array). src (shape srcShape) and dst (shape dstShape) have one type and do not
   * overlap; all five arrays have one rank (<= 8); the box lies inside both.
   */
  copyBox(src: FloatArray | Int32Array, srcShape: number[], srcStart: number[],
          dst: FloatArray | Int32Array, dstShape: number[], dstStart: number[], size: number[],
          fill?: number): void;

  /**
   * out[i, :] = x[ids[i], :] with x of `rows` rows of rowLength elements (x and out one type).
   * An id outside [0, rows) is a RangeError (CPU arrays); on device storage the ids cannot be
   * read, and such an id gives a row of zeros.
   */
  gatherRows(x: FloatArray | Int32Array, rows: number, rowLength: number, ids: Int32Array,
             out: FloatArray | Int32Array): void;

  /**
   * out[ids[i], :] += g[i, :] (the gradient of gatherRows; out is not cleared first), in the
   * order of i on the CPU. On a CUDA device the adds are atomic, so repeated ids sum in a
   * varying order, and an out-of-range id adds nothing.
   */
  scatterAddRows(g: FloatArray, ids: Int32Array, rows: number, rowLength: number, out: FloatArray): void;

  /**
   * In-place optimizer steps over one parameter (all arrays the same length and type). The
   * gradient already includes regularization and clipping.
   * sgd:     v = momentum*v - lr*g; p += nesterov ? momentum*v - lr*g : v   (Keras)
   *          (momentum = 0: p -= lr*g; v is then unused and may be empty)
   * adam:    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
   *          p -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)   (Keras 3; t = step >= 1)
   * rmsprop: ms = rho*ms + (1-rho)*g^2; p -= lr * g / sqrt(ms + eps)  (Keras 3, no momentum)
   * adagrad: acc += g^2; p -= lr * g / sqrt(acc + eps)                 (Keras 3)
   * p and the state arrays must be distinct; g may be any one of them (it is read first).
   */
  sgdStep(p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, nesterov: boolean): void;
  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, lr: number, beta1: number,
           beta2: number, epsilon: number, step: number): void;
  rmspropStep(p: FloatArray, g: FloatArray, ms: FloatArray, lr: number, rho: number, epsilon: number): void;
  adagradStep(p: FloatArray, g: FloatArray, acc: FloatArray, lr: number, epsilon: number): void;

  // ---- convolutional networks (native/binding/cnn.cc) ----
  /** y = conv2d(x, w) (+ bias): native/cpu/conv.h conv2d_forward. bias may be null. */
  conv2dForward(g: Conv2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null, y: FloatArray,
    activation?: 'linear' | 'relu'): void;
  /** dx (N,H,W,C) from dy (N,OH,OW,O) and w. */
  conv2dBackwardInput(g: Conv2dGeometry, dy: FloatArray, w: FloatArray, dx: FloatArray): void;
  /** dw (KH,KW,C,O) and, unless null, dbias (O) from x and dy. */
  conv2dBackwardFilter(g: Conv2dGeometry, x: FloatArray, dy: FloatArray, dw: FloatArray, dbias: FloatArray | null): void;
  // conv2dTranspose needs no exports of its own: its forward is conv2dBackwardInput of the
  // adjoint conv2d, and its gradients are conv2dForward and conv2dBackwardFilter.

  /**
   * Inference: y = maxPool2d(conv2d(x, w) (+ bias, activation)) with pool geometry p over the
   * conv's output (p.N, p.H, p.W, p.C = g.N, g.OH, g.OW, g.O), without the conv's output in
   * memory; the bits of conv2dForward then maxPool2dForward.
   */
  conv2dMaxPool2dForward(g: Conv2dGeometry, p: Pool2dGeometry, x: FloatArray, w: FloatArray, bias: FloatArray | null,
    y: FloatArray, activation?: 'linear' | 'relu'): void;
  /** argmax null: y only (inference, no backward to follow). */
  maxPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray, argmax: Int32Array | null): void;
  maxPool2dBackward(g: Pool2dGeometry, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void;
  avgPool2dForward(g: Pool2dGeometry, x: FloatArray, y: FloatArray): void;
  avgPool2dBackward(g: Pool2dGeometry, dy: FloatArray, dx: FloatArray): void;
  /** x (N, HW, C) -> y (N, C); argmax (N, C) for 'max', null for 'avg'. */
  globalPool2dForward(op: 'avg' | 'max', N: number, HW: number, C: number, x: FloatArray, y: FloatArray, argmax: Int32Array | null): void;
  globalPool2dBackward(op: 'avg' | 'max', N: number, HW: number, C: number, dy: FloatArray, argmax: Int32Array | null, dx: FloatArray): void;
  /** x (N,H,W,C) -> y (N, H*sh, W*sw, C). */
  upSampling2dForward(mode: UpsampleMode, N: number, H: number, W: number, C: number, sh: number, sw: number, x: FloatArray, y: FloatArray): void;
  upSampling2dBackward(mode: UpsampleMode, N: number, H: number, W: number, C: number, sh: number, sw: number, dy: FloatArray, dx: FloatArray): void;

  /** x seen as (M, C): batch statistics; writes y, mean (C), invStd (C); updates movingMean/movingVar in place unless null. gamma/beta may be null. */
  batchNormTrain(M: number, C: number, x: FloatArray, gamma: FloatArray | null, beta: FloatArray | null,
                 epsilon: number, momentum: number, y: FloatArray, mean: FloatArray, invStd: FloatArray,
                 movingMean: FloatArray | null, movingVar: FloatArray | null): void;
  batchNormInference(M: number, C: number, x: FloatArray, gamma: FloatArray | null, beta: FloatArray | null,
                     movingMean: FloatArray, movingVar: FloatArray, epsilon: number, y: FloatArray): void;
  batchNormBackward(M: number, C: number, x: FloatArray, dy: FloatArray, gamma: FloatArray | null,
                    mean: FloatArray, invStd: FloatArray, dx: FloatArray, dgamma: FloatArray | null, dbeta: FloatArray | null): void;
  batchNormBackwardInference(M: number, C: number, x: FloatArray, dy: FloatArray, gamma: FloatArray | null,
                             movingMean: FloatArray, movingVar: FloatArray, epsilon: number,
                             dx: FloatArray, dgamma: FloatArray | null, dbeta: FloatArray | null): void;

  // ---- recurrent networks (native/binding/rnn.cc) ----
  // Layouts, gate order and mask semantics as native/cpu/rnn.h (Keras). No output may share
  // memory with any other array of the call (the workspace included): nothing is in place.
  // c0, cT, dcT and dc0 are an LSTM's cell state: for 'simpleRNN' and 'gru' they must be null
  // (a TypeError otherwise). Empty sizes: U = 0 or N = 0 writes nothing in rnnForward; in
  // rnnBackward U = 0 zeroes dx only, N = 0 zeroes dW, dR, db. T = 0 (N, U > 0): rnnForward
  // writes hT = h0 and cT = c0 (zeros where null); rnnBackward writes dh0 = dhT, dc0 = dcT
  // (zeros where null) and zeroes dW, dR, db. The workspace needs >= rnnWorkspaceSize(cfg)
  // elements for both calls; its contents are never trusted (any values give wrong numbers, never
  // a wrong address). rnnBackward consumes the workspace (it writes the gates' gradients over the
  // gates): pass it the workspace of the forward just run, and run rnnForward again before another
  // rnnBackward. recurrentMask (N,U), of x's type, last and optional in both calls: recurrent
  // dropout, h_{t-1} times it wherever h_{t-1} multiplies R (GRU's state mix keeps the undropped
  // h_{t-1}); the backward must be given the forward's. Null or absent: none.
  /** Elements of the workspace rnnForward fills and rnnBackward reads (native/cpu/rnn.h). */
  rnnWorkspaceSize(cfg: RnnConfig): number;
  /** x (N,T,In), W (In,G*U), R (U,G*U), b (G*U; GRU resetAfter: 2*G*U) or null, h0/c0 (N,U) or null (zeros), mask Uint8Array (N,T) or null, recurrentMask (N,U) or null; writes y (N,T,U), hT/cT (N,U) unless null, and the workspace. */
  rnnForward(cfg: RnnConfig, x: FloatArray, W: FloatArray, R: FloatArray, b: FloatArray | null,
             h0: FloatArray | null, c0: FloatArray | null, mask: Uint8Array | null,
             y: FloatArray, hT: FloatArray | null, cT: FloatArray | null, workspace: FloatArray,
             recurrentMask?: FloatArray | null): void;
  /** From the workspace of the matching forward: writes dx, dh0, dc0 (unless null), dW, dR, db (unless null); dy/dhT/dcT null mean zeros. */
  rnnBackward(cfg: RnnConfig, x: FloatArray, W: FloatArray, R: FloatArray, mask: Uint8Array | null,
              dy: FloatArray | null, dhT: FloatArray | null, dcT: FloatArray | null, workspace: FloatArray,
              dx: FloatArray | null, dh0: FloatArray | null, dc0: FloatArray | null,
              dW: FloatArray, dR: FloatArray, db: FloatArray | null, recurrentMask?: FloatArray | null): void;

  // ---- execution plans (native/binding/plan.cc, native/plan) ----
  // planBegin starts recording this thread's kernel calls (each still runs as usual); planEnd
  // stops and analyses the recording against the arrays the caller will bind at each run: the
  // inputs and the weights (read in place, any memory of the same byte sizes later), and the
  // output (copied out). It returns the plan, or a string saying why the recording cannot be
  // replayed (a kernel read memory that JavaScript computed between kernels, a backward or
  // optimizer kernel ran, a kernel wrote into an input or a weight, no kernel wrote the output).
  // A run binds arrays of the recorded element types (a TypeError otherwise) and exactly the
  // recorded byte sizes (a RangeError otherwise); the output
  // must not share memory with what the run reads. Each array is checked again after every
  // argument was read (a getter that detached or resized one makes the call a RangeError).
  /** Starts recording on this thread; an Error if a recording already runs here. */
  planBegin(): void;
  /** Stops and discards this thread's recording (nothing if none runs). */
  planAbort(): void;
  planEnd(inputs: AnyTypedArray[], weights: AnyTypedArray[], output: AnyTypedArray): PlanHandle | string;
  planInfo(plan: PlanHandle): PlanInfo;
  /** Replays the plan on this thread. */
  planRun(plan: PlanHandle, inputs: AnyTypedArray[], weights: AnyTypedArray[], output: AnyTypedArray): void;
  /** Copies the weights' bytes into memory the returned handle owns (for planRunAsync). */
  planWeights(weights: AnyTypedArray[]): PlanWeightsHandle;
  /**
   * Replays the plan on the libuv pool over the weights of a planWeights handle (the plan's
   * count and byte sizes). The inputs are copied before this returns; the run reads and writes
   * only memory the addon owns. done runs on this thread: the output array is written just
   * before it, if it still has the memory and size it had at the call. done gets (null, false)
   * when the output is written, (message, false) when a kernel failed or the output was
   * detached or resized meanwhile (then nothing is written), (null, true) when planCancel
   * cancelled the run before it started; seconds is how long the execution ran (0 if it did not).
   */
  planRunAsync(plan: PlanHandle, inputs: AnyTypedArray[], weights: PlanWeightsHandle, output: AnyTypedArray,
               done: (error: string | null, cancelled: boolean, seconds: number) => void): PlanRunHandle;
  /** Cancels a run that has not started; true if it was (its done then reports cancelled). */
  planCancel(run: PlanRunHandle): boolean;
}

declare const binding: Binding;
export default binding;
