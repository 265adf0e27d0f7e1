// Argument checking for the N-API binding: every check either yields a clean C++ value or
// throws a JS TypeError/RangeError (pending exception; NAPI_DISABLE_CPP_EXCEPTIONS) whose
// message names the function, the argument and the values, then returns false so the caller
// can return at once. Kernels behind this layer trust their inputs completely, so anything
// that could make them read or write out of bounds must be rejected here.
// It is not: shape inference or policy (lib does that); this layer only guards memory safety
// and the contract in binding.d.ts.
//
// Three rules make a checked call stay checked until the kernel runs:
// - User code can run while arguments are read: an element getter on a shape Array, a getter
//   on a geometry object. It can detach (transfer) or shrink a typed array that was already
//   taken. So every read that may run user code (shape(), get()) ends by re-reading each
//   array taken so far (revalidate) and refuses the call if one moved, shrank or detached.
// - A typed array on a SharedArrayBuffer can change under the kernel. Kernels therefore never
//   trust an index they did not compute: they bounds-check each index they read (pool.cc).
// - Outputs must not overlap inputs or each other (outputs_apart), except the exact in-place
//   aliasing that an elementwise or row-wise kernel handles; and a call with no work returns
//   before the kernel (a huge size times a zero size would otherwise loop for ever).
#pragma once
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "cpu/gemm.h"
#include "plan/plan.h"
#ifdef GF_HAVE_CUDA
#include "binding/device_storage.h"
#endif

namespace gf {
namespace binding {

enum class DType { F32, F64, I32 };

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "Float32Array";
    case DType::F64: return "Float64Array";
    case DType::I32: return "Int32Array";
  }
  return "?";
}

inline int64_t dtype_bytes(DType t) { return t == DType::F64 ? 8 : 4; }

struct ArrayView {
  DType type = DType::F32;
  void* data = nullptr;
  int64_t length = 0;
  const char* name = "";        // the argument's name, for error messages
  napi_value handle = nullptr;  // the JS typed array, to re-check it after user code ran
  bool bytes = false;  // a Uint8Array (uint8_array): one byte per element, `type` unused
  bool device = false;  // CUDA device storage (binding/device_storage.h): data is a device pointer
  template <typename T> T* as() const { return static_cast<T*>(data); }
  bool empty() const { return data == nullptr || length == 0; }
  uintptr_t begin() const { return reinterpret_cast<uintptr_t>(data); }
  uintptr_t end() const {
    return begin() + static_cast<uintptr_t>(length * (bytes ? 1 : dtype_bytes(type)));
  }
};

// How an output may share memory with an input (outputs_apart).
enum class Alias {
  None,   // no shared byte at all
  Exact,  // the very same elements (same start, same type) are fine: the kernel reads every
          // input of element i (or row i) before it writes any output of it, and nothing
          // else; any partial overlap is refused
};

constexpr int kMaxShapeRank = 8;
constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

struct Shape {
  int64_t dims[kMaxShapeRank] = {};
  int rank = 0;
  int64_t size = 1;  // product of dims (checked for overflow)
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }
};

// A short human description of a JS value for error messages.
inline std::string describe(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return v.As<Napi::Boolean>().Value() ? "true" : "false";
    case napi_number: {
      double d = v.As<Napi::Number>().DoubleValue();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      if (d == std::floor(d) && std::fabs(d) < 1e18)
        return "number " + std::to_string(static_cast<int64_t>(d));
      // Shortest of %.15g / %.17g that reads back as the same double (0.1, not 0.1000...01).
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.15g", d);
      if (std::strtod(buf, nullptr) != d) std::snprintf(buf, sizeof buf, "%.17g", d);
      return std::string("number ") + buf;
    }
    case napi_string: return "string '" + v.As<Napi::String>().Utf8Value().substr(0, 40) + "'";
    case napi_symbol: return "symbol";
    case napi_function: return "function";
    case napi_bigint: return "bigint";
    default: break;
  }
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    const char* name = "TypedArray";
    switch (ta.TypedArrayType()) {
      case napi_int8_array: name = "Int8Array"; break;
      case napi_uint8_array: name = "Uint8Array"; break;
      case napi_uint8_clamped_array: name = "Uint8ClampedArray"; break;
      case napi_int16_array: name = "Int16Array"; break;
      case napi_uint16_array: name = "Uint16Array"; break;
      case napi_int32_array: name = "Int32Array"; break;
      case napi_uint32_array: name = "Uint32Array"; break;
      case napi_float32_array: name = "Float32Array"; break;
      case napi_float64_array: name = "Float64Array"; break;
      case napi_bigint64_array: name = "BigInt64Array"; break;
      case napi_biguint64_array: name = "BigUint64Array"; break;
      default: break;
    }
    return std::string(name) + "(" + std::to_string(ta.ElementLength()) + ")";
  }
  if (v.IsArray()) return "Array(" + std::to_string(v.As<Napi::Array>().Length()) + ")";
  if (v.IsArrayBuffer()) return "ArrayBuffer";
  return "object";
}

