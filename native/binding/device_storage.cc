// Device storage handles and the cuda.* exports (contract in binding/device_storage.h).
// Every handle refers to a Block (one allocation) through a shared_ptr, so a view keeps its
// parent's memory alive and a disposed or collected handle frees the memory only when no other
// handle (or running call, or pending downloadAsync) still refers to it. A Block is always
// destroyed on the JavaScript thread: it reports its bytes to V8 through the env it was made
// with, and the async download gives its reference back in its completion callback.
#include "binding/device_storage.h"

#include <cstring>
#include <string>

#include "binding/args.h"
#include "binding/guard.h"
#include "cuda/allocator.h"
#include "cuda/buffer.h"
#include "cuda/check.h"

namespace gf {
namespace binding {
namespace {

using Value = Napi::Value;
using Info = Napi::CallbackInfo;

// One device allocation. Counts live blocks and bytes for memory().
struct Block {
  Block(napi_env e, cuda::DeviceBuffer b) : env(e), buffer(std::move(b)) {
    int64_t ignored = 0;
    napi_adjust_external_memory(env, static_cast<int64_t>(buffer.bytes()), &ignored);
    live_blocks() += 1;
    live_bytes() += static_cast<int64_t>(buffer.bytes());
  }
  ~Block() {
    const int64_t bytes = static_cast<int64_t>(buffer.bytes());
    live_blocks() -= 1;
    live_bytes() -= bytes;
    (void)buffer.release();  // stream-ordered: kernels already queued still see the memory
    int64_t ignored = 0;
    napi_adjust_external_memory(env, -bytes, &ignored);
  }
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  static int64_t& live_blocks() { static int64_t n = 0; return n; }
  static int64_t& live_bytes() { static int64_t n = 0; return n; }
  napi_env env;
  cuda::DeviceBuffer buffer;
};

// What a JavaScript handle owns: part of a block (all of it unless a view).
struct Handle {
  std::shared_ptr<Block> block;  // null once disposed
  int64_t offset = 0;            // elements from the block's start
  int64_t length = 0;            // elements
  StorageType type = StorageType::F32;
};

// Tags this addon's externals, so that no other External is ever read as a Handle.
constexpr napi_type_tag kHandleTag = {0x6772616466726f67ULL, 0x6375646168616e64ULL};

int64_t type_bytes(StorageType t) {
  return t == StorageType::F64 ? 8 : t == StorageType::U8 ? 1 : 4;
}
bool type_of_name(const std::string& s, StorageType* t) {
  if (s == "float32") *t = StorageType::F32;
  else if (s == "float64") *t = StorageType::F64;
  else if (s == "int32") *t = StorageType::I32;
  else if (s == "uint8") *t = StorageType::U8;
  else return false;
  return true;
}
bool type_of_array(napi_typedarray_type a, StorageType* t) {
  switch (a) {
    case napi_float32_array: *t = StorageType::F32; return true;
    case napi_float64_array: *t = StorageType::F64; return true;
    case napi_int32_array: *t = StorageType::I32; return true;
    case napi_uint8_array: *t = StorageType::U8; return true;
    default: return false;
  }
}

// The Handle behind v, or null (not a handle of ours).
Handle* handle_of(napi_env env, napi_value v) {
  napi_valuetype vt;
  if (napi_typeof(env, v, &vt) != napi_ok || vt != napi_external) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, v, &kHandleTag, &tagged) != napi_ok || !tagged) return nullptr;
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok) return nullptr;
  return static_cast<Handle*>(data);
}

Value wrap(Napi::Env env, std::unique_ptr<Handle> h) {
  napi_value ext;
  Handle* raw = h.get();
  if (napi_create_external(env, raw, [](napi_env, void* data, void*) { std::unique_ptr<Handle>(static_cast<Handle*>(data)); },
                           nullptr, &ext) != napi_ok)
    return env.Undefined();
  h.release();  // owned by the external's finalizer now
  napi_type_tag_object(env, ext, &kHandleTag);
  return Value(env, ext);
}

// A new block of `length` elements of type t on the binding's stream; zeroed when asked.
bool new_block(const Call& c, StorageType t, int64_t length, bool zero, std::shared_ptr<Block>* out) {
  int64_t bytes = 0;
  if (!Call::mul(length, type_bytes(t), &bytes))
    return c.range_error("length " + std::to_string(length) + " is too large");
  cuda::DeviceBuffer buf;
  cuda::Status s = buf.allocate(static_cast<std::size_t>(bytes), binding_stream());
  if (!s.ok()) {
    cuda_result(c.env(), c.fn(), s);
    return false;
  }
  if (zero && bytes > 0) {
    const cudaError_t e = cudaMemsetAsync(buf.get(), 0, static_cast<std::size_t>(bytes), binding_stream());
    if (e != cudaSuccess) {
      cuda_result(c.env(), c.fn(), e);
      return false;
    }
  }
  *out = std::make_shared<Block>(c.env(), std::move(buf));
  return true;
}

