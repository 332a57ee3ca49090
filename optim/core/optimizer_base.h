#pragma once
// The shell every adaptive optimizer shares, OptimizerBase: what a step does
// around the update rule, in the order step() runs it:
//   1. the checks, before anything is written (step_checks.h);
//   2. skip_nonfinite's decision and the clipping norm (gradient_inputs.h, clip.h);
//   3. each parameter prepared once, the same way for every driver
//      (param_state.h), and its update queued or run (fused_setup.h for the
//      fused CPU driver's set-up on ATen's threads, kernels/dispatch.h);
//   4. the fused drivers run.
// Save and load are checkpoint_io.h's. An optimizer supplies only what is its
// own, the hooks that hooks.h lists and checks at compile time; adam.h is the
// model, and it is listed once in optim/optimizers.h. This file declares the
// shell; optimizer_base_impl.h defines its members, compiled once per
// optimizer (optim/core/optimizer_instances.cc).

#include "optim/core/checkpoint_io.h"
#include "optim/core/clip.h"
#include "optim/core/fused_setup.h"
#include "optim/core/gradient_inputs.h"
#include "optim/core/hooks.h"
#include "optim/core/param_state.h"
#include "optim/core/scaled_step.h"
#include "optim/core/step_checks.h"
#include "optim/rules/gradient.h"

#include <c10/util/Optional.h>
#include <c10/util/irange.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <functional>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

