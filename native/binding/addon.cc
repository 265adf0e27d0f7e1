// The N-API addon: the one exports table of gradforge's native kernels (see binding.d.ts).
// Each export checks every argument through args.h (throwing TypeError/RangeError that name
// the function, argument and sizes), then calls a plain C++ kernel from native/cpu.
// It is the only file that includes napi.h. It is not: shape inference or policy (lib), or
// kernel code. No C++ exception crosses into JS: every export runs inside guard().
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>

#include "binding/args.h"
#include "binding/guard.h"
#include "cpu/cpu_features.h"
#include "cpu/elementwise.h"
#include "cpu/embedding.h"
#include "cpu/fma_peak.h"
#include "cpu/gemm.h"
#include "cpu/optim.h"
#include "cpu/permute.h"
#ifdef GF_HAVE_CUDA
#include "binding/device_math.h"
#include "binding/device_storage.h"
#include "cuda/device.h"
#endif
#include "cpu/reduce.h"
#include "cpu/softmax.h"
#include "cpu/threadpool.h"

#ifndef GF_BUILD_TYPE
#define GF_BUILD_TYPE "unknown"
#endif

namespace gf {
namespace binding {
namespace {

using Value = Napi::Value;
using Info = Napi::CallbackInfo;

std::string sz(const char* name, int64_t v) { return std::string(name) + "=" + std::to_string(v); }

// ---- backend -------------------------------------------------------------------------------

// backendInfo().cuda: whether the CUDA kernels were compiled in, and whether a device is usable
// here (a build with CUDA links cudart statically, so it loads without a driver and says why).
Napi::Object CudaInfo(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
#ifdef GF_HAVE_CUDA
  const cuda::DeviceQuery q = cuda::query_devices();
  o.Set("compiled", Napi::Boolean::New(env, true));
  o.Set("available", Napi::Boolean::New(env, q.count > 0));
  o.Set("devices", Napi::Number::New(env, q.count));
  o.Set("reason", Napi::String::New(env, q.count > 0 ? "" : q.reason));
#else
  o.Set("compiled", Napi::Boolean::New(env, false));
  o.Set("available", Napi::Boolean::New(env, false));
  o.Set("devices", Napi::Number::New(env, 0));
  o.Set("reason", Napi::String::New(env, "this build has no CUDA kernels (built without GRADFORGE_CUDA=ON; "
                                         "rebuild with `npm run build:cuda` and the CUDA toolkit)"));
#endif
  return o;
}

Value BackendInfo(const Info& info) {
  Call c(info, "backendInfo");
  if (!c.count(0)) return c.undef();
  Napi::Env env = c.env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("numThreads", Napi::Number::New(env, num_threads()));
  o.Set("gemmKernel", Napi::String::New(env, gemm_kernel_name(current_gemm_kernel())));
  auto to_array = [&](const std::vector<std::string>& v) {
    Napi::Array a = Napi::Array::New(env, v.size());
    for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::String::New(env, v[i]));
    return a;
  };
  o.Set("availableGemmKernels", to_array(available_gemm_kernels()));
  o.Set("cpuFeatures", to_array(cpu_feature_names()));
  o.Set("cuda", CudaInfo(env));
#if defined(__clang__)
  std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  std::string compiler = std::string("g++ ") + __VERSION__;
#else
  std::string compiler = "unknown compiler";
#endif
  o.Set("build", Napi::String::New(env, compiler + ", " + GF_BUILD_TYPE + ", N-API " +
                                            std::to_string(NAPI_VERSION)));
  return o;
}

Value SetNumThreads(const Info& info) {
  Call c(info, "setNumThreads");
  int64_t n;
  if (!c.count(1) || !c.size(0, "n", &n)) return c.undef();
  if (n < 1 || n > 1024) {
    c.range_error("argument 'n' must be between 1 and 1024, got " + std::to_string(n));
    return c.undef();
  }
  set_num_threads(static_cast<int>(n));
  return c.undef();
}

Value SetGemmKernel(const Info& info) {
  Call c(info, "setGemmKernel");
  std::string name;
  if (!c.count(1) || !c.string(0, "name", &name)) return c.undef();
  std::string avail;
  for (const std::string& k : available_gemm_kernels()) avail += (avail.empty() ? "" : ", ") + k;
  switch (set_gemm_kernel(name)) {
    case SetKernelResult::Ok: break;
    case SetKernelResult::UnknownName:
      c.range_error("unknown kernel '" + name + "'; expected 'auto', 'avx512', 'avx2' or 'ref'");
      break;
    case SetKernelResult::Unavailable:
      c.range_error("this CPU cannot run the '" + name + "' kernel (available: " + avail + ")");
      break;
  }
  return c.undef();
}

// Peak single-precision GFLOP/s of `threads` threads running independent FMA chains of `isa`
// for `seconds` (bench/gemm.ts divides GEMM throughput by it). Blocks the calling thread.
Value FmaPeak(const Info& info) {
  Call c(info, "fmaPeak");
  std::string isa;
  int64_t threads;
  double seconds;
  if (!c.count(3) || !c.string(0, "isa", &isa) || !c.size(1, "threads", &threads) ||
      !c.number(2, "seconds", &seconds))
    return c.undef();
  if (isa != "avx512" && isa != "avx2" && isa != "sse2") {
    c.range_error("isa must be 'avx512', 'avx2' or 'sse2', got '" + isa + "'");
    return c.undef();
  }
  if (threads < 1 || threads > 256) {
    c.range_error("threads must be in [1, 256], got " + std::to_string(threads));
    return c.undef();
  }
  if (!(seconds > 0 && seconds <= 10)) {
    c.range_error("seconds must be in (0, 10], got " + std::to_string(seconds));
    return c.undef();
  }
  const double g = fma_peak_gflops(isa.c_str(), static_cast<int>(threads), seconds);
  if (g < 0) {
    c.range_error("this CPU cannot run isa '" + isa + "'");
    return c.undef();
  }
  return Napi::Number::New(info.Env(), g);
}

// ---- gemm ----------------------------------------------------------------------------------

// Checks that a row-major matrix of rows x cols with leading dimension ld fits in `a`. The
// description of the call (`dims`) is only built for an error message: gemm is called for
// products of a few microseconds, where formatting strings on every call would show.
template <typename Dims>
bool check_matrix(const Call& c, const ArrayView& a, const char* name, const char* ldname,
                  int64_t rows, int64_t cols, int64_t ld, const Dims& dims) {
  if (ld < cols)
    return c.range_error(std::string(ldname) + "=" + std::to_string(ld) + " is less than the " +
                         std::to_string(cols) + " columns of " + name + " as stored (" + dims() + ")");
  if (rows == 0 || cols == 0) return true;
  int64_t need;
  if (!Call::mul(rows - 1, ld, &need) || !Call::add(need, cols, &need))
    return c.range_error(std::string(name) + " size overflows (" + dims() + ")");
  return a.length >= need || c.need(a, name, need, dims());
}

Value Gemm(const Info& info) {
  Call c(info, "gemm");
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  double alpha, beta;
  ArrayView A, B, C;
  if (!c.count_between(13, 15) || !c.boolean(0, "transA", &ta) || !c.boolean(1, "transB", &tb) ||
      !c.size(2, "M", &M) || !c.size(3, "N", &N) || !c.size(4, "K", &K) ||
      !c.number(5, "alpha", &alpha) || !c.float_array(6, "A", &A) || !c.size(7, "lda", &lda) ||
      !c.float_array(8, "B", &B, &A, "A") || !c.size(9, "ldb", &ldb) ||
      !c.number(10, "beta", &beta) || !c.float_array(11, "C", &C, &A, "A") ||
      !c.size(12, "ldc", &ldc))
    return c.undef();
  // Optional epilogue: bias (length N, or null) and activation ('linear' | 'relu').
  ArrayView bias;
  bool has_bias = false;
  GemmActivation act = GemmActivation::Linear;
  if (c.length() > 13 && !c.optional_float_array(13, "bias", &bias, &has_bias, A, "A"))
    return c.undef();
  if (has_bias && bias.length < N && !c.need(bias, "bias", N, sz("N", N))) return c.undef();
  if (c.length() > 14 && !activation_arg(c, 14, &act)) return c.undef();
  auto a_dims = [&] {
    return std::string(ta ? "transA=true, " : "") + sz("M", M) + ", " + sz("K", K) + ", " + sz("lda", lda);
  };
  auto b_dims = [&] {
    return std::string(tb ? "transB=true, " : "") + sz("K", K) + ", " + sz("N", N) + ", " + sz("ldb", ldb);
  };
  auto c_dims = [&] { return sz("M", M) + ", " + sz("N", N) + ", " + sz("ldc", ldc); };
  if (!check_matrix(c, A, "A", "lda", ta ? K : M, ta ? M : K, lda, a_dims) ||
      !check_matrix(c, B, "B", "ldb", tb ? N : K, tb ? K : N, ldb, b_dims) ||
      !check_matrix(c, C, "C", "ldc", M, N, ldc, c_dims) || !c.outputs_apart({&C}, {&A, &B, &bias}))
    return c.undef();
  GF_ON_DEVICE(c, device::gemm(c, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, act));
  const DType type = A.type;
  // a C with gaps between its rows (ldc > N) counts as written nowhere (never read by a plan),
  // and with beta != 0 as read in full
  const Operand c_op = ldc == N ? Operand{&C, beta == 0 ? kWrite : kReadWrite, M * N}
                       : beta == 0 ? Operand{&C, kWrite, 0} : Operand{&C, kRead, -1};
  c.step("gemm", {{&A, kRead}, {&B, kRead}, {&bias, kRead}, c_op},
         [=](void* const* p) {
           by_float_type(type, [&](auto zero) {
             using T = decltype(zero);
             GemmEpilogue<T> epi;
             epi.bias = static_cast<const T*>(p[2]);  // null without a bias
             epi.act = act;
             gemm<T>(ta, tb, M, N, K, static_cast<T>(alpha), static_cast<const T*>(p[0]), lda,
                     static_cast<const T*>(p[1]), ldb, static_cast<T>(beta), static_cast<T*>(p[3]),
                     ldc, epi);
           });
         });
  return c.undef();
}

// ---- elementwise ---------------------------------------------------------------------------

bool unary_op(const Call& c, size_t i, UnaryOp* op) {
  std::string name;
  if (!c.string(i, "op", &name)) return false;
  if (unary_op_from_name(name.c_str(), op)) return true;
  return c.range_error("unknown unary op '" + name + "'");
}

Value Unary(const Info& info) {
  Call c(info, "unary");
  UnaryOp op;
  ArrayView x, out;
  double alpha, beta;
  if (!c.count(5) || !unary_op(c, 0, &op) || !c.float_array(1, "x", &x) ||
      !c.float_array(2, "out", &out, &x, "x") || !c.number(3, "alpha", &alpha) ||
      !c.number(4, "beta", &beta) || !c.same_length(x, "x", out, "out") ||
      !c.outputs_apart({&out}, {&x}, Alias::Exact))
    return c.undef();
  GF_ON_DEVICE(c, device::unary(c, op, x, out, alpha, beta));
  const DType type = x.type;
  const int64_t n = x.length;
  c.step("unary", {{&x, kRead}, {&out, kWrite, n}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      unary_forward<T>(op, static_cast<T*>(p[0]), static_cast<T*>(p[1]), n, static_cast<T>(alpha),
                       static_cast<T>(beta));
    });
  });
  return c.undef();
}

