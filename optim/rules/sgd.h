#pragma once
// Stochastic gradient descent with momentum (Polyak, 1964) and Nesterov's
// variant (Sutskever et al., 2013), as torch.optim.SGD writes it. For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize, L2 decay (gradient.h)
//   b  ← g                                momentum μ > 0, first step
//   b  ← μ·b + (1 − dampening)·g          momentum μ > 0, later steps
//   d  = g + μ·b   (nesterov)   or   b    momentum μ > 0; d = g without
//   θ  ← θ − lr · d

#include "optim/rules/gradient.h"

namespace adaptive {

/// SGD's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct SGDScalars {
  GradientScalars<S> grad;  ///< clipping, sign and L2 decay
  S lr;                     ///< learning rate
  S momentum;               ///< μ
  bool with_momentum = false;  ///< μ ≠ 0 (as given, before rounding to S): the buffer is used
  S one_minus_dampening;    ///< 1 − dampening
  bool nesterov = false;    ///< step along g + μ·b instead of b
  bool first = false;       ///< the buffer's first step: it starts as g
};

/// SGD's update (the algorithm box above), on tensors or single elements.
struct SGDRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = SGDScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 1;
  /// apply() takes no square root: the fused CPU driver runs it in one pass,
  /// without recording the roots that official builds take from MKL.
  static constexpr bool kTakesRoots = false;

  /// One step: updates `param` and the momentum buffer in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const SGDScalars<S>& s, T& param, const T& grad, T& momentum_buffer) {
    T d = prepare_gradient(grad, param, s.grad);
    if (s.with_momentum) {
      momentum_buffer = s.first ? d : ew::axpy(momentum_buffer * s.momentum, s.one_minus_dampening, d);
      d = s.nesterov ? ew::axpy(d, s.momentum, momentum_buffer) : momentum_buffer;
    }
    param = ew::axpy(param, -s.lr, d);
  }
};

}  // namespace adaptive
