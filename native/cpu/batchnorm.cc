// Batch normalization kernels; see batchnorm.h for the contract. Per-channel sums run over
// fixed row blocks in parallel (double partials, combined in block order); the normalizing
// passes are per-channel affine maps y = a[c] * (x - mu[c]) + k[c] over rows. The batch variance uses
// shifted sums (shift = the first row), which stay accurate when |mean| >> std.
// Not here: mode selection, validation.
#include "cpu/batchnorm.h"

#include <algorithm>
#include <cmath>

#include "cpu/scratch.h"
#include "cpu/threadpool.h"

namespace gf {
namespace {

constexpr int64_t kBlockElems = 1 << 15;  // elements per statistics block (and per chunk)
constexpr int64_t kMaxBlocks = 64;

thread_local ScratchBuffer tl_bn;  // the caller's partial sums and per-channel coefficients

struct Work {
  int64_t blocks;
  double* part;  // (blocks, 2, C): two sums per channel per block
  double* sums;  // (2, C): combined
  double* coef;  // (5, C): per-channel coefficients a, mu, b, mv, k of affine_rows
};

Work plan(int64_t M, int64_t C) {
  const int64_t rows = std::max<int64_t>(1, kBlockElems / std::max<int64_t>(1, C));
  Work w;
  w.blocks = std::max<int64_t>(1, std::min(kMaxBlocks, (M + rows - 1) / rows));
  double* p = static_cast<double*>(tl_bn.get(sizeof(double) * C * (2 * w.blocks + 7)));
  w.part = p;
  w.sums = p + 2 * w.blocks * C;
  w.coef = w.sums + 2 * C;
  return w;
}

// sums[0][c] = sum_r f0(r, c), sums[1][c] = sum_r f1(r, c), over fixed blocks of rows.
// fn(r0, r1, s0, s1) adds the block's rows into s0 (C) and s1 (C), which start at zero.
template <typename F>
void column_sums(int64_t M, int64_t C, Work& w, const F& fn) {
  auto body = [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* s0 = w.part + 2 * b * C;
      double* s1 = s0 + C;
      std::fill(s0, s0 + 2 * C, 0.0);
      fn(b * M / w.blocks, (b + 1) * M / w.blocks, s0, s1);
    }
  };
  parallel_for(w.blocks, 1, body);
  std::fill(w.sums, w.sums + 2 * C, 0.0);
  for (int64_t b = 0; b < w.blocks; ++b)
    for (int64_t i = 0; i < 2 * C; ++i) w.sums[i] += w.part[2 * b * C + i];
}

// The two column sums of the backward passes: w.sums[c] = sum_r dy[r][c] (the beta gradient)
// and w.sums[C + c] = sum_r dy[r][c] * (x[r][c] - centre[c]) (the gamma gradient, before 1/std).
template <typename T>
void gradient_sums(int64_t M, int64_t C, const T* x, const T* dy, const T* centre, Work& w) {
  column_sums(M, C, w, [&](int64_t r0, int64_t r1, double* s0, double* s1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      const T* g = dy + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const double d = g[c];
        s0[c] += d;
        s1[c] += d * (static_cast<double>(xr[c]) - static_cast<double>(centre[c]));
      }
    }
  });
}

