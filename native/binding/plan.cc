// N-API exports of execution plans (native/plan): record a forward pass, turn it into a plan,
// replay it synchronously or as async work on the libuv pool (see binding.d.ts).
// The async path: the call itself (on the JS thread) checks every array and copies the inputs
// into the execution's own arena; the weights come from a pack (planWeights copied them into
// memory JavaScript cannot detach); the execute step touches no JS value or JS memory; the
// completion (on the JS thread again) copies the result into the output array, if that array
// is still what it was at the call, and calls back. A queued execution can be cancelled; a
// started one runs to the end.
#include <napi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/guard.h"
#include "cpu/scratch.h"
#include "plan/plan.h"

namespace gf {
namespace binding {
namespace {

using Info = Napi::CallbackInfo;
using Value = Napi::Value;

// Tags that tell a plan External and an execution External from any other object.
constexpr napi_type_tag kPlanTag = {0x6766706c616e3031ULL, 0x9d1f3c5a7b2e4d60ULL};
constexpr napi_type_tag kRunTag = {0x6766727573796e63ULL, 0x3a7c9e2f4b6d1805ULL};

struct PlanBox {
  std::shared_ptr<plan::Plan> plan;
  int64_t accounted = 0;  // bytes told to V8 (napi_adjust_external_memory), given back at finalize
};

// Argument i as the Box of an External carrying `tag` (made by this file), or a TypeError
// "argument '<name>' must be <what>".
template <typename Box>
bool tagged_arg(const Call& c, const Info& info, size_t i, const napi_type_tag& tag, const char* name,
                const char* what, Box** out) {
  napi_value v = info[i];
  bool tagged = false;
  napi_valuetype t;
  if (napi_typeof(c.env(), v, &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(c.env(), v, &tag, &tagged) != napi_ok || !tagged)
    return c.type_error(c.arg(name) + " must be " + what + ", got " + describe(info[i]));
  void* data = nullptr;
  napi_get_value_external(c.env(), v, &data);
  *out = static_cast<Box*>(data);
  return true;
}

bool plan_arg(const Call& c, const Info& info, size_t i, std::shared_ptr<plan::Plan>* out) {
  PlanBox* box = nullptr;
  if (!tagged_arg(c, info, i, kPlanTag, "plan", "a plan from planEnd", &box)) return false;
  *out = box->plan;
  return true;
}

// A typed array of any element type as bytes (its data pointer, length in bytes, the value).
struct Bytes {
  uint8_t* data = nullptr;
  int64_t bytes = 0;
  napi_value value = nullptr;
  napi_typedarray_type type = napi_uint8_array;
};

const char* type_name(int t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_int32_array: return "Int32Array";
    default: return "Uint8Array";
  }
}

// Bytes per element of the typed arrays plans take (0: another type).
int64_t elem_bytes(napi_typedarray_type t) {
  switch (t) {
    case napi_float64_array: return 8;
    case napi_float32_array: case napi_int32_array: return 4;
    case napi_uint8_array: return 1;
    default: return 0;
  }
}

// Whether the typed array `v` still has the memory and byte size it had when it was taken.
bool unchanged(napi_env env, napi_value v, const uint8_t* data, int64_t bytes) {
  napi_typedarray_type type;
  size_t length = 0;
  void* now = nullptr;
  return v != nullptr && napi_get_typedarray_info(env, v, &type, &length, &now, nullptr, nullptr) == napi_ok &&
         static_cast<uint8_t*>(now) == data && static_cast<int64_t>(length) * elem_bytes(type) == bytes;
}

bool bytes_of(const Call& c, napi_value v, const std::string& what, Bytes* out) {
  bool is_ta = false;
  napi_is_typedarray(c.env(), v, &is_ta);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!is_ta || napi_get_typedarray_info(c.env(), v, &type, &length, &data, nullptr, nullptr) != napi_ok)
    return c.type_error(what + " must be a typed array, got " + describe(Napi::Value(c.env(), v)));
  const int64_t elem = elem_bytes(type);
  if (elem == 0)
    return c.type_error(what + " must be a Float32Array, Float64Array, Int32Array or Uint8Array, got " +
                        describe(Napi::Value(c.env(), v)));
  out->data = static_cast<uint8_t*>(data);
  out->bytes = static_cast<int64_t>(length) * elem;
  out->value = v;
  out->type = type;
  return true;
}

// An Array of typed arrays.
bool bytes_list(const Call& c, const Info& info, size_t i, const char* name, std::vector<Bytes>* out) {
  if (!info[i].IsArray()) return c.type_error(c.arg(name) + " must be an array of typed arrays, got " + describe(info[i]));
  Napi::Array a = info[i].As<Napi::Array>();
  const uint32_t n = a.Length();
  out->resize(n);
  for (uint32_t k = 0; k < n; ++k) {
    Napi::Value e = a.Get(k);
    if (c.env().IsExceptionPending()) return false;
    if (!bytes_of(c, e, std::string(name) + "[" + std::to_string(k) + "]", &(*out)[k])) return false;
  }
  return true;
}

// Every array taken still has the memory and size it had when it was read: a getter (on a list
// element, a Proxy) that ran afterwards may have detached, transferred or shrunk one, and the
// checks made on it would no longer hold (the same rule as Call::revalidate).
bool still_valid(const Call& c, std::initializer_list<const std::vector<Bytes>*> lists,
                 std::initializer_list<const Bytes*> singles) {
  auto same = [&](const Bytes& b) { return unchanged(c.env(), b.value, b.data, b.bytes); };
  bool ok = true;
  for (const auto* l : lists)
    for (const Bytes& b : *l) ok = ok && same(b);
  for (const Bytes* b : singles) ok = ok && same(*b);
  if (ok) return true;
  return c.range_error("an array was detached or resized while the call read its other arguments "
                       "(by a getter, or another thread growing its buffer)");
}

// One run's arrays against the plan, in this order: the counts (RangeError), the element types
// the plan was recorded with (TypeError: the kernels read them as such, and the same type means
// aligned memory, a typed array's offset being a multiple of its element size), the byte sizes
// (RangeError), and the output apart from every array the run reads (RangeError).
// The weights are given by their sizes and types (planRun: arrays; planRunAsync: a pack).
bool check_run(const Call& c, const plan::Plan& p, const std::vector<Bytes>& ins,
               const std::vector<int64_t>& w_bytes, const std::vector<int>& w_types,
               const std::vector<Bytes>& w_arrays, const Bytes& out) {
  if (ins.size() != p.input_count())
    return c.range_error("the plan takes " + std::to_string(p.input_count()) + " inputs, got " + std::to_string(ins.size()));
  if (w_bytes.size() != p.external_count())
    return c.range_error("the plan reads " + std::to_string(p.external_count()) + " weights, got " + std::to_string(w_bytes.size()));
  for (size_t i = 0; i < ins.size(); ++i)
    if (static_cast<int>(ins[i].type) != p.input_type(i))
      return c.type_error("inputs[" + std::to_string(i) + "] is a " + type_name(ins[i].type) +
                          " but the plan was recorded with a " + type_name(p.input_type(i)));
  for (size_t i = 0; i < w_types.size(); ++i)
    if (w_types[i] != p.external_type(i))
      return c.type_error("weights[" + std::to_string(i) + "] is a " + type_name(w_types[i]) +
                          " but the plan was recorded with a " + type_name(p.external_type(i)));
  for (size_t i = 0; i < w_bytes.size(); ++i)
    if (w_bytes[i] != p.external_bytes(i))
      return c.range_error("weights[" + std::to_string(i) + "] has " + std::to_string(w_bytes[i]) +
                           " bytes but the plan was recorded with " + std::to_string(p.external_bytes(i)));
  for (size_t i = 0; i < ins.size(); ++i)
    if (ins[i].bytes != p.input_bytes(i))
      return c.range_error("inputs[" + std::to_string(i) + "] has " + std::to_string(ins[i].bytes) +
                           " bytes but the plan was recorded with " + std::to_string(p.input_bytes(i)));
  if (out.bytes != p.output_bytes())
    return c.range_error("output has " + std::to_string(out.bytes) + " bytes but the plan produces " +
                         std::to_string(p.output_bytes()));
  auto apart = [&](const Bytes& b) { return out.bytes == 0 || b.bytes == 0 || out.data + out.bytes <= b.data || b.data + b.bytes <= out.data; };
  for (const Bytes& b : ins) if (!apart(b)) return c.range_error("output shares memory with an input");
  for (const Bytes& b : w_arrays) if (!apart(b)) return c.range_error("output shares memory with a weight");
  return true;
}

Value PlanBegin(const Info& info) {
  Call c(info, "planBegin");
  if (!c.count(0)) return c.undef();
  if (!plan::begin_recording()) {
    Napi::Error::New(c.env(), "planBegin: a recording is already running on this thread").ThrowAsJavaScriptException();
    return c.undef();
  }
  recording_refs().release();  // a recording's refs end with it; none should be left here
  return c.undef();
}

Value PlanAbort(const Info& info) {
  Call c(info, "planAbort");
  if (!c.count(0)) return c.undef();
  plan::end_recording();
  recording_refs().release();
  return c.undef();
}

Value PlanEnd(const Info& info) {
  Call c(info, "planEnd");
  std::unique_ptr<plan::Recording> rec = plan::end_recording();
  // the buffers stay referenced until the analysis below is done with their addresses
  struct Release {
    ~Release() { recording_refs().release(); }
  } release;
  if (!c.count(3)) return c.undef();
  if (!rec) {
    Napi::Error::New(c.env(), "planEnd: no recording is running on this thread (planBegin first)").ThrowAsJavaScriptException();
    return c.undef();
  }
  std::vector<Bytes> ins, exts;
  Bytes out;
  if (!bytes_list(c, info, 0, "inputs", &ins) || !bytes_list(c, info, 1, "weights", &exts) ||
      !bytes_of(c, info[2], c.arg("output"), &out) || !still_valid(c, {&ins, &exts}, {&out}))
    return c.undef();
  std::vector<plan::Span> in_spans, ext_spans;
  for (const Bytes& b : ins) in_spans.push_back({b.data, b.bytes, nullptr, static_cast<int>(b.type)});
  for (const Bytes& b : exts) ext_spans.push_back({b.data, b.bytes, nullptr, static_cast<int>(b.type)});
  plan::Span out_span{out.data, out.bytes};
  out_span.buffer = array_buffer_of(c.env(), out.value).data;
  std::string why;
  std::shared_ptr<plan::Plan> p = plan::Plan::create(std::move(*rec), in_spans, ext_spans, out_span, &why);
  if (!p) return Napi::String::New(c.env(), why);
  auto* box = new PlanBox{std::move(p)};  // owned by the External: its finalizer deletes it
  box->accounted = box->plan->arena_bytes();  // one arena; more exist only while runs overlap
  napi_value ext;
  napi_create_external(c.env(), box, [](napi_env env, void* data, void*) {
    auto* b = static_cast<PlanBox*>(data);
    int64_t ignored;
    napi_adjust_external_memory(env, -b->accounted, &ignored);
    delete b;
  }, nullptr, &ext);
  napi_type_tag_object(c.env(), ext, &kPlanTag);
  int64_t ignored;
  napi_adjust_external_memory(c.env(), box->accounted, &ignored);
  return Napi::Value(c.env(), ext);
}

Value PlanInfo(const Info& info) {
  Call c(info, "planInfo");
  std::shared_ptr<plan::Plan> p;
  if (!c.count(1) || !plan_arg(c, info, 0, &p)) return c.undef();
  Napi::Object o = Napi::Object::New(c.env());
  Napi::Array k = Napi::Array::New(c.env(), p->kernels().size());
  for (size_t i = 0; i < p->kernels().size(); ++i) k.Set(static_cast<uint32_t>(i), p->kernels()[i]);
  o.Set("kernels", k);
  o.Set("arenaBytes", static_cast<double>(p->arena_bytes()));
  o.Set("inputs", static_cast<double>(p->input_count()));
  o.Set("weights", static_cast<double>(p->external_count()));
  o.Set("outputBytes", static_cast<double>(p->output_bytes()));
  return o;
}

Value PlanRun(const Info& info) {
  Call c(info, "planRun");
  std::shared_ptr<plan::Plan> p;
  // reused: planRun runs on this thread only, one at a time, and is called per prediction
  thread_local std::vector<Bytes> ins, exts;
  thread_local std::vector<const uint8_t*> in_ptrs, ext_ptrs;
  Bytes out;
  if (!c.count(4) || !plan_arg(c, info, 0, &p) || !bytes_list(c, info, 1, "inputs", &ins) ||
      !bytes_list(c, info, 2, "weights", &exts) || !bytes_of(c, info[3], c.arg("output"), &out) ||
      !still_valid(c, {&ins, &exts}, {&out}))
    return c.undef();
  std::vector<int64_t> w_bytes;
  std::vector<int> w_types;
  for (const Bytes& b : exts) w_bytes.push_back(b.bytes), w_types.push_back(static_cast<int>(b.type));
  if (!check_run(c, *p, ins, w_bytes, w_types, exts, out)) return c.undef();
  if (plan::Recording* rec = plan::active_recording()) rec->refuse("a plan ran during the recording");
  in_ptrs.clear();
  ext_ptrs.clear();
  for (const Bytes& b : ins) in_ptrs.push_back(b.data);
  for (const Bytes& b : exts) ext_ptrs.push_back(b.data);
  std::unique_ptr<plan::Arena> arena = p->take_arena();
  p->run(arena.get(), in_ptrs.data(), ext_ptrs.data(), out.data);
  p->give_arena(std::move(arena));
  return c.undef();
}

// Weights copied into memory no JavaScript can detach or resize: what an async run reads off
// the JS thread (planWeights makes one; lib makes one per version of a model's weights).
struct WeightPack {
  std::vector<int64_t> bytes, offsets;
  std::vector<int> types;
  ScratchBuffer mem;
  uint8_t* base = nullptr;
};

struct PackBox {
  std::shared_ptr<WeightPack> pack;
  int64_t accounted = 0;
};

constexpr napi_type_tag kWeightsTag = {0x67667765696768ULL, 0x51c3e7a9026b4d8fULL};

Value PlanWeights(const Info& info) {
  Call c(info, "planWeights");
  std::vector<Bytes> ws;
  if (!c.count(1) || !bytes_list(c, info, 0, "weights", &ws) || !still_valid(c, {&ws}, {})) return c.undef();
  auto pack = std::make_shared<WeightPack>();
  int64_t total = 0;
  for (const Bytes& b : ws) {
    pack->types.push_back(static_cast<int>(b.type));
    pack->bytes.push_back(b.bytes);
    pack->offsets.push_back(total);
    total += (b.bytes + 63) / 64 * 64;
  }
  pack->base = static_cast<uint8_t*>(pack->mem.get(static_cast<size_t>(total > 0 ? total : 1)));
  for (size_t i = 0; i < ws.size(); ++i)
    if (ws[i].bytes > 0) std::memcpy(pack->base + pack->offsets[i], ws[i].data, static_cast<size_t>(ws[i].bytes));
  auto* box = new PackBox{std::move(pack), total};  // owned by the External: its finalizer deletes it
  napi_value ext;
  napi_create_external(c.env(), box, [](napi_env env, void* data, void*) {
    auto* b = static_cast<PackBox*>(data);
    int64_t ignored;
    napi_adjust_external_memory(env, -b->accounted, &ignored);
    delete b;
  }, nullptr, &ext);
  napi_type_tag_object(c.env(), ext, &kWeightsTag);
  int64_t ignored;
  napi_adjust_external_memory(c.env(), total, &ignored);
  return Napi::Value(c.env(), ext);
}

bool weights_arg(const Call& c, const Info& info, size_t i, std::shared_ptr<WeightPack>* out) {
  PackBox* box = nullptr;
  if (!tagged_arg(c, info, i, kWeightsTag, "weights", "weights from planWeights", &box)) return false;
  *out = box->pack;
  return true;
}

// One async execution. Created and destroyed on the JS thread; execute() alone runs on a
// libuv thread and touches only memory this struct owns: the arena (with the input copies),
// the weight pack and its own output buffer, which the completion copies into the output
// array if that array still is what it was at the call.
struct AsyncRun {
  napi_env env = nullptr;
  napi_async_work work = nullptr;
  std::shared_ptr<plan::Plan> plan;
  std::unique_ptr<plan::Arena> arena;
  std::shared_ptr<WeightPack> weights;
  std::vector<const uint8_t*> inputs;     // copies in the arena
  std::vector<const uint8_t*> externals;  // in the weight pack
  ScratchBuffer result;                   // the plan's output, copied out on completion
  Bytes output;                           // the output array as it was at the call
  napi_ref output_ref = nullptr;
  napi_ref callback = nullptr;
  std::string error;                      // set by execute() when a kernel threw
  double seconds = 0;                     // how long execute() ran
  bool done = false;                      // completion ran (the token stays valid after)
};

// The token that planRunAsync returns: owns the AsyncRun until the JS side drops it and the
// run has completed, whichever is later.
struct RunToken {
  std::shared_ptr<AsyncRun> run;
};

void execute_run(napi_env, void* data) {
  AsyncRun* r = static_cast<RunToken*>(data)->run.get();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    uint8_t* out = static_cast<uint8_t*>(r->result.get(static_cast<size_t>(std::max<int64_t>(1, r->plan->output_bytes()))));
    r->plan->run(r->arena.get(), r->inputs.data(), r->externals.data(), out);
    r->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } catch (const std::exception& e) {
    r->error = std::string("gradforge native error: ") + e.what();
  } catch (...) {
    r->error = "gradforge native error: unknown C++ exception";
  }
}

void complete_run(napi_env env, napi_status status, void* data) {
  // the token's shared_ptr keeps the run alive; this one keeps it alive through the callback
  std::shared_ptr<AsyncRun> self = static_cast<RunToken*>(data)->run;
  delete static_cast<RunToken*>(data);
  AsyncRun& r = *self;
  r.done = true;
  r.plan->give_arena(std::move(r.arena));
  napi_delete_async_work(env, r.work);
  r.work = nullptr;
  if (status == napi_ok && r.error.empty() && r.output.bytes > 0) {
    // written here, on the JS thread, and only into the array as it was at the call
    napi_value out = nullptr;
    napi_get_reference_value(env, r.output_ref, &out);
    if (unchanged(env, out, r.output.data, r.output.bytes)) {
      std::memcpy(r.output.data, r.result.get(static_cast<size_t>(r.output.bytes)), static_cast<size_t>(r.output.bytes));
    } else {
      r.error = "planRunAsync: the output was detached or resized before the run completed; nothing was written";
    }
  }
  napi_delete_reference(env, r.output_ref);
  r.output_ref = nullptr;
  napi_value cb, global, argv[3];
  napi_get_reference_value(env, r.callback, &cb);
  napi_delete_reference(env, r.callback);
  r.callback = nullptr;
  napi_get_global(env, &global);
  if (status == napi_cancelled) {
    napi_get_null(env, &argv[0]);
    napi_get_boolean(env, true, &argv[1]);
  } else {
    if (r.error.empty() && status == napi_ok) napi_get_null(env, &argv[0]);
    else napi_create_string_utf8(env, r.error.empty() ? "plan execution failed" : r.error.c_str(), NAPI_AUTO_LENGTH, &argv[0]);
    napi_get_boolean(env, false, &argv[1]);
  }
  napi_create_double(env, status == napi_cancelled ? 0.0 : r.seconds, &argv[2]);
  if (cb != nullptr) napi_call_function(env, global, cb, 3, argv, nullptr);  // an exception it throws surfaces as uncaught
}

Value PlanRunAsync(const Info& info) {
  Call c(info, "planRunAsync");
  std::shared_ptr<plan::Plan> p;
  std::shared_ptr<WeightPack> pack;
  std::vector<Bytes> ins;
  Bytes out;
  if (!c.count(5) || !plan_arg(c, info, 0, &p) || !bytes_list(c, info, 1, "inputs", &ins) ||
      !weights_arg(c, info, 2, &pack) || !bytes_of(c, info[3], c.arg("output"), &out) ||
      !still_valid(c, {&ins}, {&out}))
    return c.undef();
  // as planRun checks them; the weights are the pack's
  if (!check_run(c, *p, ins, pack->bytes, pack->types, {}, out)) return c.undef();
  if (!info[4].IsFunction()) return c.type_error("argument 'done' must be a function, got " + describe(info[4])), c.undef();
  auto run = std::make_shared<AsyncRun>();
  AsyncRun& r = *run;
  r.env = c.env();
  r.plan = p;
  r.weights = pack;
  r.arena = p->take_arena();
  // inputs copied now: the caller may change its arrays as soon as this returns
  for (size_t i = 0; i < ins.size(); ++i) {
    uint8_t* dst = p->input_copy(r.arena.get(), i);
    if (ins[i].bytes > 0) std::memcpy(dst, ins[i].data, static_cast<size_t>(ins[i].bytes));
    r.inputs.push_back(dst);
  }
  for (size_t i = 0; i < pack->bytes.size(); ++i) r.externals.push_back(pack->base + pack->offsets[i]);
  r.result.get(static_cast<size_t>(std::max<int64_t>(1, out.bytes)));  // allocated here, not on the worker
  r.output = out;
  napi_create_reference(c.env(), out.value, 1, &r.output_ref);
  napi_create_reference(c.env(), info[4], 1, &r.callback);
  napi_value name;
  napi_create_string_utf8(c.env(), "gradforge:plan", NAPI_AUTO_LENGTH, &name);
  auto* token_for_work = new RunToken{run};  // deleted by complete_run
  if (napi_create_async_work(c.env(), nullptr, name, execute_run, complete_run, token_for_work, &r.work) != napi_ok ||
      napi_queue_async_work(c.env(), r.work) != napi_ok) {
    delete token_for_work;
    p->give_arena(std::move(r.arena));
    napi_delete_reference(c.env(), r.output_ref);
    napi_delete_reference(c.env(), r.callback);
    if (r.work) napi_delete_async_work(c.env(), r.work);
    Napi::Error::New(c.env(), "planRunAsync: could not queue the work").ThrowAsJavaScriptException();
    return c.undef();
  }
  // the token JS holds for planCancel
  auto* token = new RunToken{run};
  napi_value ext;
  napi_create_external(c.env(), token, [](napi_env, void* data, void*) { delete static_cast<RunToken*>(data); }, nullptr, &ext);
  napi_type_tag_object(c.env(), ext, &kRunTag);
  return Napi::Value(c.env(), ext);
}

Value PlanCancel(const Info& info) {
  Call c(info, "planCancel");
  RunToken* token = nullptr;
  if (!c.count(1) || !tagged_arg(c, info, 0, kRunTag, "run", "a token from planRunAsync", &token)) return c.undef();
  AsyncRun& r = *token->run;
  // true: it had not started, and its completion reports it cancelled
  const bool cancelled = !r.done && r.work != nullptr && napi_cancel_async_work(c.env(), r.work) == napi_ok;
  return Napi::Boolean::New(c.env(), cancelled);
}

}  // namespace

void add_plan_exports(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Function::Callback fn;
  };
  const Entry entries[] = {
      {"planBegin", guard<PlanBegin>},       {"planAbort", guard<PlanAbort>},
      {"planEnd", guard<PlanEnd>},           {"planInfo", guard<PlanInfo>},
      {"planRun", guard<PlanRun>},           {"planRunAsync", guard<PlanRunAsync>},
      {"planWeights", guard<PlanWeights>},
      {"planCancel", guard<PlanCancel>},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace binding
}  // namespace gf