Value UnaryBackward(const Info& info) {
  Call c(info, "unaryBackward");
  UnaryOp op;
  ArrayView x, y, dy, dx;
  double alpha, beta;
  if (!c.count(7) || !unary_op(c, 0, &op) || !c.float_array(1, "x", &x) ||
      !c.float_array(2, "y", &y, &x, "x") || !c.float_array(3, "dy", &dy, &x, "x") ||
      !c.float_array(4, "dx", &dx, &x, "x") || !c.number(5, "alpha", &alpha) ||
      !c.number(6, "beta", &beta) || !c.same_length(x, "x", y, "y") ||
      !c.same_length(x, "x", dy, "dy") || !c.same_length(x, "x", dx, "dx") ||
      !c.outputs_apart({&dx}, {&x, &y, &dy}, Alias::Exact))
    return c.undef();
  GF_ON_DEVICE(c, device::unary_backward(c, op, x, y, dy, dx, alpha, beta));
  by_float_type(x.type, [&](auto zero) {
    using T = decltype(zero);
    unary_backward<T>(op, x.as<T>(), y.as<T>(), dy.as<T>(), dx.as<T>(), x.length,
                      static_cast<T>(alpha), static_cast<T>(beta));
  });
  return c.undef();
}

Value Binary(const Info& info) {
  Call c(info, "binary");
  std::string name;
  BinaryOp op;
  ArrayView a, b, out;
  Shape as, bs, os;
  if (!c.count(7) || !c.string(0, "op", &name)) return c.undef();
  if (!binary_op_from_name(name.c_str(), &op)) {
    c.range_error("unknown binary op '" + name + "'");
    return c.undef();
  }
  if (!c.float_array(1, "a", &a) || !c.shape(2, "aShape", &as) ||
      !c.float_array(3, "b", &b, &a, "a") || !c.shape(4, "bShape", &bs) ||
      !c.float_array(5, "out", &out, &a, "a") || !c.shape(6, "outShape", &os))
    return c.undef();
  // outShape must be exactly the NumPy broadcast of aShape and bShape.
  const int rank = std::max(as.rank, bs.rank);
  const std::string shapes = "aShape=" + as.str() + ", bShape=" + bs.str() + ", outShape=" + os.str();
  if (os.rank != rank) {
    c.range_error("outShape has rank " + std::to_string(os.rank) + " but the broadcast of aShape " +
                  "and bShape has rank " + std::to_string(rank) + " (" + shapes + ")");
    return c.undef();
  }
  for (int i = 0; i < rank; ++i) {
    const int ia = i - (rank - as.rank), ib = i - (rank - bs.rank);
    const int64_t da = ia >= 0 ? as.dims[ia] : 1, db = ib >= 0 ? bs.dims[ib] : 1;
    int64_t d;
    if (da == db || db == 1) d = da;
    else if (da == 1) d = db;
    else {
      c.range_error("shapes do not broadcast: dim " + std::to_string(i) + " is " +
                    std::to_string(da) + " in a and " + std::to_string(db) + " in b (" + shapes + ")");
      return c.undef();
    }
    if (os.dims[i] != d) {
      c.range_error("outShape[" + std::to_string(i) + "] is " + std::to_string(os.dims[i]) +
                    " but the broadcast gives " + std::to_string(d) + " (" + shapes + ")");
      return c.undef();
    }
  }
  if (!c.need(a, "a", as.size, "aShape=" + as.str()) ||
      !c.need(b, "b", bs.size, "bShape=" + bs.str()) ||
      !c.need(out, "out", os.size, "outShape=" + os.str()))
    return c.undef();
  // In place is fine for an operand that is not broadcast (same size as the output: every
  // output element reads only its own element of it); a broadcast operand would be read
  // after the elements that share its memory were written.
  if (!c.outputs_apart({&out}, {&a}, as.size == os.size ? Alias::Exact : Alias::None) ||
      !c.outputs_apart({&out}, {&b}, bs.size == os.size ? Alias::Exact : Alias::None))
    return c.undef();
  if (os.size == 0) return c.undef();  // other dims may be huge: nothing to loop over
  GF_ON_DEVICE(c, device::binary(c, op, a, as, b, bs, out, os));
  const DType type = a.type;
  c.step("binary", {{&a, kRead}, {&b, kRead}, {&out, kWrite, os.size}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      binary_forward<T>(op, static_cast<T*>(p[0]), as.dims, as.rank, static_cast<T*>(p[1]), bs.dims,
                        bs.rank, static_cast<T*>(p[2]), os.dims, os.rank);
    });
  });
  return c.undef();
}

