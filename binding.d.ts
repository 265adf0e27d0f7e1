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

export interface BackendInfo {
  /** Threads in the native pool (GRADFORGE_NUM_THREADS or the core count). */
  numThreads: number;
  /** Micro-kernel the GEMM uses now: 'avx512' | 'avx2' | 'ref'. */
  gemmKernel: string;
  /** Micro-kernels this CPU can run, best first. */
  availableGemmKernels: string[];
  /** CPU features found by CPUID, e.g. ['avx2', 'fma', 'avx512f']. */
  cpuFeatures: string[];
  /** Whether the addon was built with CUDA kernels. */
  cuda: boolean;
  /** Compiler and build type, for bug reports. */
  build: string;
}

export interface Binding {
  backendInfo(): BackendInfo;
  /** Resize the thread pool; n >= 1. */
  setNumThreads(n: number): void;
  /** Force a micro-kernel: 'auto' | 'avx512' | 'avx2' | 'ref'. Throws if this CPU cannot run it. */
  setGemmKernel(name: string): void;

  /**
   * C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is M x K, op(B) is K x N.
   * A is M x K (lda >= K) or, transposed, K x M (lda >= M); likewise B. beta = 0 ignores C's
   * contents (NaN in C does not propagate), as BLAS defines.
   */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
       A: FloatArray, lda: number, B: FloatArray, ldb: number,
       beta: number, C: FloatArray, ldc: number): void;

  /** out[i] = f(x[i]); x and out have the same length (out may be x). */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, alpha: number, beta: number): void;
  /**
   * dx[i] = dy[i] * f'(x[i]); y = f(x) is passed too because some derivatives are cheaper
   * from it (sigmoid, tanh, exp, elu). All four have the same length.
   */
  unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray,
                alpha: number, beta: number): void;

  /**
   * out = a (op) b with broadcasting. Shapes are aligned from the right; outShape is the
   * broadcast shape (the binding checks it). Rank <= 8.
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

  /** Softmax (or log-softmax when log) of each row of x viewed as (rows, cols). */
  softmax(x: FloatArray, rows: number, cols: number, out: FloatArray, log: boolean): void;
  /**
   * Gradient of softmax/log-softmax given its output y:
   * softmax:    dx = y * (dy - sum(dy * y))
   * logSoftmax: dx = dy - exp(y) * sum(dy)
   */
  softmaxBackward(y: FloatArray, dy: FloatArray, rows: number, cols: number, dx: FloatArray,
                  log: boolean): void;

  /**
   * out = x transposed by perm (out.shape[i] = shape[perm[i]]). x and out are both Float32Array,
   * both Float64Array or both Int32Array. Rank <= 8.
   */
  permute(x: FloatArray | Int32Array, shape: number[], perm: number[], out: FloatArray | Int32Array): void;

  /**
   * In-place optimizer steps over one parameter (all arrays the same length and type). The
   * gradient already includes regularization and clipping.
   * sgd:     v = momentum*v - lr*g; p += nesterov ? momentum*v - lr*g : v   (Keras)
   *          (momentum = 0: p -= lr*g; v is then unused and may be empty)
   * adam:    m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
   *          p -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)   (Keras 3; t = step >= 1)
   * rmsprop: ms = rho*ms + (1-rho)*g^2; p -= lr * g / sqrt(ms + eps)  (Keras 3, no momentum)
   * adagrad: acc += g^2; p -= lr * g / sqrt(acc + eps)                 (Keras 3)
   */
  sgdStep(p: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, nesterov: boolean): void;
  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, lr: number, beta1: number,
           beta2: number, epsilon: number, step: number): void;
  rmspropStep(p: FloatArray, g: FloatArray, ms: FloatArray, lr: number, rho: number, epsilon: number): void;
  adagradStep(p: FloatArray, g: FloatArray, acc: FloatArray, lr: number, epsilon: number): void;
}

declare const binding: Binding;
export default binding;
