// N-API exports of the recurrent kernels (native/cpu/rnn.h): rnnWorkspaceSize, rnnForward and
// rnnBackward for SimpleRNN, LSTM and GRU. Each export checks its arguments as addon.cc's and
// cnn.cc's do: the config object is read field by field through Call::get (a getter may run
// user code, so the arrays taken so far are re-checked), names are exact, sizes are
// non-negative safe integers whose products are overflow-checked, every array has the type and
// at least the length its sizes need, and outputs (the workspace included) share no memory
// with each other or with an input (no in-place: the kernels read x, h and the workspace's
// forward part across all steps). The recurrent dropout mask (N, U) is a trailing optional
// input of both calls (as gemm's bias is), so a call without it keeps its shape.
// It is not: policy or defaults (lib/ops/rnn.ts decides those, and draws the masks).
//
// Why an untrusted workspace is safe: rnn_backward reads the forward part of the workspace
// (post-activation gates, h_{t-1}, c_{t-1} / r*h / h R_h + b; it then writes the gates'
// gradients over the gates, so a backward consumes its forward) only as operands of float
// arithmetic and GEMMs; every index and size in rnn.cc is computed from the config, never read
// from the workspace, x or the masks (the mask is only compared with 0, the recurrent mask
// only multiplied). So any bytes there (NaN, a concurrent writer on a SharedArrayBuffer) give
// wrong numbers, never a wrong address.
//
// Work that is empty or bounded by an array:
// - U = 0: nothing to compute. Forward writes nothing (y, hT, cT have no elements); backward
//   only zeroes dx (the gradient through a zero-width layer is zero). Returned before the
//   kernel, whose time loop would otherwise run T (up to 2^53) empty steps.
// - N = 0: the kernels do not enter the time loop; forward writes nothing, backward zeroes dW,
//   dR and db (K = 0 GEMMs), whose lengths bound that work.
// - T = 0 (N, U > 0): forward writes hT = h0 and cT = c0 (zeros where null); backward writes
//   dh0 = dhT, dc0 = dcT (zeros where null) and zeroes dW, dR, db. All through the workspace,
//   whose size at T = 0 is O(N*U), and bounded by the arrays written.
// - Otherwise (N, T, U > 0) the work is bounded by y's length (forward) or the workspace's
//   (backward), both >= N*T*U.
#include <napi.h>

#include <algorithm>
#include <string>

#include "binding/args.h"
#include "binding/guard.h"
#include "cpu/rnn.h"
#ifdef GF_HAVE_CUDA
#include "binding/device_rnn.h"
#endif

