// CPUID/XGETBV feature detection and GEMM micro-kernel selection.
// The micro-kernel files are compiled with -mavx2/-mavx512f; nothing may call them unless the
// matching flag here is true, which is what lets one binary run on any x86-64 CPU.
// Not here: any arithmetic. Non-x86 builds report no features and use the "ref" kernel.
#include "cpu/cpu_features.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define GF_X86 1
#endif

namespace gf {
namespace {

#ifdef GF_X86
uint64_t xgetbv0() {
  uint32_t eax, edx;
  // xgetbv with ecx = 0 reads XCR0 (which register states the OS saves on context switch).
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#ifdef GF_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool osxsave = (c >> 27) & 1;
  bool has_fma = (c >> 12) & 1;
  bool has_avx = (c >> 28) & 1;
  if (!osxsave || !has_avx) return f;
  uint64_t xcr0 = xgetbv0();
  bool ymm_ok = (xcr0 & 0x6) == 0x6;      // SSE + AVX state
  bool zmm_ok = (xcr0 & 0xE6) == 0xE6;    // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!ymm_ok) return f;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.fma = has_fma;
  f.avx2 = (b >> 5) & 1;
  if (zmm_ok) {
    f.avx512f = (b >> 16) & 1;
    f.avx512vl = (b >> 31) & 1;
  }
#endif
  return f;
}

GemmKernel best_kernel() {
  if (gemm_kernel_available(GemmKernel::Avx512)) return GemmKernel::Avx512;
  if (gemm_kernel_available(GemmKernel::Avx2)) return GemmKernel::Avx2;
  return GemmKernel::Ref;
}

bool parse_kernel(const std::string& name, GemmKernel* out) {
  if (name == "avx512") *out = GemmKernel::Avx512;
  else if (name == "avx2") *out = GemmKernel::Avx2;
  else if (name == "ref") *out = GemmKernel::Ref;
  else return false;
  return true;
}

GemmKernel initial_kernel() {
  if (const char* env = std::getenv("GRADFORGE_GEMM_KERNEL")) {
    std::string name(env);
    GemmKernel k;
    if (name.empty() || name == "auto") return best_kernel();
    if (parse_kernel(name, &k) && gemm_kernel_available(k)) return k;
    std::fprintf(stderr, "gradforge: GRADFORGE_GEMM_KERNEL=%s is unknown or not supported by this "
                 "CPU; using %s\n", env, gemm_kernel_name(best_kernel()));
  }
  return best_kernel();
}

std::atomic<GemmKernel>& current() {
  static std::atomic<GemmKernel> k{initial_kernel()};
  return k;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::vector<std::string> cpu_feature_names() {
  const CpuFeatures& f = cpu_features();
  std::vector<std::string> names;
  if (f.avx2) names.push_back("avx2");
  if (f.fma) names.push_back("fma");
  if (f.avx512f) names.push_back("avx512f");
  if (f.avx512vl) names.push_back("avx512vl");
  return names;
}

const char* gemm_kernel_name(GemmKernel k) {
  switch (k) {
    case GemmKernel::Avx512: return "avx512";
    case GemmKernel::Avx2: return "avx2";
    case GemmKernel::Ref: return "ref";
  }
  return "ref";
}

bool gemm_kernel_available(GemmKernel k) {
  const CpuFeatures& f = cpu_features();
  switch (k) {
    case GemmKernel::Avx512: return f.avx512f && f.avx512vl && f.avx2 && f.fma;
    case GemmKernel::Avx2: return f.avx2 && f.fma;
    case GemmKernel::Ref: return true;
  }
  return false;
}

std::vector<std::string> available_gemm_kernels() {
  std::vector<std::string> names;
  for (GemmKernel k : {GemmKernel::Avx512, GemmKernel::Avx2, GemmKernel::Ref})
    if (gemm_kernel_available(k)) names.push_back(gemm_kernel_name(k));
  return names;
}

GemmKernel current_gemm_kernel() { return current().load(std::memory_order_relaxed); }

SetKernelResult set_gemm_kernel(const std::string& name) {
  GemmKernel k;
  if (name == "auto") k = best_kernel();
  else if (!parse_kernel(name, &k)) return SetKernelResult::UnknownName;
  if (!gemm_kernel_available(k)) return SetKernelResult::Unavailable;
  current().store(k, std::memory_order_relaxed);
  return SetKernelResult::Ok;
}

}  // namespace gf
