#pragma once
// adaptive::Muon: Muon as torch.optim.Muon (PyTorch 2.9 on) has it; LibTorch
// has none. The same option names and defaults as Python's, plus adaptive's
// common options (`maximize` among them, which Python's Muon lacks). Muon is
// for the 2-D weights of hidden layers and, as Python's, refuses any other
// parameter: optimize biases, norms and embeddings with AdamW, as a second
// optimizer (docs/options.md shows the recipe). The update (momentum,
// orthogonalized by Newton–Schulz iterations in bfloat16) is in
// optim/rules/muon.h; it runs as tensor ops on every device
// (hooks::kTensorStep): `fused` changes nothing for it.

#include "optim/core/common_options.h"
#include "optim/core/fields.h"
#include "optim/core/hooks.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_base.h"
#include "optim/rules/muon.h"

#include <c10/util/Optional.h>
#include <torch/optim/optimizer.h>

#include <string>
#include <tuple>

namespace adaptive {

/// Options of adaptive::Muon: torch.optim.Muon's (names and defaults) plus
/// adaptive's own. Fluent: MuonOptions(0.02).momentum(0.9)...
struct MuonOptions : public OptionsBase<MuonOptions> {
  /// Options with learning rate `lr`, everything else at its default.
  MuonOptions(double lr = 1e-3);
  /// Learning rate (scaled by the matrix's shape: adjust_lr_fn).
  TORCH_ARG(double, lr) = 1e-3;
  /// λ: decoupled weight decay, θ ← θ·(1 − lr·λ) (torch.optim.Muon's only form).
  TORCH_ARG(double, weight_decay) = 0.1;
  /// μ: the momentum buffer's decay, B ← lerp(B, g, 1 − μ).
  TORCH_ARG(double, momentum) = 0.95;
  /// Orthogonalize lerp(g, B, μ) (Nesterov) instead of B.
  TORCH_ARG(bool, nesterov) = true;
  /// (a, b, c) of the quintic Newton–Schulz iteration X ← a·X + (b·G + c·G²)·X.
  typedef std::tuple<double, double, double> ns_coefficients_t;
  /// \copydoc ns_coefficients_t
  TORCH_ARG(ns_coefficients_t, ns_coefficients) = std::make_tuple(3.4445, -4.7750, 2.0315);
  /// ε: the Frobenius norm the iteration divides by is at least ε.
  TORCH_ARG(double, eps) = 1e-7;
  /// Newton–Schulz iterations per step, in [0, 100).
  TORCH_ARG(int64_t, ns_steps) = 5;
  /// How lr scales with the matrix's shape A x B: none or "original",
  /// lr·√max(1, A/B); "match_rms_adamw", lr·0.2·√max(A, B) (lets AdamW's lr
  /// and weight decay carry over).
  TORCH_ARG(c10::optional<std::string>, adjust_lr_fn);
  ADAPTIVE_COMMON_OPTIONS;

 public:
  /// The fields behind save, load and ==, with torch.optim.Muon's names.
  static auto fields() {
    using O = MuonOptions;
    return std::make_tuple(detail::field("lr", &O::lr_), detail::field("weight_decay", &O::weight_decay_),
                           detail::field("momentum", &O::momentum_), detail::field("nesterov", &O::nesterov_),
                           detail::field("ns_coefficients", &O::ns_coefficients_), detail::field("eps", &O::eps_),
                           detail::field("ns_steps", &O::ns_steps_), detail::field("adjust_lr_fn", &O::adjust_lr_fn_),
                           ADAPTIVE_COMMON_FIELDS(O));
  }
};

/// Per-parameter state of adaptive::Muon, torch.optim.Muon's: the momentum
/// buffer only (no step count, as Python keeps none).
struct MuonParamState : public ParamStateBase<MuonParamState> {
  /// B: the momentum buffer, of the parameter's shape.
  TORCH_ARG(torch::Tensor, momentum_buffer);

 public:
  static auto fields() {
    using S = MuonParamState;
    return std::make_tuple(detail::field("momentum_buffer", &S::momentum_buffer_));
  }
};

/// adaptive::Muon (see the file comment).
class Muon : public OptimizerBase<Muon, MuonOptions, MuonParamState> {
 public:
  /// The name errors start with.
  static constexpr const char* kName = "adaptive::Muon";
  /// LibTorch has no Muon: the reference is torch.optim.Muon (Python).
  using Builtin = void;
  /// (none)
  using BuiltinOptions = void;
  /// Whole-tensor math on 2-D parameters only, real ones, as torch.optim.Muon;
  /// begin_step: no step count to advance.
  static constexpr unsigned kOptionalHooks =
      hooks::kTensorStep | hooks::kRealOnly | hooks::kMatricesOnly | hooks::kBeginStep;

  /// From param groups (those without options use the defaults) or one list
  /// of parameters: OptimizerBase's constructors.
  using OptimizerBase::OptimizerBase;

  /// Checks Muon's own options (the shell checks the common ones); throws c10::Error.
  static void validate(const MuonOptions& options);
  /// Creates the momentum buffer (zeros).
  static void init_state(MuonParamState& state, const torch::Tensor& param, const MuonOptions& options);
  /// Muon keeps no step count: nothing to advance.
  static int64_t begin_step(MuonParamState&, const torch::Tensor&, const MuonOptions&) { return 0; }
  /// One step of `param` (optim/rules/muon.h) with its clipped, signed gradient.
  static void tensor_step(MuonParamState& state, const torch::Tensor& param, const torch::Tensor& grad,
                          const MuonOptions& options);
};

}  // namespace adaptive
