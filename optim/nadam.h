#pragma once
// adaptive::NAdam: NAdam as torch.optim.NAdam (PyTorch 2.x) has it; LibTorch
// has no NAdam. The same option names and defaults as Python's.
//
// Update (the algorithm box is optim/rules/nadam.h): Adam's moments, with the
// first moment applied with Nesterov's look-ahead under the momentum schedule
// μₜ = β1·(1 − ½·0.96^(t·momentum_decay)).

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/nadam.h"

#include <torch/optim/optimizer.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::NAdam: torch.optim.NAdam's (names and defaults) plus
/// adaptive's own. Fluent: NAdamOptions(2e-3).momentum_decay(4e-3)...
struct NAdamOptions : public OptionsBase<NAdamOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  NAdamOptions(double lr = 2e-3);
  /// Learning rate.
  TORCH_ARG(double, lr) = 2e-3;
  /// (β1, β2).
  typedef std::tuple<double, double> betas_t;
  /// (β1, β2): decay rates of the moment estimates, each in [0, 1).
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  /// ε, added to √v̂.
  TORCH_ARG(double, eps) = 1e-8;
  /// λ: L2 penalty added to the gradient (or, decoupled, θ ← θ·(1 − lr·λ)).
  TORCH_ARG(double, weight_decay) = 0;
  /// ψ: how fast the momentum schedule μₜ approaches β1.
  TORCH_ARG(double, momentum_decay) = 4e-3;
  /// Decay the parameters (AdamW-style) instead of adding λ·θ to the gradient.
  TORCH_ARG(bool, decoupled_weight_decay) = false;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.NAdam's names.
  static auto fields() {
    using O = NAdamOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("betas", &O::betas_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           detail::field("momentum_decay", &O::momentum_decay_),
                           detail::field("decoupled_weight_decay", &O::decoupled_weight_decay_),
                           ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::NAdam, torch.optim.NAdam's fields.
struct NAdamParamState : public ParamStateBase<NAdamParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// Πₜ: the product of the momentum schedule so far (in double; torch.optim
  /// keeps it in a tensor of the default dtype, float32 unless changed).
  TORCH_ARG(double, mu_product) = 1;
  /// m: running mean of g.
  TORCH_ARG(torch::Tensor, exp_avg);
  /// v: running mean of g².
  TORCH_ARG(torch::Tensor, exp_avg_sq);

 public:
  static auto fields() {
    using S = NAdamParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("mu_product", &S::mu_product_),
                           detail::field("exp_avg", &S::exp_avg_), detail::field("exp_avg_sq", &S::exp_avg_sq_));
  }
};

/// adaptive::NAdam (see the file comment).
class NAdam : public OptimizerBase<NAdam, NAdamOptions, NAdamParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::NAdam";
  /// LibTorch has no NAdam: the reference is torch.optim.NAdam (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks NAdam's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const NAdamOptions& options);
  /// Creates the moments (zeros).
  static void init_state(NAdamParamState& state, const torch::Tensor& param, const NAdamOptions& options);
  /// The optional hook it defines (optim/core/hooks.h).
  static constexpr unsigned kOptionalHooks = hooks::kBeginStep;
  /// Advances t and Πₜ; returns what tells the step's scalars apart (t and Πₜ).
  static int64_t begin_step(NAdamParamState& state, const torch::Tensor& param, const NAdamOptions& options);
  /// Its update rule (optim/rules/nadam.h).
  using Rule = NAdamRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const NAdamParamState& s) { return std::tie(s.exp_avg(), s.exp_avg_sq()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static NAdamScalars<S> scalars(const NAdamOptions& options, const NAdamParamState& state,
                                 GradientScalars<double> gradient);
};

}  // namespace adaptive