// ---- reductions ----------------------------------------------------------------------------

// Reads (outer, n, inner) and checks x / out lengths for them.
bool reduce_sizes(const Call& c, size_t first, int64_t* outer, int64_t* n, int64_t* inner,
                  int64_t* in_count, int64_t* out_count) {
  if (!c.size(first, "outer", outer) || !c.size(first + 1, "n", n) ||
      !c.size(first + 2, "inner", inner))
    return false;
  const std::string dims = sz("outer", *outer) + ", " + sz("n", *n) + ", " + sz("inner", *inner);
  return c.product({*outer, *n, *inner}, "outer*n*inner (" + dims + ")", in_count) &&
         c.product({*outer, *inner}, "outer*inner (" + dims + ")", out_count);
}

Value Reduce(const Info& info) {
  Call c(info, "reduce");
  std::string name;
  ReduceOp op;
  ArrayView x, out;
  int64_t outer, n, inner, in_count, out_count;
  if (!c.count(6) || !c.string(0, "op", &name)) return c.undef();
  if (!reduce_op_from_name(name.c_str(), &op)) {
    c.range_error("unknown reduce op '" + name + "'; expected 'sum', 'mean', 'max' or 'min'");
    return c.undef();
  }
  if (!c.float_array(1, "x", &x) || !reduce_sizes(c, 2, &outer, &n, &inner, &in_count, &out_count) ||
      !c.float_array(5, "out", &out, &x, "x"))
    return c.undef();
  const std::string dims = sz("outer", outer) + ", " + sz("n", n) + ", " + sz("inner", inner);
  if (!c.need(x, "x", in_count, dims) || !c.need(out, "out", out_count, dims) ||
      !c.outputs_apart({&out}, {&x}))
    return c.undef();
  if (out_count == 0) return c.undef();  // then x is empty too; outer or inner may be huge
  GF_ON_DEVICE(c, device::reduce(c, op, x, outer, n, inner, out));
  const DType type = x.type;
  c.step("reduce", {{&x, kRead}, {&out, kWrite, out_count}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      reduce<T>(op, static_cast<T*>(p[0]), outer, n, inner, static_cast<T*>(p[1]));
    });
  });
  return c.undef();
}