char* data_of(const Handle& h) {
  return static_cast<char*>(h.block->buffer.get()) + h.offset * type_bytes(h.type);
}

// Argument i as a live handle of ours.
bool handle_arg(const Call& c, const Info& info, size_t i, const char* name, Handle** out) {
  Handle* h = handle_of(c.env(), info[i]);
  if (!h) return c.type_error(c.arg(name) + " must be a cuda storage handle, got " + describe(info[i]));
  if (!h->block) return c.type_error(c.arg(name) + " was disposed (its device memory is freed)");
  *out = h;
  return true;
}

// Argument i as a typed array that device storage can hold, with its type and bytes.
bool host_arg(const Call& c, const Info& info, size_t i, const char* name, StorageType* t,
              void** data, int64_t* length) {
  napi_typedarray_type at;
  size_t n = 0;
  if (!info[i].IsTypedArray() ||
      napi_get_typedarray_info(c.env(), info[i], &at, &n, data, nullptr, nullptr) != napi_ok ||
      !type_of_array(at, t))
    return c.type_error(c.arg(name) + " must be a Float32Array, Float64Array, Int32Array or Uint8Array, got " +
                        describe(info[i]));
  *length = static_cast<int64_t>(n);
  return true;
}

bool same_shape(const Call& c, const Handle& h, StorageType t, int64_t length) {
  if (h.type == t && h.length == length) return true;
  return c.range_error("the device storage holds " + std::to_string(h.length) + " " +
                       storage_type_name(h.type) + " elements but the array has " + std::to_string(length) + " " +
                       storage_type_name(t) + " elements");
}

// alloc(dtype, length, zero): a new handle.
Value Alloc(const Info& info) {
  Call c(info, "cuda.alloc");
  if (!c.count(3)) return c.undef();
  std::string dtype;
  int64_t length = 0;
  bool zero = false;
  StorageType t;
  if (!c.string(0, "dtype", &dtype) || !c.size(1, "length", &length) || !c.boolean(2, "zero", &zero))
    return c.undef();
  if (!type_of_name(dtype, &t))
    return (c.range_error("dtype must be 'float32', 'float64', 'int32' or 'uint8', got '" + dtype + "'"), c.undef());
  auto h = std::make_unique<Handle>();
  if (!new_block(c, t, length, zero, &h->block)) return c.undef();
  h->length = length;
  h->type = t;
  return wrap(c.env(), std::move(h));
}

// upload(array): a new handle holding a copy of the typed array.
Value Upload(const Info& info) {
  Call c(info, "cuda.upload");
  if (!c.count(1)) return c.undef();
  StorageType t;
  void* data = nullptr;
  int64_t length = 0;
  if (!host_arg(c, info, 0, "array", &t, &data, &length)) return c.undef();
  auto h = std::make_unique<Handle>();
  if (!new_block(c, t, length, false, &h->block)) return c.undef();
  h->length = length;
  h->type = t;
  // Synchronous: the array may be changed by JavaScript as soon as this returns.
  if (length > 0) {
    const cudaError_t e = cudaMemcpyAsync(data_of(*h), data, static_cast<std::size_t>(length * type_bytes(t)),
                                          cudaMemcpyHostToDevice, binding_stream());
    const cudaError_t s = e == cudaSuccess ? cudaStreamSynchronize(binding_stream()) : e;
    if (s != cudaSuccess) return cuda_result(c.env(), c.fn(), s);
  }
  return wrap(c.env(), std::move(h));
}

