// N-API exports of the convolutional-network kernels: conv2d (forward, input gradient, filter
// gradient), 2-D pooling, global pooling, upsampling and batch normalization. Each export
// checks its arguments as addon.cc's do (types, integer sizes, overflow, array lengths, and
// every index a kernel will follow) and throws a JS TypeError/RangeError naming the function,
// the argument and the sizes. It is not: policy or shape inference ('same'/'valid', output
// sizes): lib/ops computes those and passes explicit geometry.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/guard.h"
#include "cpu/batchnorm.h"
#include "cpu/conv.h"
#include "cpu/pool.h"
#ifdef GF_HAVE_CUDA
#include "binding/device_cnn.h"
#endif

namespace gf {
namespace binding {
namespace {

using Info = Napi::CallbackInfo;
using Value = Napi::Value;

// Integer field `key` of the geometry object, within [lo, 2^53).
bool field(const Call& c, const Napi::Object& o, const char* key, int64_t lo, int64_t* out) {
  Napi::Value v;
  if (!c.get(o, key, &v)) return false;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!v.IsNumber() || !(d >= static_cast<double>(lo)) || d != std::floor(d) || d > kMaxSafeInteger)
    return c.range_error(std::string("geometry.") + key + " must be an integer >= " +
                         std::to_string(lo) + ", got " + describe(v));
  *out = static_cast<int64_t>(d);
  return true;
}

// Argument i, named as binding.d.ts names it ('g' first; the pooling of a fused conv is 'p').
bool geometry_object(const Call& c, const Info& info, size_t i, Napi::Object* o) {
  if (!info[i].IsObject() || info[i].IsArray() || info[i].IsTypedArray())
    return c.type_error(std::string("argument '") + (i == 0 ? "g" : "p") + "' must be a geometry object, got " + describe(info[i]));
  *o = info[i].As<Napi::Object>();
  return true;
}

std::string conv_str(const Conv2dShape& s) {
  return "x [" + std::to_string(s.N) + ", " + std::to_string(s.H) + ", " + std::to_string(s.W) +
         ", " + std::to_string(s.C) + "], w [" + std::to_string(s.KH) + ", " +
         std::to_string(s.KW) + ", " + std::to_string(s.C) + ", " + std::to_string(s.O) +
         "], y [" + std::to_string(s.N) + ", " + std::to_string(s.OH) + ", " +
         std::to_string(s.OW) + ", " + std::to_string(s.O) + "]";
}

struct ConvSizes {
  Conv2dShape s;
  int64_t x, w, y;  // element counts
};

bool conv_geometry(const Call& c, const Info& info, size_t i, ConvSizes* out) {
  Napi::Object o;
  if (!geometry_object(c, info, i, &o)) return false;
  Conv2dShape& s = out->s;
  if (!field(c, o, "N", 0, &s.N) || !field(c, o, "H", 1, &s.H) || !field(c, o, "W", 1, &s.W) ||
      !field(c, o, "C", 1, &s.C) || !field(c, o, "KH", 1, &s.KH) || !field(c, o, "KW", 1, &s.KW) ||
      !field(c, o, "O", 1, &s.O) || !field(c, o, "OH", 1, &s.OH) || !field(c, o, "OW", 1, &s.OW) ||
      !field(c, o, "strideH", 1, &s.sh) || !field(c, o, "strideW", 1, &s.sw) ||
      !field(c, o, "dilationH", 1, &s.dh) || !field(c, o, "dilationW", 1, &s.dw) ||
      !field(c, o, "padTop", 0, &s.pad_top) || !field(c, o, "padLeft", 0, &s.pad_left))
    return false;
  // The kernels read only taps inside the input, so any geometry is memory-safe given the
  // lengths below. Their index arithmetic (oh*strideH - padTop + kh*dilationH) stays below
  // H + 2*span + reach, so span and reach are bounded by 2^60 and the sum cannot overflow.
  constexpr int64_t kMaxReach = int64_t(1) << 60;
  int64_t span_h, span_w;
  if (!c.product({s.KH, s.dh}, "KH*dilationH", &span_h) ||
      !c.product({s.KW, s.dw}, "KW*dilationW", &span_w))
    return false;
  if (span_h > kMaxReach || span_w > kMaxReach)
    return c.range_error("the kernel span KH*dilationH, KW*dilationW is above 2^60 for " + conv_str(s));
  if (s.pad_top >= span_h || s.pad_left >= span_w)
    return c.range_error("padTop=" + std::to_string(s.pad_top) + ", padLeft=" +
                         std::to_string(s.pad_left) + " must be smaller than the kernel span for " +
                         conv_str(s));
  int64_t reach_h, reach_w;
  if (!c.product({s.OH - 1, s.sh}, "(OH-1)*strideH", &reach_h) ||
      !c.product({s.OW - 1, s.sw}, "(OW-1)*strideW", &reach_w))
    return false;
  if (reach_h > kMaxReach || reach_w > kMaxReach || reach_h > s.H + span_h || reach_w > s.W + span_w)
    return c.range_error("output size OH=" + std::to_string(s.OH) + ", OW=" +
                         std::to_string(s.OW) + " does not fit the input for " + conv_str(s));
  return c.product({s.N, s.H, s.W, s.C}, "N*H*W*C", &out->x) &&
         c.product({s.KH, s.KW, s.C, s.O}, "KH*KW*C*O", &out->w) &&
         c.product({s.N, s.OH, s.OW, s.O}, "N*OH*OW*O", &out->y);
}

Value Conv2dForward(const Info& info) {
  Call c(info, "conv2dForward");
  ConvSizes g;
  ArrayView x, w, bias, y;
  bool has_bias = false;
  if (!c.count_between(5, 6) || !conv_geometry(c, info, 0, &g) || !c.float_array(1, "x", &x) ||
      !c.float_array(2, "w", &w, &x, "x") ||
      !c.optional_float_array(3, "bias", &bias, &has_bias, x, "x") ||
      !c.float_array(4, "y", &y, &x, "x") || !c.need(x, "x", g.x, conv_str(g.s)) ||
      !c.need(w, "w", g.w, conv_str(g.s)) || !c.need(y, "y", g.y, conv_str(g.s)) ||
      (has_bias && !c.need(bias, "bias", g.s.O, "O=" + std::to_string(g.s.O))) ||
      !c.outputs_apart({&y}, {&x, &w, &bias}))
    return c.undef();
  GemmActivation act = GemmActivation::Linear;
  if (c.length() > 5 && !activation_arg(c, 5, &act)) return c.undef();
  if (g.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::conv2d_forward(c, g.s, x, w, bias, y, act));
  const DType type = x.type;
  const Conv2dShape s = g.s;
  c.step("conv2dForward", {{&x, kRead}, {&w, kRead}, {&bias, kRead}, {&y, kWrite, g.y}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      conv2d_forward<T>(s, static_cast<T*>(p[0]), static_cast<T*>(p[1]), static_cast<T*>(p[2]),
                        static_cast<T*>(p[3]), act);
    });
  });
  return c.undef();
}

