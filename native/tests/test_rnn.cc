// Recurrent kernels (SimpleRNN, LSTM, GRU reset_after true and false) vs the naive references,
// on random configurations drawn from odd sizes (N 1,3,5; T 1,2,7; In 1,3,17; U 1,5,33), every
// activation as activation and as recurrent_activation, with and without bias, initial states,
// mask (random, with a fully masked row and a masked first step), a recurrent dropout mask
// (N, U) (Keras's 0 or 1/(1-rate), or arbitrary values, so that a mask applied twice or in
// the wrong place shows), go_backwards, zero_output_for_mask on and off, float and double, 1
// and 2 threads (GEMM forced parallel). Every cell runs the large and the smallest shape with
// and without the recurrent mask; an all-ones recurrent mask must give what no mask gives.
// The reference backward is validated by central finite differences in double of the scalar
// loss sum(y*gy) + sum(hT*ghT) (+ sum(cT*gcT)) through the reference forward. The workspace
// and outputs start as NaN / garbage: the kernels must overwrite every output and read nothing
// they did not write. A few larger shapes reach the pool in the fused passes, and their
// results must be bit-for-bit the same on 1 and 2 threads.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "cpu/gemm.h"
#include "cpu/rnn.h"
#include "cpu/threadpool.h"
#include "ref/ref.h"
#include "tests/test_util.h"

using namespace gf;
using namespace gf::test;

namespace {

bool coin(double p = 0.5) { return std::uniform_real_distribution<double>(0, 1)(rng()) < p; }

const char* act_name(RnnActivation a) {
  switch (a) {
    case RnnActivation::Tanh: return "tanh";
    case RnnActivation::Sigmoid: return "sigmoid";
    case RnnActivation::HardSigmoid: return "hard_sigmoid";
    case RnnActivation::HardSigmoidLegacy: return "hard_sigmoid_legacy";
    case RnnActivation::Relu: return "relu";
    case RnnActivation::Linear: return "linear";
  }
  return "?";
}

struct Case {
  RnnConfig c;
  bool bias, h0, c0;
  std::vector<uint8_t> mask;  // empty: no mask
  std::vector<double> rmask;  // (N, U) recurrent dropout mask; empty: none
  // data, in double; converted per type
  std::vector<double> x, W, R, b, h0v, c0v, gy, ghT, gcT;
};

std::string describe(const Case& k) {
  const RnnConfig& c = k.c;
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "%s%s N%lld T%lld In%lld U%lld act=%s rec=%s bias=%d h0=%d c0=%d mask=%d "
                "rmask=%d back=%d zero_out=%d",
                c.cell == RnnCell::LSTM ? "LSTM" : c.cell == RnnCell::GRU ? "GRU" : "SimpleRNN",
                c.cell == RnnCell::GRU ? (c.reset_after ? "(reset_after)" : "(reset_before)")
                                       : "",
                (long long)c.N, (long long)c.T, (long long)c.In, (long long)c.U,
                act_name(c.activation), act_name(c.recurrent_activation), k.bias, k.h0, k.c0,
                !k.mask.empty(), !k.rmask.empty(), c.go_backwards, c.zero_output_for_mask);
  return buf;
}

int64_t bias_len(const RnnConfig& c) {
  return rnn_gates(c.cell) * c.U * ((c.cell == RnnCell::GRU && c.reset_after) ? 2 : 1);
}

bool unbounded(RnnActivation a) { return a == RnnActivation::Relu || a == RnnActivation::Linear; }

void fill_data(Case& k) {
  const RnnConfig& c = k.c;
  const int64_t GU = rnn_gates(c.cell) * c.U, NU = c.N * c.U;
  // An unbounded recurrent activation lets a gate exceed 1 (LSTM's forget gate, GRU's z), and
  // the state then grows geometrically over the steps until float's rounding (or range) is
  // all that is compared; smaller weights keep the gates moderate.
  const double w = unbounded(c.recurrent_activation) ? 0.25 : 0.5;
  k.x = random_vec<double>(c.N * c.T * c.In);
  k.W = random_vec<double>(c.In * GU, -w, w);
  k.R = random_vec<double>(c.U * GU, -w, w);
  k.b = random_vec<double>(bias_len(c), -w, w);
  k.h0v = random_vec<double>(NU);
  k.c0v = random_vec<double>(NU);
  k.gy = random_vec<double>(c.N * c.T * c.U);
  k.ghT = random_vec<double>(NU);
  k.gcT = random_vec<double>(NU);
}