// Calls f(float{}) or f(double{}) by the array type, so each export is written once.
template <typename F>
void by_float_type(DType t, F&& f) {
  if (t == DType::F64) f(double{});
  else f(float{});
}

// The ArrayBuffer a typed array views: its value, start and byte length (value null when
// there is none to be had, e.g. a SharedArrayBuffer).
struct BufferOf {
  napi_value value = nullptr;
  const uint8_t* data = nullptr;
  int64_t bytes = 0;
};
inline BufferOf array_buffer_of(napi_env env, napi_value typed_array) {
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value ab = nullptr;
  void* ab_data = nullptr;
  size_t ab_bytes = 0;
  BufferOf out;
  if (napi_get_typedarray_info(env, typed_array, &type, &length, &data, &ab, &offset) == napi_ok &&
      napi_get_arraybuffer_info(env, ab, &ab_data, &ab_bytes) == napi_ok)
    out = {ab, static_cast<const uint8_t*>(ab_data), static_cast<int64_t>(ab_bytes)};
  return out;
}

// The ArrayBuffers a recording on this thread has seen, each referenced once until the
// recording ends, so that no address is freed and reused by another buffer meanwhile.
struct RecordingRefs {
  napi_env env = nullptr;
  std::vector<std::pair<const void*, napi_ref>> refs;
  void release() {
    for (auto& r : refs) napi_delete_reference(env, r.second);
    refs.clear();
  }
};
inline RecordingRefs& recording_refs() {
  thread_local RecordingRefs r;
  return r;
}
inline void keep_alive_while_recording(napi_env env, napi_value ab, const void* data) {
  RecordingRefs& rr = recording_refs();
  rr.env = env;
  for (const auto& r : rr.refs)
    if (r.first == data) return;
  napi_ref ref;
  if (napi_create_reference(env, ab, 1, &ref) == napi_ok) rr.refs.emplace_back(data, ref);
}

// An array operand of a kernel call, for Call::step: the checked view and how the kernel
// uses it (what the plan analysis needs to know).
// `elems`: how many elements from its start the kernel writes (or reads), -1 for all of the
// array. A plan counts written bytes by it, so a write must never claim more than the kernel
// writes (an output array longer than the sizes need would otherwise pass off what JavaScript
// put in its tail as kernel output).
struct Operand {
  const ArrayView* array;
  plan::Access access;
  int64_t elems = -1;
};
constexpr plan::Access kRead = plan::Access::Read;
constexpr plan::Access kWrite = plan::Access::Write;
constexpr plan::Access kReadWrite = plan::Access::ReadWrite;
constexpr size_t kMaxOperands = 16;

// One native call's arguments. Usage:  Call c(info, "gemm"); if (!c.count(13)) return c.undef();
class Call {
 public:
  Call(const Napi::CallbackInfo& info, const char* fn) : info_(info), env_(info.Env()), fn_(fn) {}
  Call(const Call&) = delete;  // a copy would not see the arrays the original took
  Call& operator=(const Call&) = delete;

  Napi::Env env() const { return env_; }
  Napi::Value undef() const { return env_.Undefined(); }
  const char* fn() const { return fn_; }

  bool type_error(const std::string& msg) const {
    Napi::TypeError::New(env_, std::string(fn_) + ": " + msg).ThrowAsJavaScriptException();
    return false;
  }
  bool range_error(const std::string& msg) const {
    Napi::RangeError::New(env_, std::string(fn_) + ": " + msg).ThrowAsJavaScriptException();
    return false;
  }

  bool count(size_t n) const {
    if (info_.Length() == n) return true;
    return type_error("expects " + std::to_string(n) + " arguments, got " +
                      std::to_string(info_.Length()));
  }
  // Between lo and hi arguments (trailing optional ones).
  bool count_between(size_t lo, size_t hi) const {
    if (info_.Length() >= lo && info_.Length() <= hi) return true;
    return type_error("expects " + std::to_string(lo) + " to " + std::to_string(hi) +
                      " arguments, got " + std::to_string(info_.Length()));
  }
  size_t length() const { return info_.Length(); }
  bool is_undefined(size_t i) const { return info_[i].IsUndefined(); }