Value ArgReduce(const Info& info) {
  Call c(info, "argReduce");
  std::string name;
  ArgReduceOp op;
  ArrayView x, out;
  int64_t outer, n, inner, in_count, out_count;
  if (!c.count(6) || !c.string(0, "op", &name)) return c.undef();
  if (!arg_reduce_op_from_name(name.c_str(), &op)) {
    c.range_error("unknown op '" + name + "'; expected 'argmax' or 'argmin'");
    return c.undef();
  }
  if (!c.float_array(1, "x", &x) || !reduce_sizes(c, 2, &outer, &n, &inner, &in_count, &out_count) ||
      !c.int32_array(5, "out", &out))
    return c.undef();
  if (n < 1 || n > INT32_MAX) {
    c.range_error("n must be between 1 and 2^31-1 (indices are int32), got n=" + std::to_string(n));
    return c.undef();
  }
  const std::string dims = sz("outer", outer) + ", " + sz("n", n) + ", " + sz("inner", inner);
  if (!c.need(x, "x", in_count, dims) || !c.need(out, "out", out_count, dims) ||
      !c.outputs_apart({&out}, {&x}))
    return c.undef();
  if (out_count == 0) return c.undef();  // then x is empty too; outer or inner may be huge
  GF_ON_DEVICE(c, device::arg_reduce(c, op, x, outer, n, inner, out));
  const DType type = x.type;
  c.step("argReduce", {{&x, kRead}, {&out, kWrite, out_count}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      arg_reduce<T>(op, static_cast<T*>(p[0]), outer, n, inner, static_cast<int32_t*>(p[1]));
    });
  });
  return c.undef();
}

// ---- softmax -------------------------------------------------------------------------------

