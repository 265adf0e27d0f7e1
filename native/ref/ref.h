// Naive scalar reference kernels: the ground truth the fast kernels are tested against.
// They are: obviously-correct loops (index math, double accumulation, derivatives computed
// from x by textbook formulas rather than the fast kernels' shortcuts). They are not: fast,
// threaded, or used by the addon.
#pragma once
#include <cstdint>

#include "cpu/conv.h"
#include "cpu/elementwise.h"
#include "cpu/pool.h"
#include "cpu/reduce.h"
#include "cpu/rnn.h"

namespace gf {
namespace ref {

template <typename T>
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

template <typename T>
void unary(UnaryOp op, const T* x, T* out, int64_t n, T alpha, T beta);
template <typename T>
void unary_backward(UnaryOp op, const T* x, const T* dy, T* dx, int64_t n, T alpha, T beta);

template <typename T>
void binary(BinaryOp op, const T* a, const int64_t* aShape, int aRank, const T* b,
            const int64_t* bShape, int bRank, T* out, const int64_t* outShape, int outRank);

template <typename T>
void reduce(ReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner, T* out);
template <typename T>
void arg_reduce(ArgReduceOp op, const T* x, int64_t outer, int64_t n, int64_t inner,
                int32_t* out);

template <typename T>
void softmax(const T* x, int64_t rows, int64_t cols, T* out, bool log);
template <typename T>
void softmax_backward(const T* y, const T* dy, int64_t rows, int64_t cols, T* dx, bool log);

template <typename T>
void permute(const T* x, const int64_t* shape, const int* perm, int rank, T* out);
// dst[dst_start + i] = src[src_start + i] over the box `size`, element by element.
template <typename T>
void copy_box(const T* src, const int64_t* src_shape, const int64_t* src_start, T* dst,
              const int64_t* dst_shape, const int64_t* dst_start, const int64_t* size, int rank);
// out[i, :] = x[ids[i], :]; scatter_add_rows: out[ids[i], :] += g[i, :] (out not cleared).
template <typename T>
void gather_rows(const T* x, int64_t row_len, const int32_t* ids, int64_t n, T* out);
template <typename T>
void scatter_add_rows(const T* g, int64_t row_len, const int32_t* ids, int64_t n, T* out);

template <typename T>
void sgd_step(T* p, const T* g, T* v, int64_t n, double lr, double momentum, bool nesterov);
template <typename T>
void adam_step(T* p, const T* g, T* m, T* v, int64_t n, double lr, double beta1, double beta2,
               double epsilon, double step);
template <typename T>
void rmsprop_step(T* p, const T* g, T* ms, int64_t n, double lr, double rho, double epsilon);
template <typename T>
void adagrad_step(T* p, const T* g, T* acc, int64_t n, double lr, double epsilon);

// ---- conv2d, pooling, upsampling, batch normalization (NHWC; see cpu/conv.h, cpu/pool.h,
// cpu/batchnorm.h for the shapes). Direct loops from the definitions, double accumulation.
template <typename T>
void conv2d_forward(const Conv2dShape& s, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void conv2d_backward_input(const Conv2dShape& s, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_filter(const Conv2dShape& s, const T* x, const T* dy, T* dw, T* dbias);

// The max-pool references find each window's max from x themselves (no argmax input).
template <typename T>
void maxpool2d_forward(const Pool2dShape& s, const T* x, T* y);
template <typename T>
void maxpool2d_backward(const Pool2dShape& s, const T* x, const T* dy, T* dx);
template <typename T>
void avgpool2d_forward(const Pool2dShape& s, const T* x, T* y);
template <typename T>
void avgpool2d_backward(const Pool2dShape& s, const T* dy, T* dx);
template <typename T>
void global_avgpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y);
template <typename T>
void global_avgpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* dy, T* dx);
template <typename T>
void global_maxpool2d_forward(int64_t N, int64_t HW, int64_t C, const T* x, T* y);
template <typename T>
void global_maxpool2d_backward(int64_t N, int64_t HW, int64_t C, const T* x, const T* dy,
                               T* dx);
template <typename T>
void upsampling2d_forward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                          UpsampleMode mode, const T* x, T* y);
template <typename T>
void upsampling2d_backward(int64_t N, int64_t H, int64_t W, int64_t C, int64_t sh, int64_t sw,
                           UpsampleMode mode, const T* dy, T* dx);

// Two-pass mean and population variance; the backward recomputes the statistics from x.
template <typename T>
void batchnorm_forward_train(int64_t M, int64_t C, const T* x, const T* gamma, const T* beta,
                             double eps, double momentum, T* y, T* mean, T* inv_std,
                             T* moving_mean, T* moving_var);
template <typename T>
void batchnorm_forward_inference(int64_t M, int64_t C, const T* x, const T* gamma,
                                 const T* beta, const T* moving_mean, const T* moving_var,
                                 double eps, T* y);
template <typename T>
void batchnorm_backward(int64_t M, int64_t C, const T* x, const T* dy, const T* gamma,
                        double eps, T* dx, T* dgamma, T* dbeta);
template <typename T>
void batchnorm_backward_inference(int64_t M, int64_t C, const T* x, const T* dy,
                                  const T* gamma, const T* moving_mean, const T* moving_var,
                                  double eps, T* dx, T* dgamma, T* dbeta);

// ---- recurrent cells (SimpleRNN, LSTM, GRU; see cpu/rnn.h for shapes, gates, mask and
// go_backwards, and the recurrent dropout mask rmask (N, U) or nullptr). Per-step,
// per-element loops in double with no GEMM; activation derivatives from the pre-activations.
// The backward reruns the forward itself (no workspace) and overwrites dx, dh0, dc0, dW, dR,
// db (any of dx, dh0, dc0, db may be nullptr).
template <typename T>
void rnn_forward(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                 const T* h0, const T* c0, const uint8_t* mask, const T* rmask, T* y, T* hT,
                 T* cT);
template <typename T>
void rnn_backward(const RnnConfig& cfg, const T* x, const T* W, const T* R, const T* b,
                  const T* h0, const T* c0, const uint8_t* mask, const T* rmask, const T* dy,
                  const T* dhT, const T* dcT, T* dx, T* dh0, T* dc0, T* dW, T* dR, T* db);

}  // namespace ref
}  // namespace gf