// out[r, c] = a[c] * (u[r, c] - mu[c]) + b[c] * (v[r, c] - mv[c]) + k[c], the v term only when
// v is given. Centering before scaling keeps the result accurate when |mean| >> std.
// coef holds a, mu, b, mv, k, each (C).
template <typename T>
void affine_rows(int64_t M, int64_t C, const T* u, const T* v, const double* coef, T* out) {
  auto body = [&](int64_t r0, int64_t r1) {
    // Coefficients in T so the inner loop stays in one precision and vectorizes.
    constexpr int64_t kChunk = 128;
    T ta[kChunk], tmu[kChunk], tb[kChunk], tmv[kChunk], tk[kChunk];
    for (int64_t c0 = 0; c0 < C; c0 += kChunk) {
      const int64_t cn = std::min(kChunk, C - c0);
      for (int64_t c = 0; c < cn; ++c) {
        ta[c] = static_cast<T>(coef[c0 + c]);
        tmu[c] = static_cast<T>(coef[C + c0 + c]);
        tb[c] = static_cast<T>(coef[2 * C + c0 + c]);
        tmv[c] = static_cast<T>(coef[3 * C + c0 + c]);
        tk[c] = static_cast<T>(coef[4 * C + c0 + c]);
      }
      for (int64_t r = r0; r < r1; ++r) {
        const T* ur = u + r * C + c0;
        T* o = out + r * C + c0;
        if (v) {
          const T* vr = v + r * C + c0;
          for (int64_t c = 0; c < cn; ++c)
            o[c] = ta[c] * (ur[c] - tmu[c]) + tb[c] * (vr[c] - tmv[c]) + tk[c];
        } else {
          for (int64_t c = 0; c < cn; ++c) o[c] = ta[c] * (ur[c] - tmu[c]) + tk[c];
        }
      }
    }
  };
  parallel_for(M, std::max<int64_t>(1, kBlockElems / std::max<int64_t>(1, C)), body);
}

template <typename T>
inline double val_or(const T* p, int64_t c, double d) { return p ? static_cast<double>(p[c]) : d; }

}  // namespace

template <typename T>
void batchnorm_forward_train(int64_t M, int64_t C, const T* x, const T* gamma, const T* beta,
                             double eps, double momentum, T* y, T* mean, T* inv_std,
                             T* moving_mean, T* moving_var) {
  if (M <= 0 || C <= 0) return;
  Work w = plan(M, C);
  const T* shift = x;  // row 0
  column_sums(M, C, w, [&](int64_t r0, int64_t r1, double* s0, double* s1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const double d = static_cast<double>(xr[c]) - static_cast<double>(shift[c]);
        s0[c] += d;
        s1[c] += d * d;
      }
    }
  });
  double *a = w.coef, *mu_c = w.coef + C, *k = w.coef + 4 * C;
  for (int64_t c = 0; c < C; ++c) {
    const double dm = w.sums[c] / static_cast<double>(M);
    const double var = std::max(0.0, w.sums[C + c] / static_cast<double>(M) - dm * dm);
    const double mu = static_cast<double>(shift[c]) + dm;
    const double is = 1.0 / std::sqrt(var + eps);
    mean[c] = static_cast<T>(mu);
    inv_std[c] = static_cast<T>(is);
    if (moving_mean)
      moving_mean[c] = static_cast<T>(moving_mean[c] * momentum + mu * (1.0 - momentum));
    if (moving_var)
      moving_var[c] = static_cast<T>(moving_var[c] * momentum + var * (1.0 - momentum));
    // Center on the shift (a T value, so x - shift is exact for nearby x) rather than on the
    // mean rounded to T: y = a * (x - shift) + beta - a * (mean - shift).
    a[c] = val_or(gamma, c, 1.0) * is;
    mu_c[c] = static_cast<double>(shift[c]);
    k[c] = val_or(beta, c, 0.0) - a[c] * dm;
  }
  affine_rows<T>(M, C, x, nullptr, w.coef, y);
}

template <typename T>
void batchnorm_forward_inference(int64_t M, int64_t C, const T* x, const T* gamma,
                                 const T* beta, const T* moving_mean, const T* moving_var,
                                 double eps, T* y) {
  if (M <= 0 || C <= 0) return;
  Work w = plan(1, C);
  double *a = w.coef, *mu_c = w.coef + C, *k = w.coef + 4 * C;
  for (int64_t c = 0; c < C; ++c) {
    a[c] = val_or(gamma, c, 1.0) / std::sqrt(static_cast<double>(moving_var[c]) + eps);
    mu_c[c] = moving_mean[c];
    k[c] = val_or(beta, c, 0.0);
  }
  affine_rows<T>(M, C, x, nullptr, w.coef, y);
}

