// native/plan against running the same kernel calls directly: a recorded chain of GEMMs and
// elementwise steps replays bit-identically over other inputs, weights and arenas, from several
// threads at once; the analysis refuses what a replay could not reproduce.
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cpu/elementwise.h"
#include "cpu/gemm.h"
#include "plan/plan.h"
#include "test_util.h"

using namespace gf;
using gf::test::check;

namespace {

// A step as the binding records it: the kernel with its sizes captured, the pointers given.
void record(const char* name, std::vector<plan::RecordedOperand> ops, plan::StepFn fn) {
  std::vector<void*> ptrs;
  for (const auto& o : ops) ptrs.push_back(const_cast<uint8_t*>(o.ptr));
  fn(ptrs.data());
  plan::active_recording()->steps.push_back({name, std::move(fn), std::move(ops)});
}

plan::RecordedOperand op(const std::vector<float>& v, plan::Access a) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(v.data());
  const int64_t n = static_cast<int64_t>(v.size() * sizeof(float));
  return {p, n, a, p, n};
}

plan::Span span(const std::vector<float>& v) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(v.data());
  return {p, static_cast<int64_t>(v.size() * sizeof(float)), p};
}

std::vector<float> random(size_t n) { return gf::test::random_vec<float>(n); }

// y = relu(x W1) W2, M x K -> M x H -> M x N, as two recorded GEMMs and a recorded relu.
struct Mlp {
  int64_t M, K, H, N;
  void forward(const float* x, const float* w1, const float* w2, float* h, float* a, float* y) const {
    gemm<float>(false, false, M, H, K, 1.f, x, K, w1, H, 0.f, h, H);
    unary_forward<float>(UnaryOp::Relu, h, a, M * H, 0.f, 0.f);
    gemm<float>(false, false, M, N, H, 1.f, a, H, w2, N, 0.f, y, N);
  }
};

std::shared_ptr<plan::Plan> record_mlp(const Mlp& m, std::vector<float>& x, std::vector<float>& w1,
                                       std::vector<float>& w2, std::vector<float>& y, std::string* why) {
  std::vector<float> h(m.M * m.H), a(m.M * m.H);
  check(plan::begin_recording(), "begin_recording");
  check(!plan::begin_recording(), "a second begin_recording on this thread is refused");
  const Mlp s = m;
  record("gemm", {op(x, plan::Access::Read), op(w1, plan::Access::Read), op(h, plan::Access::Write)},
         [s](void* const* p) { gemm<float>(false, false, s.M, s.H, s.K, 1.f, static_cast<float*>(p[0]), s.K, static_cast<float*>(p[1]), s.H, 0.f, static_cast<float*>(p[2]), s.H); });
  record("unary", {op(h, plan::Access::Read), op(a, plan::Access::Write)},
         [s](void* const* p) { unary_forward<float>(UnaryOp::Relu, static_cast<float*>(p[0]), static_cast<float*>(p[1]), s.M * s.H, 0.f, 0.f); });
  record("gemm", {op(a, plan::Access::Read), op(w2, plan::Access::Read), op(y, plan::Access::Write)},
         [s](void* const* p) { gemm<float>(false, false, s.M, s.N, s.H, 1.f, static_cast<float*>(p[0]), s.H, static_cast<float*>(p[1]), s.N, 0.f, static_cast<float*>(p[2]), s.N); });
  auto rec = plan::end_recording();
  return plan::Plan::create(std::move(*rec), {span(x)}, {span(w1), span(w2)}, span(y), why);
}