Value Conv2dBackwardInput(const Info& info) {
  Call c(info, "conv2dBackwardInput");
  ConvSizes g;
  ArrayView dy, w, dx;
  if (!c.count(4) || !conv_geometry(c, info, 0, &g) || !c.float_array(1, "dy", &dy) ||
      !c.float_array(2, "w", &w, &dy, "dy") || !c.float_array(3, "dx", &dx, &dy, "dy") ||
      !c.need(dy, "dy", g.y, conv_str(g.s)) || !c.need(w, "w", g.w, conv_str(g.s)) ||
      !c.need(dx, "dx", g.x, conv_str(g.s)) || !c.outputs_apart({&dx}, {&dy, &w}))
    return c.undef();
  if (g.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::conv2d_backward_input(c, g.s, dy, w, dx));
  // also conv2dTranspose's forward, so plans record it
  const DType type = dy.type;
  const Conv2dShape s = g.s;
  c.step("conv2dBackwardInput", {{&dy, kRead}, {&w, kRead}, {&dx, kWrite, g.x}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      conv2d_backward_input<T>(s, static_cast<T*>(p[0]), static_cast<T*>(p[1]), static_cast<T*>(p[2]));
    });
  });
  return c.undef();
}

Value Conv2dBackwardFilter(const Info& info) {
  Call c(info, "conv2dBackwardFilter");
  ConvSizes g;
  ArrayView x, dy, dw, dbias;
  bool has_dbias = false;
  if (!c.count(5) || !conv_geometry(c, info, 0, &g) || !c.float_array(1, "x", &x) ||
      !c.float_array(2, "dy", &dy, &x, "x") || !c.float_array(3, "dw", &dw, &x, "x") ||
      !c.optional_float_array(4, "dbias", &dbias, &has_dbias, x, "x") ||
      !c.need(x, "x", g.x, conv_str(g.s)) || !c.need(dy, "dy", g.y, conv_str(g.s)) ||
      !c.need(dw, "dw", g.w, conv_str(g.s)) ||
      (has_dbias && !c.need(dbias, "dbias", g.s.O, "O=" + std::to_string(g.s.O))) ||
      !c.outputs_apart({&dw, &dbias}, {&x, &dy}))
    return c.undef();
  GF_ON_DEVICE(c, device::conv2d_backward_filter(c, g.s, x, dy, dw, dbias));
  by_float_type(x.type, [&](auto zero) {
    using T = decltype(zero);
    conv2d_backward_filter<T>(g.s, x.as<T>(), dy.as<T>(), dw.as<T>(),
                              has_dbias ? dbias.as<T>() : nullptr);
  });
  return c.undef();
}

