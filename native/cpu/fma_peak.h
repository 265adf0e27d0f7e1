// Measures the machine's floating-point peak: independent FMA chains (one per register, more
// chains than FMA latency x FMA ports, so nothing waits on a result) run for a fixed time.
// It is: the yardstick bench/gemm.ts divides GEMM GFLOP/s by ("% of peak"). It is not: a
// kernel anything else calls. Each ISA's loop lives in its own file with its own -m flags
// (fma_peak_<isa>.cc) and runs only when cpu_features says the CPU can run it.
#pragma once
#include <cstdint>

namespace gf {

// Single-precision GFLOP/s (an FMA counts 2) of `threads` threads together, each running the
// chains of `isa` ("avx512", "avx2", or "sse2": mul+add pairs, the baseline the ref kernel is
// compiled for) for about `seconds`. Returns a negative value when this CPU cannot run `isa`.
double fma_peak_gflops(const char* isa, int threads, double seconds);

// The per-ISA loops: `iters` rounds of independent FMA chains; each returns a value derived
// from every chain (so the compiler cannot drop them) and adds its flop count to *flops.
float fma_chains_avx512(int64_t iters, double* flops);
float fma_chains_avx2(int64_t iters, double* flops);

}  // namespace gf
