// CPU feature detection (CPUID + XGETBV) and the choice of GEMM micro-kernel.
// It is: the one place that decides which ISA-specific code may run on this machine.
// It is not: the micro-kernels themselves (gemm_<isa>_<MR>x<NR>.cc) or the GEMM loops.
#pragma once
#include <string>
#include <vector>

namespace gf {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512vl = false;
};

// Detected once; a feature counts only when the OS also saves its registers (XGETBV).
const CpuFeatures& cpu_features();
// Names of the detected features, e.g. {"avx2", "fma", "avx512f"}.
std::vector<std::string> cpu_feature_names();

enum class GemmKernel { Ref, Avx2, Avx512 };

const char* gemm_kernel_name(GemmKernel k);
bool gemm_kernel_available(GemmKernel k);
// Kernels this CPU can run, best first (always ends with "ref").
std::vector<std::string> available_gemm_kernels();

// The kernel float GEMM uses now. Starts as GRADFORGE_GEMM_KERNEL when that names a kernel
// this CPU can run (a warning goes to stderr otherwise), else the best available.
GemmKernel current_gemm_kernel();

enum class SetKernelResult { Ok, UnknownName, Unavailable };
// name: "auto" | "avx512" | "avx2" | "ref".
SetKernelResult set_gemm_kernel(const std::string& name);

}  // namespace gf
