#pragma once
// adaptive::RAdam: RAdam as torch.optim.RAdam (PyTorch 2.x) has it; LibTorch
// has no RAdam. The same option names and defaults as Python's.
//
// Update (the algorithm box is optim/rules/radam.h): Adam's moments; while
// the variance of v̂ is intractable (ρₜ ≤ 5, the first steps) it steps along
// m̂ alone, then along the rectified Adam step.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/radam.h"

#include <torch/optim/optimizer.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::RAdam: torch.optim.RAdam's (names and defaults) plus
/// adaptive's own. Fluent: RAdamOptions(1e-3).betas(...)...
struct RAdamOptions : public OptionsBase<RAdamOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  RAdamOptions(double lr = 1e-3);
  /// Learning rate.
  TORCH_ARG(double, lr) = 1e-3;
  /// (β1, β2).
  typedef std::tuple<double, double> betas_t;
  /// (β1, β2): decay rates of the moment estimates, each in [0, 1).
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  /// ε, added to √v.
  TORCH_ARG(double, eps) = 1e-8;
  /// λ: L2 penalty added to the gradient (or, decoupled, θ ← θ·(1 − lr·λ)).
  TORCH_ARG(double, weight_decay) = 0;
  /// Decay the parameters (AdamW-style) instead of adding λ·θ to the gradient.
  TORCH_ARG(bool, decoupled_weight_decay) = false;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.RAdam's names.
  static auto fields() {
    using O = RAdamOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("betas", &O::betas_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           detail::field("decoupled_weight_decay", &O::decoupled_weight_decay_),
                           ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::RAdam, torch.optim.RAdam's fields.
struct RAdamParamState : public ParamStateBase<RAdamParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// m: running mean of g.
  TORCH_ARG(torch::Tensor, exp_avg);
  /// v: running mean of g².
  TORCH_ARG(torch::Tensor, exp_avg_sq);

 public:
  static auto fields() {
    using S = RAdamParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("exp_avg", &S::exp_avg_),
                           detail::field("exp_avg_sq", &S::exp_avg_sq_));
  }
};

/// adaptive::RAdam (see the file comment).
class RAdam : public OptimizerBase<RAdam, RAdamOptions, RAdamParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::RAdam";
  /// LibTorch has no RAdam: the reference is torch.optim.RAdam (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks RAdam's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const RAdamOptions& options);
  /// Creates the moments (zeros).
  static void init_state(RAdamParamState& state, const torch::Tensor& param, const RAdamOptions& options);
  /// Its update rule (optim/rules/radam.h).
  using Rule = RAdamRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const RAdamParamState& s) { return std::tie(s.exp_avg(), s.exp_avg_sq()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static RAdamScalars<S> scalars(const RAdamOptions& options, const RAdamParamState& state,
                                 GradientScalars<double> gradient);
};

}  // namespace adaptive