Value Softmax(const Info& info) {
  Call c(info, "softmax");
  ArrayView x, out;
  int64_t rows, cols, count;
  bool log;
  if (!c.count(5) || !c.float_array(0, "x", &x) || !c.size(1, "rows", &rows) ||
      !c.size(2, "cols", &cols) || !c.float_array(3, "out", &out, &x, "x") ||
      !c.boolean(4, "log", &log))
    return c.undef();
  const std::string dims = sz("rows", rows) + ", " + sz("cols", cols);
  if (!c.product({rows, cols}, "rows*cols (" + dims + ")", &count) ||
      !c.need(x, "x", count, dims) || !c.need(out, "out", count, dims) ||
      !c.outputs_apart({&out}, {&x}, Alias::Exact))  // row by row: in place is fine
    return c.undef();
  if (count == 0) return c.undef();
  GF_ON_DEVICE(c, device::softmax(c, x, rows, cols, out, log));
  const DType type = x.type;
  c.step("softmax", {{&x, kRead}, {&out, kWrite, count}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      softmax_forward<T>(static_cast<T*>(p[0]), rows, cols, static_cast<T*>(p[1]), log);
    });
  });
  return c.undef();
}

Value SoftmaxBackward(const Info& info) {
  Call c(info, "softmaxBackward");
  ArrayView y, dy, dx;
  int64_t rows, cols, count;
  bool log;
  if (!c.count(6) || !c.float_array(0, "y", &y) || !c.float_array(1, "dy", &dy, &y, "y") ||
      !c.size(2, "rows", &rows) || !c.size(3, "cols", &cols) ||
      !c.float_array(4, "dx", &dx, &y, "y") || !c.boolean(5, "log", &log))
    return c.undef();
  const std::string dims = sz("rows", rows) + ", " + sz("cols", cols);
  if (!c.product({rows, cols}, "rows*cols (" + dims + ")", &count) ||
      !c.need(y, "y", count, dims) || !c.need(dy, "dy", count, dims) ||
      !c.need(dx, "dx", count, dims) || !c.outputs_apart({&dx}, {&y, &dy}, Alias::Exact))
    return c.undef();
  if (count == 0) return c.undef();
  GF_ON_DEVICE(c, device::softmax_backward(c, y, dy, rows, cols, dx, log));
  by_float_type(y.type, [&](auto zero) {
    using T = decltype(zero);
    softmax_backward<T>(y.as<T>(), dy.as<T>(), rows, cols, dx.as<T>(), log);
  });
  return c.undef();
}

// ---- permute -------------------------------------------------------------------------------

Value Permute(const Info& info) {
  Call c(info, "permute");
  ArrayView x, out;
  Shape shape, perm_shape;
  if (!c.count(4) || !c.any_array(0, "x", &x) || !c.shape(1, "shape", &shape) ||
      !c.shape(2, "perm", &perm_shape) || !c.any_array(3, "out", &out))
    return c.undef();
  if (out.type != x.type) {
    c.type_error(std::string("argument 'out' is a ") + dtype_name(out.type) + " but 'x' is a " +
                 dtype_name(x.type) + " (they must have the same type)");
    return c.undef();
  }
  if (perm_shape.rank != shape.rank) {
    c.range_error("perm " + perm_shape.str() + " has " + std::to_string(perm_shape.rank) +
                  " entries but shape " + shape.str() + " has rank " + std::to_string(shape.rank));
    return c.undef();
  }
  int perm[kMaxShapeRank];
  bool seen[kMaxShapeRank] = {};
  for (int i = 0; i < shape.rank; ++i) {
    const int64_t p = perm_shape.dims[i];
    if (p >= shape.rank || seen[p]) {
      c.range_error("perm " + perm_shape.str() + " is not a permutation of 0.." +
                    std::to_string(shape.rank - 1));
      return c.undef();
    }
    seen[p] = true;
    perm[i] = static_cast<int>(p);
  }
  if (!c.need(x, "x", shape.size, "shape=" + shape.str()) ||
      !c.need(out, "out", shape.size, "shape=" + shape.str()) || !c.outputs_apart({&out}, {&x}))
    return c.undef();
  if (shape.size == 0) return c.undef();
  GF_ON_DEVICE(c, device::permute(c, x, shape, perm, out));
  const DType type = x.type;
  c.step("permute", {{&x, kRead}, {&out, kWrite, shape.size}}, [=](void* const* p) {
    switch (type) {
      case DType::F32: permute<float>(static_cast<float*>(p[0]), shape.dims, perm, shape.rank, static_cast<float*>(p[1])); break;
      case DType::F64: permute<double>(static_cast<double*>(p[0]), shape.dims, perm, shape.rank, static_cast<double*>(p[1])); break;
      case DType::I32: permute<int32_t>(static_cast<int32_t*>(p[0]), shape.dims, perm, shape.rank, static_cast<int32_t*>(p[1])); break;
    }
  });
  return c.undef();
}

// ---- box copies (slice, pad, concat) ---------------------------------------------------------

