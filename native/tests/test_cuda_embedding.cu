// CUDA embedding gather and scatter-add backward (native/cuda/embedding.cu) against host
// loops: vocab 1, 7, 33, 1000 x dim 1, 7, 33, 100 x n 1, 7, 33, 1000, 4097 ids (a rotating
// subset), ids repeating heavily (small vocab) and some out of range (-1, vocab, INT_MAX,
// INT_MIN): those rows come back as zeros and are counted in the error flag, which must equal
// the host's count (the launcher zeroes it; it is poisoned before each call). The forward is
// a copy: exact. The backward into a NaN-poisoned table (accumulate = false must zero it) and
// on top of a random table (accumulate = true), against double sums; tolerance per table
// element: atomicAdd sums in some order, each add one rounding, so <= (count + 1) eps times
// (|initial| + sum |dy|) over the dy rows that hit it. Guard floats after every output.
// No device: "SKIP: <reason>", exit 77. GF_CUDA_SMALL=1: small shapes.
#include <cuda_runtime_api.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "cuda/embedding.h"
#include "cuda/testing.h"
#include "tests/test_util.h"

// GF_CUDA_EMULATED_TEST: also runs over the host emulation (test_cuda_emulated embedding).
namespace embedding_test {

using namespace gf;
using namespace gf::test;
namespace ct = gf::cuda::testing;

constexpr size_t kGuard = 8;

bool upload_ids(const std::vector<int32_t>& ids, cudaStream_t stream, cuda::DeviceBuffer* b) {
  if (!ct::ok(b->allocate((ids.size() + 1) * sizeof(int32_t), stream), "allocate ids")) return false;
  return ids.empty() ||
         ct::ok(cudaMemcpyAsync(b->get(), ids.data(), ids.size() * sizeof(int32_t), cudaMemcpyHostToDevice, stream), "H2D ids");
}

int32_t read_flag(const int32_t* d, cudaStream_t stream) {
  int32_t v = -12345;
  ct::ok(cudaMemcpyAsync(&v, d, sizeof v, cudaMemcpyDeviceToHost, stream), "D2H flag");
  ct::ok(cudaStreamSynchronize(stream), "sync");
  return v;
}

void check_embedding(int64_t vocab, int64_t dim, int64_t n, bool with_bad, cudaStream_t stream) {
  std::mt19937_64& r = rng();
  std::vector<int32_t> ids(n);
  int64_t bad = 0;
  const int32_t bad_ids[] = {-1, static_cast<int32_t>(vocab), INT_MAX, INT_MIN};
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = static_cast<int32_t>(r() % static_cast<uint64_t>(vocab));
    if (with_bad && i % 9 == 4) {
      ids[i] = bad_ids[(i / 9) % 4];
      ++bad;
    }
  }
  const size_t tn = static_cast<size_t>(vocab * dim), on = static_cast<size_t>(n * dim);
  const std::vector<float> table = random_vec<float>(tn, -2.0, 2.0), dy = random_vec<float>(on, -1.0, 1.0);
  std::vector<float> want(on, 0.0f);
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] >= 0 && ids[i] < vocab)
      for (int64_t d = 0; d < dim; ++d) want[i * dim + d] = table[ids[i] * dim + d];
  char what[160];
  std::snprintf(what, sizeof what, "cuda::embedding vocab=%lld dim=%lld n=%lld bad=%lld", (long long)vocab, (long long)dim,
                (long long)n, (long long)bad);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  cuda::DeviceBuffer bt, bids, bo, bdy, bdt, berr;
  float *dt = nullptr, *dout = nullptr, *ddy = nullptr, *ddt = nullptr;
  if (!ct::upload(table, 1, 0, stream, &bt, &dt) || !upload_ids(ids, stream, &bids) ||
      !ct::upload(std::vector<float>(on, nan), 0, kGuard, stream, &bo, &dout) || !ct::upload(dy, 0, 0, stream, &bdy, &ddy) ||
      !ct::ok(berr.allocate(sizeof(int32_t), stream), "allocate err") ||
      !ct::ok(cudaMemsetAsync(berr.get(), 0x7F, sizeof(int32_t), stream), "poison err"))
    return;
  int32_t* derr = berr.as<int32_t>();
  if (!ct::ok(cuda::embedding_forward(dt, vocab, dim, bids.as<int32_t>(), n, dout, derr, stream), what)) return;
  std::vector<float> got;
  if (!ct::download(dout, on, stream, &got)) return;
  check_close(got.data(), want.data(), on, 0.0, 0.0, std::string(what) + " forward");
  ct::guard_intact(dout, on, kGuard, stream, std::string(what) + " forward (guard)");
  check(read_flag(derr, stream) == bad, std::string(what) + " forward: the error flag counts the bad ids");

  for (int acc = 0; acc < 2; ++acc) {
    const std::vector<float> init = acc ? random_vec<float>(tn, -1.0, 1.0) : std::vector<float>(tn, nan);
    std::vector<double> sum(tn, 0.0), mag(tn, 0.0), cnt(tn, 0.0);
    for (size_t k = 0; k < tn; ++k) {
      sum[k] = acc ? init[k] : 0.0;
      mag[k] = acc ? std::fabs(init[k]) : 0.0;
    }
    for (int64_t i = 0; i < n; ++i)
      if (ids[i] >= 0 && ids[i] < vocab)
        for (int64_t d = 0; d < dim; ++d) {
          const size_t k = static_cast<size_t>(ids[i] * dim + d);
          sum[k] += dy[i * dim + d];
          mag[k] += std::fabs(dy[i * dim + d]);
          cnt[k] += 1;
        }
    const std::string wb = std::string(what) + (acc ? " backward (accumulate)" : " backward");
    if (!ct::upload(init, 0, kGuard, stream, &bdt, &ddt) ||
        !ct::ok(cudaMemsetAsync(derr, 0x7F, sizeof(int32_t), stream), "poison err"))
      return;
    if (!ct::ok(cuda::embedding_backward(ddy, bids.as<int32_t>(), n, vocab, dim, ddt, acc != 0, derr, stream), wb)) return;
    if (!ct::download(ddt, tn, stream, &got)) return;
    ++checks();
    for (size_t k = 0; k < tn; ++k) {
      const double tol = (cnt[k] + 1) * eps<float>() * mag[k];
      if (!close(got[k], sum[k], tol, 0.0)) {
        char buf[160];
        std::snprintf(buf, sizeof buf, " at [%zu]: got %.9g want %.9g (atol %.3g)", k, double(got[k]), sum[k], tol);
        fail(wb + buf);
        break;
      }
    }
    ct::guard_intact(ddt, tn, kGuard, stream, wb + " (guard)");
    check(read_flag(derr, stream) == bad, wb + ": the error flag counts the bad ids");
  }
}

