#pragma once
// Adagrad (Duchi et al., 2011). For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   Σ  ← Σ + g²                           Σ starts at initial_accumulator_value
//   θ  ← θ − lr_t · g / (√Σ + ε),         lr_t = lr / (1 + (t − 1)·lr_decay)

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

  /// One step: updates `param` and the accumulator in place.
  template <class T, class S>
  static void apply(const AdagradScalars<S>& s, T& param, const T& grad, T& sum) {
    const T g = prepare_gradient(grad, param, s.grad);
    sum = ew::addcmul(sum, S(1), g, g);
    param = ew::addcdiv(param, -s.lr_t, g, ew::sqrt(sum) + s.eps);
  }
};

}  // namespace adaptive