// dst[dstStart + i] = src[srcStart + i] over the box `size`; the rest of dst is untouched,
// or set to `fill` when it is given (pad). A plan records the call as writing all of dst when
// it does (fill given, or a box that is the whole of dst), else as updating dst: its result
// depends on what dst held (concat's later pieces), which an earlier step must have written.
Value CopyBox(const Info& info) {
  Call c(info, "copyBox");
  ArrayView src, dst;
  Shape ss, s0, ds, d0, size;
  if (!c.count_between(7, 8) || !c.any_array(0, "src", &src) || !c.shape(1, "srcShape", &ss) ||
      !c.shape(2, "srcStart", &s0) || !c.any_array(3, "dst", &dst) ||
      !c.shape(4, "dstShape", &ds) || !c.shape(5, "dstStart", &d0) || !c.shape(6, "size", &size))
    return c.undef();
  if (dst.type != src.type) {
    c.type_error(std::string("argument 'dst' is a ") + dtype_name(dst.type) + " but 'src' is a " +
                 dtype_name(src.type) + " (they must have the same type)");
    return c.undef();
  }
  const int rank = size.rank;
  if (ss.rank != rank || s0.rank != rank || ds.rank != rank || d0.rank != rank) {
    c.range_error("srcShape " + ss.str() + ", srcStart " + s0.str() + ", dstShape " + ds.str() +
                  ", dstStart " + d0.str() + " and size " + size.str() + " must have one rank");
    return c.undef();
  }
  for (int i = 0; i < rank; ++i) {
    if (s0.dims[i] + size.dims[i] > ss.dims[i] || d0.dims[i] + size.dims[i] > ds.dims[i]) {
      c.range_error("the box " + size.str() + " at srcStart " + s0.str() + " / dstStart " +
                    d0.str() + " is outside srcShape " + ss.str() + " or dstShape " + ds.str() +
                    " at axis " + std::to_string(i));
      return c.undef();
    }
  }
  // fill as dst's element bits (an int32 fill must be an int32 value)
  const bool has_fill = c.length() == 8 && !c.is_undefined(7);
  double fill = 0;
  uint64_t fill_bits = 0;
  if (has_fill) {
    if (!c.number(7, "fill", &fill)) return c.undef();
    if (dst.type == DType::I32) {
      if (!(fill == std::floor(fill) && fill >= -2147483648.0 && fill <= 2147483647.0)) {
        c.range_error("argument 'fill' must be an int32 value for an Int32Array dst, got " + std::to_string(fill));
        return c.undef();
      }
      const int32_t v = static_cast<int32_t>(fill);
      std::memcpy(&fill_bits, &v, sizeof v);
    } else if (dst.type == DType::F32) {
      const float v = static_cast<float>(fill);
      std::memcpy(&fill_bits, &v, sizeof v);
    } else {
      std::memcpy(&fill_bits, &fill, sizeof fill);
    }
  }
  if (!c.need(src, "src", ss.size, "srcShape=" + ss.str()) ||
      !c.need(dst, "dst", ds.size, "dstShape=" + ds.str()) || !c.outputs_apart({&dst}, {&src}))
    return c.undef();
  if (ds.size == 0 || (size.size == 0 && !has_fill)) return c.undef();
  GF_ON_DEVICE(c, device::copy_box(c, src, ss, s0, dst, ds, d0, size, has_fill ? &fill_bits : nullptr));
  const int bytes = static_cast<int>(dtype_bytes(src.type));
  bool whole = true;
  for (int i = 0; i < rank; ++i) whole = whole && size.dims[i] == ds.dims[i];
  const plan::Access dst_access = has_fill || whole ? kWrite : kReadWrite;
  const int64_t dst_n = ds.size;
  c.step("copyBox", {{&src, kRead, ss.size}, {&dst, dst_access, ds.size}}, [=](void* const* p) {
    if (has_fill) fill_elements(p[1], dst_n, fill_bits, bytes);
    copy_box(p[0], ss.dims, s0.dims, p[1], ds.dims, d0.dims, size.dims, rank, bytes);
  });
  return c.undef();
}

// ---- row gather and scatter-add (minibatches, Embedding) -------------------------------------

// x has `rows` rows of rowLength elements; every id must name one of them. Device ids cannot
// be read here: out-of-range ones give rows of zeros there (lib checks ids before upload).
bool ids_in_range(const Call& c, const ArrayView& ids, int64_t rows) {
  const int32_t* id = ids.as<const int32_t>();
  for (int64_t i = 0; i < ids.length; ++i)
    if (id[i] < 0 || id[i] >= rows)
      return c.range_error("ids[" + std::to_string(i) + "] = " + std::to_string(id[i]) +
                           " is outside [0, " + std::to_string(rows) + ") (rows)");
  return true;
}