void test_replay() {
  const Mlp m{5, 37, 19, 3};
  auto x = random(m.M * m.K), w1 = random(m.K * m.H), w2 = random(m.H * m.N);
  std::vector<float> y(m.M * m.N);
  std::string why;
  auto p = record_mlp(m, x, w1, w2, y, &why);
  check(p != nullptr, "the MLP recording becomes a plan: " + why);
  if (!p) return;
  check(p->kernels().size() == 3 && p->kernels()[1] == "unary", "three steps in order");
  // other inputs and weights, several executions at once
  auto run_one = [&](int seed, std::vector<float>* out, std::vector<float>* expect) {
    std::vector<float> x2 = random(m.M * m.K), w1b = random(m.K * m.H), w2b = random(m.H * m.N);
    (void)seed;
    std::vector<float> h(m.M * m.H), a(m.M * m.H);
    expect->assign(m.M * m.N, 0.f);
    m.forward(x2.data(), w1b.data(), w2b.data(), h.data(), a.data(), expect->data());
    out->assign(m.M * m.N, std::nanf(""));
    const uint8_t* ins[] = {reinterpret_cast<uint8_t*>(x2.data())};
    const uint8_t* exts[] = {reinterpret_cast<uint8_t*>(w1b.data()), reinterpret_cast<uint8_t*>(w2b.data())};
    auto arena = p->take_arena();
    p->run(arena.get(), ins, exts, reinterpret_cast<uint8_t*>(out->data()));
    p->give_arena(std::move(arena));
  };
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<float> out, expect;
    run_one(rep, &out, &expect);
    check(std::memcmp(out.data(), expect.data(), out.size() * sizeof(float)) == 0, "replay is bit-identical to the direct calls");
  }
  // inputs generated on the main thread (the rng is not thread-safe), run on four at once
  std::vector<std::vector<float>> xs, outs(4), expects(4);
  std::vector<float> w1b = random(m.K * m.H), w2b = random(m.H * m.N);
  for (int t = 0; t < 4; ++t) {
    xs.push_back(random(m.M * m.K));
    std::vector<float> h(m.M * m.H), a(m.M * m.H);
    expects[t].assign(m.M * m.N, 0.f);
    m.forward(xs[t].data(), w1b.data(), w2b.data(), h.data(), a.data(), expects[t].data());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 50; ++rep) {
        outs[t].assign(m.M * m.N, std::nanf(""));
        const uint8_t* ins[] = {reinterpret_cast<uint8_t*>(xs[t].data())};
        const uint8_t* exts[] = {reinterpret_cast<uint8_t*>(w1b.data()), reinterpret_cast<uint8_t*>(w2b.data())};
        auto arena = p->take_arena();
        p->run(arena.get(), ins, exts, reinterpret_cast<uint8_t*>(outs[t].data()));
        p->give_arena(std::move(arena));
        if (std::memcmp(outs[t].data(), expects[t].data(), outs[t].size() * sizeof(float)) != 0) break;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t)
    check(std::memcmp(outs[t].data(), expects[t].data(), outs[t].size() * sizeof(float)) == 0, "concurrent replays are right, thread " + std::to_string(t));
  // the input copy lies inside the arena, after the intermediates
  check(p->arena_bytes() >= static_cast<int64_t>(2 * m.M * m.H * sizeof(float) + m.M * m.K * sizeof(float)), "arena holds the intermediates and an input copy");
}

void test_refusals() {
  std::vector<float> x = random(8), mid(8), out(8), js(8);
  std::string why;
  auto relu = [](void* const* p) { unary_forward<float>(UnaryOp::Relu, static_cast<float*>(p[0]), static_cast<float*>(p[1]), 8, 0.f, 0.f); };
  // JavaScript wrote `js` between the kernels
  plan::begin_recording();
  record("unary", {op(x, plan::Access::Read), op(mid, plan::Access::Write)}, relu);
  record("unary", {op(js, plan::Access::Read), op(out, plan::Access::Write)}, relu);
  auto rec = plan::end_recording();
  check(plan::Plan::create(std::move(*rec), {span(x)}, {}, span(out), &why) == nullptr && why.find("step 1 (unary) reads memory") == 0, "a read of unwritten memory is refused: " + why);
  // a write into an input
  plan::begin_recording();
  record("unary", {op(x, plan::Access::Read), op(x, plan::Access::Write)}, relu);
  rec = plan::end_recording();
  check(plan::Plan::create(std::move(*rec), {span(x)}, {}, span(x), &why) == nullptr && why.find("writes into an input") != std::string::npos, "a write into an input is refused: " + why);
  // an output no kernel wrote
  plan::begin_recording();
  record("unary", {op(x, plan::Access::Read), op(mid, plan::Access::Write)}, relu);
  rec = plan::end_recording();
  check(plan::Plan::create(std::move(*rec), {span(x)}, {}, span(out), &why) == nullptr && why.find("no kernel wrote the whole output") == 0, "an unwritten output is refused: " + why);
  // a refusal noted during the recording wins
  plan::begin_recording();
  plan::active_recording()->refuse("adamStep ran");
  rec = plan::end_recording();
  check(plan::Plan::create(std::move(*rec), {span(x)}, {}, span(x), &why) == nullptr && why == "adamStep ran", "a noted refusal is reported");
  // an in-place step on an intermediate is fine (it reads what an earlier step wrote)
  plan::begin_recording();
  record("unary", {op(x, plan::Access::Read), op(mid, plan::Access::Write)}, relu);
  record("unary", {op(mid, plan::Access::Read), op(mid, plan::Access::Write)}, relu);
  rec = plan::end_recording();
  check(plan::Plan::create(std::move(*rec), {span(x)}, {}, span(mid), &why) != nullptr, "in place on an intermediate is a plan: " + why);
  check(plan::end_recording() == nullptr, "no recording left running");
}

}  // namespace

int main() {
  test_replay();
  test_refusals();
  return gf::test::finish("test_plan");
}
