// Turning CUDA runtime errors into messages, for every CUDA call in native/cuda.
// It is: error_message() (the call site, the CUDA error's name and its description), a Status
// that carries the code and that message, and GF_CUDA_RETURN_IF_ERROR for launchers and host
// helpers. It is not: error policy. Nothing here aborts, throws or prints; the caller (the
// binding, a test) decides what a failure means.
#pragma once
#include <cuda_runtime_api.h>

#include <string>

namespace gf {
namespace cuda {

// "<what> failed: <description> (<cudaErrorName> = <code>)"; "<what>: ok" for cudaSuccess.
// `what` names the call site, e.g. "cudaMallocAsync(4096 bytes)" or "gemm launch".
std::string error_message(cudaError_t e, const char* what);

// The outcome of a host-side operation: ok(), or the CUDA error and a message naming the call.
struct Status {
  cudaError_t code = cudaSuccess;
  std::string message;
  bool ok() const { return code == cudaSuccess; }
};

inline Status ok_status() { return Status{}; }
// cudaSuccess gives ok_status(); anything else a Status with error_message(e, what).
Status make_status(cudaError_t e, const char* what);

}  // namespace cuda
}  // namespace gf

// Returns the failing call's error from a function returning cudaError_t (clearing the
// thread's last error, as below: the caller has it in the return value).
#define GF_CUDA_RETURN_IF_ERROR(call)            \
  do {                                           \
    const cudaError_t gf_cuda_err_ = (call);     \
    if (gf_cuda_err_ != cudaSuccess) {           \
      (void)cudaGetLastError();                  \
      return gf_cuda_err_;                       \
    }                                            \
  } while (0)

// Returns a Status naming the call (its source text) from a function returning Status. The
// runtime also keeps a failed call's error as the thread's last error; a non-sticky one is
// cleared here, so that a later launch check does not report it a second time.
#define GF_CUDA_RETURN_STATUS_IF_ERROR(call)                                   \
  do {                                                                         \
    const cudaError_t gf_cuda_err_ = (call);                                   \
    if (gf_cuda_err_ != cudaSuccess) {                                         \
      (void)cudaGetLastError();                                                \
      return ::gf::cuda::make_status(gf_cuda_err_, #call);                     \
    }                                                                          \
  } while (0)
