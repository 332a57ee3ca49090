#pragma once
// adaptive::AdamW: a drop-in for torch::optim::AdamW (Loshchilov & Hutter,
// 2019): Adam whose weight decay shrinks the parameters instead of entering
// the gradient. Same options, defaults (weight_decay 1e-2), state and
// checkpoints as the built-in; the rule is Adam's (optim/rules/adam.h):
//   θ ← θ·(1 − lr·λ),  then Adam's update with m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ).
// adaptive::Adam with decoupled_weight_decay(true) is the same optimizer with
// Adam's default λ = 0.

#include "optim/adam.h"
#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/adam.h"

#include <torch/optim/adamw.h>
#include <torch/optim/optimizer.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::AdamW: torch::optim::AdamWOptions' options (same
/// names, defaults and meaning) plus adaptive's own.
struct AdamWOptions : public OptionsBase<AdamWOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  AdamWOptions(double lr = 1e-3);
  /// Learning rate.
  TORCH_ARG(double, lr) = 1e-3;
  /// (β1, β2).
  typedef std::tuple<double, double> betas_t;
  /// (β1, β2): decay rates of the moment estimates, each in [0, 1).
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  /// ε, added to √v̂.
  TORCH_ARG(double, eps) = 1e-8;
  /// λ: θ ← θ·(1 − lr·λ) every step.
  TORCH_ARG(double, weight_decay) = 1e-2;
  /// AMSGrad: normalize by the running maximum of v.
  TORCH_ARG(bool, amsgrad) = false;
  /// Divide m by (1 − β1ᵗ) and v by (1 − β2ᵗ). false: use m and v as they are.
  TORCH_ARG(bool, bias_correction) = true;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch::optim::AdamWOptions' keys.
  static auto fields() {
    using O = AdamWOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("betas", &O::betas_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           detail::field("amsgrad", &O::amsgrad_),
                           detail::own_field("bias_correction", &O::bias_correction_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// adaptive::AdamW: a drop-in replacement for torch::optim::AdamW. Its state
/// is Adam's (torch::optim::AdamWParamState has the same fields and keys).
class AdamW : public OptimizerBase<AdamW, AdamWOptions, AdamParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::AdamW";
  /// The torch::optim optimizer this one replaces (checkpoints move between them).
  using Builtin = torch::optim::AdamW;
  /// Its options.
  using BuiltinOptions = torch::optim::AdamWOptions;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters, as the built-in: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks AdamW's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const AdamWOptions& options);
  /// Creates the state tensors `options` need and `state` lacks.
  static void init_state(AdamParamState& state, const torch::Tensor& param, const AdamWOptions& options);
  /// Its update rule: Adam's.
  using Rule = AdamRule;  ///< Adam's: decoupled decay comes in its scalars
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const AdamParamState& s) { return Adam::state_tensors(s); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static AdamScalars<S> scalars(const AdamWOptions& options, const AdamParamState& state,
                                GradientScalars<double> gradient);
};

}  // namespace adaptive
