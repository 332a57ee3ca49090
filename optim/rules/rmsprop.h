#pragma once
// RMSprop (Hinton, Lecture 6e), centered variant (Graves, 2013). For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   s  ← α·s + (1 − α)·g²                 running mean of g²
//   ḡ  ← α·ḡ + (1 − α)·g                  centered only
//   ŝ  = s / (1 − αᵗ)                     bias correction, off by default
//   d  = √(ŝ − ḡ²) + ε   (centered)   or   √ŝ + ε
//
// Only s is bias-corrected. Correcting ḡ as well would make the centered
// variance ŝ − ĝ² exactly 0 at t = 1 (one sample has no spread), so the first
// step would be g/ε; corrected s with raw ḡ stays positive: (1 − (1−α)²)·g².
//   b  ← μ·b + g / d,  θ ← θ − lr·b       with momentum μ > 0
//   θ  ← θ − lr · g / d                   without momentum

#include "optim/rules/gradient.h"

namespace adaptive {

/// RMSprop's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct RMSpropScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S alpha;                  ///< α
  S one_minus_alpha;        ///< 1 − α
  ew::Divisor<S> bias_correction;  ///< 1 − αᵗ with bias_correction(true), else 1
  S lr;                     ///< learning rate
  S eps;                    ///< ε
  S momentum;               ///< μ (0: none)
  bool centered = false;    ///< normalize by the variance estimate
};

/// RMSprop's update (the algorithm box above), on tensors or single elements.
struct RMSpropRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = RMSpropScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 3;
  /// apply() takes square roots (ew::sqrt): on official builds the fused CPU
  /// driver records them and takes MKL's, as ATen does.
  static constexpr bool kTakesRoots = true;

  /// One step: updates `param` and the state in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const RMSpropScalars<S>& s, T& param, const T& grad, T& square_avg, T& momentum_buffer,
                    T& grad_avg) {
    const T g = prepare_gradient(grad, param, s.grad);
    square_avg = ew::addcmul(square_avg * s.alpha, s.one_minus_alpha, g, g);
    const T mean_sq = unbias(square_avg, s.bias_correction);
    T denom;
    if (s.centered) {
      grad_avg = ew::axpy(grad_avg * s.alpha, s.one_minus_alpha, g);
      denom = ew::sqrt(ew::addcmul(mean_sq, S(-1), grad_avg, grad_avg)) + s.eps;  // √(ŝ − ḡ²) + ε
    } else {
      denom = ew::sqrt(mean_sq) + s.eps;
    }
    if (s.momentum > 0) {
      momentum_buffer = ew::addcdiv(momentum_buffer * s.momentum, S(1), g, denom);
      param = ew::axpy(param, -s.lr, momentum_buffer);
    } else {
      param = ew::addcdiv(param, -s.lr, g, denom);
    }
  }

 private:
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static T unbias(const T& x, const ew::Divisor<S>& correction) {
    return correction.value == 1 ? x : ew::div(x, correction);
  }
};

}  // namespace adaptive
