#pragma once
// NAdam (Dozat, 2016): Adam with Nesterov momentum, as torch.optim.NAdam
// (PyTorch 2.x) writes it. For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   θ  ← θ · (1 − lr·λ)                   decoupled weight decay only
//   μₜ = β1·(1 − ½·0.96^(t·ψ))            momentum schedule, ψ = momentum_decay
//   Πₜ = Πₜ₋₁·μₜ                          mu_product (state), Π₀ = 1
//   m  ← m + (1 − β1)·(g − m)             (lerp, as 2.x; 1.13 wrote β1·m + (1 − β1)·g)
//   v  ← β2·v + (1 − β2)·g²
//   d  = √(v / (1 − β2ᵗ)) + ε
//   θ  ← θ − lr·(1 − μₜ)/(1 − Πₜ) · g/d − lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d
//
// The two step sizes are per-step constants (NAdamScalars), computed in double
// from the schedule; the rule applies them as torch.optim does, two addcdivs.

#include "optim/rules/gradient.h"

namespace adaptive {

/// NAdam's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct NAdamScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S decay_factor = 1;       ///< 1 − lr·λ with decoupled weight decay, else 1
  S one_minus_beta1;        ///< 1 − β1 (the lerp weight)
  S beta2;                  ///< β2
  S one_minus_beta2;        ///< 1 − β2
  ew::Divisor<S> bias_correction2;  ///< 1 − β2ᵗ
  S eps;                    ///< ε
  S grad_step;              ///< −lr·(1 − μₜ)/(1 − Πₜ)
  S avg_step;               ///< −lr·μₜ₊₁/(1 − Πₜ·μₜ₊₁)
};

/// NAdam's update (the algorithm box above), on tensors or single elements.
struct NAdamRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = NAdamScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 2;
  /// apply() takes square roots (ew::sqrt): on official builds the fused CPU
  /// driver records them and takes MKL's, as ATen does.
  static constexpr bool kTakesRoots = true;

  /// One step: updates `param` and the moments in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const NAdamScalars<S>& s, T& param, const T& grad, T& exp_avg, T& exp_avg_sq) {
    const T g = prepare_gradient(grad, param, s.grad);
    decay_parameter(param, s.decay_factor);
    exp_avg = ew::lerp(exp_avg, g, s.one_minus_beta1);
    exp_avg_sq = ew::addcmul(exp_avg_sq * s.beta2, s.one_minus_beta2, g, g);
    const T denom = ew::sqrt(ew::div(exp_avg_sq, s.bias_correction2)) + s.eps;
    param = ew::addcdiv(param, s.grad_step, g, denom);
    param = ew::addcdiv(param, s.avg_step, exp_avg, denom);
  }
};

}  // namespace adaptive
