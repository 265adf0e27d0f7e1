// Tensors in CUDA device memory, as the binding sees them (built only with GF_HAVE_CUDA).
// It is: the handle JavaScript holds for a device allocation (a type-tagged napi External
// over a shared Block of the caching allocator, cuda/buffer.h, plus an offset and a length, so
// views share memory), the one stream every kernel and copy of the binding is queued on (so
// everything runs in call order and a download that synchronizes it sees every earlier
// write), and the cuda.* exports (alloc, upload, download, downloadAsync, write, copy, view,
// dispose, memory, synchronize). Device memory is freed when the last handle to it is disposed
// or collected, and is reported to V8 as external memory so that garbage holding device memory
// makes the collector run. It is not: the kernels' dispatch (device_math.h and the other
// device_*.h), or policy (lib/backend/cuda.ts decides dtypes and when to free).
#pragma once
#ifndef GF_HAVE_CUDA
#error "binding/device_storage.h is for the CUDA build (GF_HAVE_CUDA)"
#endif
#include <napi.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <string>

#include "cuda/check.h"

namespace gf {
namespace binding {

// What a device storage holds: the element types of the typed arrays it is uploaded from.
enum class StorageType { F32, F64, I32, U8 };
// 'float32', 'float64', 'int32', 'uint8' (the names lib uses for dtypes).
const char* storage_type_name(StorageType t);

// A device argument of a call, taken by Call (args.h): its pointer (already offset), its
// length in elements and type, and a reference that keeps the memory alive until the call
// ends (a getter run meanwhile may dispose the handle).
struct DeviceArg {
  void* ptr = nullptr;
  int64_t length = 0;
  StorageType type = StorageType::F32;
  std::shared_ptr<void> keep;
};

// Whether v is one of this addon's device handles; if so *out describes it. A handle that was
// disposed is a TypeError naming `what` (pending; returns true with out->ptr == nullptr and
// *error = true). Anything else returns false and throws nothing.
bool device_arg_of(napi_env env, napi_value v, const std::string& what, DeviceArg* out, bool* error);

// The stream the binding queues all device work on (created on first use).
cudaStream_t binding_stream();

// undefined for cudaSuccess; otherwise throws an Error (code 'GF_CUDA_ERROR') naming fn and
// the CUDA error, and returns undefined.
Napi::Value cuda_result(Napi::Env env, const char* fn, cudaError_t e);
// The same for a host-side Status (an allocation): its message names the call and the size.
Napi::Value cuda_result(Napi::Env env, const char* fn, const cuda::Status& s);

// exports.cuda = { alloc, upload, ... } (the CudaBinding of binding.d.ts).
void add_cuda_exports(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace gf