// Keras's recurrent dropout mask: 0 or 1/(1-rate); one case in four arbitrary values in
// [-1.2, 1.2] instead (the kernels must use rmask as a plain factor).
std::vector<double> make_rmask(int64_t N, int64_t U) {
  if (coin(0.25)) return random_vec<double>(N * U, -1.2, 1.2);
  const double rate = pick<double>({0.1, 0.3, 0.5});
  std::vector<double> m(N * U);
  for (double& v : m) v = coin(rate) ? 0.0 : 1.0 / (1.0 - rate);
  return m;
}

// rmask_p: the probability of a recurrent dropout mask (negative: draw it).
Case make_case(RnnCell cell, bool reset_after, int64_t N, int64_t T, int64_t In, int64_t U,
               double rmask_p = 0.5) {
  Case k;
  RnnConfig& c = k.c;
  c.cell = cell;
  c.reset_after = reset_after;
  c.N = N; c.T = T; c.In = In; c.U = U;
  using A = RnnActivation;
  c.activation = pick<A>({A::Tanh, A::Tanh, A::Sigmoid, A::HardSigmoid, A::HardSigmoidLegacy,
                          A::Relu, A::Linear});
  c.recurrent_activation = pick<A>({A::Sigmoid, A::Sigmoid, A::HardSigmoid,
                                    A::HardSigmoidLegacy, A::Tanh, A::Relu, A::Linear});
  // A recurrent activation outside [0, 1] (tanh, relu, linear) lets GRU's 1 - z exceed 1
  // (and LSTM's gates leave [0, 1]); with an unbounded activation the state can then grow
  // without limit over the steps (overflowing float); pair those with tanh.
  const bool gate01 = c.recurrent_activation == A::Sigmoid ||
                      c.recurrent_activation == A::HardSigmoid ||
                      c.recurrent_activation == A::HardSigmoidLegacy;
  if (!gate01 && unbounded(c.activation)) c.activation = A::Tanh;
  c.go_backwards = coin();
  c.zero_output_for_mask = coin();
  k.bias = coin(0.7);
  k.h0 = coin();
  k.c0 = coin();
  if (coin(0.6)) {
    k.mask.resize(N * T);
    for (auto& m : k.mask) m = coin(0.7) ? 1 : 0;
    std::uniform_int_distribution<int64_t> dn(0, N - 1);
    const int64_t first_t = c.go_backwards ? T - 1 : 0;  // time of the first processed step
    k.mask[dn(rng()) * T + first_t] = 0;                 // a masked first step
    if (N > 1) {                                          // a fully masked row
      const int64_t n = dn(rng());
      for (int64_t t = 0; t < T; ++t) k.mask[n * T + t] = 0;
    }
  }
  fill_data(k);
  if (coin(rmask_p)) k.rmask = make_rmask(N, U);
  return k;
}

template <typename T>
std::vector<T> conv(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// Compares a T result with a double reference.
template <typename T>
bool cmp(const T* got, const double* want, size_t n, double atol, double rtol,
         const std::string& what) {
  std::vector<double> g(got, got + n);
  return check_close(g.data(), want, n, atol, rtol, what);
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double a : v) m = std::max(m, std::fabs(a));
  return m;
}

