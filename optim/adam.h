#pragma once
// adaptive::Adam: a drop-in for torch::optim::Adam (and, with
// decoupled_weight_decay(true), torch::optim::AdamW).
//
// Update for step t (the algorithm box is optim/rules/adam.h):
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
//   m̂ = m / (1 − β1ᵗ),       v̂ = v / (1 − β2ᵗ)        (bias_correction, default on)
//   θ ← θ − lr · m̂ / (√v̂ + ε)
// where g has first been value-clipped, norm-clipped, negated (maximize) and,
// unless decoupled, given the L2 term λ·θ; decoupled decay is θ ← θ·(1 − lr·λ).

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/adam.h"

#include <torch/optim/adam.h>
#include <torch/optim/optimizer.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::Adam: torch::optim::AdamOptions' options (same names,
/// defaults and meaning) plus adaptive's own. Fluent: AdamOptions(lr).eps(1e-6)...
struct AdamOptions : public OptionsBase<AdamOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  AdamOptions(double lr = 1e-3);
  /// Learning rate.
  TORCH_ARG(double, lr) = 1e-3;
  /// (β1, β2).
  typedef std::tuple<double, double> betas_t;
  /// (β1, β2): decay rates of the first and second moment estimates, each in [0, 1).
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  /// ε, added to √v̂ for numerical stability.
  TORCH_ARG(double, eps) = 1e-8;
  /// λ: L2 penalty added to the gradient, or decoupled decay (see below).
  TORCH_ARG(double, weight_decay) = 0;
  /// AMSGrad: normalize by the running maximum of v instead of v.
  TORCH_ARG(bool, amsgrad) = false;
  /// Divide m by (1 − β1ᵗ) and v by (1 − β2ᵗ). false: use m and v as they are.
  TORCH_ARG(bool, bias_correction) = true;
  /// true: θ ← θ·(1 − lr·λ) before the update, exactly torch::optim::AdamW.
  TORCH_ARG(bool, decoupled_weight_decay) = false;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  static auto fields() {
    using O = AdamOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("betas", &O::betas_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           detail::field("amsgrad", &O::amsgrad_), detail::own_field("bias_correction", &O::bias_correction_),
                           detail::own_field("decoupled_weight_decay", &O::decoupled_weight_decay_),
                           ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Adam, with torch::optim::AdamParamState's
/// fields and serialization keys (checkpoints move between the two).
struct AdamParamState : public ParamStateBase<AdamParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// m: running mean of g.
  TORCH_ARG(torch::Tensor, exp_avg);
  /// v: running mean of g².
  TORCH_ARG(torch::Tensor, exp_avg_sq);
  /// max of v so far (amsgrad only).
  TORCH_ARG(torch::Tensor, max_exp_avg_sq) = {};

 public:
  static auto fields() {
    using S = AdamParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("exp_avg", &S::exp_avg_),
                           detail::field("exp_avg_sq", &S::exp_avg_sq_),
                           detail::field("max_exp_avg_sq", &S::max_exp_avg_sq_));
  }
};

namespace detail {
/// The hyper-parameters Adam's scalars come from (AdamOptions or AdamWOptions).
struct AdamHyper {
  double lr;                         ///< learning rate
  std::tuple<double, double> betas;  ///< (β1, β2)
  double eps;                        ///< ε
  double weight_decay;               ///< λ
  bool amsgrad;                      ///< normalize by max(v)
  bool bias_correction;              ///< divide by 1 − βᵗ
  bool decoupled;                    ///< θ ← θ·(1 − lr·λ) instead of the L2 term
};
/// Adam's constants for step `step` (shared by Adam and AdamW).
template <class S>
AdamScalars<S> adam_scalars(const AdamHyper& hyper, int64_t step, GradientScalars<double> gradient);
/// Adam's and AdamW's option checks (throws c10::Error naming `name`, the option and the value).
void check_adam_options(const char* name, double lr, const std::tuple<double, double>& betas, double eps,
                        double weight_decay);
/// Adam's state tensors (zeros), max_exp_avg_sq with amsgrad.
void init_adam_state(AdamParamState& state, const torch::Tensor& param, bool amsgrad);

/// The moments exp_avg and exp_avg_sq (zeros) of an optimizer built on Adam's
/// (NAdam, RAdam), where not yet created.
template <class State>
void init_adam_moments(State& state, const torch::Tensor& param) {
  if (!state.exp_avg().defined()) state.exp_avg(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  if (!state.exp_avg_sq().defined()) state.exp_avg_sq(torch::zeros_like(param, torch::MemoryFormat::Preserve));
}

/// The scalars an optimizer built on Adam's moments shares with it (NAdam,
/// RAdam): the gradient's (with the L2 term unless the decay is decoupled),
/// the decoupled decay factor, the moments' weights and ε. Their own come after.
template <class S, class Scalars, class Options>
void set_adam_moment_scalars(Scalars& s, const Options& o, GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const bool decoupled = o.decoupled_weight_decay();
  gradient.weight_decay = decoupled ? 0.0 : o.weight_decay();
  s.grad = gradient.as<S>();
  s.decay_factor = static_cast<S>(decoupled ? 1.0 - o.lr() * o.weight_decay() : 1.0);
  s.one_minus_beta1 = static_cast<S>(1.0 - beta1);
  s.beta2 = static_cast<S>(beta2);
  s.one_minus_beta2 = static_cast<S>(1.0 - beta2);
  s.eps = static_cast<S>(o.eps());
}
}  // namespace detail

/// adaptive::Adam: a drop-in replacement for torch::optim::Adam (see the
/// file comment for the update). Construct from parameters or param groups;
/// step(), zero_grad(), save/load and schedulers work as with the built-in.
class Adam : public OptimizerBase<Adam, AdamOptions, AdamParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Adam";
  /// The torch::optim optimizer this one replaces (checkpoints move between them).
  using Builtin = torch::optim::Adam;
  /// Its options.
  using BuiltinOptions = torch::optim::AdamOptions;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters, as the built-in: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks Adam's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const AdamOptions& options);
  /// Creates the state tensors `options` need and `state` lacks.
  static void init_state(AdamParamState& state, const torch::Tensor& param, const AdamOptions& options);
  /// Its update rule (optim/rules/adam.h).
  using Rule = AdamRule;
  /// The state tensors the rule takes, in its order (undefined: options that are off).
  static auto state_tensors(const AdamParamState& s) { return std::tie(s.exp_avg(), s.exp_avg_sq(), s.max_exp_avg_sq()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static AdamScalars<S> scalars(const AdamOptions& options, const AdamParamState& state, GradientScalars<double> gradient);
};

}  // namespace adaptive
