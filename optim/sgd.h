#pragma once
// adaptive::SGD: a drop-in for torch::optim::SGD, the baseline every
// comparison starts from.
//
// Update (the algorithm box is optim/rules/sgd.h):
//   b ← g on the first step, then b ← μ·b + (1 − dampening)·g   (momentum μ > 0)
//   θ ← θ − lr·(g + μ·b) (nesterov),  θ ← θ − lr·b,  or θ ← θ − lr·g (μ = 0)
//
// As in the built-in, a parameter has state (its momentum buffer) only once it
// has stepped with momentum > 0: without momentum, state() stays empty.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/sgd.h"

#include <torch/optim/optimizer.h>
#include <torch/optim/sgd.h>

#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::SGD: torch::optim::SGDOptions' options (same names and
/// meaning) plus adaptive's own. Fluent: SGDOptions(0.1).momentum(0.9)...
struct SGDOptions : public OptionsBase<SGDOptions> {
  /// Options with learning rate `lr` (torch::optim::SGDOptions requires it;
  /// the default is torch.optim.SGD's), everything else at its default.
  SGDOptions(double lr = 1e-3);
  /// Learning rate.
  TORCH_ARG(double, lr) = 1e-3;
  /// μ: momentum factor (0: plain SGD, no state).
  TORCH_ARG(double, momentum) = 0;
  /// Dampening of the gradient entering the buffer, in [0, 1].
  TORCH_ARG(double, dampening) = 0;
  /// λ: L2 penalty added to the gradient.
  TORCH_ARG(double, weight_decay) = 0;
  /// Nesterov momentum (needs momentum > 0 and dampening 0).
  TORCH_ARG(bool, nesterov) = false;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch::optim::SGDOptions' keys.
  static auto fields() {
    using O = SGDOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("momentum", &O::momentum_),
                           detail::field("dampening", &O::dampening_),
                           detail::field("weight_decay", &O::weight_decay_), detail::field("nesterov", &O::nesterov_),
                           ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::SGD, with torch::optim::SGDParamState's
/// field and key (checkpoints move between the two). No step count: SGD's
/// update does not depend on it, and neither built-in keeps one.
struct SGDParamState : public ParamStateBase<SGDParamState> {
  /// b: the momentum buffer.
  TORCH_ARG(torch::Tensor, momentum_buffer);

 public:
  /// Set by SGD::begin_step while b takes its first value (b ← g); not saved.
  bool first_step = false;

  static auto fields() { return std::make_tuple(detail::field("momentum_buffer", &SGDParamState::momentum_buffer_)); }
};

/// adaptive::SGD: a drop-in replacement for torch::optim::SGD (see the file
/// comment for the update).
class SGD : public OptimizerBase<SGD, SGDOptions, SGDParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::SGD";
  /// The torch::optim optimizer this one replaces (checkpoints move between them).
  using Builtin = torch::optim::SGD;
  /// Its options.
  using BuiltinOptions = torch::optim::SGDOptions;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters, as the built-in: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks SGD's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const SGDOptions& options);
  /// The optional hooks it defines (optim/core/hooks.h).
  static constexpr unsigned kOptionalHooks = hooks::kKeepsState | hooks::kBeginStep;
  /// Only momentum needs state, as in the built-in.
  static bool keeps_state(const SGDOptions& options) { return options.momentum() != 0; }
  /// Nothing to create ahead of the first step: the buffer starts as g.
  static void init_state(SGDParamState&, const torch::Tensor&, const SGDOptions&) {}
  /// Allocates the buffer on its first step and marks that step; returns 1 on
  /// it, 0 after (the steps whose scalars differ).
  static int64_t begin_step(SGDParamState& state, const torch::Tensor& param, const SGDOptions& options);
  /// Its update rule (optim/rules/sgd.h).
  using Rule = SGDRule;
  /// The state tensors the rule takes, in its order (undefined without momentum).
  static auto state_tensors(const SGDParamState& s) { return std::tie(s.momentum_buffer()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static SGDScalars<S> scalars(const SGDOptions& options, const SGDParamState& state, GradientScalars<double> gradient);
};

}  // namespace adaptive