// Reference loss in double (for finite differences).
double ref_loss(const Case& k, const std::vector<double>& x, const std::vector<double>& W,
                const std::vector<double>& R, const std::vector<double>& b,
                const std::vector<double>& h0, const std::vector<double>& c0) {
  const RnnConfig& c = k.c;
  std::vector<double> y(c.N * c.T * c.U), hT(c.N * c.U), cT(c.N * c.U, 0.0);
  ref::rnn_forward<double>(c, x.data(), W.data(), R.data(), k.bias ? b.data() : nullptr,
                           k.h0 ? h0.data() : nullptr, k.c0 ? c0.data() : nullptr,
                           k.mask.empty() ? nullptr : k.mask.data(),
                           k.rmask.empty() ? nullptr : k.rmask.data(), y.data(), hT.data(),
                           cT.data());
  double L = 0;
  for (size_t i = 0; i < y.size(); ++i) L += y[i] * k.gy[i];
  for (size_t i = 0; i < hT.size(); ++i) L += hT[i] * k.ghT[i];
  if (c.cell == RnnCell::LSTM)
    for (size_t i = 0; i < cT.size(); ++i) L += cT[i] * k.gcT[i];
  return L;
}

struct Grads {
  std::vector<double> dx, dh0, dc0, dW, dR, db;
};

Grads ref_grads(const Case& k) {
  const RnnConfig& c = k.c;
  Grads g;
  g.dx.resize(k.x.size()); g.dh0.resize(c.N * c.U); g.dc0.resize(c.N * c.U, 0.0);
  g.dW.resize(k.W.size()); g.dR.resize(k.R.size()); g.db.resize(k.b.size());
  ref::rnn_backward<double>(c, k.x.data(), k.W.data(), k.R.data(), k.bias ? k.b.data() : nullptr,
                            k.h0 ? k.h0v.data() : nullptr, k.c0 ? k.c0v.data() : nullptr,
                            k.mask.empty() ? nullptr : k.mask.data(),
                            k.rmask.empty() ? nullptr : k.rmask.data(), k.gy.data(),
                            k.ghT.data(), k.gcT.data(), g.dx.data(), g.dh0.data(), g.dc0.data(),
                            g.dW.data(), g.dR.data(), g.db.data());
  return g;
}

// Central differences of the reference loss for a few entries of every input.
// h0 and c0 are always given here: with c0 = 0 and relu, a cell state can sit exactly at
// relu's kink (c = f*0 + i*relu(negative) = 0), where differences are one-sided.
void check_ref_fd(const Case& k0) {
  Case k = k0;
  k.h0 = k.c0 = true;
  const Grads g = ref_grads(k);
  const std::string what = "ref backward vs finite differences " + describe(k);
  const double h = 1e-6;
  struct Param { const char* name; int which; const std::vector<double>* grad; };
  std::vector<Param> params = {{"x", 0, &g.dx}, {"W", 2, &g.dW}, {"R", 3, &g.dR}};
  if (k.bias) params.push_back({"b", 4, &g.db});
  params.push_back({"h0", 5, &g.dh0});
  if (k.c.cell == RnnCell::LSTM) params.push_back({"c0", 6, &g.dc0});
  for (const Param& p : params) {
    std::vector<double> v[7] = {k.x, {}, k.W, k.R, k.b, k.h0v, k.c0v};
    std::vector<double>& target = v[p.which];
    std::uniform_int_distribution<size_t> d(0, target.size() - 1);
    const Case& kk = k;
    bool ok = true;
    char buf[200] = "";
    for (int rep = 0; rep < 4 && ok; ++rep) {
      const size_t i = d(rng());
      const double orig = target[i];
      target[i] = orig + h;
      const double lp = ref_loss(kk, v[0], v[2], v[3], v[4], v[5], v[6]);
      target[i] = orig - h;
      const double lm = ref_loss(kk, v[0], v[2], v[3], v[4], v[5], v[6]);
      target[i] = orig;
      const double fd = (lp - lm) / (2 * h), an = (*p.grad)[i];
      if (!close(an, fd, 1e-6 * (1 + std::fabs(lp)), 1e-5)) {
        ok = false;
        std::snprintf(buf, sizeof buf, " d%s[%zu]: backward %.12g fd %.12g", p.name, i, an, fd);
      }
    }
    check(ok, what + buf);
  }
}

