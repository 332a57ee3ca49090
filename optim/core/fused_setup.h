#pragma once
// The fused CPU driver's set-up of a step, on ATen's threads: for every
// parameter it takes, the step begun and the job's pointers and scalars
// written into the batch. Each parameter is prepared as on every other path
// (param_state.h); what runs here is only what may run off the step's own
// thread, so a parameter's first step, which makes its state, is left to
// OptimizerBase::update.

#include "optim/core/clip.h"
#include "optim/core/param_state.h"
#include "optim/core/parallel_for.h"
#include "optim/core/step_checks.h"
#include "optim/kernels/fused_cpu.h"

#include <c10/util/irange.h>
#include <torch/optim/optimizer.h>

#include <tuple>
#include <utility>
#include <vector>

namespace adaptive {
namespace detail {

/// Whether the fused CPU driver takes a step of `param` with `grad` and
/// `state` as they stand, for optimizer `Derived`: fused options, a dense
/// gradient, and every tensor one kernels::fused_eligible takes (CPU,
/// float32 or float64, contiguous).
template <class Derived>
bool fused_cpu_takes(const typename Derived::Options& options, const torch::Tensor& param, const torch::Tensor& grad,
                     const typename Derived::State& state) {
  if (!options.fused() || !grad.defined() || grad.layout() != torch::kStrided) return false;
  return std::apply([&](const auto&... tensors) { return kernels::fused_eligible(param, grad, {tensors...}); },
                    Derived::state_tensors(state));
}

/// Starts the step of every parameter of `groups` that is a fused CPU job
/// and already has its state (or keeps none), on ATen's threads: the step
/// begun, the checks of fused_eligible and the job's pointers, into `cpu`,
/// in order. That set-up takes about as long as updating 500 elements, so on
/// many small tensors, done on one thread, it would take as long as the
/// update itself. `grads`: from StepChecks::checked_gradients (undefined:
/// no step); `gradient`: each group's clipping and sign. Returns the other
/// parameters that have a gradient, (group, index) in order, for
/// OptimizerBase::update: first steps, sparse gradients, and the CUDA and
/// reference drivers.
template <class Derived, class Batch>
std::vector<std::pair<size_t, size_t>> set_up_fused_cpu(const std::vector<torch::optim::OptimizerParamGroup>& groups,
                                                        torch_state_map& states,
                                                        const std::vector<std::vector<torch::Tensor>>& grads,
                                                        std::vector<GroupGradient>& gradient, Batch& cpu) {
  using Options = typename Derived::Options;
  using State = typename Derived::State;
  using Checks = StepChecks<Derived, Options>;
  struct Entry {
    size_t gi, pi;
    bool candidate;  // fused options, a CPU parameter in float32 or float64, a dense gradient
    bool is_double;
    size_t slot;     // a candidate's place among `cpu`'s new jobs of its dtype
    bool done;       // set up here (each entry is written by one thread)
  };
  std::vector<Entry> entries;
  size_t params_count = 0;
  for (const auto& group : groups) params_count += group.params().size();
  entries.reserve(params_count);
  std::vector<const Options*> options_of_group;
  std::vector<GradientScalars<double>> host(groups.size());
  size_t count[2] = {0, 0};  // candidates in float32, in float64
  for (const auto gi : c10::irange(groups.size())) {
    const Options& options = Checks::options_of(groups, gi);
    options_of_group.push_back(&options);
    const auto& params = groups[gi].params();
    bool any = false;
    for (const auto pi : c10::irange(params.size())) {
      const torch::Tensor& g = grads[gi][pi];
      if (!g.defined()) continue;
      const auto dtype = params[pi].scalar_type();
      const bool candidate = options.fused() && params[pi].device().is_cpu() && !g.is_sparse() &&
                             (dtype == at::kFloat || dtype == at::kDouble);
      const bool is_double = dtype == at::kDouble;
      entries.push_back({gi, pi, candidate, is_double, candidate ? count[is_double]++ : 0, /*done=*/false});
      any = any || candidate;
    }
    // host() may read (once) a coefficient on the GPU: here, not from several threads.
    if (any) host[gi] = gradient[gi].host();
  }
  const size_t first[2] = {cpu.template reserve<float>(count[0]), cpu.template reserve<double>(count[1])};
  const auto set_up = [&](int64_t begin, int64_t end) {
    typename Batch::template ScalarsCache<float> f32;
    typename Batch::template ScalarsCache<double> f64;
    for (int64_t k = begin; k < end; ++k) {
      Entry& e = entries[k];
      if (!e.candidate) continue;
      const Options& options = *options_of_group[e.gi];
      const torch::Tensor& param = groups[e.gi].params()[e.pi];
      const torch::Tensor& grad = grads[e.gi][e.pi];
      State none;  // when the options keep no state
      State* state = existing_state<Derived>(states, param, options, none);
      if (state == nullptr) continue;  // its first step: `states` changes, on the step's thread
      if (!fused_cpu_takes<Derived>(options, param, grad, *state)) continue;
      // What begin_step may make (SGD's momentum buffer) is made like the parameter: eligible too.
      const std::pair<const void*, int64_t> key = begin_step<Derived>(*state, param, options);
      const auto make_scalars = [&](auto zero) {
        return Derived::template scalars<decltype(zero)>(options, *state, host[e.gi]);
      };
      std::apply(
          [&](const auto&... tensors) {
            const size_t slot = first[e.is_double] + e.slot;
            if (e.is_double) {
              cpu.template set<double>(slot, param, grad, {&tensors...}, f64.get(key, make_scalars));
            } else {
              cpu.template set<float>(slot, param, grad, {&tensors...}, f32.get(key, make_scalars));
            }
          },
          Derived::state_tensors(*state));
      e.done = true;
    }
  };
  // Nothing to set up (CUDA, fused(false), bfloat16...): wake no thread.
  if (count[0] + count[1] > 0) parallel_for(static_cast<int64_t>(entries.size()), Checks::kSetupGrain, set_up);
  std::vector<std::pair<size_t, size_t>> rest;
  for (const Entry& e : entries) {
    if (!e.done) rest.emplace_back(e.gi, e.pi);
  }
  return rest;
}

}  // namespace detail
}  // namespace adaptive
