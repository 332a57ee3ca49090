#pragma once
// Adam (Kingma & Ba, 2015), with AMSGrad (Reddi et al., 2018) and AdamW's
// decoupled weight decay (Loshchilov & Hutter, 2019). For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   θ  ← θ · (1 − lr·λ)                   decoupled weight decay only
//   m  ← β1·m + (1 − β1)·g
//   v  ← β2·v + (1 − β2)·g²
//   v  ← v_max ← max(v_max, v)            AMSGrad only
//   m̂  = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)  bias correction (both 1 when off)
//   θ  ← θ − lr · m̂ / (√v̂ + ε)
//
// The last line is evaluated as torch.optim does, with the corrections folded
// into two scalars: θ ← θ − step_size · m / (√v / √(1 − β2ᵗ) + ε),
// step_size = lr / (1 − β1ᵗ). Same value; the same roundings as the built-ins.
// The same text runs on whole tensors and on single elements (optim/kernels/).

#include "optim/rules/gradient.h"

namespace adaptive {

/// Adam's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct AdamScalars {
  GradientScalars<S> grad;       ///< clipping, sign and L2 decay
  S decay_factor = 1;            ///< 1 − lr·λ with decoupled weight decay, else 1
  S beta1;                       ///< β1
  S one_minus_beta1;             ///< 1 − β1
  S beta2;                       ///< β2
  S one_minus_beta2;             ///< 1 − β2
  S step_size;                   ///< lr / (1 − β1ᵗ), or lr with bias_correction(false)
  ew::Divisor<S> sqrt_bias_correction2;  ///< √(1 − β2ᵗ), or 1 with bias_correction(false)
  S eps;                         ///< ε
  bool amsgrad = false;          ///< normalize by max(v) so far
};

/// Adam's update (the algorithm box above), on tensors or single elements.
struct AdamRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = AdamScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 3;
  /// apply() takes square roots (ew::sqrt): on official builds the fused CPU
  /// driver records them and takes MKL's, as ATen does.
  static constexpr bool kTakesRoots = true;

  /// One step: updates `param` and the state in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const AdamScalars<S>& s, T& param, const T& grad, T& exp_avg, T& exp_avg_sq,
                    T& max_exp_avg_sq) {
    const T g = prepare_gradient(grad, param, s.grad);
    decay_parameter(param, s.decay_factor);
    exp_avg = ew::axpy(exp_avg * s.beta1, s.one_minus_beta1, g);
    exp_avg_sq = ew::addcmul(exp_avg_sq * s.beta2, s.one_minus_beta2, g, g);
    if (s.amsgrad) max_exp_avg_sq = ew::maximum(max_exp_avg_sq, exp_avg_sq);
    const T& v = s.amsgrad ? max_exp_avg_sq : exp_avg_sq;
    const T denom = ew::div(ew::sqrt(v), s.sqrt_bias_correction2) + s.eps;  // √v̂ + ε
    param = ew::addcdiv(param, -s.step_size, exp_avg, denom);      // θ − lr·m̂/(√v̂ + ε)
  }
};

}  // namespace adaptive