template <typename T>
void check_kernel(const Case& k, int threads) {
  const RnnConfig& c = k.c;
  const bool lstm = c.cell == RnnCell::LSTM;
  const std::string what = std::string(type_name<T>()) + " threads=" + std::to_string(threads) +
                           " " + describe(k);
  const int64_t NU = c.N * c.U, ny = c.N * c.T * c.U;
  std::vector<T> x = conv<T>(k.x), W = conv<T>(k.W), R = conv<T>(k.R), b = conv<T>(k.b),
                 h0 = conv<T>(k.h0v), c0 = conv<T>(k.c0v), gy = conv<T>(k.gy),
                 ghT = conv<T>(k.ghT), gcT = conv<T>(k.gcT), rm = conv<T>(k.rmask);
  const T* pb = k.bias ? b.data() : nullptr;
  const T* ph0 = k.h0 ? h0.data() : nullptr;
  const T* pc0 = k.c0 ? c0.data() : nullptr;
  const uint8_t* pm = k.mask.empty() ? nullptr : k.mask.data();
  const T* prm = k.rmask.empty() ? nullptr : rm.data();

  // Reference in double from the T-rounded data, rounded once to compare.
  std::vector<double> ry(ny), rhT(NU), rcT(NU, 0.0);
  {
    std::vector<double> xd(x.begin(), x.end()), Wd(W.begin(), W.end()), Rd(R.begin(), R.end()),
        bd(b.begin(), b.end()), h0d(h0.begin(), h0.end()), c0d(c0.begin(), c0.end()),
        rmd(rm.begin(), rm.end());
    ref::rnn_forward<double>(c, xd.data(), Wd.data(), Rd.data(), pb ? bd.data() : nullptr,
                             ph0 ? h0d.data() : nullptr, pc0 ? c0d.data() : nullptr, pm,
                             prm ? rmd.data() : nullptr, ry.data(), rhT.data(), rcT.data());
  }
  const double base = sizeof(T) == 4 ? 2e-6 : 1e-13;
  const double len = std::sqrt(double(c.In + c.U)) * double(c.T);
  const double ftol = base * len * std::max(1.0, max_abs(ry));

  const T nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> ws(rnn_workspace_size(c), nan);
  check(rnn_workspace_size(c) ==
            (lstm ? lstm_workspace_size(c.N, c.T, c.In, c.U)
                  : c.cell == RnnCell::GRU ? gru_workspace_size(c.N, c.T, c.In, c.U, c.reset_after)
                                           : simple_rnn_workspace_size(c.N, c.T, c.In, c.U)),
        "per-cell workspace size " + what);
  std::vector<T> y(ny, T(777)), hT(NU, T(777)), cT(NU, T(777));
  const bool want_hT = coin(0.8);
  rnn_forward<T>(c, x.data(), W.data(), R.data(), pb, ph0, pc0, pm, prm, y.data(),
                 want_hT ? hT.data() : nullptr, cT.data(), ws.data());
  cmp(y.data(), ry.data(), ny, ftol, base * len, "forward y " + what);
  if (want_hT) cmp(hT.data(), rhT.data(), NU, ftol, base * len, "forward hT " + what);
  if (lstm) cmp(cT.data(), rcT.data(), NU, ftol, base * len, "forward cT " + what);

  // Inference forward with only the forward part of the workspace.
  {
    std::vector<T> wsf(rnn_forward_workspace_size(c), nan), y2(ny, T(777));
    rnn_forward<T>(c, x.data(), W.data(), R.data(), pb, ph0, pc0, pm, prm, y2.data(), nullptr,
                   nullptr, wsf.data());
    check_close(y2.data(), y.data(), ny, 0, 0, "forward with forward-only workspace " + what);
  }

  // Backward vs the reference backward (in double from the T-rounded data).
  Case kr = k;
  kr.x.assign(x.begin(), x.end()); kr.W.assign(W.begin(), W.end());
  kr.R.assign(R.begin(), R.end()); kr.b.assign(b.begin(), b.end());
  kr.h0v.assign(h0.begin(), h0.end()); kr.c0v.assign(c0.begin(), c0.end());
  kr.gy.assign(gy.begin(), gy.end()); kr.ghT.assign(ghT.begin(), ghT.end());
  kr.gcT.assign(gcT.begin(), gcT.end());
  kr.rmask.assign(rm.begin(), rm.end());
  const Grads want = ref_grads(kr);
  const double gmax = std::max({1.0, max_abs(want.dx), max_abs(want.dW), max_abs(want.dR),
                                max_abs(want.dh0), max_abs(want.db)});
  const double gtol = base * len * 4 * gmax;
  const bool want_dx = coin(0.8), want_dh0 = coin(0.8), want_db = coin(0.8);
  const bool give_dy = coin(0.9), give_dhT = coin(0.8);
  std::vector<T> dx(x.size(), T(777)), dh0(NU, T(777)), dc0(NU, T(777)), dW(W.size(), T(777)),
      dR(R.size(), T(777)), db(b.size(), T(777));
  rnn_backward<T>(c, x.data(), W.data(), R.data(), pm, prm, give_dy ? gy.data() : nullptr,
                  give_dhT ? ghT.data() : nullptr, gcT.data(), ws.data(),
                  want_dx ? dx.data() : nullptr, want_dh0 ? dh0.data() : nullptr, dc0.data(),
                  dW.data(), dR.data(), want_db ? db.data() : nullptr);
  const Grads* wp = &want;
  Grads want2;
  if (!give_dy || !give_dhT) {  // the reference with those gradients as zeros
    if (!give_dy) std::fill(kr.gy.begin(), kr.gy.end(), 0.0);
    if (!give_dhT) std::fill(kr.ghT.begin(), kr.ghT.end(), 0.0);
    want2 = ref_grads(kr);
    wp = &want2;
  }
  if (want_dx) cmp(dx.data(), wp->dx.data(), dx.size(), gtol, base * len, "dx " + what);
  if (want_dh0) cmp(dh0.data(), wp->dh0.data(), NU, gtol, base * len, "dh0 " + what);
  if (lstm) cmp(dc0.data(), wp->dc0.data(), NU, gtol, base * len, "dc0 " + what);
  cmp(dW.data(), wp->dW.data(), dW.size(), gtol, base * len, "dW " + what);
  cmp(dR.data(), wp->dR.data(), dR.size(), gtol, base * len, "dR " + what);
  if (want_db) cmp(db.data(), wp->db.data(), db.size(), gtol, base * len, "db " + what);
}

