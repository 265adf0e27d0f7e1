// Execution plans: a forward pass recorded once as a list of kernel calls, replayed natively
// over preallocated memory (docs/ARCHITECTURE.md, "Execution plans").
//
// It is: the recording (each checked kernel call of the binding appends a Step: a function of
// its operand pointers, with the pointers and byte extents it was called with), the analysis
// that turns the recorded pointers into (region, offset) references once, and the replay. Three
// kinds of region: inputs and externals (weights) are bound to caller memory at each run;
// intermediates live in an Arena that the plan owns, one per concurrent execution.
// It is not: N-API (native/binding/plan.cc is), scheduling (lib decides what runs where), or a
// graph optimizer (fusions come on top of the step list).
//
// The analysis refuses a recording it cannot replay faithfully, with a reason: a kernel that
// reads bytes no earlier step wrote and that are not an input or external (JavaScript computed
// them between kernels, so a replay would read stale values), a write into an input or an
// external, a kernel that cannot be recorded (backward passes, optimizer steps, training-mode
// batch norm), or an output that no step produced.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu/scratch.h"

namespace gf {
namespace plan {

enum class Access : uint8_t { Read, Write, ReadWrite };

// One array operand of a kernel call as recorded: where it was, and which allocation (the
// JavaScript ArrayBuffer) holds it, so that views of one buffer land in one region.
struct RecordedOperand {
  const uint8_t* ptr = nullptr;  // null: an absent optional array
  int64_t bytes = 0;
  Access access = Access::Read;
  const uint8_t* buffer = nullptr;  // start of the allocation holding ptr
  int64_t buffer_bytes = 0;
};

// A kernel call bound to everything but its array pointers, which it receives in the order of
// its operands. It must capture by value: it runs again later, on other threads too.
using StepFn = std::function<void(void* const* ptrs)>;

struct RecordedStep {
  std::string kernel;
  StepFn fn;
  std::vector<RecordedOperand> operands;
};

// The recording of one forward pass, on the thread that started it. Whoever records keeps
// every allocation an operand lives in alive until the recording ends (the binding holds a
// reference to each ArrayBuffer), so no address is reused by another allocation meanwhile: two
// operands at one address are one buffer.
struct Recording {
  std::vector<RecordedStep> steps;
  std::string refused;  // the first reason the recording cannot become a plan, or empty
  void refuse(const std::string& why) {
    if (refused.empty()) refused = why;
  }
};

// The recording running on this thread, or null. Kernels called while one runs still compute
// (the recorded pass is also the op-by-op pass); they append their step as well.
Recording* active_recording();
// Starts a recording on this thread; false if one is already running here.
bool begin_recording();
// Ends this thread's recording and hands it over (null if none was running).
std::unique_ptr<Recording> end_recording();

// Memory the caller names when it turns a recording into a plan: inputs and externals are
// bound anew at every run (they must have these byte sizes then); the output is copied out.
struct Span {
  const uint8_t* ptr = nullptr;
  int64_t bytes = 0;
  const uint8_t* buffer = nullptr;  // the output's: the allocation holding it
  int type = 0;  // the caller's element type code: a run must bind arrays of the same types
};

// Memory for one execution of a plan: its intermediates, and copies of its inputs for runs
// that must not read the caller's arrays later (async runs).
class Arena {
 public:
  explicit Arena(int64_t bytes);
  uint8_t* data() { return static_cast<uint8_t*>(mem_.get(static_cast<size_t>(bytes_ > 0 ? bytes_ : 1))); }

 private:
  int64_t bytes_;
  ScratchBuffer mem_;
};

class Plan {
 public:
  // The plan for a recording, or null with *why saying what prevents it.
  static std::shared_ptr<Plan> create(Recording&& rec, const std::vector<Span>& inputs,
                                      const std::vector<Span>& externals, Span output,
                                      std::string* why);

  // Replays every step. inputs[i] / externals[i] point at memory of the sizes given at
  // creation; output receives output_bytes(). arena comes from take_arena(). Never throws
  // from a step that the recording ran without throwing (the same checked sizes).
  void run(Arena* arena, const uint8_t* const* inputs, const uint8_t* const* externals,
           uint8_t* output) const;

  // An arena for one execution (a pooled one when free); give it back when done.
  std::unique_ptr<Arena> take_arena();
  void give_arena(std::unique_ptr<Arena> a);

  // Where run() may read input i when the caller copies it into the arena first.
  uint8_t* input_copy(Arena* arena, size_t i) const { return arena->data() + input_copy_offset_[i]; }

  size_t input_count() const { return input_bytes_.size(); }
  size_t external_count() const { return external_bytes_.size(); }
  int64_t input_bytes(size_t i) const { return input_bytes_[i]; }
  int input_type(size_t i) const { return input_types_[i]; }
  int external_type(size_t i) const { return external_types_[i]; }
  int64_t external_bytes(size_t i) const { return external_bytes_[i]; }
  int64_t output_bytes() const { return output_bytes_; }
  int64_t arena_bytes() const { return arena_bytes_; }
  const std::vector<std::string>& kernels() const { return kernel_names_; }

 private:
  enum class Kind : uint8_t { Input, External, Intermediate };
  struct Region {
    Kind kind;
    int32_t index;   // input/external number
    int64_t offset;  // intermediates: position in the arena
  };
  struct Ref {
    int32_t region;  // -1: null pointer
    int64_t offset;
  };
  struct Step {
    StepFn fn;
    std::vector<Ref> operands;
  };

  std::vector<Region> regions_;
  std::vector<Step> steps_;
  std::vector<std::string> kernel_names_;
  std::vector<int64_t> input_bytes_, external_bytes_, input_copy_offset_;
  std::vector<int> input_types_, external_types_;
  Ref output_{-1, 0};
  int64_t output_bytes_ = 0;
  int64_t arena_bytes_ = 0;
  size_t max_operands_ = 0;

  std::mutex arenas_mu_;
  std::vector<std::unique_ptr<Arena>> idle_arenas_;
  static constexpr size_t kMaxIdleArenas = 8;
};

}  // namespace plan
}  // namespace gf