// ---- pooling -------------------------------------------------------------------------------

struct PoolSizes {
  Pool2dShape s;
  int64_t x, y;
};

std::string pool_str(const Pool2dShape& s) {
  return "x [" + std::to_string(s.N) + ", " + std::to_string(s.H) + ", " + std::to_string(s.W) +
         ", " + std::to_string(s.C) + "], window " + std::to_string(s.KH) + "x" +
         std::to_string(s.KW) + ", y [" + std::to_string(s.N) + ", " + std::to_string(s.OH) +
         ", " + std::to_string(s.OW) + ", " + std::to_string(s.C) + "]";
}

bool pool_geometry(const Call& c, const Info& info, size_t i, PoolSizes* out) {
  Napi::Object o;
  if (!geometry_object(c, info, i, &o)) return false;
  Pool2dShape& s = out->s;
  if (!field(c, o, "N", 0, &s.N) || !field(c, o, "H", 1, &s.H) || !field(c, o, "W", 1, &s.W) ||
      !field(c, o, "C", 1, &s.C) || !field(c, o, "KH", 1, &s.KH) || !field(c, o, "KW", 1, &s.KW) ||
      !field(c, o, "OH", 1, &s.OH) || !field(c, o, "OW", 1, &s.OW) ||
      !field(c, o, "strideH", 1, &s.sh) || !field(c, o, "strideW", 1, &s.sw) ||
      !field(c, o, "padTop", 0, &s.pad_top) || !field(c, o, "padLeft", 0, &s.pad_left))
    return false;
  if (s.pad_top >= s.KH || s.pad_left >= s.KW)
    return c.range_error("padTop/padLeft must be smaller than the window for " + pool_str(s));
  int64_t hw;
  if (!c.product({s.H, s.W}, "H*W", &hw)) return false;
  if (hw > 2147483647) return c.range_error("H*W must fit an int32 index for " + pool_str(s));
  int64_t reach_h, reach_w;
  if (!c.product({s.OH - 1, s.sh}, "(OH-1)*strideH", &reach_h) ||
      !c.product({s.OW - 1, s.sw}, "(OW-1)*strideW", &reach_w))
    return false;
  if (reach_h > s.H + s.KH || reach_w > s.W + s.KW)
    return c.range_error("output size does not fit the input for " + pool_str(s));
  return c.product({s.N, s.H, s.W, s.C}, "N*H*W*C", &out->x) &&
         c.product({s.N, s.OH, s.OW, s.C}, "N*OH*OW*C", &out->y);
}

// Every argmax entry a backward pass will follow must point inside its image.
bool check_argmax(const Call& c, const ArrayView& a, int64_t n, int64_t limit, bool allow_minus1) {
#ifdef GF_HAVE_CUDA
  // Device memory cannot be read here; the CUDA backward kernels skip an entry outside its
  // image instead (binding/device_cnn.h).
  if (a.device) return true;
#endif
  const int32_t* p = a.as<int32_t>();
  const int64_t lowest = allow_minus1 ? -1 : 0;
  // the range of all entries first (a loop the compiler vectorizes: training checks a whole
  // batch's argmax at every step), then the first bad one, only when there is one
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  if (n == 0 || (lo >= lowest && hi < limit)) return true;
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] >= limit || p[i] < lowest)
      return c.range_error("argmax[" + std::to_string(i) + "] = " + std::to_string(p[i]) +
                           " is not a position in [0, " + std::to_string(limit) + ")");
  }
  return true;  // (shared memory changed between the two loops: the kernels skip bad entries)
}

Value MaxPool2dForward(const Info& info) {
  Call c(info, "maxPool2dForward");
  PoolSizes g;
  ArrayView x, y, am;
  if (!c.count(4) || !pool_geometry(c, info, 0, &g) || !c.float_array(1, "x", &x) ||
      !c.float_array(2, "y", &y, &x, "x") || !c.need(x, "x", g.x, pool_str(g.s)) ||
      !c.need(y, "y", g.y, pool_str(g.s)))
    return c.undef();
  // argmax null: no backward pass will follow (inference), only y is computed.
  if (!info[3].IsNull() &&
      (!c.int32_array(3, "argmax", &am) || !c.need(am, "argmax", g.y, pool_str(g.s))))
    return c.undef();
  if (!c.outputs_apart({&y, &am}, {&x})) return c.undef();
  if (g.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::maxpool2d_forward(c, g.s, x, y, am));
  const DType type = x.type;
  const auto s = g.s;
  c.step("maxPool2dForward", {{&x, kRead}, {&y, kWrite, g.y}, {&am, kWrite, g.y}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      maxpool2d_forward<T>(s, static_cast<T*>(p[0]), static_cast<T*>(p[1]), static_cast<int32_t*>(p[2]));  // p[2] null without argmax
    });
  });
  return c.undef();
}

