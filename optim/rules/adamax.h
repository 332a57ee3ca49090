#pragma once
// Adamax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm in
// place of the second moment, as torch.optim.Adamax (PyTorch 2.x) writes it.
// For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   m  ← m + (1 − β1)·(g − m)             (lerp, as torch.optim)
//   u  ← max(β2·u, |g| + ε)               exp_inf: ε inside the max, as torch.optim
//   θ  ← θ − lr/(1 − β1ᵗ) · m / u         (lr · m / u with bias_correction off)
//
// u needs no bias correction: it is a maximum, not an average, so it does not
// start biased towards zero.

#include "optim/rules/gradient.h"

namespace adaptive {

/// Adamax's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct AdamaxScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S one_minus_beta1;        ///< 1 − β1 (the lerp weight)
  S beta2;                  ///< β2
  S eps;                    ///< ε
  S step;                   ///< −lr/(1 − β1ᵗ), or −lr with bias_correction(false)
};

/// Adamax's update (the algorithm box above), on tensors or single elements.
struct AdamaxRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = AdamaxScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 2;
  /// apply() takes no square roots.
  static constexpr bool kTakesRoots = false;

  /// One step: updates `param`, m and u in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const AdamaxScalars<S>& s, T& param, const T& grad, T& exp_avg, T& exp_inf) {
    const T g = prepare_gradient(grad, param, s.grad);
    exp_avg = ew::lerp(exp_avg, g, s.one_minus_beta1);
    exp_inf = ew::maximum(exp_inf * s.beta2, ew::abs(g) + s.eps);
    param = ew::addcdiv(param, s.step, exp_avg, exp_inf);
  }
};

}  // namespace adaptive
