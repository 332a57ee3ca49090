#pragma once
// adaptive::RMSprop: a drop-in for torch::optim::RMSprop.
//
// Update for step t (the algorithm box is optim/rules/rmsprop.h):
//   s ← α·s + (1 − α)·g²,  ḡ ← α·ḡ + (1 − α)·g (centered)
//   ŝ = s / (1 − αᵗ)                      (bias_correction, default off)
//   d = √(ŝ − ḡ²) + ε (centered) or √ŝ + ε
//   b ← μ·b + g/d, θ ← θ − lr·b (momentum μ > 0)   or   θ ← θ − lr·g/d

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/rmsprop.h"

#include <torch/optim/rmsprop.h>
#include <torch/optim/optimizer.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::RMSprop: torch::optim::RMSpropOptions' options (same names,
/// defaults and meaning) plus adaptive's own. Fluent: RMSpropOptions(lr).eps(1e-6)...
struct RMSpropOptions : public OptionsBase<RMSpropOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  RMSpropOptions(double lr = 1e-2);
  /// Learning rate.
  TORCH_ARG(double, lr) = 1e-2;
  /// α: smoothing constant of the running mean of g², in [0, 1].
  TORCH_ARG(double, alpha) = 0.99;
  /// ε, added to the root mean square.
  TORCH_ARG(double, eps) = 1e-8;
  /// λ: L2 penalty added to the gradient.
  TORCH_ARG(double, weight_decay) = 0;
  /// μ: momentum of the normalized step (0: none).
  TORCH_ARG(double, momentum) = 0;
  /// Normalize by the estimated variance (s − ḡ²) instead of s.
  TORCH_ARG(bool, centered) = false;
  /// Divide the running mean of g² by (1 − αᵗ) before the square root (needs α < 1).
  TORCH_ARG(bool, bias_correction) = false;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  static auto fields() {
    using O = RMSpropOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("alpha", &O::alpha_),
                           detail::field("eps", &O::eps_), detail::field("weight_decay", &O::weight_decay_),
                           detail::field("momentum", &O::momentum_), detail::field("centered", &O::centered_),
                           detail::own_field("bias_correction", &O::bias_correction_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::RMSprop, with torch::optim::RMSpropParamState's
/// fields and serialization keys (checkpoints move between the two).
struct RMSpropParamState : public ParamStateBase<RMSpropParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// s: running mean of g².
  TORCH_ARG(torch::Tensor, square_avg);
  /// b: momentum buffer (momentum > 0 only).
  TORCH_ARG(torch::Tensor, momentum_buffer) = {};
  /// ḡ: running mean of g (centered only).
  TORCH_ARG(torch::Tensor, grad_avg) = {};

 public:
  static auto fields() {
    using S = RMSpropParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("square_avg", &S::square_avg_),
                           detail::field("momentum_buffer", &S::momentum_buffer_),
                           detail::field("grad_avg", &S::grad_avg_));
  }
};

/// adaptive::RMSprop: a drop-in replacement for torch::optim::RMSprop (see the
/// file comment for the update). Construct from parameters or param groups;
/// step(), zero_grad(), save/load and schedulers work as with the built-in.
class RMSprop : public OptimizerBase<RMSprop, RMSpropOptions, RMSpropParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::RMSprop";
  /// The torch::optim optimizer this one replaces (checkpoints move between them).
  using Builtin = torch::optim::RMSprop;
  /// Its options.
  using BuiltinOptions = torch::optim::RMSpropOptions;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters, as the built-in: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks RMSprop's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const RMSpropOptions& options);
  /// Creates the state tensors `options` need and `state` lacks.
  static void init_state(RMSpropParamState& state, const torch::Tensor& param, const RMSpropOptions& options);
  /// Its update rule (optim/rules/rmsprop.h).
  using Rule = RMSpropRule;
  /// The state tensors the rule takes, in its order (undefined: options that are off).
  static auto state_tensors(const RMSpropParamState& s) { return std::tie(s.square_avg(), s.momentum_buffer(), s.grad_avg()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static RMSpropScalars<S> scalars(const RMSpropOptions& options, const RMSpropParamState& state, GradientScalars<double> gradient);
};

}  // namespace adaptive