template <typename T>
void batchnorm_backward(int64_t M, int64_t C, const T* x, const T* dy, const T* gamma,
                        const T* mean, const T* inv_std, T* dx, T* dgamma, T* dbeta) {
  if (C <= 0) return;
  if (M <= 0) {
    for (int64_t c = 0; c < C; ++c) {
      if (dgamma) dgamma[c] = T(0);
      if (dbeta) dbeta[c] = T(0);
    }
    return;
  }
  Work w = plan(M, C);
  gradient_sums(M, C, x, dy, mean, w);
  // dx = a * dy + b * (x - mean) + k
  double *a = w.coef, *mu_c = w.coef + C, *b = w.coef + 2 * C, *mv = w.coef + 3 * C,
         *k = w.coef + 4 * C;
  const double inv_m = 1.0 / static_cast<double>(M);
  for (int64_t c = 0; c < C; ++c) {
    const double is = inv_std[c];
    const double db = w.sums[c], dg = w.sums[C + c] * is;
    if (dbeta) dbeta[c] = static_cast<T>(db);
    if (dgamma) dgamma[c] = static_cast<T>(dg);
    // dx = g*is*dy - g*is/M*db - g*is/M*dg*is*(x - mean)
    const double gi = val_or(gamma, c, 1.0) * is;
    a[c] = gi;
    mu_c[c] = 0.0;
    b[c] = -gi * inv_m * dg * is;
    mv[c] = mean[c];
    k[c] = -gi * inv_m * db;
  }
  affine_rows<T>(M, C, dy, x, w.coef, dx);
}

template <typename T>
void batchnorm_backward_inference(int64_t M, int64_t C, const T* x, const T* dy,
                                  const T* gamma, const T* moving_mean, const T* moving_var,
                                  double eps, T* dx, T* dgamma, T* dbeta) {
  if (C <= 0) return;
  Work w = plan(std::max<int64_t>(M, 1), C);
  if (dgamma || dbeta) {
    if (M > 0) {
      gradient_sums(M, C, x, dy, moving_mean, w);
    } else {
      std::fill(w.sums, w.sums + 2 * C, 0.0);
    }
  }
  double *a = w.coef, *mu_c = w.coef + C, *k = w.coef + 4 * C;
  for (int64_t c = 0; c < C; ++c) {
    const double is = 1.0 / std::sqrt(static_cast<double>(moving_var[c]) + eps);
    if (dbeta) dbeta[c] = static_cast<T>(w.sums[c]);
    if (dgamma) dgamma[c] = static_cast<T>(w.sums[C + c] * is);
    a[c] = val_or(gamma, c, 1.0) * is;
    mu_c[c] = 0.0;
    k[c] = 0.0;
  }
  if (M > 0) affine_rows<T>(M, C, dy, nullptr, w.coef, dx);
}

#define GF_BN_INSTANTIATE(T)                                                                  \
  template void batchnorm_forward_train<T>(int64_t, int64_t, const T*, const T*, const T*,    \
                                           double, double, T*, T*, T*, T*, T*);               \
  template void batchnorm_forward_inference<T>(int64_t, int64_t, const T*, const T*,          \
                                               const T*, const T*, const T*, double, T*);     \
  template void batchnorm_backward<T>(int64_t, int64_t, const T*, const T*, const T*,         \
                                      const T*, const T*, T*, T*, T*);                        \
  template void batchnorm_backward_inference<T>(int64_t, int64_t, const T*, const T*,        \
                                                 const T*, const T*, const T*, double, T*,    \
                                                 T*, T*);
GF_BN_INSTANTIATE(float)
GF_BN_INSTANTIATE(double)

}  // namespace gf
