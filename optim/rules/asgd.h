#pragma once
// ASGD, averaged stochastic gradient descent (Polyak & Juditsky, 1992), as
// torch.optim.ASGD (PyTorch 2.x) writes it. For step t, with ηₜ and μₜ the
// values the previous step left (η₁ = lr, μ₁ = 1):
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   θ  ← θ · (1 − λ·ηₜ)                   lambd: decay towards 0
//   θ  ← θ − ηₜ·g
//   θ̄  ← θ̄ + μₜ·(θ − θ̄)                  ax (state); θ̄ ← θ while μₜ = 1
//
// then, for the next step (core of ASGD::begin_step, in double):
//   ηₜ₊₁ = lr / (1 + λ·lr·t)^α,   μₜ₊₁ = 1 / max(1, t − t0)
//
// θ̄ is the average of the iterates since step t0; it is what one evaluates
// (copy it into the model), while θ goes on training.

#include "optim/rules/gradient.h"

namespace adaptive {

/// ASGD's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct ASGDScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S decay_factor = 1;       ///< 1 − λ·ηₜ
  S neg_eta;                ///< −ηₜ
  S mu;                     ///< μₜ
  bool average = false;     ///< μₜ ≠ 1: θ̄ moves towards θ (else θ̄ ← θ)
};

/// ASGD's update (the algorithm box above), on tensors or single elements.
struct ASGDRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = ASGDScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 1;
  /// apply() takes no square roots.
  static constexpr bool kTakesRoots = false;

  /// One step: updates `param` and θ̄ in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const ASGDScalars<S>& s, T& param, const T& grad, T& ax) {
    const T g = prepare_gradient(grad, param, s.grad);
    decay_parameter(param, s.decay_factor);
    param = ew::axpy(param, s.neg_eta, g);
    if (s.average) {
      ax = ew::axpy(ax, S(1), ew::axpy(param, S(-1), ax) * s.mu);  // θ̄ + (θ − θ̄)·μ, as torch.optim
    } else {
      ax = param;
    }
  }
};

}  // namespace adaptive
