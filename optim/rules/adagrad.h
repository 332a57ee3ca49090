#pragma once
// Adagrad (Duchi et al., 2011). For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   Σ  ← Σ + g²                           Σ starts at initial_accumulator_value
//   θ  ← θ − lr_t · g / (√Σ + ε),         lr_t = lr / (1 + (t − 1)·lr_decay)
//
// A sparse gradient updates only the entries it holds (apply_sparse).

#include "optim/rules/gradient.h"

namespace adaptive {

/// Adagrad's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct AdagradScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S lr_t;                   ///< the decayed learning rate of this step
  S eps;                    ///< ε
};

/// Adagrad's update (the algorithm box above), on tensors or single elements.
struct AdagradRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = AdagradScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 1;
  /// apply() takes square roots (ew::sqrt): on official builds the fused CPU
  /// driver records them and takes MKL's, as ATen does.
  static constexpr bool kTakesRoots = true;

  /// One step: updates `param` and the accumulator in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const AdagradScalars<S>& s, T& param, const T& grad, T& sum) {
    const T g = prepare_gradient(grad, param, s.grad);
    sum = ew::addcmul(sum, S(1), g, g);
    param = ew::addcdiv(param, -s.lr_t, g, ew::sqrt(sum) + s.eps);
  }

  /// The same step for a sparse (coalesced COO) gradient, written with the
  /// ops torch::optim::Adagrad and torch.optim use for it (sparse adds, a
  /// mask), so that it matches them bit for bit: only the entries the
  /// gradient holds change. L2 decay is refused with sparse gradients (as by
  /// both), so the gradient's values are clipped and signed only.
  static void apply_sparse(const AdagradScalars<double>& s, const at::Tensor& param, const at::Tensor& grad,
                           const at::Tensor& sum) {
    TORCH_INTERNAL_ASSERT(s.grad.weight_decay == 0 && grad.is_coalesced());
    const at::Tensor indices = grad._indices();
    const at::Tensor values = prepare_gradient(grad._values(), /*param (no L2 term)=*/at::Tensor(), s.grad);
    const auto sparse = [&](const at::Tensor& v) {  // v at the gradient's indices
      if (indices.dim() == 0 || v.dim() == 0) return at::empty({0}, grad.options()).resize_as_(grad);
      return at::sparse_coo_tensor(indices, v, grad.sizes(), grad.options());
    };
    sum.add_(sparse(values.pow(2)));
    const at::Tensor std_values = sum.sparse_mask(grad)._values().sqrt_().add_(s.eps);
    param.add_(sparse(values / std_values), -s.lr_t);
  }
};

}  // namespace adaptive
