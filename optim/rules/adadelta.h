#pragma once
// Adadelta (Zeiler, 2012): steps scaled by the ratio of two running RMS, of
// past updates and of gradients, so that the units match; as torch.optim
// writes it. For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   s  ← ρ·s + (1 − ρ)·g²                 square_avg
//   Δ  = √(u + ε) / √(s + ε) · g          u: acc_delta, the running mean of Δ²
//   u  ← ρ·u + (1 − ρ)·Δ²
//   θ  ← θ − lr·Δ

#include "optim/rules/gradient.h"

namespace adaptive {

/// Adadelta's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct AdadeltaScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S rho;                    ///< ρ
  S one_minus_rho;          ///< 1 − ρ
  S eps;                    ///< ε
  S lr;                     ///< learning rate
};

/// Adadelta's update (the algorithm box above), on tensors or single elements.
struct AdadeltaRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = AdadeltaScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 2;
  /// apply() takes square roots (ew::sqrt): on official builds the fused CPU
  /// driver records them and takes MKL's, as ATen does.
  static constexpr bool kTakesRoots = true;

  /// One step: updates `param` and both running means in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const AdadeltaScalars<S>& s, T& param, const T& grad, T& square_avg, T& acc_delta) {
    const T g = prepare_gradient(grad, param, s.grad);
    square_avg = ew::addcmul(square_avg * s.rho, s.one_minus_rho, g, g);
    const T std = ew::sqrt(square_avg + s.eps);
    const T delta = ew::sqrt(acc_delta + s.eps) / std * g;
    acc_delta = ew::addcmul(acc_delta * s.rho, s.one_minus_rho, delta, delta);
    param = ew::axpy(param, -s.lr, delta);
  }
};

}  // namespace adaptive
