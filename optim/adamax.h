#pragma once
// adaptive::Adamax: Adamax as torch.optim.Adamax (PyTorch 2.x) has it; LibTorch
// has no Adamax. The same option names and defaults as Python's, plus
// adaptive's own (bias_correction and the common options).
//
// Update (the algorithm box is optim/rules/adamax.h): Adam's first moment,
// normalized by an exponentially weighted infinity norm of the gradients,
// u ← max(β2·u, |g| + ε), instead of √v.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/adamax.h"

#include <torch/optim/optimizer.h>

#include <tuple>

namespace adaptive {

/// Options of adaptive::Adamax: torch.optim.Adamax's (names and defaults) plus
/// adaptive's own. Fluent: AdamaxOptions(2e-3).betas({0.9, 0.99})...
struct AdamaxOptions : public OptionsBase<AdamaxOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  AdamaxOptions(double lr = 2e-3);
  /// Learning rate.
  TORCH_ARG(double, lr) = 2e-3;
  /// (β1, β2).
  typedef std::tuple<double, double> betas_t;
  /// (β1, β2): decay rates of the first moment and of the infinity norm, each in [0, 1).
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  /// ε, added to |g| inside the maximum.
  TORCH_ARG(double, eps) = 1e-8;
  /// λ: L2 penalty added to the gradient (torch.optim.Adamax has no decoupled form).
  TORCH_ARG(double, weight_decay) = 0;
  /// Divide the step by 1 − β1ᵗ (torch.optim.Adamax always does; adaptive's own switch).
  TORCH_ARG(bool, bias_correction) = true;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.Adamax's names.
  static auto fields() {
    using O = AdamaxOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("betas", &O::betas_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           detail::own_field("bias_correction", &O::bias_correction_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Adamax, torch.optim.Adamax's fields.
struct AdamaxParamState : public ParamStateBase<AdamaxParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// m: running mean of g.
  TORCH_ARG(torch::Tensor, exp_avg);
  /// u: exponentially weighted infinity norm of g.
  TORCH_ARG(torch::Tensor, exp_inf);

 public:
  static auto fields() {
    using S = AdamaxParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("exp_avg", &S::exp_avg_),
                           detail::field("exp_inf", &S::exp_inf_));
  }
};

/// adaptive::Adamax (see the file comment).
class Adamax : public OptimizerBase<Adamax, AdamaxOptions, AdamaxParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Adamax";
  /// LibTorch has no Adamax: the reference is torch.optim.Adamax (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks Adamax's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const AdamaxOptions& options);
  /// Creates m and u (zeros).
  static void init_state(AdamaxParamState& state, const torch::Tensor& param, const AdamaxOptions& options);
  /// Its update rule (optim/rules/adamax.h).
  using Rule = AdamaxRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const AdamaxParamState& s) { return std::tie(s.exp_avg(), s.exp_inf()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static AdamaxScalars<S> scalars(const AdamaxOptions& options, const AdamaxParamState& state,
                                  GradientScalars<double> gradient);
};

}  // namespace adaptive
