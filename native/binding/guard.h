// guard<F>: runs an N-API export so that no C++ exception crosses into Node: a
// std::exception (std::bad_alloc from scratch growth, say) becomes a JS Error.
#pragma once
#include <napi.h>

#include <exception>
#include <string>

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

// The conv/pool/batchnorm exports (native/binding/cnn.cc).
void add_cnn_exports(Napi::Env env, Napi::Object exports);

// The recurrent-network exports: rnnWorkspaceSize, rnnForward, rnnBackward (native/binding/rnn.cc).
void add_rnn_exports(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace gf
