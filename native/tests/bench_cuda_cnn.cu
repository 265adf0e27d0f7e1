// The tutorial CNN's training step on the GPU, by hand: build-cuda/bench_cuda_cnn [batch [steps]]
// (scripts/gpu-check.sh runs it beside bench/torch_cnn_cuda.py, PyTorch CUDA fp32 on the same
// model). The model is examples/mnist-cnn.ts's: conv 32 3x3 relu, maxpool 2, conv 64 3x3 relu,
// maxpool 2, conv 64 3x3 relu, flatten, dense 64 relu, dense 10, sparse softmax cross-entropy
// (mean over the batch), RMSprop (Keras defaults: lr 1e-3, rho 0.9, eps 1e-7), NHWC.
// One step is what fit runs on the device, kernel for kernel as lib's ops call them through the
// binding: the forward with bias and relu fused into the convolutions' and dense layers'
// GEMM epilogues, max pooling with argmax, the fused loss, every backward, ten optimizer
// updates. Batch 256 by default, random 28x28 inputs and labels, the same batch every step.
// Prints ms per step and samples/s (median of 5 timed blocks of `steps` steps each after 3
// warm-up steps, each block ended by a stream sync), and the loss of the first and the last
// step: on a fixed batch it must fall, a check that the step learns rather than computes
// garbage fast. It is not: a test (test_cuda_* check the kernels), or TF32 (off, as PyTorch's).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/conv.h"
#include "cuda/device.h"
#include "cuda/elementwise.h"
#include "cuda/gemm.h"
#include "cuda/loss.h"
#include "cuda/optim.h"
#include "cuda/pool.h"
#include "cuda/reduce.h"

namespace cnn_bench {

using namespace gf;

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "bench_cuda_cnn: %s\n", cuda::error_message(e, what).c_str());
  return false;
}

// Device arrays of floats, kept for the whole run.
struct Arena {
  std::vector<cuda::DeviceBuffer> bufs;
  cudaStream_t stream = nullptr;
  float* floats(size_t n) {
    bufs.emplace_back();
    if (!bufs.back().allocate(std::max<size_t>(n, 1) * sizeof(float), stream).ok()) return nullptr;
    return bufs.back().as<float>();
  }
  int32_t* ints(size_t n) { return reinterpret_cast<int32_t*>(floats(n)); }
};

bool upload(void* d, const void* h, size_t bytes, cudaStream_t s) {
  return ok(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, s), "cudaMemcpyAsync");
}

// Glorot-uniform-like values (scale / sqrt(fan)), a fixed pattern per seed.
std::vector<float> pattern(size_t n, float scale, unsigned seed) {
  std::vector<float> h(n);
  unsigned x = seed * 2654435761u + 1;
  for (auto& v : h) {
    x = x * 1664525u + 1013904223u;
    v = scale * (float(x >> 8) / float(1 << 23) - 1.0f);
  }
  return h;
}

struct Param {
  float *w, *g, *ms;
  size_t n;
};

Conv2dShape conv(int64_t N, int64_t H, int64_t C, int64_t O) {
  return Conv2dShape{N, H, H, C, 3, 3, O, H - 2, H - 2, 1, 1, 1, 1, 0, 0};
}
Pool2dShape pool(int64_t N, int64_t H, int64_t C) {
  return Pool2dShape{N, H, H, C, 2, 2, H / 2, H / 2, 2, 2, 0, 0};
}

