#pragma once
// adaptive::Adadelta: Adadelta as torch.optim.Adadelta has it; LibTorch has
// no Adadelta. The same option names and defaults as Python's.
//
// Update (the algorithm box is optim/rules/adadelta.h):
//   s ← ρ·s + (1 − ρ)·g²,  Δ = √(u + ε)/√(s + ε)·g,  u ← ρ·u + (1 − ρ)·Δ²,  θ ← θ − lr·Δ

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/adadelta.h"

#include <torch/optim/optimizer.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::Adadelta: torch.optim.Adadelta's (names and
/// defaults) plus adaptive's own. Fluent: AdadeltaOptions(1.0).rho(0.95)...
struct AdadeltaOptions : public OptionsBase<AdadeltaOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  AdadeltaOptions(double lr = 1.0);
  /// Learning rate (a factor on Δ; Adadelta's own step has the parameters' units).
  TORCH_ARG(double, lr) = 1.0;
  /// ρ: decay of both running means, in [0, 1].
  TORCH_ARG(double, rho) = 0.9;
  /// ε, inside both square roots.
  TORCH_ARG(double, eps) = 1e-6;
  /// λ: L2 penalty added to the gradient.
  TORCH_ARG(double, weight_decay) = 0;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.Adadelta's names.
  static auto fields() {
    using O = AdadeltaOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("rho", &O::rho_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Adadelta, torch.optim.Adadelta's fields.
struct AdadeltaParamState : public ParamStateBase<AdadeltaParamState> {
  /// t: steps taken (the update does not use it; kept as torch.optim does).
  TORCH_ARG(int64_t, step) = 0;
  /// s: running mean of g².
  TORCH_ARG(torch::Tensor, square_avg);
  /// u: running mean of Δ².
  TORCH_ARG(torch::Tensor, acc_delta);

 public:
  static auto fields() {
    using S = AdadeltaParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("square_avg", &S::square_avg_),
                           detail::field("acc_delta", &S::acc_delta_));
  }
};

/// adaptive::Adadelta (see the file comment).
class Adadelta : public OptimizerBase<Adadelta, AdadeltaOptions, AdadeltaParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Adadelta";
  /// LibTorch has no Adadelta: the reference is torch.optim.Adadelta (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks Adadelta's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const AdadeltaOptions& options);
  /// Creates both running means (zeros).
  static void init_state(AdadeltaParamState& state, const torch::Tensor& param, const AdadeltaOptions& options);
  /// Its update rule (optim/rules/adadelta.h).
  using Rule = AdadeltaRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const AdadeltaParamState& s) { return std::tie(s.square_avg(), s.acc_delta()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static AdadeltaScalars<S> scalars(const AdadeltaOptions& options, const AdadeltaParamState& state,
                                    GradientScalars<double> gradient);
};

}  // namespace adaptive