  // A non-negative integer no larger than 2^53 - 1 (sizes, leading dimensions).
  bool size(size_t i, const char* name, int64_t* out) const {
    Napi::Value v = info_[i];
    double d;
    if (napi_get_value_double(env_, v, &d) != napi_ok)  // one call: type check and value
      return type_error(arg(name) + " must be a number, got " + describe(v));
    if (!(d >= 0) || d != std::floor(d) || d > kMaxSafeInteger)
      return range_error(arg(name) + " must be a non-negative integer, got " + describe(v));
    *out = static_cast<int64_t>(d);
    return true;
  }

  bool number(size_t i, const char* name, double* out) const {
    Napi::Value v = info_[i];
    if (napi_get_value_double(env_, v, out) != napi_ok)
      return type_error(arg(name) + " must be a number, got " + describe(v));
    return true;
  }

  bool finite(size_t i, const char* name, double* out) const {
    if (!number(i, name, out)) return false;
    if (!std::isfinite(*out))
      return range_error(arg(name) + " must be a finite number, got " + describe(info_[i]));
    return true;
  }

  bool boolean(size_t i, const char* name, bool* out) const {
    Napi::Value v = info_[i];
    if (napi_get_value_bool(env_, v, out) != napi_ok)
      return type_error(arg(name) + " must be a boolean, got " + describe(v));
    return true;
  }

  // A string without NUL characters: names are compared as C strings further down, where
  // 'relu\0junk' would silently read as 'relu'.
  bool string(size_t i, const char* name, std::string* out) const {
    return string_value(info_[i], arg(name), out);
  }

  // The same for a value read from an object (Call::get); `what` names it in messages
  // ("cfg.cell").
  bool string_value(const Napi::Value& v, const std::string& what, std::string* out) const {
    if (!v.IsString()) return type_error(what + " must be a string, got " + describe(v));
    *out = v.As<Napi::String>().Utf8Value();
    const size_t nul = out->find('\0');
    if (nul != std::string::npos)
      return range_error(what + " must not contain a NUL character, got '" +
                         out->substr(0, std::min<size_t>(nul, 40)) + "\\0...'");
    return true;
  }

