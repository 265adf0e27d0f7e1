// guard<F>: runs an N-API export so that no C++ exception crosses into Node: a
// std::exception (std::bad_alloc from scratch growth, say) becomes a JS Error.
#pragma once
#include <napi.h>

#include <exception>
#include <string>

#include "plan/plan.h"

namespace gf {
namespace binding {

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guard(const Napi::CallbackInfo& info) {
  const char* what = nullptr;
  std::string msg;
  try {
    return F(info);
  } catch (const std::exception& e) {
    msg = e.what();
    what = msg.c_str();
  } catch (...) {
    what = "unknown C++ exception";
  }
  Napi::Env env = info.Env();
  if (!env.IsExceptionPending())
    Napi::Error::New(env, std::string("gradforge native error: ") + what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// guard<F> for a kernel that execution plans cannot replay (backward passes, optimizer steps,
// training-mode batch norm): called while this thread records a plan, it makes the recording
// refuse, naming itself (the export's data is its name).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value unrecordable(const Napi::CallbackInfo& info) {
  if (plan::Recording* rec = plan::active_recording())
    rec->refuse(std::string(static_cast<const char*>(info.Data())) +
                " ran during the recording, and plans do not replay it (a training pass?)");
  return guard<F>(info);
}

// The conv/pool/batchnorm exports (native/binding/cnn.cc).
void add_cnn_exports(Napi::Env env, Napi::Object exports);

// The execution-plan exports: planBegin, planEnd, planRun, planRunAsync, ... (native/binding/plan.cc).
void add_plan_exports(Napi::Env env, Napi::Object exports);

// The recurrent-network exports: rnnWorkspaceSize, rnnForward, rnnBackward (native/binding/rnn.cc).
void add_rnn_exports(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace gf