// write(handle, array) / download(handle, out): a copy between the handle and a typed array
// of its length and type, waited for (the array is JavaScript's again once this returns; a
// download comes after every kernel queued before it).
Value Transfer(const Info& info, const char* fn, const char* array_name, bool to_device) {
  Call c(info, fn);
  if (!c.count(2)) return c.undef();
  Handle* h = nullptr;
  StorageType t;
  void* data = nullptr;
  int64_t length = 0;
  if (!handle_arg(c, info, 0, "storage", &h) || !host_arg(c, info, 1, array_name, &t, &data, &length) ||
      !same_shape(c, *h, t, length))
    return c.undef();
  if (length == 0) return c.undef();
  const std::size_t bytes = static_cast<std::size_t>(length * type_bytes(t));
  const cudaError_t e = to_device
      ? cudaMemcpyAsync(data_of(*h), data, bytes, cudaMemcpyHostToDevice, binding_stream())
      : cudaMemcpyAsync(data, data_of(*h), bytes, cudaMemcpyDeviceToHost, binding_stream());
  return cuda_result(c.env(), c.fn(), e == cudaSuccess ? cudaStreamSynchronize(binding_stream()) : e);
}
Value Write(const Info& info) { return Transfer(info, "cuda.write", "array", true); }
Value Download(const Info& info) { return Transfer(info, "cuda.download", "out", false); }

// downloadAsync(handle, out): a Promise settled once `out` holds the storage; the waiting
// happens on a worker thread, so the event loop keeps running.
class DownloadWork : public Napi::AsyncWorker {
 public:
  DownloadWork(Napi::Env env, std::shared_ptr<Block> block, void* src, Napi::TypedArray out, void* dst,
               std::size_t bytes)
      : Napi::AsyncWorker(env, "gradforge.cuda.downloadAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        block_(std::move(block)), src_(src), dst_(dst), bytes_(bytes) {
    out_ = Napi::Persistent(out);  // keeps the destination alive until the copy is done
  }
  Napi::Promise promise() const { return deferred_.Promise(); }
  void Execute() override {
    // The copy is queued behind every kernel already on the stream, then waited for here.
    cudaError_t e = cudaMemcpyAsync(dst_, src_, bytes_, cudaMemcpyDeviceToHost, binding_stream());
    if (e == cudaSuccess) e = cudaStreamSynchronize(binding_stream());
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      error_ = e;
    }
  }
  void OnOK() override {
    block_.reset();  // on the JavaScript thread: a last reference frees the block here
    if (error_ == cudaSuccess) {
      deferred_.Resolve(Env().Undefined());
      return;
    }
    Napi::Error err = Napi::Error::New(Env(), "cuda.downloadAsync: " + cuda::error_message(error_, "cudaMemcpyAsync"));
    err.Set("code", Napi::String::New(Env(), "GF_CUDA_ERROR"));
    deferred_.Reject(err.Value());
  }
  void OnError(const Napi::Error& e) override {
    block_.reset();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Block> block_;
  void* src_;
  void* dst_;
  std::size_t bytes_;
  Napi::Reference<Napi::TypedArray> out_;
  cudaError_t error_ = cudaSuccess;
};

Value DownloadAsync(const Info& info) {
  Call c(info, "cuda.downloadAsync");
  if (!c.count(2)) return c.undef();
  Handle* h = nullptr;
  StorageType t;
  void* data = nullptr;
  int64_t length = 0;
  if (!handle_arg(c, info, 0, "storage", &h) || !host_arg(c, info, 1, "out", &t, &data, &length) ||
      !same_shape(c, *h, t, length))
    return c.undef();
  // Napi::AsyncWorker deletes itself after OnOK/OnError (node-addon-api's ownership model).
  auto* work = new DownloadWork(c.env(), h->block, data_of(*h), info[1].As<Napi::TypedArray>(), data,
                                static_cast<std::size_t>(length * type_bytes(t)));
  Napi::Promise p = work->promise();
  work->Queue();
  return p;
}

// copy(dst, src): device-to-device, same length and type.
Value Copy(const Info& info) {
  Call c(info, "cuda.copy");
  if (!c.count(2)) return c.undef();
  Handle* dst = nullptr;
  Handle* src = nullptr;
  if (!handle_arg(c, info, 0, "dst", &dst) || !handle_arg(c, info, 1, "src", &src) ||
      !same_shape(c, *dst, src->type, src->length))
    return c.undef();
  if (src->length == 0 || data_of(*dst) == data_of(*src)) return c.undef();
  return cuda_result(c.env(), c.fn(),
                     cudaMemcpyAsync(data_of(*dst), data_of(*src),
                                     static_cast<std::size_t>(src->length * type_bytes(src->type)),
                                     cudaMemcpyDeviceToDevice, binding_stream()));
}