// Inference: max pooling (no argmax) of conv2dForward's output, without that output in memory.
Value Conv2dMaxPool2dForward(const Info& info) {
  Call c(info, "conv2dMaxPool2dForward");
  ConvSizes g;
  PoolSizes pg;
  ArrayView x, w, bias, y;
  bool has_bias = false;
  if (!c.count_between(6, 7) || !conv_geometry(c, info, 0, &g) || !pool_geometry(c, info, 1, &pg))
    return c.undef();
  const Conv2dShape s = g.s;
  const Pool2dShape p = pg.s;
  if (p.N != s.N || p.H != s.OH || p.W != s.OW || p.C != s.O) {
    c.range_error("the pooling's input (" + pool_str(p) + ") is not the convolution's output (" + conv_str(s) + ")");
    return c.undef();
  }
  if (!c.float_array(2, "x", &x) || !c.float_array(3, "w", &w, &x, "x") ||
      !c.optional_float_array(4, "bias", &bias, &has_bias, x, "x") ||
      !c.float_array(5, "y", &y, &x, "x") || !c.need(x, "x", g.x, conv_str(s)) ||
      !c.need(w, "w", g.w, conv_str(s)) || !c.need(y, "y", pg.y, pool_str(p)) ||
      (has_bias && !c.need(bias, "bias", s.O, "O=" + std::to_string(s.O))) ||
      !c.outputs_apart({&y}, {&x, &w, &bias}))
    return c.undef();
  GemmActivation act = GemmActivation::Linear;
  if (c.length() > 6 && !activation_arg(c, 6, &act)) return c.undef();
  if (pg.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::conv2d_maxpool2d_forward(c, s, p, x, w, bias, y, act));
  const DType type = x.type;
  c.step("conv2dMaxPool2dForward", {{&x, kRead}, {&w, kRead}, {&bias, kRead}, {&y, kWrite, pg.y}}, [=](void* const* q) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      conv2d_maxpool2d_forward<T>(s, p, static_cast<T*>(q[0]), static_cast<T*>(q[1]),
                                  static_cast<T*>(q[2]), static_cast<T*>(q[3]), act);
    });
  });
  return c.undef();
}

Value MaxPool2dBackward(const Info& info) {
  Call c(info, "maxPool2dBackward");
  PoolSizes g;
  ArrayView dy, am, dx;
  if (!c.count(4) || !pool_geometry(c, info, 0, &g) || !c.float_array(1, "dy", &dy) ||
      !c.int32_array(2, "argmax", &am) || !c.float_array(3, "dx", &dx, &dy, "dy") ||
      !c.need(dy, "dy", g.y, pool_str(g.s)) || !c.need(am, "argmax", g.y, pool_str(g.s)) ||
      !c.need(dx, "dx", g.x, pool_str(g.s)) ||
      !check_argmax(c, am, g.y, g.s.H * g.s.W, true) || !c.outputs_apart({&dx}, {&dy, &am}))
    return c.undef();
  if (g.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::maxpool2d_backward(c, g.s, dy, am, dx));
  by_float_type(dy.type, [&](auto zero) {
    using T = decltype(zero);
    maxpool2d_backward<T>(g.s, dy.as<T>(), am.as<int32_t>(), dx.as<T>());
  });
  return c.undef();
}

Value AvgPool2dForward(const Info& info) {
  Call c(info, "avgPool2dForward");
  PoolSizes g;
  ArrayView x, y;
  if (!c.count(3) || !pool_geometry(c, info, 0, &g) || !c.float_array(1, "x", &x) ||
      !c.float_array(2, "y", &y, &x, "x") || !c.need(x, "x", g.x, pool_str(g.s)) ||
      !c.need(y, "y", g.y, pool_str(g.s)) || !c.outputs_apart({&y}, {&x}))
    return c.undef();
  if (g.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::avgpool2d_forward(c, g.s, x, y));
  const DType type = x.type;
  const auto s = g.s;
  c.step("avgPool2dForward", {{&x, kRead}, {&y, kWrite, g.y}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      avgpool2d_forward<T>(s, static_cast<T*>(p[0]), static_cast<T*>(p[1]));
    });
  });
  return c.undef();
}