namespace adaptive {

namespace detail {
/// Runs a step's closure, if given, with grad enabled (a step runs under no_grad).
inline torch::Tensor run_closure(const torch::optim::Optimizer::LossClosure& closure) {
  if (!closure) return {};
  torch::AutoGradMode enable_grad(true);
  return closure();
}
}  // namespace detail

/// The shell every adaptive optimizer shares: checks, closure handling, state
/// lookup, gradient clipping, save and load. An optimizer derives from it
/// (CRTP) and supplies only what is its own: the hooks of optim/core/hooks.h
/// (`kName`, `Rule`, `validate`, `init_state`, `state_tensors`, `scalars`,
/// and the optional ones it lists in `kOptionalHooks`).
template <class Derived, class OptionsT, class StateT>
class OptimizerBase : public torch::optim::Optimizer,
                      public detail::StepChecks<Derived, OptionsT>,
                      public detail::GradientInputs<Derived, OptionsT>,
                      public ScaledStep {
  using Checks = detail::StepChecks<Derived, OptionsT>;
  using Inputs = detail::GradientInputs<Derived, OptionsT>;
  using Checkpoint = detail::CheckpointIO<Derived, OptionsT, StateT>;

 public:
  using Options = OptionsT;                             ///< e.g. AdamOptions
  using State = StateT;                                 ///< e.g. AdamParamState
  using ParamGroup = torch::optim::OptimizerParamGroup;  ///< as in torch::optim
  using typename Checks::ParamList;
  using Checks::check_options;
  using Checks::check_params;
  using Checks::checked_gradients;
  using Checks::options_of;
  using Inputs::norm_inputs;
  using Inputs::skip_nonfinite_groups;
  using typename Inputs::NormInputs;

  /// Runs `closure` (with grad enabled) if given, then updates every parameter
  /// that has a gradient. Everything is checked before anything is written: on
  /// an error no parameter or state has changed.
  torch::Tensor step(LossClosure closure = nullptr) override;

  /// GradScaler's fused path (core/scaled_step.h): the step with the loss
  /// scale undone inside it, or none when a gradient is not finite.
  bool step_unscaling(double inv_scale) override;

  /// Checks the group (options, parameters) and adds it with its own options
  /// (a copy), or a copy of the defaults when it has none. Hides
  /// Optimizer::add_param_group (not virtual), which from LibTorch 2.9 on
  /// replaces options of any type but the built-ins' own with the defaults: a
  /// group added through a torch::optim::Optimizer& gets the defaults there
  /// (its parameters are still checked at the start of step()).
  void add_param_group(const ParamGroup& group);

  /// Whether the fused CPU driver takes a step of `param` with `grad` and
  /// `state` as they stand (detail::fused_cpu_takes). Public for tools that
  /// build fused jobs themselves (the benchmark's kernel-only side): they take
  /// exactly the parameters step() would.
  static bool fused_cpu_takes(const Options& options, const torch::Tensor& param, const torch::Tensor& grad,
                              const State& state) {
    if constexpr (hooks::steps_whole_tensors<Derived>()) {
      return false;  // whole-tensor math (hooks::kTensorStep): tensor ops only
    } else {
      return detail::fused_cpu_takes<Derived>(options, param, grad, state);
    }
  }

  /// Points parameter `pi` of group `gi` at `param` (same shape) instead, its
  /// state following it, cast to `param`'s dtype and device. For wrappers
  /// whose parameters are views that must be re-made (ShardedOptimizer).
  void replace_param(size_t gi, size_t pi, const torch::Tensor& param);

  /// How many group steps skip_nonfinite has skipped so far (all groups).
  int64_t skipped_steps() const { return skipped_steps_; }

  /// Computes the gradient norms step() clips with (see set_grad_norm_source).
  using GradNormSource = std::function<GradNorms()>;
  /// Where step() takes the gradient norms for clipping from, instead of this
  /// optimizer's own gradients: for an optimizer that steps one part of a
  /// larger model (ShardedOptimizer), whose clipping norm is the whole
  /// model's. Called once per step() that clips by norm; empty: the default.
  void set_grad_norm_source(GradNormSource source) { norm_source_ = std::move(source); }

  /// The global L2 norm of the gradients as step() received them (before any
  /// clipping), over all groups, those of groups skip_nonfinite skipped
  /// included (so NaN or inf when it skipped); set by step() when any group
  /// clips by norm.
  /// When the norm stayed on the GPU (see docs/cuda.md: synchronization), reading
  /// it here is what waits for the GPU.
  c10::optional<double> last_grad_norm() const {
    if (last_grad_norm_on_device_.defined()) return last_grad_norm_on_device_.item<double>();
    return last_grad_norm_;
  }

  /// torch::optim's format (layout, state fields and option names), plus the
  /// extra entries of checkpoint_io.h: torch::optim::X can read what this
  /// writes, and this reads what torch::optim::X wrote, on LibTorch 1.13 and
  /// 2.x alike.
  void save(torch::serialize::OutputArchive& archive) const override;

  /// Restores state and, as PyTorch's load_state_dict does, the options of
  /// each group. All-or-nothing: the checkpoint is checked against this
  /// optimizer (group count, parameter counts, state shapes, option values)
  /// before anything changes.
  void load(torch::serialize::InputArchive& archive) override;

  /// Reads group `gi`'s options from `archive` into a copy of `current`,
  /// checked; refuses (c10::Error, `context` first) options of another
  /// algorithm. Options the archive lacks (one written by torch::optim lacks
  /// adaptive's) keep their current values.
  static std::unique_ptr<Options> read_options(torch::serialize::InputArchive& archive, const Options& current,
                                                size_t gi, const std::string& context);

  /// Optimizes `param_groups`; groups without options use `defaults`. Checks
  /// `defaults` and adds each group (add_param_group). Optimizers inherit
  /// both constructors (using OptimizerBase::OptimizerBase).
  explicit OptimizerBase(std::vector<ParamGroup> param_groups, const Options& defaults = {});
  /// Optimizes `params` as one group with `defaults`.
  explicit OptimizerBase(std::vector<torch::Tensor> params, const Options& defaults = {});

 protected:
  /// Group `gi`'s options with their concrete type; a c10::Error naming the
  /// group and both types when they are of another (options_cast.h).
  Options& options_at(size_t gi) { return detail::options_as<Options>(param_groups_[gi].options(), Derived::kName, gi); }
  /// \copydoc options_at(size_t)
  const Options& options_at(size_t gi) const { return options_of(param_groups_, gi); }

  /// One step of one parameter with its prepared `state` (param_state.h): the
  /// step begins (the step count advances), then the rule runs now on the
  /// reference driver or is queued on `fused` (kernels/dispatch.h).
  /// (A template only because Derived is incomplete where this class is.)
  template <class Batch>
  static void update(const torch::Tensor& param, const torch::Tensor& grad, State& state, const Options& options,
                     GroupGradient& gradient, Batch& fused);

 private:
  // The updates of a step whose checks passed: each parameter's whole-tensor
  // math (hooks::kTensorStep), or its elementwise Rule on the fused and
  // reference drivers. (Templates only because Derived is incomplete here.)
  template <class Grads = std::vector<std::vector<torch::Tensor>>>
  void step_whole_tensors(const Grads& grads, std::vector<GroupGradient>& gradient);
  template <class Grads = std::vector<std::vector<torch::Tensor>>>
  void step_elementwise(const Grads& grads, std::vector<GroupGradient>& gradient);

  // Clipping and maximize, per group: the value-clip limit and the factor
  // that norm clipping and the sign of maximize fold into one multiply.
  // `dropped`: the gradients skip_nonfinite dropped (in last_grad_norm(), not in clipping).
  std::vector<GroupGradient> gradient_scalars(const std::vector<std::vector<torch::Tensor>>& grads,
                                              const std::vector<torch::Tensor>& dropped);

  // Whether every gradient is one the fused CUDA driver takes, all on one
  // device: then (every group fused) the clipping norm stays on the GPU.
  static bool on_one_cuda_device(const std::vector<torch::Tensor>& grads);

  ParamList unique_params_;  // the parameters a step last found each listed once (check_params)
  GradNormSource norm_source_;
  double unscale_ = 1;  // step_unscaling's inv_scale while it steps, else 1
  c10::optional<double> last_grad_norm_;
  torch::Tensor last_grad_norm_on_device_;  // instead, when the norm stayed on the GPU
  int64_t skipped_steps_ = 0;
};

}  // namespace adaptive
