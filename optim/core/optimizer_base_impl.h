#pragma once
// OptimizerBase's member definitions (optimizer_base.h declares them): the
// step, the checks of a new group, save and load. Only the translation units
// that instantiate an optimizer's shell include this file:
// optim/core/optimizer_instances.cc, once for every optimizer of
// optim/optimizers.h, and an optimizer written outside the library
// (tests/hook_contract_test.cc). Every other file that uses an optimizer
// links those instances instead of compiling the shell again: with eleven
// optimizers that was about 22 s of each test's compile (docs/architecture.md).

#include "optim/core/optimizer_base.h"
#include "optim/core/sparse_entries.h"
#include "optim/kernels/dispatch.h"

#include <cmath>

namespace adaptive {

template <class Derived, class OptionsT, class StateT>
torch::Tensor OptimizerBase<Derived, OptionsT, StateT>::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  const torch::Tensor loss = detail::run_closure(closure);
  std::vector<std::vector<torch::Tensor>> grads = checked_gradients(param_groups_, &unique_params_, &state_);
  const std::vector<torch::Tensor> dropped = skip_nonfinite_groups(param_groups_, grads, skipped_steps_);
  std::vector<GroupGradient> gradient = gradient_scalars(grads, dropped);
  if constexpr (hooks::steps_whole_tensors<Derived>()) {
    step_whole_tensors(grads, gradient);
  } else {
    step_elementwise(grads, gradient);
  }
  return loss;
}

template <class Derived, class OptionsT, class StateT>
bool OptimizerBase<Derived, OptionsT, StateT>::step_unscaling(double inv_scale) {
  TORCH_CHECK(std::isfinite(inv_scale) && inv_scale > 0, Derived::kName, ": step_unscaling: inv_scale is ",
              inv_scale, "; the inverse of a loss scale must be positive and finite");
  TORCH_CHECK(!norm_source_, Derived::kName,
              ": step_unscaling: this optimizer's clipping norm comes from a source of its own "
              "(set_grad_norm_source), which knows nothing of the loss scale");
  torch::NoGradGuard no_grad;
  std::vector<std::vector<torch::Tensor>> grads = checked_gradients(param_groups_, &unique_params_, &state_);
  unscale_ = inv_scale;
  struct Reset {
    double& value;
    ~Reset() { value = 1; }
  } reset{unscale_};
  // The scalars first: where the step clips by norm on the host, their norm's
  // pass reads every gradient anyway, and a finite norm (accumulated in
  // double, before value clipping) means finite gradients. Otherwise (no
  // norm clipping, the norm on a GPU, a non-finite norm or a float64 sum
  // that overflowed) the inf check reads every gradient once
  // (kernels::fused_all_finite). Nothing is written before it passes.
  std::vector<GroupGradient> gradient = gradient_scalars(grads, {});
  const bool finite_norm = last_grad_norm_ && std::isfinite(*last_grad_norm_);
  if (!finite_norm && !Inputs::all_finite(grads)) return false;
  // Every gradient is finite: skip_nonfinite would skip nothing.
  if constexpr (hooks::steps_whole_tensors<Derived>()) {
    step_whole_tensors(grads, gradient);
  } else {
    step_elementwise(grads, gradient);
  }
  return true;
}

template <class Derived, class OptionsT, class StateT>
template <class Grads>
void OptimizerBase<Derived, OptionsT, StateT>::step_whole_tensors(const Grads& grads,
                                                                  std::vector<GroupGradient>& gradient) {
  for (const auto gi : c10::irange(param_groups_.size())) {
    const Options& options = options_at(gi);
    for (const auto pi : c10::irange(param_groups_[gi].params().size())) {
      const torch::Tensor& grad = grads[gi][pi];
      if (!grad.defined()) continue;
      const torch::Tensor& param = param_groups_[gi].params()[pi];
      State none;
      State& state = detail::step_state<Derived>(state_, param, options, none);
      hooks::begin_step<Derived>(state, param, options);
      // Clipping and maximize's sign, as tensor ops: the same text the reference driver runs (rules/gradient.h).
      Derived::tensor_step(state, param, prepare_gradient(grad, param, gradient[gi].host()), options);
    }
  }
}