Value AvgPool2dBackward(const Info& info) {
  Call c(info, "avgPool2dBackward");
  PoolSizes g;
  ArrayView dy, dx;
  if (!c.count(3) || !pool_geometry(c, info, 0, &g) || !c.float_array(1, "dy", &dy) ||
      !c.float_array(2, "dx", &dx, &dy, "dy") || !c.need(dy, "dy", g.y, pool_str(g.s)) ||
      !c.need(dx, "dx", g.x, pool_str(g.s)) || !c.outputs_apart({&dx}, {&dy}))
    return c.undef();
  if (g.y == 0) return c.undef();  // N = 0: nothing to read or write, other sizes may be huge
  GF_ON_DEVICE(c, device::avgpool2d_backward(c, g.s, dy, dx));
  by_float_type(dy.type, [&](auto zero) {
    using T = decltype(zero);
    avgpool2d_backward<T>(g.s, dy.as<T>(), dx.as<T>());
  });
  return c.undef();
}

// (op, N, HW, C): op 'avg' or 'max', HW >= 1; element counts of the image and pooled arrays.
bool global_args(const Call& c, bool* is_max, int64_t* N, int64_t* HW, int64_t* C, int64_t* nx,
                 int64_t* ny) {
  std::string op;
  if (!c.string(0, "op", &op)) return false;
  if (op != "avg" && op != "max") return c.range_error("unknown op '" + op + "' (use 'avg' or 'max')");
  *is_max = op == "max";
  if (!c.size(1, "N", N) || !c.size(2, "HW", HW) || !c.size(3, "C", C)) return false;
  if (*HW < 1) return c.range_error("HW must be >= 1, got 0");
  if (*HW > 2147483647) return c.range_error("HW must fit an int32 index");
  return c.product({*N, *HW, *C}, "N*HW*C", nx) && c.product({*N, *C}, "N*C", ny);
}

Value GlobalPool2dForward(const Info& info) {
  Call c(info, "globalPool2dForward");
  bool is_max;
  int64_t N, HW, C, nx, ny;
  ArrayView x, y, am;
  if (!c.count(7) || !global_args(c, &is_max, &N, &HW, &C, &nx, &ny) ||
      !c.float_array(4, "x", &x) || !c.float_array(5, "y", &y, &x, "x") ||
      !c.need(x, "x", nx, "N*HW*C") || !c.need(y, "y", ny, "N*C"))
    return c.undef();
  if (is_max) {
    if (!c.int32_array(6, "argmax", &am) || !c.need(am, "argmax", ny, "N*C")) return c.undef();
  } else if (!info[6].IsNull()) {
    c.type_error("argument 'argmax' must be null for op 'avg'");
    return c.undef();
  }
  if (!c.outputs_apart({&y, &am}, {&x})) return c.undef();
  if (ny == 0) return c.undef();  // N or C is 0 (then x is empty too); the other may be huge
  GF_ON_DEVICE(c, device::global_pool2d_forward(c, is_max, N, HW, C, x, y, am));
  const DType type = x.type;
  c.step("globalPool2dForward", {{&x, kRead}, {&y, kWrite, ny}, {&am, kWrite, ny}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      if (is_max) global_maxpool2d_forward<T>(N, HW, C, static_cast<T*>(p[0]), static_cast<T*>(p[1]), static_cast<int32_t*>(p[2]));
      else global_avgpool2d_forward<T>(N, HW, C, static_cast<T*>(p[0]), static_cast<T*>(p[1]));
    });
  });
  return c.undef();
}

Value GlobalPool2dBackward(const Info& info) {
  Call c(info, "globalPool2dBackward");
  bool is_max;
  int64_t N, HW, C, nx, ny;
  ArrayView dy, am, dx;
  if (!c.count(7) || !global_args(c, &is_max, &N, &HW, &C, &nx, &ny) ||
      !c.float_array(4, "dy", &dy) || !c.float_array(6, "dx", &dx, &dy, "dy") ||
      !c.need(dy, "dy", ny, "N*C") || !c.need(dx, "dx", nx, "N*HW*C"))
    return c.undef();
  if (is_max) {
    if (!c.int32_array(5, "argmax", &am) || !c.need(am, "argmax", ny, "N*C") ||
        !check_argmax(c, am, ny, HW, false))
      return c.undef();
  } else if (!info[5].IsNull()) {
    c.type_error("argument 'argmax' must be null for op 'avg'");
    return c.undef();
  }
  if (!c.outputs_apart({&dx}, {&dy, &am})) return c.undef();
  if (ny == 0) return c.undef();  // N or C is 0 (then dx is empty too); the other may be huge
  GF_ON_DEVICE(c, device::global_pool2d_backward(c, is_max, N, HW, C, dy, am, dx));
  by_float_type(dy.type, [&](auto zero) {
    using T = decltype(zero);
    if (is_max) global_maxpool2d_backward<T>(N, HW, C, dy.as<T>(), am.as<int32_t>(), dx.as<T>());
    else global_avgpool2d_backward<T>(N, HW, C, dy.as<T>(), dx.as<T>());
  });
  return c.undef();
}