// view(handle, offset, length): a handle sharing `length` elements from `offset`.
Value View(const Info& info) {
  Call c(info, "cuda.view");
  if (!c.count(3)) return c.undef();
  Handle* h = nullptr;
  int64_t offset = 0, length = 0, end = 0;
  if (!handle_arg(c, info, 0, "storage", &h) || !c.size(1, "offset", &offset) || !c.size(2, "length", &length))
    return c.undef();
  if (!Call::add(offset, length, &end) || end > h->length)
    return (c.range_error("offset " + std::to_string(offset) + " + length " + std::to_string(length) +
                          " is past the storage's " + std::to_string(h->length) + " elements"),
            c.undef());
  auto v = std::make_unique<Handle>();
  v->block = h->block;
  v->offset = h->offset + offset;
  v->length = length;
  v->type = h->type;
  return wrap(c.env(), std::move(v));
}

// dispose(handle): drops this handle's reference now; a second dispose does nothing.
Value Dispose(const Info& info) {
  Call c(info, "cuda.dispose");
  if (!c.count(1)) return c.undef();
  Handle* h = handle_of(c.env(), info[0]);
  if (!h) return (c.type_error("argument 'storage' must be a cuda storage handle, got " + describe(info[0])), c.undef());
  h->block.reset();
  return c.undef();
}

// memory(): live device allocations of this addon, and the pool's figures.
Value Memory(const Info& info) {
  Call c(info, "cuda.memory");
  if (!c.count(0)) return c.undef();
  cuda::PoolStats stats;
  cuda::Status s = cuda::pool_stats(&stats);
  if (!s.ok()) return cuda_result(c.env(), c.fn(), s);
  Napi::Object o = Napi::Object::New(c.env());
  o.Set("buffers", Napi::Number::New(c.env(), static_cast<double>(Block::live_blocks())));
  o.Set("bytes", Napi::Number::New(c.env(), static_cast<double>(Block::live_bytes())));
  o.Set("poolReserved", Napi::Number::New(c.env(), static_cast<double>(stats.reserved)));
  o.Set("poolUsed", Napi::Number::New(c.env(), static_cast<double>(stats.used)));
  return o;
}

// synchronize(): waits until every queued kernel and copy has finished (errors surface here).
Value Synchronize(const Info& info) {
  Call c(info, "cuda.synchronize");
  if (!c.count(0)) return c.undef();
  return cuda_result(c.env(), c.fn(), cudaStreamSynchronize(binding_stream()));
}

}  // namespace

const char* storage_type_name(StorageType t) {
  switch (t) {
    case StorageType::F32: return "float32";
    case StorageType::F64: return "float64";
    case StorageType::I32: return "int32";
    case StorageType::U8: return "uint8";
  }
  return "?";
}

bool device_arg_of(napi_env env, napi_value v, const std::string& what, DeviceArg* out, bool* error) {
  *error = false;
  Handle* h = handle_of(env, v);
  if (!h) return false;
  if (!h->block) {
    *error = true;
    napi_throw_type_error(env, nullptr, (what + " was disposed (its device memory is freed)").c_str());
    return true;
  }
  out->ptr = data_of(*h);
  out->length = h->length;
  out->type = h->type;
  out->keep = h->block;
  return true;
}

cudaStream_t binding_stream() {
  static cudaStream_t stream = [] {
    cudaStream_t s = nullptr;
    // On failure (no device) the legacy default stream: every call on it then fails with the
    // device's own error, which is reported.
    if (cudaStreamCreate(&s) != cudaSuccess) {
      (void)cudaGetLastError();
      s = nullptr;
    }
    return s;
  }();
  return stream;
}

namespace {
Napi::Value throw_cuda_error(Napi::Env env, const std::string& message) {
  (void)cudaGetLastError();
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, "GF_CUDA_ERROR"));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}
}  // namespace

Napi::Value cuda_result(Napi::Env env, const char* fn, cudaError_t e) {
  if (e == cudaSuccess) return env.Undefined();
  return throw_cuda_error(env, std::string(fn) + ": " + cuda::error_message(e, "the CUDA call"));
}

Napi::Value cuda_result(Napi::Env env, const char* fn, const cuda::Status& s) {
  if (s.ok()) return env.Undefined();
  return throw_cuda_error(env, std::string(fn) + ": " + s.message);
}

void add_cuda_exports(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Function::Callback fn;
  };
  const Entry entries[] = {
      {"alloc", guard<Alloc>},       {"upload", guard<Upload>},
      {"write", guard<Write>},       {"download", guard<Download>},
      {"downloadAsync", guard<DownloadAsync>}, {"copy", guard<Copy>},
      {"view", guard<View>},         {"dispose", guard<Dispose>},
      {"memory", guard<Memory>},     {"synchronize", guard<Synchronize>},
  };
  Napi::Object cuda = Napi::Object::New(env);
  for (const Entry& e : entries) cuda.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  exports.Set("cuda", cuda);
}

}  // namespace binding
}  // namespace gf