  // A Uint8Array (a mask of 0/1 bytes), or null/undefined: *present says which. Taken like the
  // float arrays (revalidate, outputs_apart see it, with one byte per element).
  bool optional_uint8_array(size_t i, const char* name, ArrayView* out, bool* present) const {
    Napi::Value v = info_[i];
    *present = !v.IsNull() && !v.IsUndefined();
    if (!*present) return true;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
#ifdef GF_HAVE_CUDA
    if (!v.IsTypedArray()) {
      int found = device_array(v, name, out, false, false, false, true);
      if (found >= 0) return found == 1;
    }
#endif
    if (!v.IsTypedArray() ||
        napi_get_typedarray_info(env_, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_uint8_array)
      return type_error(arg(name) + " must be a Uint8Array or null, got " + describe(v));
    out->type = DType::F32;  // unused: bytes
    out->bytes = true;
    out->data = data;
    out->length = static_cast<int64_t>(length);
    out->name = name;
    out->handle = v;
    return take(out);
  }

  // Float32Array or Float64Array; with `like`, it must have like's type.
  bool float_array(size_t i, const char* name, ArrayView* out,
                   const ArrayView* like = nullptr, const char* like_name = nullptr) const {
    if (!typed_array(i, name, out, true, true, false)) return false;
    if (like && like->type != out->type)
      return type_error(arg(name) + " is a " + dtype_name(out->type) + " but " + like_name +
                        " is a " + dtype_name(like->type) +
                        " (all float arrays of one call must have the same type)");
    return true;
  }

  // A float array of like's type, or null/undefined (an absent optional input/output):
  // *present says which.
  bool optional_float_array(size_t i, const char* name, ArrayView* out, bool* present,
                            const ArrayView& like, const char* like_name) const {
    *present = !info_[i].IsNull() && !info_[i].IsUndefined();
    return !*present || float_array(i, name, out, &like, like_name);
  }

  bool int32_array(size_t i, const char* name, ArrayView* out) const {
    return typed_array(i, name, out, false, false, true);
  }

  // Float32Array, Float64Array or Int32Array.
  bool any_array(size_t i, const char* name, ArrayView* out) const {
    return typed_array(i, name, out, true, true, true);
  }

  // An Array of at most kMaxShapeRank non-negative safe integers whose product fits int64.
  bool shape(size_t i, const char* name, Shape* out) const {
    Napi::Value v = info_[i];
    if (!v.IsArray())
      return type_error(arg(name) + " must be an array of sizes, got " + describe(v));
    Napi::Array a = v.As<Napi::Array>();
    uint32_t n = a.Length();
    if (n > static_cast<uint32_t>(kMaxShapeRank))
      return range_error(arg(name) + " has rank " + std::to_string(n) + "; at most " +
                         std::to_string(kMaxShapeRank) + " is supported");
    out->rank = static_cast<int>(n);
    out->size = 1;
    int64_t nonzero = 1;
    for (uint32_t k = 0; k < n; ++k) {
      Napi::Value e = a.Get(k);
      if (env_.IsExceptionPending()) return false;  // a throwing getter
      double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
      if (!e.IsNumber() || !(d >= 0) || d != std::floor(d) || d > kMaxSafeInteger)
        return range_error(arg(name) + "[" + std::to_string(k) +
                           "] must be a non-negative integer, got " + describe(e));
      out->dims[k] = static_cast<int64_t>(d);
      // As product(): the non-zero dims' product must fit too (kernels form partial products).
      if (d != 0 && !mul(nonzero, out->dims[k], &nonzero))
        return range_error(arg(name) + " has too many elements (the product overflows)");
      out->size *= out->dims[k];
    }
    return revalidate();  // an element getter may have run user code
  }

  // Property `key` of object o. A getter (or a Proxy) runs user code, so the arrays taken so
  // far are re-checked afterwards.
  bool get(const Napi::Object& o, const char* key, Napi::Value* out) const {
    *out = o.Get(key);
    if (env_.IsExceptionPending()) return false;  // a throwing getter
    return revalidate();
  }

  // Every array taken so far still has the data pointer and length it had when it was taken.
  // User code that ran in between (a getter) may have transferred its buffer, shrunk a
  // resizable buffer, or replaced nothing at all; only the first two matter, and they are
  // refused, because the length checks already made would no longer hold.
  bool revalidate() const {
    for (int i = 0; i < ntaken_; ++i) {
      const ArrayView& a = taken_[i];
      if (a.device) continue;  // a handle cannot move; the call holds its memory (keep_)
      napi_typedarray_type type;
      size_t length = 0;
      void* data = nullptr;
      if (napi_get_typedarray_info(env_, a.handle, &type, &length, &data, nullptr, nullptr) !=
              napi_ok ||
          data != a.data || static_cast<int64_t>(length) != a.length)
        return range_error(arg(a.name) + " was detached or resized while the call read its " +
                           "other arguments (by a getter, or another thread growing its buffer)");
    }
    return true;
  }

  // Outputs may not share memory with each other, nor with an input beyond what `alias`
  // allows. Absent (null) or empty arrays share nothing.
  bool outputs_apart(std::initializer_list<const ArrayView*> outs,
                     std::initializer_list<const ArrayView*> ins, Alias alias = Alias::None) const {
    for (auto o = outs.begin(); o != outs.end(); ++o) {
      if ((*o)->empty()) continue;
      for (auto p = outs.begin(); p != o; ++p)
        if (overlap(**o, **p)) return overlap_error(**o, **p, "outputs must not overlap");
      for (const ArrayView* in : ins) {
        if (!overlap(**o, *in)) continue;
        const bool exact = (*o)->data == in->data && (*o)->type == in->type;
        if (alias == Alias::Exact && exact) continue;
        return overlap_error(**o, *in,
                             alias == Alias::Exact
                                 ? "an output may be its input exactly (in place) but not overlap it partially"
                                 : "this kernel would read what it has already written");
      }
    }
    return true;
  }

  // Whether this call's arrays are device storage: all of them (*on_device = true) or none.
  // A mix is a TypeError naming one of each; so is device storage while a plan records (plans
  // replay CPU kernels only).
  bool residency(bool* on_device) const {
    const ArrayView* dev = nullptr;
    const ArrayView* host = nullptr;
    for (int i = 0; i < ntaken_; ++i) (taken_[i].device ? dev : host) = &taken_[i];
    *on_device = dev != nullptr;
    if (dev && host)
      return type_error(arg(dev->name) + " is device storage but " + arg(host->name) +
                        " is a CPU array: every array of one call must be on the same device");
    if (dev && plan::active_recording())
      return type_error(arg(dev->name) + " is device storage, and execution plans record CPU kernels only");
    return true;
  }

  // a.length >= needed, or a RangeError "<name> has L elements but <why> needs N".
  bool need(const ArrayView& a, const char* name, int64_t needed, const std::string& why) const {
    if (a.length >= needed) return true;
    return range_error(std::string(name) + " has " + std::to_string(a.length) +
                       " elements but " + why + " needs " + std::to_string(needed));
  }

  bool same_length(const ArrayView& a, const char* an, const ArrayView& b, const char* bn) const {
    if (a.length == b.length) return true;
    return range_error(std::string(bn) + " has " + std::to_string(b.length) + " elements but " +
                       an + " has " + std::to_string(a.length) + " (they must be the same length)");
  }

  // Overflow-checked products, so a huge size cannot wrap around and pass a length check.
  static bool mul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
  static bool add(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

  // The product of sizes. The product of the non-zero ones must fit int64 too: a kernel's
  // partial products (W*C, H*sh*W*sw*C) must not overflow just because another size is 0.
  bool product(std::initializer_list<int64_t> xs, const std::string& what, int64_t* out) const {
    int64_t p = 1, nonzero = 1;
    for (int64_t x : xs) {
      if (x != 0 && !mul(nonzero, x, &nonzero)) return range_error(what + " overflows");
      p = x == 0 ? 0 : p * x;  // |p| <= nonzero: cannot overflow
    }
    *out = p;
    return true;
  }

  std::string arg(const char* name) const { return std::string("argument '") + name + "'"; }

  // Runs a checked kernel call: fn(ptrs) with ptrs[i] the data of operands[i] (null for an
  // absent one). While this thread records a plan (native/plan), the call is also appended to
  // the recording, so fn must capture by value everything but the pointers: it runs again at
  // every replay, on other threads too. Every value it captures is frozen at the recording:
  // a size or scalar that JavaScript derived from an earlier kernel's output would replay
  // stale (no forward pass of lib does that).
  template <typename F>
  void step(const char* kernel, std::initializer_list<Operand> operands, const F& fn) const {
    void* ptrs[kMaxOperands] = {};
    size_t n = 0;
    for (const Operand& o : operands) ptrs[n++] = o.array->data;
    fn(static_cast<void* const*>(ptrs));
    if (plan::Recording* rec = plan::active_recording()) record(rec, kernel, operands, fn);
  }

 private:
  template <typename F>
  void record(plan::Recording* rec, const char* kernel, std::initializer_list<Operand> operands,
              const F& fn) const {
    plan::RecordedStep s;
    s.kernel = kernel;
    s.fn = fn;
    for (const Operand& o : operands) {
      plan::RecordedOperand r;
      r.access = o.access;
      const ArrayView& a = *o.array;
      if (a.handle != nullptr && a.data != nullptr) {
        r.ptr = static_cast<const uint8_t*>(a.data);
        const int64_t n = o.elems < 0 ? a.length : std::min<int64_t>(o.elems, a.length);
        r.bytes = n * (a.bytes ? 1 : dtype_bytes(a.type));
        // the allocation holding it: views of one ArrayBuffer must share one region
        const BufferOf ab = array_buffer_of(env_, a.handle);
        if (ab.value != nullptr) {
          r.buffer = ab.data;
          r.buffer_bytes = ab.bytes;
          keep_alive_while_recording(env_, ab.value, ab.data);
        }
      }
      s.operands.push_back(r);
    }
    rec->steps.push_back(std::move(s));
  }

  // One napi_get_typedarray_info call per array (type, length and data together), and the
  // error text built only on failure: small kernels are called many thousand times a second.
  bool typed_array(size_t i, const char* name, ArrayView* out, bool f32, bool f64,
                   bool i32) const {
    Napi::Value v = info_[i];
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (v.IsTypedArray() &&
        napi_get_typedarray_info(env_, v, &type, &length, &data, nullptr, nullptr) == napi_ok) {
      const bool ok = (type == napi_float32_array && f32) || (type == napi_float64_array && f64) ||
                      (type == napi_int32_array && i32);
      if (ok) {
        out->type = type == napi_float32_array   ? DType::F32
                    : type == napi_float64_array ? DType::F64
                                                 : DType::I32;
        out->data = data;
        out->length = static_cast<int64_t>(length);
        out->name = name;
        out->handle = v;
        return take(out);
      }
    }
#ifdef GF_HAVE_CUDA
    if (!v.IsTypedArray()) {
      int found = device_array(v, name, out, f32, f64, i32, false);
      if (found >= 0) return found == 1;
    }
#endif
    const char* want = f32 && i32 ? "a Float32Array, Float64Array or Int32Array"
                       : f32      ? "a Float32Array or Float64Array"
                                  : "an Int32Array";
    return type_error(arg(name) + " must be " + want + ", got " + describe(v));
  }


#ifdef GF_HAVE_CUDA
  // v as device storage of one of the allowed types: 1 taken, 0 refused (exception pending),
  // -1 not device storage at all (the caller reports the type it wanted).
  int device_array(Napi::Value v, const char* name, ArrayView* out, bool f32, bool f64, bool i32,
                   bool u8) const {
    DeviceArg d;
    bool disposed = false;
    if (!device_arg_of(env_, v, std::string(fn_) + ": " + arg(name), &d, &disposed)) return -1;
    if (disposed) return 0;
    const bool ok = (d.type == StorageType::F32 && f32) || (d.type == StorageType::F64 && f64) ||
                    (d.type == StorageType::I32 && i32) || (d.type == StorageType::U8 && u8);
    if (!ok) {
      const char* want = u8 ? "uint8" : f32 && i32 ? "float32, float64 or int32" : f32 ? "float32 or float64" : "int32";
      type_error(arg(name) + " is " + storage_type_name(d.type) + " device storage but must be " + want);
      return 0;
    }
    out->type = d.type == StorageType::F64 ? DType::F64 : d.type == StorageType::I32 ? DType::I32 : DType::F32;
    out->bytes = d.type == StorageType::U8;
    out->device = true;
    out->data = d.ptr;
    out->length = d.length;
    out->name = name;
    out->handle = v;
    if (!take(out)) return 0;
    keep_[ntaken_ - 1] = std::move(d.keep);
    return 1;
  }
#endif

  // Remembers an array, by value, for revalidate(). An export takes at most a dozen arrays.
  bool take(const ArrayView* a) const {
    if (ntaken_ == kMaxTaken) return type_error("too many array arguments (internal limit)");
    taken_[ntaken_++] = *a;
    return true;
  }

  static bool overlap(const ArrayView& a, const ArrayView& b) {
    return !a.empty() && !b.empty() && a.begin() < b.end() && b.begin() < a.end();
  }

  bool overlap_error(const ArrayView& a, const ArrayView& b, const char* why) const {
    return range_error(arg(a.name) + " overlaps " + arg(b.name) + " in memory (" + why +
                       "; pass separate arrays)");
  }

  static constexpr int kMaxTaken = 16;
  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* fn_;
  // The arrays taken so far. Mutable: the argument readers are const (they only read the
  // call), and remembering what they read is bookkeeping, not a change of the call.
  mutable ArrayView taken_[kMaxTaken] = {};
  mutable int ntaken_ = 0;
#ifdef GF_HAVE_CUDA
  // The device memory of the device arrays taken, alive until the call returns.
  mutable std::shared_ptr<void> keep_[kMaxTaken];
#endif
};

// In an export, after its checks and before its CPU kernel: a call whose arrays are device
// storage runs `device_call` (a function of binding/device_*.h) instead; a mix is refused.
#ifdef GF_HAVE_CUDA
#define GF_ON_DEVICE(c, device_call)              \
  do {                                            \
    bool gf_on_device_ = false;                   \
    if (!(c).residency(&gf_on_device_)) return (c).undef(); \
    if (gf_on_device_) return (device_call);      \
  } while (0)
#else
#define GF_ON_DEVICE(c, device_call) ((void)0)
#endif

// An epilogue activation by name: 'linear' or 'relu' (gemm.h's GemmActivation).
inline bool activation_arg(const Call& c, size_t i, GemmActivation* out) {
  if (c.is_undefined(i)) return true;  // absent: keep the default
  std::string name;
  if (!c.string(i, "activation", &name)) return false;
  if (name == "relu") *out = GemmActivation::Relu;
  else if (name == "linear") *out = GemmActivation::Linear;
  else return c.range_error("activation must be 'linear' or 'relu', got '" + name + "'");
  return true;
}

}  // namespace binding
}  // namespace gf