Value GatherRows(const Info& info) {
  Call c(info, "gatherRows");
  ArrayView x, ids, out;
  int64_t rows, row_len, x_len, out_len;
  if (!c.count(5) || !c.any_array(0, "x", &x) || !c.size(1, "rows", &rows) ||
      !c.size(2, "rowLength", &row_len) || !c.int32_array(3, "ids", &ids) ||
      !c.any_array(4, "out", &out))
    return c.undef();
  if (out.type != x.type) {
    c.type_error(std::string("argument 'out' is a ") + dtype_name(out.type) + " but 'x' is a " +
                 dtype_name(x.type) + " (they must have the same type)");
    return c.undef();
  }
  if (!c.product({rows, row_len}, "rows*rowLength", &x_len) ||
      !c.product({ids.length, row_len}, "ids.length*rowLength", &out_len) ||
      !c.need(x, "x", x_len, "rows*rowLength") || !c.need(out, "out", out_len, "ids.length*rowLength") ||
      !c.outputs_apart({&out}, {&x, &ids}))
    return c.undef();
  if (out_len == 0) return c.undef();
  GF_ON_DEVICE(c, device::gather_rows(c, x, rows, row_len, ids, out));
  if (!ids_in_range(c, ids, rows)) return c.undef();
  const int bytes = static_cast<int>(dtype_bytes(x.type));
  const int64_t n = ids.length;
  c.step("gatherRows", {{&x, kRead, x_len}, {&ids, kRead}, {&out, kWrite, out_len}}, [=](void* const* p) {
    // a replayed plan's ids were checked only when it was recorded: out-of-range ones (ids
    // from an earlier kernel that changed) give rows of zeros rather than a read outside x
    const int32_t* id = static_cast<const int32_t*>(p[1]);
    bool ok = true;
    for (int64_t i = 0; i < n && ok; ++i) ok = id[i] >= 0 && id[i] < rows;
    if (ok) return gather_rows(p[0], row_len, id, n, p[2], bytes);
    uint8_t* o = static_cast<uint8_t*>(p[2]);
    for (int64_t i = 0; i < n; ++i) {
      if (id[i] >= 0 && id[i] < rows)
        gather_rows(p[0], row_len, id + i, 1, o + i * row_len * bytes, bytes);
      else
        std::memset(o + i * row_len * bytes, 0, static_cast<size_t>(row_len * bytes));
    }
  });
  return c.undef();
}

// out (rows, rowLength) += g (ids.length, rowLength) scattered by ids, in the order of ids.
Value ScatterAddRows(const Info& info) {
  Call c(info, "scatterAddRows");
  ArrayView g, ids, out;
  int64_t rows, row_len, g_len, out_len;
  if (!c.count(5) || !c.float_array(0, "g", &g) || !c.int32_array(1, "ids", &ids) ||
      !c.size(2, "rows", &rows) || !c.size(3, "rowLength", &row_len) ||
      !c.float_array(4, "out", &out, &g, "g"))
    return c.undef();
  if (!c.product({rows, row_len}, "rows*rowLength", &out_len) ||
      !c.product({ids.length, row_len}, "ids.length*rowLength", &g_len) ||
      !c.need(g, "g", g_len, "ids.length*rowLength") || !c.need(out, "out", out_len, "rows*rowLength") ||
      !c.outputs_apart({&out}, {&g, &ids}))
    return c.undef();
  if (g_len == 0) return c.undef();
  GF_ON_DEVICE(c, device::scatter_add_rows(c, g, ids, rows, row_len, out));
  if (!ids_in_range(c, ids, rows)) return c.undef();
  by_float_type(g.type, [&](auto zero) {
    using T = decltype(zero);
    scatter_add_rows<T>(g.as<T>(), row_len, ids.as<const int32_t>(), ids.length, out.as<T>());
  });
  return c.undef();
}

// ---- optimizers ----------------------------------------------------------------------------

Value SgdStep(const Info& info) {
  Call c(info, "sgdStep");
  ArrayView p, g, v;
  double lr, momentum;
  bool nesterov;
  if (!c.count(6) || !c.float_array(0, "p", &p) || !c.float_array(1, "g", &g, &p, "p") ||
      !c.float_array(2, "v", &v, &p, "p") || !c.finite(3, "lr", &lr) ||
      !c.finite(4, "momentum", &momentum) || !c.boolean(5, "nesterov", &nesterov) ||
      !c.same_length(p, "p", g, "g"))
    return c.undef();
  // With momentum 0 the velocity is unused, so it may be empty.
  if (momentum != 0 && !c.same_length(p, "p", v, "v")) return c.undef();
  if (momentum != 0 ? !c.outputs_apart({&p, &v}, {&g}, Alias::Exact)
                    : !c.outputs_apart({&p}, {&g}, Alias::Exact))
    return c.undef();
  GF_ON_DEVICE(c, device::sgd_step(c, p, g, v, lr, momentum, nesterov));
  by_float_type(p.type, [&](auto zero) {
    using T = decltype(zero);
    sgd_step<T>(p.as<T>(), g.as<T>(), v.as<T>(), p.length, lr, momentum, nesterov);
  });
  return c.undef();
}