// (mode, N, H, W, C, sh, sw): element counts of the small and the enlarged images.
bool upsample_args(const Call& c, UpsampleMode* mode, int64_t d[6], int64_t* small,
                   int64_t* big) {
  std::string name;
  if (!c.string(0, "mode", &name)) return false;
  if (!upsample_mode_from_name(name.c_str(), mode))
    return c.range_error("unknown mode '" + name + "' (use 'nearest', 'bilinear' or 'bilinearLegacy')");
  const char* names[6] = {"N", "H", "W", "C", "sh", "sw"};
  for (int k = 0; k < 6; ++k)
    if (!c.size(1 + k, names[k], &d[k])) return false;
  for (int k = 1; k < 6; ++k)
    if (d[k] < 1) return c.range_error(std::string(names[k]) + " must be >= 1, got 0");
  return c.product({d[0], d[1], d[2], d[3]}, "N*H*W*C", small) &&
         c.product({d[0], d[1], d[4], d[2], d[5], d[3]}, "N*H*sh*W*sw*C", big);
}

Value UpSampling2dForward(const Info& info) {
  Call c(info, "upSampling2dForward");
  UpsampleMode mode;
  int64_t d[6], small, big;
  ArrayView x, y;
  if (!c.count(9) || !upsample_args(c, &mode, d, &small, &big) || !c.float_array(7, "x", &x) ||
      !c.float_array(8, "y", &y, &x, "x") || !c.need(x, "x", small, "N*H*W*C") ||
      !c.need(y, "y", big, "N*H*sh*W*sw*C") || !c.outputs_apart({&y}, {&x}))
    return c.undef();
  if (small == 0) return c.undef();  // N = 0: nothing to read or write
  GF_ON_DEVICE(c, device::upsampling2d_forward(c, d, mode, x, y));
  const DType type = x.type;
  c.step("upSampling2dForward", {{&x, kRead}, {&y, kWrite, big}}, [=](void* const* p) {
    by_float_type(type, [&](auto zero) {
      using T = decltype(zero);
      upsampling2d_forward<T>(d[0], d[1], d[2], d[3], d[4], d[5], mode, static_cast<T*>(p[0]), static_cast<T*>(p[1]));
    });
  });
  return c.undef();
}

Value UpSampling2dBackward(const Info& info) {
  Call c(info, "upSampling2dBackward");
  UpsampleMode mode;
  int64_t d[6], small, big;
  ArrayView dy, dx;
  if (!c.count(9) || !upsample_args(c, &mode, d, &small, &big) || !c.float_array(7, "dy", &dy) ||
      !c.float_array(8, "dx", &dx, &dy, "dy") || !c.need(dy, "dy", big, "N*H*sh*W*sw*C") ||
      !c.need(dx, "dx", small, "N*H*W*C") || !c.outputs_apart({&dx}, {&dy}))
    return c.undef();
  if (small == 0) return c.undef();  // N = 0: nothing to read or write
  GF_ON_DEVICE(c, device::upsampling2d_backward(c, d, mode, dy, dx));
  by_float_type(dy.type, [&](auto zero) {
    using T = decltype(zero);
    upsampling2d_backward<T>(d[0], d[1], d[2], d[3], d[4], d[5], mode, dy.as<T>(), dx.as<T>());
  });
  return c.undef();
}

// ---- batch normalization -------------------------------------------------------------------

// (M, C) and their product; `first` is the index of M.
bool mc(const Call& c, size_t first, int64_t* M, int64_t* C, int64_t* n) {
  return c.size(first, "M", M) && c.size(first + 1, "C", C) && c.product({*M, *C}, "M*C", n);
}

// An optional per-channel array (gamma, beta, ...): null, or at least C elements like x.
bool channel_array(const Call& c, const Info& info, size_t i, const char* name, ArrayView* out,
                   bool* present, const ArrayView& x, int64_t C, bool optional) {
  if (optional) {
    if (!c.optional_float_array(i, name, out, present, x, "x")) return false;
  } else {
    *present = true;
    if (!c.float_array(i, name, out, &x, "x")) return false;
  }
  return !*present || c.need(*out, name, C, "C=" + std::to_string(C));
}

bool epsilon_arg(const Call& c, size_t i, double* eps) {
  if (!c.finite(i, "epsilon", eps)) return false;
  if (!(*eps > 0)) return c.range_error("epsilon must be > 0");
  return true;
}

