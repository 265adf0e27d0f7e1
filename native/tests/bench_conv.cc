// Conv/pool/batchnorm timing, run by hand: build/bench_conv [threads] [batch]
// Prints the best time of forward, backward-input and backward-filter for the layers of the
// issue-4 tutorial CNN (and a few pooling/batchnorm passes), then its inference forward pass
// kernel by kernel as a plan replays it. Not a test: no checks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <vector>

#include "cpu/batchnorm.h"
#include "cpu/conv.h"
#include "cpu/gemm.h"
#include "cpu/pool.h"
#include "cpu/softmax.h"
#include "cpu/threadpool.h"

using namespace gf;

// The tutorial CNN's inference (examples/mnist-cnn.ts) at batch N, kernel by kernel: the
// minimum time of each over many passes, and of the whole pass.
void inference_pass(int64_t N);

template <typename F>
double median_ms(F&& f, int reps = 15) {
  f();  // warm-up (scratch growth, page faults)
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[0];  // the minimum: least disturbed by other load on the machine
}

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const int64_t N = argc > 2 ? std::atoll(argv[2]) : 64;
  set_num_threads(threads);
  std::printf("threads %d, batch %lld (min ms over 15 runs)\n", threads, (long long)N);
  struct L { const char* name; int64_t H, W, C, O, K; };
  const L layers[] = {{"conv 28x28x1->32 3x3", 28, 28, 1, 32, 3},
                      {"conv 13x13x32->64 3x3", 13, 13, 32, 64, 3},
                      {"conv 5x5x64->64 3x3", 5, 5, 64, 64, 3}};
  std::printf("%-24s %9s %9s %9s %9s %8s\n", "layer", "fwd", "bwd_in", "bwd_w", "fwd+bwd", "GFLOP/s");
  for (const L& l : layers) {
    Conv2dShape s{N, l.H, l.W, l.C, l.K, l.K, l.O, 0, 0, 1, 1, 1, 1, 0, 0};
    s.OH = conv_output_size(s.H, s.KH, 1, 1, 0, 0);
    s.OW = conv_output_size(s.W, s.KW, 1, 1, 0, 0);
    std::vector<float> x(N * l.H * l.W * l.C, 0.5f), w(l.K * l.K * l.C * l.O, 0.25f), b(l.O),
        y(N * s.OH * s.OW * l.O, 1.f), dx(x.size()), dw(w.size()), db(l.O);
    double f = median_ms([&] { conv2d_forward<float>(s, x.data(), w.data(), b.data(), y.data()); });
    double bi = median_ms([&] { conv2d_backward_input<float>(s, y.data(), w.data(), dx.data()); });
    double bw = median_ms([&] { conv2d_backward_filter<float>(s, x.data(), y.data(), dw.data(), db.data()); });
    const double flops = 2.0 * N * s.OH * s.OW * l.K * l.K * l.C * l.O;
    std::printf("%-24s %9.3f %9.3f %9.3f %9.3f %8.1f\n", l.name, f, bi, bw, f + bi + bw,
                3 * flops / ((f + bi + bw) * 1e6));
  }
  {  // maxpool 26x26x32 /2 and 11x11x64 /2
    for (auto hc : {std::pair<int64_t, int64_t>{26, 32}, {11, 64}}) {
      Pool2dShape p{N, hc.first, hc.first, hc.second, 2, 2, hc.first / 2, hc.first / 2, 2, 2, 0, 0};
      // random values: where the max of a window lies must vary as in training (a constant
      // input puts every argmax at the window's first tap)
      std::vector<float> x(N * p.H * p.W * p.C), y(N * p.OH * p.OW * p.C), dx(x.size());
      uint32_t seed = 12345;
      for (float& v : x) v = static_cast<float>((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0f;
      std::vector<int32_t> am(y.size());
      double f = median_ms([&] { maxpool2d_forward<float>(p, x.data(), y.data(), am.data()); });
      double bk = median_ms([&] { maxpool2d_backward<float>(p, y.data(), am.data(), dx.data()); });
      std::printf("maxpool %lldx%lldx%lld /2     fwd %.3f bwd %.3f\n", (long long)p.H,
                  (long long)p.W, (long long)p.C, f, bk);
    }
  }
  {
    const int64_t M = N * 26 * 26, C = 32;
    std::vector<float> x(M * C, 0.5f), y(x.size()), dx(x.size()), g(C, 1.f), be(C), mu(C), is(C), mm(C), mv(C, 1.f);
    double f = median_ms([&] { batchnorm_forward_train<float>(M, C, x.data(), g.data(), be.data(), 1e-3, 0.99, y.data(), mu.data(), is.data(), mm.data(), mv.data()); });
    double bk = median_ms([&] { batchnorm_backward<float>(M, C, x.data(), y.data(), g.data(), mu.data(), is.data(), dx.data(), mm.data(), mv.data()); });
    std::printf("batchnorm 26x26x32       fwd %.3f bwd %.3f\n", f, bk);
  }
  inference_pass(N);
  return 0;
}

void inference_pass(int64_t N) {
  auto conv = [&](int64_t H, int64_t C, int64_t O) {
    Conv2dShape s{N, H, H, C, 3, 3, O, 0, 0, 1, 1, 1, 1, 0, 0};
    s.OH = s.OW = H - 2;
    return s;
  };
  auto pool = [&](int64_t H, int64_t C) { return Pool2dShape{N, H, H, C, 2, 2, H / 2, H / 2, 2, 2, 0, 0}; };
  const Conv2dShape c1 = conv(28, 1, 32), c2 = conv(13, 32, 64), c3 = conv(5, 64, 64);
  const Pool2dShape p1 = pool(26, 32), p2 = pool(11, 64);
  auto filled = [](int64_t n, float v) {
    std::vector<float> a(n);
    for (int64_t i = 0; i < n; ++i) a[i] = v * float((i * 7919) % 211 - 105) / 105.0f;
    return a;
  };
  std::vector<float> x = filled(N * 784, 1.f), w1 = filled(9 * 32, 0.3f), b1 = filled(32, 0.1f),
                     w2 = filled(9 * 32 * 64, 0.05f), b2 = filled(64, 0.1f), w3 = filled(9 * 64 * 64, 0.05f),
                     b3 = filled(64, 0.1f), wd = filled(576 * 64, 0.05f), bd = filled(64, 0.1f),
                     wo = filled(64 * 10, 0.1f), bo = filled(10, 0.1f);
  std::vector<float> y1(N * 26 * 26 * 32), q1(N * 13 * 13 * 32), y2(N * 11 * 11 * 64), q2(N * 5 * 5 * 64),
      y3(N * 3 * 3 * 64), d1(N * 64), lo(N * 10), pr(N * 10);
  GemmEpilogue<float> relu_bias{bd.data(), GemmActivation::Relu}, bias{bo.data(), GemmActivation::Linear};
  struct Stage { const char* name; std::function<void()> run; double best = 1e30; };
  std::vector<Stage> stages = {
      {"conv1 +relu", [&] { conv2d_forward<float>(c1, x.data(), w1.data(), b1.data(), y1.data(), GemmActivation::Relu); }},
      {"maxpool1", [&] { maxpool2d_forward<float>(p1, y1.data(), q1.data(), nullptr); }},
      {"conv2 +relu", [&] { conv2d_forward<float>(c2, q1.data(), w2.data(), b2.data(), y2.data(), GemmActivation::Relu); }},
      {"maxpool2", [&] { maxpool2d_forward<float>(p2, y2.data(), q2.data(), nullptr); }},
      {"conv3 +relu", [&] { conv2d_forward<float>(c3, q2.data(), w3.data(), b3.data(), y3.data(), GemmActivation::Relu); }},
      {"dense 576->64 +relu", [&] { gemm<float>(false, false, N, 64, 576, 1.f, y3.data(), 576, wd.data(), 64, 0.f, d1.data(), 64, relu_bias); }},
      {"dense 64->10", [&] { gemm<float>(false, false, N, 10, 64, 1.f, d1.data(), 64, wo.data(), 10, 0.f, lo.data(), 10, bias); }},
      {"softmax", [&] { softmax_forward<float>(lo.data(), N, 10, pr.data(), false); }},
  };
  // The same pass as plans run it: each conv + max pool in one kernel.
  std::vector<Stage> fused = {
      {"conv1 +relu +maxpool1", [&] { conv2d_maxpool2d_forward<float>(c1, p1, x.data(), w1.data(), b1.data(), q1.data(), GemmActivation::Relu); }},
      {"conv2 +relu +maxpool2", [&] { conv2d_maxpool2d_forward<float>(c2, p2, q1.data(), w2.data(), b2.data(), q2.data(), GemmActivation::Relu); }},
  };
  fused.insert(fused.end(), stages.begin() + 4, stages.end());
  for (auto* pass : {&stages, &fused}) {
    double best_total = 1e30;
    for (int rep = 0; rep < 400; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      for (Stage& st : *pass) {
        const auto s0 = std::chrono::steady_clock::now();
        st.run();
        st.best = std::min(st.best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count());
      }
      best_total = std::min(best_total, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("\ninference pass%s, batch %lld (min ms over 400 passes)\n", pass == &fused ? " (conv + pool fused)" : "", (long long)N);
    double sum = 0;
    for (const Stage& st : *pass) {
      std::printf("  %-22s %8.4f\n", st.name, st.best);
      sum += st.best;
    }
    std::printf("  %-22s %8.4f (sum of minima %.4f)\n", "whole pass", best_total, sum);
  }
}
