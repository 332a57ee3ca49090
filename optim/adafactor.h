#pragma once
// adaptive::Adafactor: Adafactor as torch.optim.Adafactor (PyTorch 2.5 on)
// has it; LibTorch has none. The same option names and defaults as Python's,
// plus adaptive's common options. A matrix keeps factored second moments (a
// row and a column of means, O(rows + cols) memory); the update is in
// optim/rules/adafactor.h. Not elementwise, it runs as tensor ops on every
// device (hooks::kTensorStep): `fused` changes nothing for it.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/hooks.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/adafactor.h"

#include <c10/util/Optional.h>
#include <torch/optim/optimizer.h>

#include <tuple>

namespace adaptive {

/// Options of adaptive::Adafactor: torch.optim.Adafactor's (names and
/// defaults) plus adaptive's own. Fluent: AdafactorOptions(1e-2).d(2.0)...
struct AdafactorOptions : public OptionsBase<AdafactorOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  AdafactorOptions(double lr = 1e-2);
  /// Learning rate: the relative step size is min(lr, 1/√t).
  TORCH_ARG(double, lr) = 1e-2;
  /// The weight of each new g² in the second moments is t^beta2_decay (<= 0).
  TORCH_ARG(double, beta2_decay) = -0.8;
  /// (ε₁, ε₂).
  typedef std::tuple<c10::optional<double>, double> eps_t;
  /// (ε₁, ε₂): ε₁ floors the second-moment estimate (none, torch.optim's
  /// None: the machine epsilon of the parameter's dtype); ε₂ floors the
  /// parameter's RMS that scales the step.
  TORCH_ARG(eps_t, eps) = std::make_tuple(c10::optional<double>(), 1e-3);
  /// The update's RMS is clipped to d (>= 1).
  TORCH_ARG(double, d) = 1.0;
  /// λ: decoupled weight decay, θ ← θ·(1 − lr·λ) (torch.optim.Adafactor's only form).
  TORCH_ARG(double, weight_decay) = 0;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.Adafactor's names.
  static auto fields() {
    using O = AdafactorOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("beta2_decay", &O::beta2_decay_),
                           detail::field("eps", &O::eps_), detail::field("d", &O::d_),
                           detail::field("weight_decay", &O::weight_decay_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Adafactor, torch.optim.Adafactor's
/// fields: row_var and col_var for a parameter of 2 or more dimensions,
/// variance otherwise.
struct AdafactorParamState : public ParamStateBase<AdafactorParamState> {
  /// t: steps taken (torch.optim keeps it as a float tensor).
  TORCH_ARG(int64_t, step) = 0;
  /// Running means of g² over the last dimension: the parameter's shape with its last dimension 1.
  TORCH_ARG(torch::Tensor, row_var);
  /// Running means of g² over the next-to-last dimension: the parameter's shape with that dimension 1.
  TORCH_ARG(torch::Tensor, col_var);
  /// Running mean of g², for a parameter of 0 or 1 dimension: the parameter's shape.
  TORCH_ARG(torch::Tensor, variance);

 public:
  static auto fields() {
    using S = AdafactorParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("row_var", &S::row_var_),
                           detail::field("col_var", &S::col_var_), detail::field("variance", &S::variance_));
  }
};

/// adaptive::Adafactor (see the file comment).
class Adafactor : public OptimizerBase<Adafactor, AdafactorOptions, AdafactorParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Adafactor";
  /// LibTorch has no Adafactor: the reference is torch.optim.Adafactor (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;
  /// Whole-tensor math; complex parameters refused, as torch.optim.Adafactor does.
  static constexpr unsigned kOptionalHooks = hooks::kTensorStep | hooks::kRealOnly;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks Adafactor's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const AdafactorOptions& options);
  /// Creates row_var and col_var (2 or more dimensions) or variance (zeros).
  static void init_state(AdafactorParamState& state, const torch::Tensor& param, const AdafactorOptions& options);
  /// One step of `param` (optim/rules/adafactor.h) with its clipped, signed gradient.
  static void tensor_step(AdafactorParamState& state, const torch::Tensor& param, const torch::Tensor& grad,
                          const AdafactorOptions& options);
};

}  // namespace adaptive
