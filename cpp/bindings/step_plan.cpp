// StepPlan (step_plan.h) and its Python class, ranvier._cpu.StepPlan.
#include "step_plan.h"

#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ranvier::bindings {

namespace {

thread_local StepPlan* recording = nullptr;
thread_local bool input_copied = false;

}  // namespace

StepPlan* recording_plan() { return recording; }

void note_input_copied() { input_copied = true; }

void StepPlan::start() {
  if (recording != nullptr) throw std::runtime_error("[StepPlan] start: this thread already records a plan");
  steps_.clear();
  seed_slots_ = 0;
  input_copied = false;
  recording_ = true;
  recording = this;
}

void StepPlan::stop() {
  if (recording == this) recording = nullptr;
  recording_ = false;
}

void StepPlan::add(const char* op, StepKernel kernel) {
  steps_.push_back({op, std::move(kernel), input_copied});
  input_copied = false;
}

void StepPlan::add_seeded(const char* op, StepKernel kernel) {
  add(op, std::move(kernel));
  ++seed_slots_;
}

StepScalars StepPlan::checked_scalars(double lr, std::int64_t step, const std::vector<std::uint64_t>& seeds) const {
  if (recording_) throw std::runtime_error("[StepPlan] run: the plan is still recording (call stop first)");
  if (!(std::isfinite(lr) && lr >= 0.0)) throw py::value_error("[StepPlan] run: lr must be finite and >= 0");
  if (step < 1) throw py::value_error("[StepPlan] run: step must be >= 1");
  if (seeds.size() != seed_slots_)
    throw py::value_error("[StepPlan] run: seeds must hold one seed per seeded call (" + std::to_string(seed_slots_) +
                          "), got " + std::to_string(seeds.size()));
  return {lr, step, seeds.data()};
}

void StepPlan::run(double lr, std::int64_t step, const std::vector<std::uint64_t>& seeds) const {
  const StepScalars scalars = checked_scalars(lr, step, seeds);
  py::gil_scoped_release release;
  for (const Step& s : steps_) s.kernel(scalars);
}

std::vector<double> StepPlan::run_timed(double lr, std::int64_t step, const std::vector<std::uint64_t>& seeds) const {
  const StepScalars scalars = checked_scalars(lr, step, seeds);
  std::vector<double> seconds;
  seconds.reserve(steps_.size());
  py::gil_scoped_release release;
  for (const Step& s : steps_) {
    const auto start = std::chrono::steady_clock::now();
    s.kernel(scalars);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return seconds;
}

std::vector<std::string> StepPlan::ops() const {
  std::vector<std::string> names;
  for (const Step& s : steps_) names.push_back(s.op);
  return names;
}

std::vector<std::string> StepPlan::copied_inputs() const {
  std::vector<std::string> names;
  for (const Step& s : steps_)
    if (s.read_a_copy) names.push_back(s.op);
  return names;
}

void bind_step_plan(py::module_& m) {
  py::class_<StepPlan>(m, "StepPlan",
                       "The kernel calls of one training step, recorded between start() and stop() on this thread "
                       "and replayed by run(lr, step) with the GIL released (ranvier.step_replay checks a plan "
                       "before it replays one)")
      .def(py::init<>())
      .def("start", &StepPlan::start, "keep every kernel call this thread makes from now on (and still run it)")
      .def("stop", &StepPlan::stop)
      .def("run", &StepPlan::run, py::arg("lr"), py::arg("step"), py::arg("seeds") = std::vector<std::uint64_t>{},
           "run the recorded calls again, in order; optimizer updates take this lr and step, the seeded calls "
           "(dropout) one seed each from seeds, in recording order")
      .def("run_timed", &StepPlan::run_timed, py::arg("lr"), py::arg("step"),
           py::arg("seeds") = std::vector<std::uint64_t>{},
           "run(), timing each call: a list of seconds per recorded call, in order")
      .def_property_readonly("seed_count", &StepPlan::seed_count, "the seeds a replay takes (seeded calls)")
      .def_property_readonly("ops", &StepPlan::ops, "the recorded calls' op names, in order")
      .def_property_readonly("copied_inputs", &StepPlan::copied_inputs,
                             "ops whose call read a dense copy of a strided input (not replayable)")
      .def("__len__", &StepPlan::size);
}

}  // namespace ranvier::bindings
