#pragma once
// adaptive::ASGD: averaged SGD as torch.optim.ASGD (PyTorch 2.x) has it;
// LibTorch has no ASGD. The same option names and defaults as Python's, plus
// adaptive's common options.
//
// Update (the algorithm box is optim/rules/asgd.h): SGD with a decaying step
// ηₜ = lr/(1 + λ·lr·t)^α and a decay of θ by λ·ηₜ, keeping in the state `ax`
// the running average of θ from step t0 on. Evaluate with `ax`.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/asgd.h"

#include <torch/optim/optimizer.h>

namespace adaptive {

/// Options of adaptive::ASGD: torch.optim.ASGD's (names and defaults) plus
/// adaptive's own. Fluent: ASGDOptions(1e-2).t0(100)...
struct ASGDOptions : public OptionsBase<ASGDOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  ASGDOptions(double lr = 1e-2);
  /// Learning rate: η₁, and the scale of ηₜ.
  TORCH_ARG(double, lr) = 1e-2;
  /// λ: how fast ηₜ decays, and the decay of θ by λ·ηₜ each step.
  TORCH_ARG(double, lambd) = 1e-4;
  /// α: the power of ηₜ's decay.
  TORCH_ARG(double, alpha) = 0.75;
  /// The step from which `ax` averages (before it, ax follows θ).
  TORCH_ARG(double, t0) = 1e6;
  /// L2 penalty added to the gradient.
  TORCH_ARG(double, weight_decay) = 0;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.ASGD's names.
  static auto fields() {
    using O = ASGDOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("lambd", &O::lambd_),
                           detail::field("alpha", &O::alpha_), detail::field("t0", &O::t0_),
                           detail::field("weight_decay", &O::weight_decay_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::ASGD, torch.optim.ASGD's fields.
struct ASGDParamState : public ParamStateBase<ASGDParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// ηₜ₊₁: the step size of the next step (in double; torch.optim keeps it
  /// in a tensor of the default dtype, float32 unless changed).
  TORCH_ARG(double, eta) = 0;
  /// μₜ₊₁: the averaging weight of the next step (in double, as eta).
  TORCH_ARG(double, mu) = 1;
  /// θ̄: the average of θ since step t0.
  TORCH_ARG(torch::Tensor, ax);

 public:
  static auto fields() {
    using S = ASGDParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("eta", &S::eta_),
                           detail::field("mu", &S::mu_), detail::field("ax", &S::ax_));
  }
  /// ηₜ of the step under way: set by begin_step (which moves eta on to the
  /// next step's), read by scalars; not saved.
  double eta_now = 0;
  /// μₜ of the step under way, as eta_now.
  double mu_now = 1;
};

/// adaptive::ASGD (see the file comment).
class ASGD : public OptimizerBase<ASGD, ASGDOptions, ASGDParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::ASGD";
  /// LibTorch has no ASGD: the reference is torch.optim.ASGD (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks ASGD's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const ASGDOptions& options);
  /// A new state: ax (zeros), η = lr, μ = 1, as torch.optim at a parameter's first step.
  static void init_state(ASGDParamState& state, const torch::Tensor& param, const ASGDOptions& options);
  /// The optional hook it defines (optim/core/hooks.h).
  static constexpr unsigned kOptionalHooks = hooks::kBeginStep;
  /// Takes this step's η and μ, advances t, and computes the next step's η
  /// and μ; returns what tells the step's scalars apart.
  static int64_t begin_step(ASGDParamState& state, const torch::Tensor& param, const ASGDOptions& options);
  /// Its update rule (optim/rules/asgd.h).
  using Rule = ASGDRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const ASGDParamState& s) { return std::tie(s.ax()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static ASGDScalars<S> scalars(const ASGDOptions& options, const ASGDParamState& state,
                                GradientScalars<double> gradient);
};

}  // namespace adaptive
