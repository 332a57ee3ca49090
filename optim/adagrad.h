#pragma once
// adaptive::Adagrad: a drop-in for torch::optim::Adagrad, sparse gradients
// (torch::nn::Embedding with sparse(true)) included.
//
// Update for step t (the algorithm box is optim/rules/adagrad.h):
//   Σ ← Σ + g²,   θ ← θ − lr_t · g / (√Σ + ε),   lr_t = lr / (1 + (t − 1)·lr_decay)

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/adagrad.h"

#include <torch/optim/adagrad.h>
#include <torch/optim/optimizer.h>

#include <string>
#include <tuple>
#include <vector>

namespace adaptive {

/// Options of adaptive::Adagrad: torch::optim::AdagradOptions' options (same names,
/// defaults and meaning) plus adaptive's own. Fluent: AdagradOptions(lr).eps(1e-6)...
struct AdagradOptions : public OptionsBase<AdagradOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  AdagradOptions(double lr = 1e-2);
  /// Learning rate.
  TORCH_ARG(double, lr) = 1e-2;
  /// Learning-rate decay: lr_t = lr / (1 + (t − 1)·lr_decay).
  TORCH_ARG(double, lr_decay) = 0;
  /// λ: L2 penalty added to the gradient.
  TORCH_ARG(double, weight_decay) = 0;
  /// Starting value of the accumulator Σ. As in torch::optim and torch.optim, the
  /// constructor's value is used for every group present at construction.
  TORCH_ARG(double, initial_accumulator_value) = 0;
  /// ε, added to √Σ.
  TORCH_ARG(double, eps) = 1e-10;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  static auto fields() {
    using O = AdagradOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("lr_decay", &O::lr_decay_),
                           detail::field("weight_decay", &O::weight_decay_),
                           detail::field("initial_accumulator_value", &O::initial_accumulator_value_),
                           detail::field("eps", &O::eps_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Adagrad, with torch::optim::AdagradParamState's
/// fields and serialization keys (checkpoints move between the two).
struct AdagradParamState : public ParamStateBase<AdagradParamState> {
  /// Σ: sum of g² (from initial_accumulator_value).
  TORCH_ARG(torch::Tensor, sum);
  /// t: steps taken.
  TORCH_ARG(int64_t, step) = 0;

 public:
  static auto fields() {
    using S = AdagradParamState;
    return std::make_tuple(detail::field("sum", &S::sum_), detail::field("step", &S::step_));
  }
};

/// adaptive::Adagrad: a drop-in replacement for torch::optim::Adagrad (see the
/// file comment for the update). Construct from parameters or param groups;
/// step(), zero_grad(), save/load and schedulers work as with the built-in.
class Adagrad : public OptimizerBase<Adagrad, AdagradOptions, AdagradParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Adagrad";
  /// The torch::optim optimizer this one replaces (checkpoints move between them).
  using Builtin = torch::optim::Adagrad;
  /// Its options.
  using BuiltinOptions = torch::optim::AdagradOptions;

  /// Like torch::optim::Adagrad, creates the state (Σ) of every parameter here,
  /// each accumulator filled with defaults.initial_accumulator_value().
  explicit Adagrad(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdagradOptions defaults = {});
  /// Optimizes `params` as one group with `defaults`.
  explicit Adagrad(std::vector<torch::Tensor> params, AdagradOptions defaults = {})
      : Adagrad(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(std::move(params))},
                defaults) {}

  /// Checks Adagrad's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const AdagradOptions& options);
  /// Takes sparse gradients, as the built-in (Rule::apply_sparse): the
  /// optional hook of optim/core/hooks.h.
  static constexpr unsigned kOptionalHooks = hooks::kSparseGradients;
  /// Refuses options that sparse gradients cannot have (weight_decay, as the
  /// built-in); `where` names the parameter.
  static void check_sparse(const AdagradOptions& options, const std::string& where);
  /// Creates the state tensors `options` need and `state` lacks.
  static void init_state(AdagradParamState& state, const torch::Tensor& param, const AdagradOptions& options);
  /// Its update rule (optim/rules/adagrad.h).
  using Rule = AdagradRule;
  /// The state tensors the rule takes, in its order (undefined: options that are off).
  static auto state_tensors(const AdagradParamState& s) { return std::tie(s.sum()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static AdagradScalars<S> scalars(const AdagradOptions& options, const AdagradParamState& state, GradientScalars<double> gradient);
};

}  // namespace adaptive