Value BatchNormTrain(const Info& info) {
  Call c(info, "batchNormTrain");
  int64_t M, C, n;
  double eps, momentum;
  ArrayView x, gamma, beta, y, mean, inv_std, mm, mv;
  bool hg, hb, hm, hmv, t;
  if (!c.count(12) || !mc(c, 0, &M, &C, &n) || !c.float_array(2, "x", &x) ||
      !c.need(x, "x", n, "M*C") ||
      !channel_array(c, info, 3, "gamma", &gamma, &hg, x, C, true) ||
      !channel_array(c, info, 4, "beta", &beta, &hb, x, C, true) || !epsilon_arg(c, 5, &eps) ||
      !c.finite(6, "momentum", &momentum) || !c.float_array(7, "y", &y, &x, "x") ||
      !c.need(y, "y", n, "M*C") || !channel_array(c, info, 8, "mean", &mean, &t, x, C, false) ||
      !channel_array(c, info, 9, "invStd", &inv_std, &t, x, C, false) ||
      !channel_array(c, info, 10, "movingMean", &mm, &hm, x, C, true) ||
      !channel_array(c, info, 11, "movingVar", &mv, &hmv, x, C, true))
    return c.undef();
  if (M < 1) {
    c.range_error("M must be >= 1 (batch statistics of no rows)");
    return c.undef();
  }
  if (!c.outputs_apart({&y, &mean, &inv_std, &mm, &mv}, {&x, &gamma, &beta})) return c.undef();
  if (C == 0) return c.undef();  // every array is empty; M may be huge
  GF_ON_DEVICE(c, device::batchnorm_train(c, M, C, x, gamma, beta, eps, momentum, y, mean, inv_std, mm, mv));
  by_float_type(x.type, [&](auto zero) {
    using T = decltype(zero);
    batchnorm_forward_train<T>(M, C, x.as<T>(), hg ? gamma.as<T>() : nullptr,
                               hb ? beta.as<T>() : nullptr, eps, momentum, y.as<T>(),
                               mean.as<T>(), inv_std.as<T>(), hm ? mm.as<T>() : nullptr,
                               hmv ? mv.as<T>() : nullptr);
  });
  return c.undef();
}

Value BatchNormInference(const Info& info) {
  Call c(info, "batchNormInference");
  int64_t M, C, n;
  double eps;
  ArrayView x, gamma, beta, mm, mv, y;
  bool hg, hb, t;
  if (!c.count(9) || !mc(c, 0, &M, &C, &n) || !c.float_array(2, "x", &x) ||
      !c.need(x, "x", n, "M*C") ||
      !channel_array(c, info, 3, "gamma", &gamma, &hg, x, C, true) ||
      !channel_array(c, info, 4, "beta", &beta, &hb, x, C, true) ||
      !channel_array(c, info, 5, "movingMean", &mm, &t, x, C, false) ||
      !channel_array(c, info, 6, "movingVar", &mv, &t, x, C, false) || !epsilon_arg(c, 7, &eps) ||
      !c.float_array(8, "y", &y, &x, "x") || !c.need(y, "y", n, "M*C") ||
      !c.outputs_apart({&y}, {&x, &gamma, &beta, &mm, &mv}))
    return c.undef();
  if (C == 0) return c.undef();  // every array is empty; M may be huge
  GF_ON_DEVICE(c, device::batchnorm_inference(c, M, C, x, gamma, beta, mm, mv, eps, y));
  const DType type = x.type;
  c.step("batchNormInference", {{&x, kRead}, {&gamma, kRead}, {&beta, kRead}, {&mm, kRead}, {&mv, kRead}, {&y, kWrite, n}},
         [=](void* const* p) {
           by_float_type(type, [&](auto zero) {
             using T = decltype(zero);
             batchnorm_forward_inference<T>(M, C, static_cast<T*>(p[0]), static_cast<T*>(p[1]),
                                            static_cast<T*>(p[2]), static_cast<T*>(p[3]),
                                            static_cast<T*>(p[4]), eps, static_cast<T*>(p[5]));
           });
         });
  return c.undef();
}

