// Execution plans: recording, analysis and replay (see plan.h).
#include "plan/plan.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

namespace gf {
namespace plan {

namespace {

// Per thread: a Node worker_thread records on its own thread without seeing the main
// thread's kernel calls, and a plan running on a libuv thread records nothing.
thread_local std::unique_ptr<Recording> tl_recording;

constexpr int64_t kAlign = 64;

int64_t align_up(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool reads(Access a) { return a == Access::Read || a == Access::ReadWrite; }
bool writes(Access a) { return a == Access::Write || a == Access::ReadWrite; }

// The byte ranges of one intermediate region written so far, merged and sorted.
class Written {
 public:
  void add(int64_t b, int64_t e) {
    if (b >= e) return;
    std::vector<std::pair<int64_t, int64_t>> out;
    out.reserve(ranges_.size() + 1);
    bool placed = false;
    for (const auto& r : ranges_) {
      if (r.second < b) {
        out.push_back(r);
      } else if (e < r.first) {
        if (!placed) out.emplace_back(b, e), placed = true;
        out.push_back(r);
      } else {
        b = std::min(b, r.first);
        e = std::max(e, r.second);
      }
    }
    if (!placed) out.emplace_back(b, e);
    std::sort(out.begin(), out.end());
    ranges_ = std::move(out);
  }
  bool covers(int64_t b, int64_t e) const {
    if (b >= e) return true;
    for (const auto& r : ranges_)
      if (r.first <= b && e <= r.second) return true;
    return false;
  }

 private:
  std::vector<std::pair<int64_t, int64_t>> ranges_;
};

// The index of the span holding [p, p + n), -1 if none; *partial when one overlaps it only
// in part (a view that runs past an input, say).
int find_span(const std::vector<Span>& spans, const uint8_t* p, int64_t n, bool* partial) {
  for (size_t i = 0; i < spans.size(); ++i) {
    const uint8_t* b = spans[i].ptr;
    const uint8_t* e = b + spans[i].bytes;
    if (b == nullptr) continue;
    if (p >= b && p + n <= e && (n > 0 || p < e || spans[i].bytes == 0)) return static_cast<int>(i);
    if (p < e && p + n > b) *partial = true;
  }
  return -1;
}

}  // namespace

Recording* active_recording() { return tl_recording.get(); }

bool begin_recording() {
  if (tl_recording) return false;
  tl_recording = std::make_unique<Recording>();
  return true;
}

std::unique_ptr<Recording> end_recording() { return std::move(tl_recording); }

Arena::Arena(int64_t bytes) : bytes_(bytes) { data(); }

std::shared_ptr<Plan> Plan::create(Recording&& rec, const std::vector<Span>& inputs,
                                   const std::vector<Span>& externals, Span output,
                                   std::string* why) {
  if (!rec.refused.empty()) {
    *why = rec.refused;
    return nullptr;
  }
  std::shared_ptr<Plan> plan(new Plan());
  Plan& p = *plan;
  for (const Span& s : inputs) p.input_bytes_.push_back(s.bytes), p.input_types_.push_back(s.type);
  for (const Span& s : externals) p.external_bytes_.push_back(s.bytes), p.external_types_.push_back(s.type);
  for (size_t i = 0; i < inputs.size(); ++i) p.regions_.push_back({Kind::Input, static_cast<int32_t>(i), 0});
  for (size_t i = 0; i < externals.size(); ++i)
    p.regions_.push_back({Kind::External, static_cast<int32_t>(i), 0});
  const int32_t first_intermediate = static_cast<int32_t>(p.regions_.size());

  // Every other allocation an operand lives in becomes an intermediate region of its size.
  std::map<const uint8_t*, int32_t> by_buffer;
  std::vector<Written> written;
  std::vector<const uint8_t*> region_base;  // recorded start of each intermediate's buffer
  std::vector<int64_t> region_bytes;        // and its size (the largest seen, to be safe)

  // Resolves a recorded pointer to (region, offset); false with *why when it cannot.
  auto resolve = [&](const uint8_t* ptr, int64_t bytes, const uint8_t* buffer, int64_t buffer_bytes,
                     const std::string& what, Ref* out) -> bool {
    if (ptr == nullptr) {
      *out = {-1, 0};
      return true;
    }
    bool partial = false;
    int k = find_span(inputs, ptr, bytes, &partial);
    if (k >= 0) {
      *out = {k, ptr - inputs[k].ptr};
      return true;
    }
    k = find_span(externals, ptr, bytes, &partial);
    if (k >= 0) {
      *out = {static_cast<int32_t>(inputs.size()) + k, ptr - externals[k].ptr};
      return true;
    }
    if (partial) {
      *why = what + " overlaps an input or a weight only in part";
      return false;
    }
    if (buffer == nullptr || ptr < buffer || ptr + bytes > buffer + buffer_bytes) {
      *why = what + " lies outside the buffer it was recorded in";
      return false;
    }
    auto it = by_buffer.find(buffer);
    int32_t r;
    if (it == by_buffer.end()) {
      r = static_cast<int32_t>(p.regions_.size());
      p.regions_.push_back({Kind::Intermediate, -1, 0});
      by_buffer.emplace(buffer, r);
      written.emplace_back();
      region_base.push_back(buffer);
      region_bytes.push_back(buffer_bytes);
    } else {
      r = it->second;
      int64_t& size = region_bytes[r - first_intermediate];
      size = std::max(size, buffer_bytes);
    }
    *out = {r, ptr - buffer};
    return true;
  };

  for (size_t si = 0; si < rec.steps.size(); ++si) {
    RecordedStep& rs = rec.steps[si];
    Step step;
    step.operands.resize(rs.operands.size());
    const std::string at = "step " + std::to_string(si) + " (" + rs.kernel + ")";
    for (size_t k = 0; k < rs.operands.size(); ++k) {
      const RecordedOperand& o = rs.operands[k];
      if (!resolve(o.ptr, o.bytes, o.buffer, o.buffer_bytes, at + " operand " + std::to_string(k),
                   &step.operands[k]))
        return nullptr;
    }
    // Reads first: an in-place kernel reads the operand it overwrites.
    for (size_t k = 0; k < rs.operands.size(); ++k) {
      const Ref& r = step.operands[k];
      if (r.region < first_intermediate || !reads(rs.operands[k].access)) continue;
      if (!written[r.region - first_intermediate].covers(r.offset, r.offset + rs.operands[k].bytes)) {
        *why = at + " reads memory that no earlier kernel wrote and that is not an input or a " +
               "weight (something computed it in JavaScript between the kernels)";
        return nullptr;
      }
    }
    for (size_t k = 0; k < rs.operands.size(); ++k) {
      const Ref& r = step.operands[k];
      if (r.region < 0 || !writes(rs.operands[k].access)) continue;
      if (r.region < first_intermediate) {
        *why = at + (r.region < static_cast<int32_t>(inputs.size()) ? " writes into an input"
                                                                      : " writes into a weight");
        return nullptr;
      }
      written[r.region - first_intermediate].add(r.offset, r.offset + rs.operands[k].bytes);
    }
    p.max_operands_ = std::max(p.max_operands_, rs.operands.size());
    step.fn = std::move(rs.fn);
    p.kernel_names_.push_back(rs.kernel);
    p.steps_.push_back(std::move(step));
  }

  // The output: in an input (a model that only reshapes) or in memory a step wrote in full.
  if (output.ptr == nullptr && output.bytes > 0) {
    *why = "the output has no memory";
    return nullptr;
  }
  bool partial = false;
  const int in = find_span(inputs, output.ptr, output.bytes, &partial);
  if (in >= 0) {
    p.output_ = {in, output.ptr - inputs[in].ptr};
  } else {
    // the intermediate of the output's own allocation, written in full
    auto it = output.buffer == nullptr ? by_buffer.end() : by_buffer.find(output.buffer);
    const int32_t r = it == by_buffer.end() ? -1 : it->second;
    const int64_t off = output.ptr - output.buffer;
    if (r < 0 || !written[r - first_intermediate].covers(off, off + output.bytes)) {
      *why = "no kernel wrote the whole output (JavaScript computed it, or it is a weight)";
      return nullptr;
    }
    p.output_ = {r, off};
  }
  p.output_bytes_ = output.bytes;

  // The arena: the intermediates, then room for input copies (async runs copy their inputs in).
  for (size_t i = 0; i < region_bytes.size(); ++i) {
    p.regions_[first_intermediate + i].offset = p.arena_bytes_;
    p.arena_bytes_ += align_up(region_bytes[i]);
  }
  for (const Span& s : inputs) {
    p.input_copy_offset_.push_back(p.arena_bytes_);
    p.arena_bytes_ += align_up(s.bytes);
  }
  return plan;
}

void Plan::run(Arena* arena, const uint8_t* const* inputs, const uint8_t* const* externals,
               uint8_t* output) const {
  uint8_t* const mem = arena->data();
  // reused per thread: a replay of a small model is a few microseconds, mallocs would show
  thread_local std::vector<uint8_t*> base;
  thread_local std::vector<void*> ptrs;
  base.resize(regions_.size());
  ptrs.resize(max_operands_ > 0 ? max_operands_ : 1);
  for (size_t r = 0; r < regions_.size(); ++r) {
    const Region& reg = regions_[r];
    switch (reg.kind) {
      case Kind::Input: base[r] = const_cast<uint8_t*>(inputs[reg.index]); break;
      case Kind::External: base[r] = const_cast<uint8_t*>(externals[reg.index]); break;
      case Kind::Intermediate: base[r] = mem + reg.offset; break;
    }
  }
  for (const Step& s : steps_) {
    for (size_t k = 0; k < s.operands.size(); ++k) {
      const Ref& r = s.operands[k];
      ptrs[k] = r.region < 0 ? nullptr : base[r.region] + r.offset;
    }
    s.fn(ptrs.data());
  }
  if (output_bytes_ > 0) std::memcpy(output, base[output_.region] + output_.offset, static_cast<size_t>(output_bytes_));
}

std::unique_ptr<Arena> Plan::take_arena() {
  {
    std::lock_guard<std::mutex> lk(arenas_mu_);
    if (!idle_arenas_.empty()) {
      std::unique_ptr<Arena> a = std::move(idle_arenas_.back());
      idle_arenas_.pop_back();
      return a;
    }
  }
  return std::make_unique<Arena>(arena_bytes_);
}

void Plan::give_arena(std::unique_ptr<Arena> a) {
  std::lock_guard<std::mutex> lk(arenas_mu_);
  if (idle_arenas_.size() < kMaxIdleArenas) idle_arenas_.push_back(std::move(a));
}

}  // namespace plan
}  // namespace gf