int run(const char* name) {
  if (!ct::device_or_skip(name)) return ct::kSkipExit;
  const bool small = ct::small_mode();
  cudaStream_t stream = nullptr;
  if (!ct::ok(cudaStreamCreate(&stream), "cudaStreamCreate")) return finish(name);

  const int64_t vocabs[] = {1, 7, 33, 1000}, dims[] = {1, 7, 33, 100}, ns[] = {1, 7, 33, 1000, 4097};
  int idx = 0;
  for (int64_t v : vocabs)
    for (int64_t d : dims) {
      // Small: two id counts per (vocab, dim), rotating, capped so one launch stays ~4k threads.
      for (int k = 0; k < 5; ++k) {
        if (small && k != idx % 5 && k != (idx + 2) % 5) continue;
        if (small && ns[k] * d > 40000) continue;
        check_embedding(v, d, ns[k], (idx + k) % 2 == 0, stream);
      }
      ++idx;
    }
  check_embedding(5, 3, 4097, true, stream);  // many repeats of each id
  if (!small) check_embedding(50000, 256, 100000, true, stream);
  {  // n == 0: nothing but the flag, which is zeroed
    cuda::DeviceBuffer berr;
    if (ct::ok(berr.allocate(sizeof(int32_t), stream), "allocate") &&
        ct::ok(cudaMemsetAsync(berr.get(), 0x7F, sizeof(int32_t), stream), "poison") &&
        ct::ok(cuda::embedding_forward(nullptr, 10, 4, nullptr, 0, nullptr, berr.as<int32_t>(), stream), "n = 0"))
      check(read_flag(berr.as<int32_t>(), stream) == 0, "n = 0 does nothing but zero the flag");
  }
  check(cuda::embedding_forward(nullptr, -1, 4, nullptr, 3, nullptr, nullptr, stream) == cudaErrorInvalidValue,
        "a negative vocab is refused");

  ct::ok(cudaStreamSynchronize(stream), "final cudaStreamSynchronize");
  ct::ok(cudaStreamDestroy(stream), "cudaStreamDestroy");
  return finish(name);
}

}  // namespace embedding_test

#ifndef GF_CUDA_TEST_NO_MAIN
int main() { return embedding_test::run("test_cuda_embedding"); }
#endif
