// A training step's kernel calls, recorded once and replayed from C++.
//
// While a StepPlan records (on the thread that started it), every binding
// that launches its kernel through `launch` / `launch_update` still runs it
// and also keeps a copy of the call: the kernel with its pointers, sizes and
// scalars, and the arrays it reads and writes held alive by the copy. `run`
// then calls the kept kernels in order with the GIL released once, so a
// later step with the same shapes costs no Python per op.
//
// A replay is only right when every array the kernels read at the next step
// is one the recorded calls read or wrote: ranvier.step_replay checks that
// before it replays (docs/DESIGN.md, "Training steps without Python").
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ranvier::bindings {

namespace py = pybind11;

// What a replay gives anew at each step: the optimizer's learning rate and
// step, and a seed per seeded call (dropout), in recording order; every other
// scalar of a recorded call stays as it was recorded.
struct StepScalars {
  double lr = 0.0;
  std::int64_t step = 0;
  const std::uint64_t* seeds = nullptr;
};

using StepKernel = std::function<void(const StepScalars&)>;

class StepPlan {
 public:
  void start();
  void stop();
  void add(const char* op, StepKernel kernel);
  // The index of the next seeded call's seed among a replay's seeds.
  std::size_t next_seed_slot() const { return seed_slots_; }
  void add_seeded(const char* op, StepKernel kernel);
  void run(double lr, std::int64_t step, const std::vector<std::uint64_t>& seeds) const;
  // run(), timing each call: seconds per recorded call, in order (a profile of the step).
  std::vector<double> run_timed(double lr, std::int64_t step, const std::vector<std::uint64_t>& seeds) const;
  std::size_t seed_count() const { return seed_slots_; }

  std::vector<std::string> ops() const;
  // Steps whose binding copied a strided input first: the copy would be stale at a replay.
  std::vector<std::string> copied_inputs() const;
  std::size_t size() const { return steps_.size(); }

 private:
  struct Step {
    std::string op;
    StepKernel kernel;
    bool read_a_copy;
  };
  StepScalars checked_scalars(double lr, std::int64_t step, const std::vector<std::uint64_t>& seeds) const;

  std::vector<Step> steps_;
  std::size_t seed_slots_ = 0;
  bool recording_ = false;
};

// The plan this thread is recording into, or nullptr (the common case: one thread-local read).
StepPlan* recording_plan();

// HostArray::make_contiguous: the call being made reads a copy of an input, not the input.
void note_input_copied();

// Runs `kernel()` with the GIL released, and keeps it when a plan records.
// `kernel` must capture by value what it reads (arrays as HostArray, which
// keeps them alive), as the replay runs it again later.
template <class Kernel>
void launch(const char* op, Kernel kernel) {
  if (StepPlan* plan = recording_plan()) plan->add(op, [kernel](const StepScalars&) { kernel(); });
  py::gil_scoped_release release;
  kernel();
}

// An optimizer update: `kernel(scalars)` runs now with this call's learning
// rate and step, and at a replay with the replay's.
template <class Kernel>
void launch_update(const char* op, StepScalars now, Kernel kernel) {
  if (StepPlan* plan = recording_plan()) plan->add(op, kernel);
  py::gil_scoped_release release;
  kernel(now);
}

// A call whose kernel takes a seed (dropout): `kernel(seed)` runs now with
// this call's seed, and at a replay with the replay's seed for its slot.
template <class Kernel>
void launch_seeded(const char* op, std::uint64_t seed, Kernel kernel) {
  if (StepPlan* plan = recording_plan()) {
    const std::size_t slot = plan->next_seed_slot();
    plan->add_seeded(op, [kernel, slot](const StepScalars& s) { kernel(s.seeds[slot]); });
  }
  py::gil_scoped_release release;
  kernel(seed);
}

void bind_step_plan(py::module_& m);

}  // namespace ranvier::bindings
