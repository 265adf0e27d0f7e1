// Conv/pool/batchnorm timing, run by hand: build/bench_conv [threads] [batch]
// Prints the best time of forward, backward-input and backward-filter for the layers of the
// issue-4 tutorial CNN (and a few pooling/batchnorm passes). Not a test: no checks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cpu/batchnorm.h"
#include "cpu/conv.h"
#include "cpu/pool.h"
#include "cpu/threadpool.h"

using namespace gf;

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
      std::vector<float> x(N * p.H * p.W * p.C, 0.5f), y(N * p.OH * p.OW * p.C), dx(x.size());
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
  return 0;
}
