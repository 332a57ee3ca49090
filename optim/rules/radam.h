#pragma once
// RAdam (Liu et al., 2020): Adam whose adaptive step is switched on only once
// the variance of its estimate is tractable, and then rectified; as
// torch.optim.RAdam (PyTorch 2.x) writes it. For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   θ  ← θ · (1 − lr·λ)                   decoupled weight decay only
//   m  ← m + (1 − β1)·(g − m)             (lerp, as 2.x; 1.13 wrote β1·m + (1 − β1)·g)
//   v  ← β2·v + (1 − β2)·g²
//   ρ∞ = 2/(1 − β2) − 1,  ρₜ = ρ∞ − 2t·β2ᵗ/(1 − β2ᵗ)     length of the approximated SMA
//   ρₜ > 5:  θ ← θ − (m/(1 − β1ᵗ))·lr · (√(1 − β2ᵗ) / (√v + ε)) · r,
//            r = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
//   else:    θ ← θ − (m/(1 − β1ᵗ))·lr      (momentum SGD while the variance is intractable)
//
// Evaluated with torch.optim's operations in its order (a reciprocal and
// products, not one division), so the results round as its do.

#include "optim/rules/gradient.h"

namespace adaptive {

/// RAdam's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct RAdamScalars {
  GradientScalars<S> grad;    ///< clipping, sign and L2 decay
  S decay_factor = 1;         ///< 1 − lr·λ with decoupled weight decay, else 1
  S one_minus_beta1;          ///< 1 − β1 (the lerp weight)
  S beta2;                    ///< β2
  S one_minus_beta2;          ///< 1 − β2
  ew::Divisor<S> bias_correction1;  ///< 1 − β1ᵗ
  S sqrt_bias_correction2;    ///< √(1 − β2ᵗ)
  S lr;                       ///< learning rate
  S eps;                      ///< ε
  S rectification = 1;        ///< r
  bool rectify = false;       ///< ρₜ > 5: the adaptive, rectified step
};

/// RAdam's update (the algorithm box above), on tensors or single elements.
struct RAdamRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = RAdamScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 2;
  /// apply() takes square roots (ew::sqrt): on official builds the fused CPU
  /// driver records them and takes MKL's, as ATen does.
  static constexpr bool kTakesRoots = true;

  /// One step: updates `param` and the moments in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const RAdamScalars<S>& s, T& param, const T& grad, T& exp_avg, T& exp_avg_sq) {
    const T g = prepare_gradient(grad, param, s.grad);
    decay_parameter(param, s.decay_factor);
    exp_avg = ew::lerp(exp_avg, g, s.one_minus_beta1);
    exp_avg_sq = ew::addcmul(exp_avg_sq * s.beta2, s.one_minus_beta2, g, g);
    const T step = ew::div(exp_avg, s.bias_correction1) * s.lr;  // m̂·lr
    if (s.rectify) {
      const T adaptive_lr = ew::reciprocal(ew::sqrt(exp_avg_sq) + s.eps) * s.sqrt_bias_correction2;
      param = ew::axpy(param, S(-1), step * adaptive_lr * s.rectification);
    } else {
      param = ew::axpy(param, S(-1), step);
    }
  }
};

}  // namespace adaptive
