#pragma once
// adaptive::SparseAdam: Adam for sparse gradients, as torch.optim.SparseAdam
// (PyTorch 1.x and 2.x) has it; LibTorch has no SparseAdam. For the rows of
// a torch::nn::Embedding built with sparse(true): a step moves only the
// entries its gradient holds, so its cost follows the rows a batch touched,
// not the table's size. It refuses dense gradients, as torch.optim does:
// optimize the dense parameters with adaptive::Adam beside it
// (examples/embedding.cc shows both).
//
// Update (the algorithm box is optim/rules/sparse_adam.h): Adam's, on the
// entries the gradient holds; the bias corrections count every step of the
// parameter.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/hooks.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/sparse_adam.h"

#include <torch/optim/optimizer.h>

#include <tuple>

namespace adaptive {

/// Options of adaptive::SparseAdam: torch.optim.SparseAdam's (names and
/// defaults) plus adaptive's common ones (maximize among them, as Python's).
/// Fluent: SparseAdamOptions(1e-2).betas({0.9, 0.99})...
struct SparseAdamOptions : public OptionsBase<SparseAdamOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  SparseAdamOptions(double lr = 1e-3);
  /// Learning rate, > 0 (as torch.optim.SparseAdam requires).
  TORCH_ARG(double, lr) = 1e-3;
  /// (β1, β2).
  typedef std::tuple<double, double> betas_t;
  /// (β1, β2): decay rates of the moments, each in [0, 1).
  TORCH_ARG(betas_t, betas) = std::make_tuple(0.9, 0.999);
  /// ε, added to √v; > 0 (as torch.optim.SparseAdam requires).
  TORCH_ARG(double, eps) = 1e-8;
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.SparseAdam's names.
  static auto fields() {
    using O = SparseAdamOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("betas", &O::betas_),
                           detail::field("eps", &O::eps_), ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::SparseAdam, torch.optim.SparseAdam's fields.
struct SparseAdamParamState : public ParamStateBase<SparseAdamParamState> {
  /// t: steps taken (every step with a gradient, however few entries it held).
  TORCH_ARG(int64_t, step) = 0;
  /// m: running mean of g, per entry (dense, the parameter's shape).
  TORCH_ARG(torch::Tensor, exp_avg);
  /// v: running mean of g², per entry (dense, the parameter's shape).
  TORCH_ARG(torch::Tensor, exp_avg_sq);

 public:
  static auto fields() {
    using S = SparseAdamParamState;
    return std::make_tuple(detail::field("step", &S::step_), detail::field("exp_avg", &S::exp_avg_),
                           detail::field("exp_avg_sq", &S::exp_avg_sq_));
  }
};

/// adaptive::SparseAdam (see the file comment).
class SparseAdam : public OptimizerBase<SparseAdam, SparseAdamOptions, SparseAdamParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::SparseAdam";
  /// LibTorch has no SparseAdam: the reference is torch.optim.SparseAdam (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;
  /// Only sparse gradients (the shell runs the Rule on the entries they
  /// hold); no complex parameters (as torch.optim.SparseAdam).
  static constexpr unsigned kOptionalHooks = hooks::kSparseOnly | hooks::kRealOnly;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks SparseAdam's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const SparseAdamOptions& options);
  /// Creates m and v (zeros, dense).
  static void init_state(SparseAdamParamState& state, const torch::Tensor& param, const SparseAdamOptions& options);
  /// Its update rule (optim/rules/sparse_adam.h).
  using Rule = SparseAdamRule;
  /// The state tensors the rule takes, in its order.
  static auto state_tensors(const SparseAdamParamState& s) { return std::tie(s.exp_avg(), s.exp_avg_sq()); }
  /// The rule's constants for this step of one parameter (in double, stored as S).
  template <class S>
  static SparseAdamScalars<S> scalars(const SparseAdamOptions& options, const SparseAdamParamState& state,
                                      GradientScalars<double> gradient);
};

}  // namespace adaptive