namespace gf {
namespace binding {
namespace {

using Info = Napi::CallbackInfo;
using Value = Napi::Value;

const char* cell_name(RnnCell c) {
  return c == RnnCell::LSTM ? "lstm" : c == RnnCell::GRU ? "gru" : "simpleRNN";
}

struct RnnSizes {
  RnnConfig cfg;
  int64_t G = 1, GU = 0;
  int64_t x = 0, y = 0, state = 0, W = 0, R = 0, bias = 0, mask = 0, ws = 0;
  std::string str() const {
    return std::string(cell_name(cfg.cell)) + " N=" + std::to_string(cfg.N) + ", T=" +
           std::to_string(cfg.T) + ", In=" + std::to_string(cfg.In) + ", U=" +
           std::to_string(cfg.U) +
           (cfg.cell == RnnCell::GRU ? (cfg.reset_after ? " resetAfter" : " !resetAfter") : "");
  }
};

bool cfg_size(const Call& c, const Napi::Object& o, const char* key, int64_t* out) {
  Napi::Value v;
  if (!c.get(o, key, &v)) return false;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
  if (!v.IsNumber() || !(d >= 0) || d != std::floor(d) || d > kMaxSafeInteger)
    return c.range_error(std::string("cfg.") + key + " must be a non-negative integer, got " +
                         describe(v));
  *out = static_cast<int64_t>(d);
  return true;
}

bool cfg_bool(const Call& c, const Napi::Object& o, const char* key, bool* out) {
  Napi::Value v;
  if (!c.get(o, key, &v)) return false;
  if (!v.IsBoolean())
    return c.type_error(std::string("cfg.") + key + " must be a boolean, got " + describe(v));
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool cfg_activation(const Call& c, const Napi::Object& o, const char* key, RnnActivation* out) {
  Napi::Value v;
  std::string s;
  if (!c.get(o, key, &v) || !c.string_value(v, std::string("cfg.") + key, &s)) return false;
  if (s == "tanh") *out = RnnActivation::Tanh;
  else if (s == "sigmoid") *out = RnnActivation::Sigmoid;
  else if (s == "hardSigmoid") *out = RnnActivation::HardSigmoid;
  else if (s == "hardSigmoidLegacy") *out = RnnActivation::HardSigmoidLegacy;
  else if (s == "relu") *out = RnnActivation::Relu;
  else if (s == "linear") *out = RnnActivation::Linear;
  else
    return c.range_error(std::string("cfg.") + key +
                         " must be 'tanh', 'sigmoid', 'hardSigmoid', 'hardSigmoidLegacy', "
                         "'relu' or 'linear', got '" + s.substr(0, 40) + "'");
  return true;
}

// The config object (argument i): every field read once, in a fixed order, before any array
// is taken (values first, then pointers); then every element count, overflow-checked.
bool rnn_config(const Call& c, const Info& info, size_t i, RnnSizes* out) {
  if (!info[i].IsObject() || info[i].IsArray() || info[i].IsTypedArray())
    return c.type_error("argument 'cfg' must be an RnnConfig object, got " + describe(info[i]));
  Napi::Object o = info[i].As<Napi::Object>();
  RnnConfig& g = out->cfg;
  Napi::Value v;
  std::string cell;
  if (!c.get(o, "cell", &v) || !c.string_value(v, "cfg.cell", &cell)) return false;
  if (cell == "simpleRNN") g.cell = RnnCell::SimpleRNN;
  else if (cell == "lstm") g.cell = RnnCell::LSTM;
  else if (cell == "gru") g.cell = RnnCell::GRU;
  else
    return c.range_error("cfg.cell must be 'simpleRNN', 'lstm' or 'gru', got '" +
                         cell.substr(0, 40) + "'");
  if (!cfg_size(c, o, "N", &g.N) || !cfg_size(c, o, "T", &g.T) || !cfg_size(c, o, "In", &g.In) ||
      !cfg_size(c, o, "U", &g.U) || !cfg_activation(c, o, "activation", &g.activation) ||
      !cfg_activation(c, o, "recurrentActivation", &g.recurrent_activation) ||
      !cfg_bool(c, o, "resetAfter", &g.reset_after) ||
      !cfg_bool(c, o, "goBackwards", &g.go_backwards) ||
      !cfg_bool(c, o, "zeroOutputForMask", &g.zero_output_for_mask))
    return false;
  out->G = rnn_gates(g.cell);
  const std::string s = out->str();
  const bool two_biases = g.cell == RnnCell::GRU && g.reset_after;
  // The workspace (rnn.cc's Layout) is at most 3*M*GU + 2*M*U + 5*N*U + N*GU elements
  // <= 16 * N * (T+1) * G * U; checking that product (and, as product() does, that of its
  // non-zero factors) keeps every offset and leading dimension the kernels form (T*GU, t*U,
  // n*T*GU, ...) inside int64 as well.
  int64_t ws_bound;
  if (!c.product({g.N, g.T + 1, out->G, g.U, 16}, "the workspace size for " + s, &ws_bound) ||
      !c.product({g.N, g.T, g.In}, "N*T*In for " + s, &out->x) ||
      !c.product({g.N, g.T, g.U}, "N*T*U for " + s, &out->y) ||
      !c.product({g.N, g.U}, "N*U for " + s, &out->state) ||
      !c.product({g.In, out->G, g.U}, "In*G*U for " + s, &out->W) ||
      !c.product({g.U, out->G, g.U}, "U*G*U for " + s, &out->R) ||
      !c.product({two_biases ? 2 : 1, out->G, g.U}, "the bias size for " + s, &out->bias) ||
      !c.product({g.N, g.T}, "N*T for " + s, &out->mask))
    return false;
  out->GU = out->G * g.U;
  // The workspace rnnWorkspaceSize reports and both calls require. A CUDA build reports the
  // larger of the CPU's and the CUDA kernels' sizes (their layouts differ, and a config does
  // not say which device the arrays will be on; binding/device_rnn.h); a CPU-only build the
  // CPU's. Both are below the ws_bound product checked above.
#ifdef GF_HAVE_CUDA
  out->ws = device::rnn_workspace_size(g);
#else
  out->ws = rnn_workspace_size(g);
#endif
  if (out->ws > static_cast<int64_t>(kMaxSafeInteger))
    return c.range_error("the workspace size for " + s + " is above 2^53 - 1 elements");
  return true;
}

// c0/cT/dcT/dc0: an LSTM's cell state; for the other cells they must be null.
bool lstm_only(const Call& c, const RnnSizes& g, bool present, const char* name) {
  if (!present || g.cfg.cell == RnnCell::LSTM) return true;
  return c.type_error(c.arg(name) + " must be null for a " + cell_name(g.cfg.cell) +
                      " (only an LSTM has a cell state)");
}

Value RnnWorkspaceSize(const Info& info) {
  Call c(info, "rnnWorkspaceSize");
  RnnSizes g;
  if (!c.count(1) || !rnn_config(c, info, 0, &g)) return c.undef();
  return Napi::Number::New(c.env(), static_cast<double>(g.ws));
}

Value RnnForward(const Info& info) {
  Call c(info, "rnnForward");
  RnnSizes g;
  ArrayView x, W, R, b, h0, c0, mask, y, hT, cT, ws, rmask;
  bool has_b = false, has_h0 = false, has_c0 = false, has_mask = false, has_hT = false,
       has_cT = false, has_rmask = false;
  if (!c.count_between(12, 13) || !rnn_config(c, info, 0, &g)) return c.undef();
  const std::string s = g.str();
  if (!c.float_array(1, "x", &x) || !c.float_array(2, "W", &W, &x, "x") ||
      !c.float_array(3, "R", &R, &x, "x") ||
      !c.optional_float_array(4, "b", &b, &has_b, x, "x") ||
      !c.optional_float_array(5, "h0", &h0, &has_h0, x, "x") ||
      !c.optional_float_array(6, "c0", &c0, &has_c0, x, "x") || !lstm_only(c, g, has_c0, "c0") ||
      !c.optional_uint8_array(7, "mask", &mask, &has_mask) ||
      !c.float_array(8, "y", &y, &x, "x") ||
      !c.optional_float_array(9, "hT", &hT, &has_hT, x, "x") ||
      !c.optional_float_array(10, "cT", &cT, &has_cT, x, "x") || !lstm_only(c, g, has_cT, "cT") ||
      !c.float_array(11, "workspace", &ws, &x, "x") ||
      (c.length() > 12 && !c.optional_float_array(12, "recurrentMask", &rmask, &has_rmask, x, "x")))
    return c.undef();
  if (!c.need(x, "x", g.x, s) || !c.need(W, "W", g.W, s) || !c.need(R, "R", g.R, s) ||
      (has_rmask && !c.need(rmask, "recurrentMask", g.state, s)) ||
      (has_b && !c.need(b, "b", g.bias, s)) || (has_h0 && !c.need(h0, "h0", g.state, s)) ||
      (has_c0 && !c.need(c0, "c0", g.state, s)) ||
      (has_mask && !c.need(mask, "mask", g.mask, s)) || !c.need(y, "y", g.y, s) ||
      (has_hT && !c.need(hT, "hT", g.state, s)) || (has_cT && !c.need(cT, "cT", g.state, s)) ||
      !c.need(ws, "workspace", g.ws, "rnnWorkspaceSize for " + s) ||
      !c.outputs_apart({&y, &hT, &cT, &ws}, {&x, &W, &R, &b, &h0, &c0, &mask, &rmask}))
    return c.undef();
  GF_ON_DEVICE(c, device::rnn_forward(c, g.cfg, x, W, R, b, h0, c0, mask, y, hT, cT, ws, rmask));
  if (g.cfg.U == 0 || g.cfg.N == 0) return c.undef();  // nothing to write (see the top)
  const DType type = x.type;
  const auto cfg = g.cfg;
  c.step("rnnForward",
         {{&x, kRead}, {&W, kRead}, {&R, kRead}, {&b, kRead}, {&h0, kRead}, {&c0, kRead},
          {&mask, kRead}, {&rmask, kRead}, {&y, kWrite, g.y}, {&hT, kWrite, g.state},
          {&cT, kWrite, g.state}, {&ws, kWrite, 0}},  // the workspace: never read by a later step
         [=](void* const* p) {
  by_float_type(type, [&](auto zero) {
    using T = decltype(zero);
    rnn_forward<T>(cfg, static_cast<T*>(p[0]), static_cast<T*>(p[1]), static_cast<T*>(p[2]),
                   static_cast<T*>(p[3]), static_cast<T*>(p[4]), static_cast<T*>(p[5]),
                   static_cast<uint8_t*>(p[6]), static_cast<T*>(p[7]), static_cast<T*>(p[8]),
                   static_cast<T*>(p[9]), static_cast<T*>(p[10]), static_cast<T*>(p[11]));
  });
         });
  return c.undef();
}

Value RnnBackward(const Info& info) {
  Call c(info, "rnnBackward");
  RnnSizes g;
  ArrayView x, W, R, mask, dy, dhT, dcT, ws, dx, dh0, dc0, dW, dR, db, rmask;
  bool has_mask = false, has_dy = false, has_dhT = false, has_dcT = false, has_dx = false,
       has_dh0 = false, has_dc0 = false, has_db = false, has_rmask = false;
  if (!c.count_between(15, 16) || !rnn_config(c, info, 0, &g)) return c.undef();
  const std::string s = g.str();
  if (!c.float_array(1, "x", &x) || !c.float_array(2, "W", &W, &x, "x") ||
      !c.float_array(3, "R", &R, &x, "x") ||
      !c.optional_uint8_array(4, "mask", &mask, &has_mask) ||
      !c.optional_float_array(5, "dy", &dy, &has_dy, x, "x") ||
      !c.optional_float_array(6, "dhT", &dhT, &has_dhT, x, "x") ||
      !c.optional_float_array(7, "dcT", &dcT, &has_dcT, x, "x") ||
      !lstm_only(c, g, has_dcT, "dcT") || !c.float_array(8, "workspace", &ws, &x, "x") ||
      !c.optional_float_array(9, "dx", &dx, &has_dx, x, "x") ||
      !c.optional_float_array(10, "dh0", &dh0, &has_dh0, x, "x") ||
      !c.optional_float_array(11, "dc0", &dc0, &has_dc0, x, "x") ||
      !lstm_only(c, g, has_dc0, "dc0") || !c.float_array(12, "dW", &dW, &x, "x") ||
      !c.float_array(13, "dR", &dR, &x, "x") ||
      !c.optional_float_array(14, "db", &db, &has_db, x, "x") ||
      (c.length() > 15 && !c.optional_float_array(15, "recurrentMask", &rmask, &has_rmask, x, "x")))
    return c.undef();
  if (!c.need(x, "x", g.x, s) || !c.need(W, "W", g.W, s) || !c.need(R, "R", g.R, s) ||
      (has_mask && !c.need(mask, "mask", g.mask, s)) ||
      (has_rmask && !c.need(rmask, "recurrentMask", g.state, s)) ||
      (has_dy && !c.need(dy, "dy", g.y, s)) ||
      (has_dhT && !c.need(dhT, "dhT", g.state, s)) ||
      (has_dcT && !c.need(dcT, "dcT", g.state, s)) ||
      !c.need(ws, "workspace", g.ws, "rnnWorkspaceSize for " + s) ||
      (has_dx && !c.need(dx, "dx", g.x, s)) || (has_dh0 && !c.need(dh0, "dh0", g.state, s)) ||
      (has_dc0 && !c.need(dc0, "dc0", g.state, s)) || !c.need(dW, "dW", g.W, s) ||
      !c.need(dR, "dR", g.R, s) || (has_db && !c.need(db, "db", g.bias, s)) ||
      // the workspace is read (forward part) and written (scratch): an output
      !c.outputs_apart({&ws, &dx, &dh0, &dc0, &dW, &dR, &db},
                       {&x, &W, &R, &mask, &rmask, &dy, &dhT, &dcT}))
    return c.undef();
  GF_ON_DEVICE(c, device::rnn_backward(c, g.cfg, x, W, R, mask, dy, dhT, dcT, ws, dx, dh0, dc0, dW,
                                       dR, db, rmask, g.x));
  if (g.cfg.U == 0) {  // every gradient is empty except dx, which is zero (see the top)
    if (has_dx && g.x > 0) {
      by_float_type(x.type, [&](auto zero) {
        using T = decltype(zero);
        std::fill(dx.as<T>(), dx.as<T>() + g.x, T(0));
      });
    }
    return c.undef();
  }
  by_float_type(x.type, [&](auto zero) {
    using T = decltype(zero);
    rnn_backward<T>(g.cfg, x.as<T>(), W.as<T>(), R.as<T>(),
                    has_mask ? mask.as<uint8_t>() : nullptr,
                    has_rmask ? rmask.as<T>() : nullptr, has_dy ? dy.as<T>() : nullptr,
                    has_dhT ? dhT.as<T>() : nullptr, has_dcT ? dcT.as<T>() : nullptr, ws.as<T>(),
                    has_dx ? dx.as<T>() : nullptr, has_dh0 ? dh0.as<T>() : nullptr,
                    has_dc0 ? dc0.as<T>() : nullptr, dW.as<T>(), dR.as<T>(),
                    has_db ? db.as<T>() : nullptr);
  });
  return c.undef();
}

}  // namespace

void add_rnn_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("rnnWorkspaceSize",
              Napi::Function::New(env, guard<RnnWorkspaceSize>, "rnnWorkspaceSize"));
  exports.Set("rnnForward", Napi::Function::New(env, guard<RnnForward>, "rnnForward"));
  exports.Set("rnnBackward", Napi::Function::New(env, unrecordable<RnnBackward>, "rnnBackward",
                                                 const_cast<char*>("rnnBackward")));
}

}  // namespace binding
}  // namespace gf
