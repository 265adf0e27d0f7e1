// SGEMM throughput on the GPU, by hand: build-cuda/bench_cuda [size ...] (npm run bench:cuda).
// Times cuda::gemm (C = A B, square, row-major, no transposes) at 1024, 2048, 4096 and 8192 (or
// the sizes given) with cudaEvents around several back-to-back calls after a warm-up, and prints
// GFLOP/s (2 n^3 / time) for the auto path and for each tiled kernel forced, and beside them
// cuBLAS's SGEMM when the build found cuBLAS (GF_BENCH_CUBLAS; cuBLAS is column-major, so it
// computes C^T = B^T A^T over the same buffers, the same product). TF32 is off in cuBLAS too
// (its default math mode), so both are plain float FMA. No device: says why and exits 0.
// It is not: a test (nothing is asserted; test_cuda_gemm checks the values).
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cuda/buffer.h"
#include "cuda/check.h"
#include "cuda/device.h"
#include "cuda/gemm.h"

#ifdef GF_BENCH_CUBLAS
#include <cublas_v2.h>
#endif

namespace {

using namespace gf;

bool ok(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return true;
  std::fprintf(stderr, "bench_cuda: %s\n", cuda::error_message(e, what).c_str());
  return false;
}

// Fills n floats with a cheap pattern in [-1, 1) on the host and copies them over.
bool fill(float* d, size_t n, unsigned seed, cudaStream_t s) {
  std::vector<float> h(n);
  unsigned x = seed * 2654435761u + 1;
  for (auto& v : h) {
    x = x * 1664525u + 1013904223u;
    v = float(x >> 8) / float(1 << 23) - 1.0f;
  }
  return ok(cudaMemcpyAsync(d, h.data(), n * sizeof(float), cudaMemcpyHostToDevice, s), "cudaMemcpyAsync") &&
         ok(cudaStreamSynchronize(s), "cudaStreamSynchronize");
}

// Milliseconds per call of f, over `reps` calls after one warm-up call.
template <typename F>
double time_ms(F&& f, int reps, cudaStream_t s) {
  cudaEvent_t start = nullptr, stop = nullptr;
  if (!ok(cudaEventCreate(&start), "cudaEventCreate") || !ok(cudaEventCreate(&stop), "cudaEventCreate")) return -1;
  double ms_per = -1;
  if (f()) {
    (void)cudaEventRecord(start, s);
    bool good = true;
    for (int i = 0; i < reps && good; ++i) good = f();
    (void)cudaEventRecord(stop, s);
    float ms = 0;
    if (good && ok(cudaEventSynchronize(stop), "cudaEventSynchronize") &&
        ok(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime"))
      ms_per = ms / reps;
  }
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  return ms_per;
}

}  // namespace

int main(int argc, char** argv) {
  const cuda::DeviceQuery q = cuda::query_devices();
  if (q.count == 0) {
    std::printf("bench_cuda: no CUDA device, nothing to time (%s)\n", q.reason.c_str());
    return 0;
  }
  const cuda::DeviceInfo d = cuda::device_info(0);
  std::printf("bench_cuda: %s, compute capability %d.%d, %d SMs, %.1f GiB\n", d.name.c_str(), d.major, d.minor,
              d.multiprocessors, double(d.total_memory) / (1 << 30));
  std::vector<long> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atol(argv[i]));
  if (sizes.empty()) sizes = {1024, 2048, 4096, 8192};

  cudaStream_t s = nullptr;
  if (!ok(cudaStreamCreate(&s), "cudaStreamCreate")) return 1;
#ifdef GF_BENCH_CUBLAS
  cublasHandle_t h = nullptr;
  if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS || cublasSetStream(h, s) != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "bench_cuda: cublasCreate failed\n");
    return 1;
  }
  std::printf("%8s %12s %12s %12s %12s %8s\n", "n", "auto", "tile128", "tile64", "cuBLAS", "ratio");
#else
  std::printf("%8s %12s %12s %12s   (GFLOP/s; cuBLAS not found at build time)\n", "n", "auto", "tile128", "tile64");
#endif

  for (long n : sizes) {
    if (n <= 0) continue;
    const size_t elems = size_t(n) * size_t(n);
    cuda::DeviceBuffer A, B, C;
    cuda::Status st = A.allocate(elems * 4, s);
    if (st.ok()) st = B.allocate(elems * 4, s);
    if (st.ok()) st = C.allocate(elems * 4, s);
    if (!st.ok()) {
      std::fprintf(stderr, "bench_cuda: n=%ld: %s\n", n, st.message.c_str());
      continue;
    }
    if (!fill(A.as<float>(), elems, 1, s) || !fill(B.as<float>(), elems, 2, s)) return 1;
    const int reps = n <= 2048 ? 20 : n <= 4096 ? 5 : 2;
    const double flop = 2.0 * double(n) * double(n) * double(n);
    double gflops[3];
    const cuda::GemmPath paths[3] = {cuda::GemmPath::Auto, cuda::GemmPath::Tile128, cuda::GemmPath::Tile64};
    for (int p = 0; p < 3; ++p) {
      cuda::set_gemm_path(paths[p]);
      const double ms = time_ms([&] {
        return ok(cuda::gemm(false, false, n, n, n, 1.0f, A.as<float>(), n, B.as<float>(), n, 0.0f, C.as<float>(), n, s),
                  "cuda::gemm");
      }, reps, s);
      gflops[p] = ms > 0 ? flop / (ms * 1e6) : 0;
    }
    cuda::set_gemm_path(cuda::GemmPath::Auto);
#ifdef GF_BENCH_CUBLAS
    const float one = 1.0f, zero = 0.0f;
    const int ni = static_cast<int>(n);
    const double ms = time_ms([&] {
      // Row-major C = A B is column-major C^T = B^T A^T: pass B first.
      return cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, ni, ni, ni, &one, B.as<float>(), ni, A.as<float>(), ni, &zero,
                         C.as<float>(), ni) == CUBLAS_STATUS_SUCCESS;
    }, reps, s);
    const double cublas = ms > 0 ? flop / (ms * 1e6) : 0;
    std::printf("%8ld %12.0f %12.0f %12.0f %12.0f %7.2fx\n", n, gflops[0], gflops[1], gflops[2], cublas,
                cublas > 0 ? gflops[0] / cublas : 0.0);
#else
    std::printf("%8ld %12.0f %12.0f %12.0f\n", n, gflops[0], gflops[1], gflops[2]);
#endif
    std::fflush(stdout);
  }
#ifdef GF_BENCH_CUBLAS
  cublasDestroy(h);
#endif
  (void)cudaStreamSynchronize(s);
  (void)cudaStreamDestroy(s);
  return 0;
}