// Every output of forward and backward, concatenated (for thread-count comparisons).
template <typename T>
std::vector<T> run_all(const Case& k) {
  const RnnConfig& c = k.c;
  const int64_t NU = c.N * c.U, ny = c.N * c.T * c.U;
  std::vector<T> x = conv<T>(k.x), W = conv<T>(k.W), R = conv<T>(k.R), b = conv<T>(k.b),
                 h0 = conv<T>(k.h0v), c0 = conv<T>(k.c0v), gy = conv<T>(k.gy),
                 ghT = conv<T>(k.ghT), gcT = conv<T>(k.gcT), rm = conv<T>(k.rmask);
  const uint8_t* pm = k.mask.empty() ? nullptr : k.mask.data();
  const T* prm = k.rmask.empty() ? nullptr : rm.data();
  std::vector<T> ws(rnn_workspace_size(c));
  std::vector<T> out(ny + 4 * NU + x.size() + W.size() + R.size() + b.size());
  T* p = out.data();
  T *y = p, *hT = y + ny, *cT = hT + NU, *dh0 = cT + NU, *dc0 = dh0 + NU, *dx = dc0 + NU,
    *dW = dx + x.size(), *dR = dW + W.size(), *db = dR + R.size();
  rnn_forward<T>(c, x.data(), W.data(), R.data(), k.bias ? b.data() : nullptr,
                 k.h0 ? h0.data() : nullptr, k.c0 ? c0.data() : nullptr, pm, prm, y, hT, cT,
                 ws.data());
  rnn_backward<T>(c, x.data(), W.data(), R.data(), pm, prm, gy.data(), ghT.data(), gcT.data(),
                  ws.data(), dx, dh0, dc0, dW, dR, db);
  if (!k.bias) std::fill(db, db + b.size(), T(0));
  if (c.cell != RnnCell::LSTM) std::fill(cT, dh0, T(0)), std::fill(dc0, dx, T(0));
  return out;
}