Value AdamStep(const Info& info) {
  Call c(info, "adamStep");
  ArrayView p, g, m, v;
  double lr, b1, b2, eps;
  int64_t step;
  if (!c.count(9) || !c.float_array(0, "p", &p) || !c.float_array(1, "g", &g, &p, "p") ||
      !c.float_array(2, "m", &m, &p, "p") || !c.float_array(3, "v", &v, &p, "p") ||
      !c.finite(4, "lr", &lr) || !c.finite(5, "beta1", &b1) || !c.finite(6, "beta2", &b2) ||
      !c.finite(7, "epsilon", &eps) || !c.size(8, "step", &step) ||
      !c.same_length(p, "p", g, "g") || !c.same_length(p, "p", m, "m") ||
      !c.same_length(p, "p", v, "v") || !c.outputs_apart({&p, &m, &v}, {&g}, Alias::Exact))
    return c.undef();
  if (step < 1) {
    c.range_error("argument 'step' must be >= 1 (the first step is 1), got " + std::to_string(step));
    return c.undef();
  }
  GF_ON_DEVICE(c, device::adam_step(c, p, g, m, v, lr, b1, b2, eps, step));
  by_float_type(p.type, [&](auto zero) {
    using T = decltype(zero);
    adam_step<T>(p.as<T>(), g.as<T>(), m.as<T>(), v.as<T>(), p.length, lr, b1, b2, eps,
                 static_cast<double>(step));
  });
  return c.undef();
}

Value RmspropStep(const Info& info) {
  Call c(info, "rmspropStep");
  ArrayView p, g, ms;
  double lr, rho, eps;
  if (!c.count(6) || !c.float_array(0, "p", &p) || !c.float_array(1, "g", &g, &p, "p") ||
      !c.float_array(2, "ms", &ms, &p, "p") || !c.finite(3, "lr", &lr) ||
      !c.finite(4, "rho", &rho) || !c.finite(5, "epsilon", &eps) ||
      !c.same_length(p, "p", g, "g") || !c.same_length(p, "p", ms, "ms") ||
      !c.outputs_apart({&p, &ms}, {&g}, Alias::Exact))
    return c.undef();
  GF_ON_DEVICE(c, device::rmsprop_step(c, p, g, ms, lr, rho, eps));
  by_float_type(p.type, [&](auto zero) {
    using T = decltype(zero);
    rmsprop_step<T>(p.as<T>(), g.as<T>(), ms.as<T>(), p.length, lr, rho, eps);
  });
  return c.undef();
}

Value AdagradStep(const Info& info) {
  Call c(info, "adagradStep");
  ArrayView p, g, acc;
  double lr, eps;
  if (!c.count(5) || !c.float_array(0, "p", &p) || !c.float_array(1, "g", &g, &p, "p") ||
      !c.float_array(2, "acc", &acc, &p, "p") || !c.finite(3, "lr", &lr) ||
      !c.finite(4, "epsilon", &eps) || !c.same_length(p, "p", g, "g") ||
      !c.same_length(p, "p", acc, "acc") || !c.outputs_apart({&p, &acc}, {&g}, Alias::Exact))
    return c.undef();
  GF_ON_DEVICE(c, device::adagrad_step(c, p, g, acc, lr, eps));
  by_float_type(p.type, [&](auto zero) {
    using T = decltype(zero);
    adagrad_step<T>(p.as<T>(), g.as<T>(), acc.as<T>(), p.length, lr, eps);
  });
  return c.undef();
}

// ---- exports -------------------------------------------------------------------------------

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Function::Callback fn;
  };
  // Exactly the methods of the Binding interface in binding.d.ts (test/binding.test.ts checks).
  const Entry entries[] = {
      {"backendInfo", guard<BackendInfo>},
      {"setNumThreads", guard<SetNumThreads>},
      {"setGemmKernel", guard<SetGemmKernel>},
      {"gemm", guard<Gemm>},
      {"fmaPeak", guard<FmaPeak>},
      {"unary", guard<Unary>},
      {"unaryBackward", unrecordable<UnaryBackward>},
      {"binary", guard<Binary>},
      {"reduce", guard<Reduce>},
      {"argReduce", guard<ArgReduce>},
      {"softmax", guard<Softmax>},
      {"softmaxBackward", unrecordable<SoftmaxBackward>},
      {"permute", guard<Permute>},
      {"copyBox", guard<CopyBox>},
      {"gatherRows", guard<GatherRows>},
      {"scatterAddRows", unrecordable<ScatterAddRows>},
      {"sgdStep", unrecordable<SgdStep>},
      {"adamStep", unrecordable<AdamStep>},
      {"rmspropStep", unrecordable<RmspropStep>},
      {"adagradStep", unrecordable<AdagradStep>},
  };
  for (const Entry& e : entries)
    exports.Set(e.name, Napi::Function::New(env, e.fn, e.name, const_cast<char*>(e.name)));
  add_cnn_exports(env, exports);  // native/binding/cnn.cc
  add_rnn_exports(env, exports);  // native/binding/rnn.cc
  add_plan_exports(env, exports);  // native/binding/plan.cc
#ifdef GF_HAVE_CUDA
  add_cuda_exports(env, exports);  // native/binding/device_storage.cc: exports.cuda
#endif
  return exports;
}

}  // namespace
}  // namespace binding
}  // namespace gf

// NODE_API_MODULE needs a plain identifier.
static Napi::Object InitGradforge(Napi::Env env, Napi::Object exports) {
  return gf::binding::Init(env, exports);
}
NODE_API_MODULE(gradforge, InitGradforge)
