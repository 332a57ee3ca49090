#pragma once
// The "kernel only" side of a benchmark row: adaptive's fused CPU kernels
// run over an optimizer's own tensors, their jobs made once, so that a step
// does none of the per-tensor work of step() (checks, state lookup, job
// set-up). adaptive's time minus this one is that work; this one over the
// floor is what the kernels take on the row's memory with no bookkeeping at
// all. The scalars are made once, from the optimizer's state as it stands
// (after its first step), and reused every time: the arithmetic, not its
// values, sets the time.

#include "optim/optim.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <tuple>

namespace adaptive_benchmark {

/// One step of the fused kernels over every parameter of `opt` (a stepped
/// adaptive optimizer whose options keep the defaults' gradient handling:
/// no clipping, no maximize); nullptr when a parameter has no dense gradient
/// or is not fused-eligible.
template <class Opt>
std::function<void()> kernel_only_step(const Opt& opt) {
  using Rule = typename Opt::Rule;
  using State = typename Opt::State;
  auto batch = std::make_shared<adaptive::kernels::FusedBatch<Rule>>();
  auto stateless = std::make_shared<State>();  // parameters whose options keep no state
  for (const auto& group : opt.param_groups()) {
    const auto& options = static_cast<const typename Opt::Options&>(group.options());
    for (const torch::Tensor& param : group.params()) {
      const auto found = opt.state().find(adaptive::state_key(param));
      const State& state = found == opt.state().end() ? *stateless : static_cast<const State&>(*found->second);
      const torch::Tensor& grad = param.grad();
      if (!Opt::fused_cpu_takes(options, param, grad, state)) return nullptr;
      const auto make_scalars = [&](auto zero) {
        return Opt::template scalars<decltype(zero)>(options, state, adaptive::GradientScalars<double>{});
      };
      std::apply([&](const auto&... tensors) { batch->add(param, grad, {&tensors...}, {&options, 0}, make_scalars); },
                 Opt::state_tensors(state));
    }
  }
  return [batch, stateless]() { batch->run(); };
}

}  // namespace adaptive_benchmark