// An all-ones recurrent mask is no recurrent dropout: the forward is bit for bit the one
// without a mask (h * 1 == h); the backward sums in another order in places, so it is
// compared with the kernel's own tolerance.
template <typename T>
void check_ones_rmask(const Case& k0) {
  Case none = k0, ones = k0;
  none.rmask.clear();
  ones.rmask.assign(k0.c.N * k0.c.U, 1.0);
  const std::vector<T> a = run_all<T>(none), b = run_all<T>(ones);
  const RnnConfig& c = k0.c;
  const size_t nf = c.N * c.T * c.U + 2 * c.N * c.U;  // y, hT, cT
  const std::string what = std::string(type_name<T>()) + " " + describe(ones);
  check_close(b.data(), a.data(), nf, 0, 0, "forward with an all-ones rmask == without " + what);
  double gmax = 1;
  for (size_t i = nf; i < a.size(); ++i) gmax = std::max(gmax, std::fabs(double(a[i])));
  const double tol = (sizeof(T) == 4 ? 2e-6 : 1e-13) * std::sqrt(double(c.In + c.U)) *
                     double(c.T) * 4 * gmax;
  check_close(b.data() + nf, a.data() + nf, a.size() - nf, tol, 0,
              "backward with an all-ones rmask == without " + what);
}

template <typename T>
void check_threads_agree(const Case& k) {
  set_num_threads(1);
  const std::vector<T> one = run_all<T>(k);
  set_num_threads(2);
  set_gemm_parallel(GemmParallel::Always);
  const std::vector<T> two = run_all<T>(k);
  set_gemm_parallel(GemmParallel::Auto);
  check_close(two.data(), one.data(), one.size(), 0, 0,
              std::string(type_name<T>()) + " 2 threads == 1 thread " + describe(k));
}

const std::pair<RnnCell, bool> kCells[] = {{RnnCell::SimpleRNN, false},
                                           {RnnCell::LSTM, false},
                                           {RnnCell::GRU, true},
                                           {RnnCell::GRU, false}};

}  // namespace

int main() {
  // GF_TEST_SEED=n draws other cases (the default seed is test_util's)
  const char* seed = std::getenv("GF_TEST_SEED");
  if (seed && *seed) rng().seed(std::strtoull(seed, nullptr, 10));
  std::vector<Case> cases;
  // Every cell at the smallest and largest of the sizes, with and without a recurrent mask,
  // then random ones.
  for (const auto& cell : kCells) {
    for (double rmask_p : {0.0, 1.0}) {
      cases.push_back(make_case(cell.first, cell.second, 1, 1, 1, 1, rmask_p));
      cases.push_back(make_case(cell.first, cell.second, 5, 7, 17, 33, rmask_p));
    }
    for (int i = 0; i < 80; ++i)
      cases.push_back(make_case(cell.first, cell.second, pick<int64_t>({1, 3, 5}),
                                pick<int64_t>({1, 2, 7}), pick<int64_t>({1, 3, 17}),
                                pick<int64_t>({1, 5, 33})));
  }
  for (const Case& k : cases) check_ref_fd(k);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    set_gemm_parallel(threads == 1 ? GemmParallel::Auto : GemmParallel::Always);
    for (const Case& k : cases) {
      check_kernel<float>(k, threads);
      check_kernel<double>(k, threads);
    }
  }
  set_gemm_parallel(GemmParallel::Auto);
  set_num_threads(1);
  for (const auto& cell : kCells) {
    for (int i = 0; i < 3; ++i) {
      const Case k = make_case(cell.first, cell.second, pick<int64_t>({1, 3, 5}),
                               pick<int64_t>({1, 2, 7}), pick<int64_t>({1, 3, 17}),
                               pick<int64_t>({1, 5, 33}));
      check_ones_rmask<float>(k);
      check_ones_rmask<double>(k);
    }
  }
  // Larger batches: the fused passes have enough rows to be split over the pool.
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (const auto& cell : kCells) {
      for (double rmask_p : {0.0, 1.0}) {
        Case k = make_case(cell.first, cell.second, 64, 5, 24, 48, rmask_p);
        check_kernel<float>(k, threads);
        check_kernel<double>(k, threads);
        if (threads == 2) {
          check_threads_agree<float>(k);
          check_threads_agree<double>(k);
        }
      }
    }
  }
  return finish("test_rnn");
}
