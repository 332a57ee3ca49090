#pragma once
// adaptive::Rprop: resilient backpropagation as torch.optim.Rprop (PyTorch
// 2.x) has it; LibTorch has no Rprop. The same option names and defaults as
// Python's, plus adaptive's common options.
//
// Update (the algorithm box is optim/rules/rprop.h): every element keeps its
// own step size Δ, multiplied by η₊ while its gradient keeps its sign and by
// η₋ when the sign flips, clamped to [Δ_min, Δ_max]; θ moves by sign(g)·Δ.
// Meant for full-batch training: mini-batch noise flips signs at random.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/rprop.h"

#include <torch/optim/optimizer.h>

#include <tuple>

namespace adaptive {

/// Options of adaptive::Rprop: torch.optim.Rprop's (names and defaults) plus
/// adaptive's own. Fluent: RpropOptions(1e-2).etas({0.5, 1.2})...
struct RpropOptions : public OptionsBase<RpropOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  RpropOptions(double lr = 1e-2);
  /// Learning rate: the initial step size Δ₀ of a parameter's elements (read
  /// at its first step; later changes do not reach Δ, as in torch.optim).
  TORCH_ARG(double, lr) = 1e-2;
  /// (η₋, η₊).
  typedef std::tuple<double, double> etas_t;
  /// (η₋, η₊): the factors Δ shrinks by after a sign flip and grows by
  /// otherwise; 0 < η₋ < 1 < η₊.
  TORCH_ARG(etas_t, etas) = std::make_tuple(0.5, 1.2);
  /// (Δ_min, Δ_max).
  typedef std::tuple<double, double> step_sizes_t;
  /// (Δ_min, Δ_max): the range Δ is clamped to; 0 <= Δ_min <= Δ_max.
  TORCH_ARG(step_sizes_t, step_sizes) = std::make_tuple(1e-6, 50.0);
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.Rprop's names.
  static auto fields() {
    using O = RpropOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("etas", &O::etas_),
                           detail::field("step_sizes", &O::step_sizes_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Rprop, torch.optim.Rprop's fields.
struct RpropParamState : public ParamStateBase<RpropParamState> {
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;
  /// g_prev: the gradient of the last step (0 where its sign flipped).
  TORCH_ARG(torch::Tensor, prev);
  /// Δ: every element's step size.
  TORCH_ARG(torch::Tensor, step_size);

 public:
  static auto fields() {
    using S = RpropParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("prev", &S::prev_),
                           detail::field("step_size", &S::step_size_));
  }
};

/// adaptive::Rprop (see the file comment).
class Rprop : public OptimizerBase<Rprop, RpropOptions, RpropParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Rprop";
  /// LibTorch has no Rprop: the reference is torch.optim.Rprop (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks Rprop's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const RpropOptions& options);
  /// Creates g_prev (zeros) and Δ (lr everywhere).
  static void init_state(RpropParamState& state, const torch::Tensor& param, const RpropOptions& options);
  /// Its update rule (optim/rules/rprop.h).
  using Rule = RpropRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const RpropParamState& s) { return std::tie(s.prev(), s.step_size()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static RpropScalars<S> scalars(const RpropOptions& options, const RpropParamState& state,
                                 GradientScalars<double> gradient);
};

}  // namespace adaptive