Value BatchNormBackward(const Info& info) {
  Call c(info, "batchNormBackward");
  int64_t M, C, n;
  ArrayView x, dy, gamma, mean, inv_std, dx, dgamma, dbeta;
  bool hg, hdg, hdb, t;
  if (!c.count(10) || !mc(c, 0, &M, &C, &n) || !c.float_array(2, "x", &x) ||
      !c.need(x, "x", n, "M*C") || !c.float_array(3, "dy", &dy, &x, "x") ||
      !c.need(dy, "dy", n, "M*C") ||
      !channel_array(c, info, 4, "gamma", &gamma, &hg, x, C, true) ||
      !channel_array(c, info, 5, "mean", &mean, &t, x, C, false) ||
      !channel_array(c, info, 6, "invStd", &inv_std, &t, x, C, false) ||
      !c.float_array(7, "dx", &dx, &x, "x") || !c.need(dx, "dx", n, "M*C") ||
      !channel_array(c, info, 8, "dgamma", &dgamma, &hdg, x, C, true) ||
      !channel_array(c, info, 9, "dbeta", &dbeta, &hdb, x, C, true))
    return c.undef();
  if (M < 1) {
    c.range_error("M must be >= 1");
    return c.undef();
  }
  if (!c.outputs_apart({&dx, &dgamma, &dbeta}, {&x, &dy, &gamma, &mean, &inv_std}))
    return c.undef();
  if (C == 0) return c.undef();  // every array is empty; M may be huge
  GF_ON_DEVICE(c, device::batchnorm_backward(c, M, C, x, dy, gamma, mean, inv_std, dx, dgamma, dbeta));
  by_float_type(x.type, [&](auto zero) {
    using T = decltype(zero);
    batchnorm_backward<T>(M, C, x.as<T>(), dy.as<T>(), hg ? gamma.as<T>() : nullptr,
                          mean.as<T>(), inv_std.as<T>(), dx.as<T>(),
                          hdg ? dgamma.as<T>() : nullptr, hdb ? dbeta.as<T>() : nullptr);
  });
  return c.undef();
}

Value BatchNormBackwardInference(const Info& info) {
  Call c(info, "batchNormBackwardInference");
  int64_t M, C, n;
  double eps;
  ArrayView x, dy, gamma, mm, mv, dx, dgamma, dbeta;
  bool hg, hdg, hdb, t;
  if (!c.count(11) || !mc(c, 0, &M, &C, &n) || !c.float_array(2, "x", &x) ||
      !c.need(x, "x", n, "M*C") || !c.float_array(3, "dy", &dy, &x, "x") ||
      !c.need(dy, "dy", n, "M*C") ||
      !channel_array(c, info, 4, "gamma", &gamma, &hg, x, C, true) ||
      !channel_array(c, info, 5, "movingMean", &mm, &t, x, C, false) ||
      !channel_array(c, info, 6, "movingVar", &mv, &t, x, C, false) || !epsilon_arg(c, 7, &eps) ||
      !c.float_array(8, "dx", &dx, &x, "x") || !c.need(dx, "dx", n, "M*C") ||
      !channel_array(c, info, 9, "dgamma", &dgamma, &hdg, x, C, true) ||
      !channel_array(c, info, 10, "dbeta", &dbeta, &hdb, x, C, true) ||
      !c.outputs_apart({&dx, &dgamma, &dbeta}, {&x, &dy, &gamma, &mm, &mv}))
    return c.undef();
  if (C == 0) return c.undef();  // every array is empty; M may be huge
  GF_ON_DEVICE(c, device::batchnorm_backward_inference(c, M, C, x, dy, gamma, mm, mv, eps, dx, dgamma, dbeta));
  by_float_type(x.type, [&](auto zero) {
    using T = decltype(zero);
    batchnorm_backward_inference<T>(M, C, x.as<T>(), dy.as<T>(), hg ? gamma.as<T>() : nullptr,
                                    mm.as<T>(), mv.as<T>(), eps, dx.as<T>(),
                                    hdg ? dgamma.as<T>() : nullptr, hdb ? dbeta.as<T>() : nullptr);
  });
  return c.undef();
}

}  // namespace

void add_cnn_exports(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Function::Callback fn;
  };
  // Part of the Binding interface in binding.d.ts (test/binding.test.ts checks the whole set).
  const Entry entries[] = {
      {"conv2dForward", guard<Conv2dForward>},
      {"conv2dBackwardInput", guard<Conv2dBackwardInput>},
      {"conv2dBackwardFilter", unrecordable<Conv2dBackwardFilter>},
      {"maxPool2dForward", guard<MaxPool2dForward>},
      {"conv2dMaxPool2dForward", guard<Conv2dMaxPool2dForward>},
      {"maxPool2dBackward", unrecordable<MaxPool2dBackward>},
      {"avgPool2dForward", guard<AvgPool2dForward>},
      {"avgPool2dBackward", unrecordable<AvgPool2dBackward>},
      {"globalPool2dForward", guard<GlobalPool2dForward>},
      {"globalPool2dBackward", unrecordable<GlobalPool2dBackward>},
      {"upSampling2dForward", guard<UpSampling2dForward>},
      {"upSampling2dBackward", unrecordable<UpSampling2dBackward>},
      {"batchNormTrain", unrecordable<BatchNormTrain>},
      {"batchNormInference", guard<BatchNormInference>},
      {"batchNormBackward", unrecordable<BatchNormBackward>},
      {"batchNormBackwardInference", unrecordable<BatchNormBackwardInference>},
  };
  for (const Entry& e : entries)
    exports.Set(e.name, Napi::Function::New(env, e.fn, e.name, const_cast<char*>(e.name)));
}

}  // namespace binding
}  // namespace gf