template <class Derived, class OptionsT, class StateT>
template <class Grads>
void OptimizerBase<Derived, OptionsT, StateT>::step_elementwise(const Grads& grads,
                                                                std::vector<GroupGradient>& gradient) {
  kernels::StepBatch<typename Derived::Rule> fused;
  for (const auto& [gi, pi] : detail::set_up_fused_cpu<Derived>(param_groups_, state_, grads, gradient, fused.cpu)) {
    const Options& options = options_at(gi);
    const torch::Tensor& param = param_groups_[gi].params()[pi];
    State none;  // where the options keep no state: this step needs none and leaves none, as the built-in
    update(param, grads[gi][pi], detail::step_state<Derived>(state_, param, options, none), options, gradient[gi],
           fused);
  }
  fused.run();  // every fused CPU tensor in one parallel pass, the CUDA ones in a few launches
}

template <class Derived, class OptionsT, class StateT>
void OptimizerBase<Derived, OptionsT, StateT>::add_param_group(const ParamGroup& group) {
  ParamGroup candidate(group.params(), group.has_options() ? group.options().clone() : defaults_->clone());
  Checks::check_group_options(detail::options_as<Options>(candidate.options(), Derived::kName, param_groups_.size()),
                              param_groups_.size());
  check_params(param_groups_, &candidate);
  for (const auto pi : c10::irange(candidate.params().size())) {
    TORCH_CHECK(candidate.params()[pi].is_leaf(), Derived::kName, ": parameter ", pi, " of group ",
                param_groups_.size(), " is not a leaf tensor (computed from others); only leaves can be optimized");
  }
  param_groups_.push_back(std::move(candidate));
}

template <class Derived, class OptionsT, class StateT>
void OptimizerBase<Derived, OptionsT, StateT>::replace_param(size_t gi, size_t pi, const torch::Tensor& param) {
  TORCH_CHECK(gi < param_groups_.size() && pi < param_groups_[gi].params().size(), Derived::kName,
              ": replace_param: no parameter ", pi, " in group ", gi);
  torch::Tensor& old = param_groups_[gi].params()[pi];
  TORCH_CHECK(param.sizes() == old.sizes(), Derived::kName, ": replace_param: parameter ", pi, " of group ", gi,
              " has shape ", old.sizes(), ", the replacement ", param.sizes());
  const auto found = state_.find(state_key(old));
  if (found != state_.end()) {
    auto* ours = dynamic_cast<State*>(found->second.get());
    TORCH_CHECK(ours != nullptr, Derived::kName, ": replace_param: the state of parameter ", pi, " of group ", gi,
                " is another optimizer's");
    auto state = std::move(found->second);
    state_.erase(found);
    detail::cast_state_like(*ours, param);
    state_[state_key(param)] = std::move(state);
  }
  old = param;
}

template <class Derived, class OptionsT, class StateT>
void OptimizerBase<Derived, OptionsT, StateT>::save(torch::serialize::OutputArchive& archive) const {
  Checkpoint::save(archive, param_groups_, state_, skipped_steps_);
}

template <class Derived, class OptionsT, class StateT>
void OptimizerBase<Derived, OptionsT, StateT>::load(torch::serialize::InputArchive& archive) {
  Checkpoint::load(archive, param_groups_, state_, skipped_steps_);
}

template <class Derived, class OptionsT, class StateT>
auto OptimizerBase<Derived, OptionsT, StateT>::read_options(torch::serialize::InputArchive& archive,
                                                            const Options& current, size_t gi,
                                                            const std::string& context) -> std::unique_ptr<Options> {
  return Checkpoint::read_options(archive, current, gi, context);
}

template <class Derived, class OptionsT, class StateT>
OptimizerBase<Derived, OptionsT, StateT>::OptimizerBase(std::vector<ParamGroup> param_groups, const Options& defaults)
    : Optimizer(std::vector<ParamGroup>{}, std::make_unique<Options>(defaults)) {
  static_assert(hooks::check_contract<Derived, GradientScalars<double>>());
  size_t param_count = 0;
  for (const auto& group : param_groups) param_count += group.params().size();
  TORCH_CHECK(param_count > 0, Derived::kName, " got an empty parameter list (", param_groups.size(),
              " groups, 0 parameters): there is nothing to optimize");
  check_options(defaults);
  for (const auto& group : param_groups) add_param_group(group);
}

template <class Derived, class OptionsT, class StateT>
OptimizerBase<Derived, OptionsT, StateT>::OptimizerBase(std::vector<torch::Tensor> params, const Options& defaults)
    : OptimizerBase(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}

