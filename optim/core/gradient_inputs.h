#pragma once
// What a step takes from the gradients before any driver runs, over any
// parameter groups: skip_nonfinite's decision (a group with a NaN or ±inf
// gradient takes no step) and what norm clipping reads. ShardedOptimizer
// runs these on the whole model's groups, as OptimizerBase on its own.

#include "optim/core/step_checks.h"
#include "optim/kernels/fused_cpu.h"

#include <ATen/ATen.h>
#include <c10/util/irange.h>

#include <vector>

namespace adaptive {
namespace detail {

/// The gradient decisions of optimizer `Derived` with options `Options`.
template <class Derived, class Options>
struct GradientInputs {
  using ParamGroup = torch::optim::OptimizerParamGroup;  ///< as in torch::optim
  using Checks = StepChecks<Derived, Options>;

  /// The values a gradient holds: a dense one itself (a complex one its real
  /// view: clipping clamps the real and imaginary parts, and the norm is
  /// √Σ|z|², as torch.optim's clip_grad_norm_), a sparse (coalesced) one its
  /// values, each entry once; finiteness and norms read these.
  static torch::Tensor stored_values(const torch::Tensor& g) {
    if (g.is_sparse()) return g._values();
    return g.is_complex() ? at::view_as_real(g) : g;
  }

  /// Whether every defined gradient of `grads` holds only finite values:
  /// those the fused CPU driver takes in one parallel read
  /// (kernels::fused_all_finite), the others (other devices and dtypes) by
  /// ATen's isfinite, read once at the end (on a GPU, a synchronization).
  static bool all_finite(const std::vector<std::vector<torch::Tensor>>& grads) {
    std::vector<torch::Tensor> fused, other;
    for (const auto& group : grads) {
      for (const auto& g : group) {
        if (!g.defined()) continue;
        torch::Tensor v = stored_values(g);
        const bool fast = v.is_cpu() && v.is_contiguous() &&
                          (v.scalar_type() == at::kFloat || v.scalar_type() == at::kDouble);
        (fast ? fused : other).push_back(std::move(v));
      }
    }
    if (!fused.empty() && !kernels::fused_all_finite(fused)) return false;
    if (other.empty()) return true;
    std::vector<torch::Tensor> each;
    for (const auto& v : other) each.push_back(at::isfinite(v).all().to(other.front().device()));
    return at::stack(each).all().item<bool>();
  }

  /// A group with skip_nonfinite and a NaN or ±inf gradient takes no step:
  /// its gradients (in `grads`, from checked_gradients) are dropped here,
  /// before clipping, so that it is left exactly as it was and does not
  /// poison the global norm of the others. Adds the groups skipped to
  /// `skipped_steps`; returns the dropped gradients' values.
  static std::vector<torch::Tensor> skip_nonfinite_groups(const std::vector<ParamGroup>& groups,
                                                          std::vector<std::vector<torch::Tensor>>& grads,
                                                          int64_t& skipped_steps) {
    std::vector<torch::Tensor> dropped;
    for (const auto gi : c10::irange(groups.size())) {
      if (!Checks::options_of(groups, gi).skip_nonfinite()) continue;
      bool finite = true;
      for (const auto& g : grads[gi]) {
        if (g.defined() && !at::isfinite(stored_values(g)).all().item().toBool()) finite = false;
      }
      if (finite) continue;
      for (auto& g : grads[gi]) {
        if (g.defined()) dropped.push_back(stored_values(g));
        g = torch::Tensor();
      }
      ++skipped_steps;
    }
    return dropped;
  }

  /// What norm clipping reads: the values of the gradients a step updates
  /// (`grads` after skip_nonfinite_groups), each with its group's
  /// clip_grad_value (value clipping comes first), whether any group clips
  /// by norm, and whether every group is fused (then the norm may be
  /// reduced in one fused pass). The lists are empty when no group clips by
  /// norm: nothing reads them then.
  struct NormInputs {
    std::vector<torch::Tensor> values;  ///< per gradient: what it holds
    std::vector<double> clip_values;    ///< per gradient: its group's clip_grad_value
    bool clip_norm = false;             ///< some group clips by norm
    bool all_fused = true;              ///< every group is fused
  };
  /// \copydoc NormInputs
  static NormInputs norm_inputs(const std::vector<ParamGroup>& groups,
                                const std::vector<std::vector<torch::Tensor>>& grads) {
    NormInputs in;
    for (const auto gi : c10::irange(groups.size())) {
      const Options& o = Checks::options_of(groups, gi);
      in.clip_norm = in.clip_norm || o.clip_grad_norm() > 0;
      in.all_fused = in.all_fused && o.fused();
    }
    if (!in.clip_norm) return in;  // no norm to take: skip collecting the gradients
    for (const auto gi : c10::irange(groups.size())) {
      const Options& o = Checks::options_of(groups, gi);
      for (const auto& g : grads[gi]) {
        if (!g.defined()) continue;
        in.values.push_back(stored_values(g));
        in.clip_values.push_back(o.clip_grad_value());
      }
    }
    return in;
  }
};

}  // namespace detail
}  // namespace adaptive