int run(int64_t B, int steps) {
  cudaStream_t st = nullptr;
  if (!ok(cudaStreamCreate(&st), "cudaStreamCreate")) return 1;
  Arena a;
  a.stream = st;
  a.bufs.reserve(64);
  const Conv2dShape c1 = conv(B, 28, 1, 32), c2 = conv(B, 13, 32, 64), c3 = conv(B, 5, 64, 64);
  const Pool2dShape p1 = pool(B, 26, 32), p2 = pool(B, 11, 64);
  const int64_t flat = 3 * 3 * 64, hid = 64, cls = 10;
  auto act = [](const Conv2dShape& s) { return size_t(s.N * s.OH * s.OW * s.O); };
  auto pooled = [](const Pool2dShape& s) { return size_t(s.N * s.OH * s.OW * s.C); };

  // parameters (kernel, bias) x 5 with their gradients and RMSprop slots
  const size_t sizes[10] = {9 * 32, 32, 9 * 32 * 64, 64, 9 * 64 * 64, 64, size_t(flat * hid), size_t(hid),
                            size_t(hid * cls), size_t(cls)};
  const float fans[10] = {9, 1, 288, 1, 576, 1, float(flat), 1, float(hid), 1};
  Param P[10];
  for (int i = 0; i < 10; ++i) {
    P[i] = {a.floats(sizes[i]), a.floats(sizes[i]), a.floats(sizes[i]), sizes[i]};
    if (!P[i].w || !P[i].g || !P[i].ms) return 1;
    const bool bias = i % 2 == 1;
    const std::vector<float> w = bias ? std::vector<float>(sizes[i], 0.0f) : pattern(sizes[i], std::sqrt(6.0f / fans[i]), 10 + i);
    if (!upload(P[i].w, w.data(), w.size() * 4, st) || !ok(cudaMemsetAsync(P[i].ms, 0, sizes[i] * 4, st), "memset"))
      return 1;
  }
  // activations and their gradients
  float *x = a.floats(size_t(B) * 784), *y1 = a.floats(act(c1)), *q1 = a.floats(pooled(p1)), *y2 = a.floats(act(c2)),
        *q2 = a.floats(pooled(p2)), *y3 = a.floats(act(c3)), *h = a.floats(size_t(B * hid)),
        *logits = a.floats(size_t(B * cls)), *loss = a.floats(size_t(B)), *rowg = a.floats(size_t(B));
  float *dlog = a.floats(size_t(B * cls)), *dh = a.floats(size_t(B * hid)), *dy3 = a.floats(act(c3)),
        *dq2 = a.floats(pooled(p2)), *dy2 = a.floats(act(c2)), *dq1 = a.floats(pooled(p1)), *dy1 = a.floats(act(c1));
  int32_t *am1 = a.ints(pooled(p1)), *am2 = a.ints(pooled(p2)), *labels = a.ints(size_t(B));
  if (!x || !dy1 || !am2 || !labels) return 1;
  {
    const std::vector<float> hx = pattern(size_t(B) * 784, 1.0f, 1);
    std::vector<int32_t> hl(static_cast<size_t>(B));
    for (int64_t i = 0; i < B; ++i) hl[size_t(i)] = int32_t((i * 7 + 3) % cls);
    const std::vector<float> g(static_cast<size_t>(B), 1.0f / float(B));  // d(mean loss)/d(loss[r])
    if (!upload(x, hx.data(), hx.size() * 4, st) || !upload(labels, hl.data(), hl.size() * 4, st) ||
        !upload(rowg, g.data(), g.size() * 4, st))
      return 1;
  }
  GemmEpilogue<float> relu_b[5];
  for (int i = 0; i < 5; ++i) {
    relu_b[i].bias = P[2 * i + 1].w;
    relu_b[i].act = i == 4 ? GemmActivation::Linear : GemmActivation::Relu;
  }
  const GemmActivation R = GemmActivation::Relu;
  auto relu_back = [&](const float* y, float* dy, size_t n) {
    return cuda::unary_backward(UnaryOp::Relu, y, y, dy, dy, int64_t(n), 0, 0, st);  // y > 0 iff x > 0
  };

  auto step = [&]() -> bool {
    cudaError_t e = cudaSuccess;
    auto run = [&](cudaError_t r) { if (e == cudaSuccess) e = r; };
    // forward
    run(cuda::conv2d_forward(c1, x, P[0].w, P[1].w, y1, R, st));
    run(cuda::maxpool2d_forward(p1, y1, q1, am1, st));
    run(cuda::conv2d_forward(c2, q1, P[2].w, P[3].w, y2, R, st));
    run(cuda::maxpool2d_forward(p2, y2, q2, am2, st));
    run(cuda::conv2d_forward(c3, q2, P[4].w, P[5].w, y3, R, st));
    run(cuda::gemm(false, false, B, hid, flat, 1, y3, flat, P[6].w, hid, 0, h, hid, relu_b[3], st));
    run(cuda::gemm(false, false, B, cls, hid, 1, h, hid, P[8].w, cls, 0, logits, cls, relu_b[4], st));
    run(cuda::sparse_softmax_xent_forward(logits, labels, B, cls, loss, st));
    // backward
    run(cuda::sparse_softmax_xent_backward(logits, labels, rowg, B, cls, dlog, st));
    run(cuda::gemm(true, false, hid, cls, B, 1, h, hid, dlog, cls, 0, P[8].g, cls, st));
    run(cuda::reduce(ReduceOp::Sum, dlog, 1, B, cls, P[9].g, st));
    run(cuda::gemm(false, true, B, hid, cls, 1, dlog, cls, P[8].w, cls, 0, dh, hid, st));
    run(relu_back(h, dh, size_t(B * hid)));
    run(cuda::gemm(true, false, flat, hid, B, 1, y3, flat, dh, hid, 0, P[6].g, hid, st));
    run(cuda::reduce(ReduceOp::Sum, dh, 1, B, hid, P[7].g, st));
    run(cuda::gemm(false, true, B, flat, hid, 1, dh, hid, P[6].w, hid, 0, dy3, flat, st));
    run(relu_back(y3, dy3, act(c3)));
    run(cuda::conv2d_backward_filter(c3, q2, dy3, P[4].g, P[5].g, st));
    run(cuda::conv2d_backward_input(c3, dy3, P[4].w, dq2, st));
    run(cuda::maxpool2d_backward(p2, dq2, am2, dy2, st));
    run(relu_back(y2, dy2, act(c2)));
    run(cuda::conv2d_backward_filter(c2, q1, dy2, P[2].g, P[3].g, st));
    run(cuda::conv2d_backward_input(c2, dy2, P[2].w, dq1, st));
    run(cuda::maxpool2d_backward(p1, dq1, am1, dy1, st));
    run(relu_back(y1, dy1, act(c1)));
    run(cuda::conv2d_backward_filter(c1, x, dy1, P[0].g, P[1].g, st));
    for (auto& p : P) run(cuda::rmsprop_step(p.w, p.g, p.ms, int64_t(p.n), 1e-3, 0.9, 1e-7, st));
    return ok(e, "training step");
  };
  auto mean_loss = [&](double* out) {
    std::vector<float> l(static_cast<size_t>(B));
    if (!ok(cudaMemcpyAsync(l.data(), loss, l.size() * 4, cudaMemcpyDeviceToHost, st), "cudaMemcpyAsync") ||
        !ok(cudaStreamSynchronize(st), "cudaStreamSynchronize"))
      return false;
    double s = 0;
    for (float v : l) s += v;
    *out = s / double(B);
    return true;
  };

  double first = 0, last = 0;
  if (!step() || !mean_loss(&first)) return 1;
  for (int i = 0; i < 2; ++i)
    if (!step()) return 1;
  if (!ok(cudaStreamSynchronize(st), "cudaStreamSynchronize")) return 1;
  std::vector<double> ms;
  for (int block = 0; block < 5; ++block) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i)
      if (!step()) return 1;
    if (!ok(cudaStreamSynchronize(st), "cudaStreamSynchronize")) return 1;
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / steps);
  }
  if (!mean_loss(&last)) return 1;
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
  std::printf("bench_cuda_cnn: tutorial CNN training step, batch %lld: %.3f ms/step (blocks %.3f-%.3f), %.0f samples/s; "
              "loss %.4f at the first step, %.4f after %d (%s)\n",
              static_cast<long long>(B), med, ms.front(), ms.back(), double(B) * 1000.0 / med, first, last, 3 + 5 * steps,
              last < first ? "falls" : "DOES NOT FALL");
  // the stream stays: the arena's buffers are freed on it when run() returns
  return last < first ? 0 : 1;
}

}  // namespace cnn_bench

#ifndef GF_CUDA_BENCH_NO_MAIN
int main(int argc, char** argv) {
  const gf::cuda::DeviceQuery q = gf::cuda::query_devices();
  if (q.count == 0) {
    std::printf("bench_cuda_cnn: no CUDA device, nothing to time (%s)\n", q.reason.c_str());
    return 0;
  }
  const long batch = argc > 1 ? std::atol(argv[1]) : 256;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 20;
  if (batch < 1 || steps < 1) {
    std::fprintf(stderr, "usage: bench_cuda_cnn [batch >= 1 [steps >= 1]]\n");
    return 2;
  }
  return cnn_bench::run(batch, steps);
}
#endif