template <class Derived, class OptionsT, class StateT>
std::vector<GroupGradient> OptimizerBase<Derived, OptionsT, StateT>::gradient_scalars(
    const std::vector<std::vector<torch::Tensor>>& grads, const std::vector<torch::Tensor>& dropped) {
  // Clipping reads the gradients unscaled (step_unscaling): each multiplied
  // by unscale_ and rounded, as GradScaler::unscale_ leaves them.
  const NormInputs in = norm_inputs(param_groups_, grads);
  // The clipping coefficient of a max_norm, once the global norm is known:
  // on the host, or (device_norm) as a tensor on the GPU.
  std::function<double(double)> coefficient;
  torch::Tensor device_norm;
  last_grad_norm_ = c10::nullopt;
  last_grad_norm_on_device_ = torch::Tensor();
  if (in.clip_norm && !norm_source_ && dropped.empty() && in.all_fused && on_one_cuda_device(in.values)) {
    // Every gradient goes to the fused CUDA driver: the norms stay on the
    // GPU, computed as torch::nn::utils::clip_grad_norm_ computes them.
    const GradNormTensors norms = grad_norm_tensors(in.values, in.clip_values, unscale_);
    device_norm = norms.clipped;
    last_grad_norm_on_device_ = norms.unclipped;
  } else if (in.clip_norm) {
    // Value clipping comes first, so norm clipping sees clamped gradients.
    // From the source, or over all gradients here: in one fused pass in
    // double, or as torch::nn::utils::clip_grad_norm_ computes it, to the bit.
    const GradNorms norms =
        norm_source_ ? norm_source_() : grad_norms(in.values, in.clip_values, in.all_fused, unscale_);
    last_grad_norm_ = norm_with(norms.unclipped, dropped);
    coefficient = [norms](double max_norm) {
      return norms.clipped_tensor.defined() ? clip_coefficient(max_norm, norms.clipped_tensor)
                                            : clip_coefficient(max_norm, norms.clipped);
    };
  }
  std::vector<GroupGradient> result;
  for (const auto gi : c10::irange(param_groups_.size())) {
    const Options& o = options_at(gi);
    GroupGradient s;
    s.scalars.unscale = unscale_;
    s.scalars.clip_value = o.clip_grad_value();
    if (o.clip_grad_norm() > 0 && device_norm.defined()) {
      s.coefficient = clip_coefficient_on_device(o.clip_grad_norm(), device_norm);
    } else if (o.clip_grad_norm() > 0) {
      s.scalars.scale = coefficient(o.clip_grad_norm());
    }
    if (o.maximize()) s.scalars.scale = -s.scalars.scale;
    result.push_back(std::move(s));
  }
  return result;
}

template <class Derived, class OptionsT, class StateT>
bool OptimizerBase<Derived, OptionsT, StateT>::on_one_cuda_device(const std::vector<torch::Tensor>& grads) {
  if (grads.empty()) return false;
  for (const auto& g : grads) {
    if (!kernels::cuda_fused_eligible(g, g, {}) || g.device() != grads.front().device()) return false;
  }
  return true;
}

template <class Derived, class OptionsT, class StateT>
template <class Batch>
void OptimizerBase<Derived, OptionsT, StateT>::update(const torch::Tensor& param, const torch::Tensor& grad,
                                                      State& state, const Options& options, GroupGradient& gradient,
                                                      Batch& fused) {
  const std::pair<const void*, int64_t> key = detail::begin_step<Derived>(state, param, options);
  const auto make_scalars = [&](auto e, bool on_device) {
    return Derived::template scalars<decltype(e)>(options, state, on_device ? gradient.scalars : gradient.host());
  };
  if constexpr (hooks::takes_only_sparse_gradients<Derived>()) {
    std::apply(
        [&](const auto&... tensors) {
          detail::step_sparse_entries<typename Derived::Rule>(options.fused(), param, grad, key, gradient.coefficient,
                                                              make_scalars, tensors...);
        },
        Derived::state_tensors(state));
    return;
  } else if constexpr (hooks::lists<Derived>(hooks::kSparseGradients)) {
    if (grad.is_sparse()) {  // coalesced by checked_gradients; tensor ops only
      const auto scalars = Derived::template scalars<double>(options, state, gradient.host());
      std::apply([&](const auto&... tensors) { Derived::Rule::apply_sparse(scalars, param, grad, tensors...); },
                 Derived::state_tensors(state));
      return;
    }
  }
  // A complex parameter, its gradient and its state (complex, as torch.optim
  // keeps them) are updated through their real views, as torch.optim does
  // (torch.view_as_real): the rule sees real and imaginary parts as elements.
  const auto real = [](const torch::Tensor& t) { return t.defined() && t.is_complex() ? at::view_as_real(t) : t; };
  std::apply(
      [&](const auto&... tensors) {
        kernels::run_step<typename Derived::Rule>(options.fused(), real(param), real(grad), fused, key,
                                                  gradient.coefficient, make_scalars, real(tensors)...);
      },
      Derived::state_tensors(state));
}

}  // namespace adaptive
