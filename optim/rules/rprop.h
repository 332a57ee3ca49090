#pragma once
// Rprop (Riedmiller & Braun, 1993), as torch.optim.Rprop (PyTorch 2.x) writes
// it: each element keeps its own step size, grown while its gradient keeps its
// sign and shrunk when the sign flips; only the gradient's sign moves θ.
// For step t:
//
//   g  ← prepare_gradient(g)              clip, maximize (gradient.h; Rprop has no weight decay)
//   f  = η₊ where g·g_prev > 0, η₋ where g·g_prev < 0, else 1
//                                         (else: 0 or NaN; ATen's sign(NaN) is 0)
//   Δ  ← clamp(Δ·f, Δ_min, Δ_max)         step_size (state), Δ₀ = lr
//   g  ← 0 where f = η₋                   after a sign flip, no move and no memory
//   θ  ← θ − sign(g)·Δ
//   g_prev ← g                            prev (state)

#include "optim/rules/gradient.h"

namespace adaptive {

/// Rprop's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct RpropScalars {
  GradientScalars<S> grad;  ///< clipping and sign
  S etaminus;               ///< η₋, in (0, 1)
  S etaplus;                ///< η₊, above 1
  S step_size_min;          ///< Δ_min
  S step_size_max;          ///< Δ_max
};

/// Rprop's update (the algorithm box above), on tensors or single elements.
struct RpropRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = RpropScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 2;
  /// apply() takes no square roots.
  static constexpr bool kTakesRoots = false;

  /// One step: updates `param`, g_prev and Δ in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const RpropScalars<S>& s, T& param, const T& grad, T& prev, T& step_size) {
    const T g = prepare_gradient(grad, param, s.grad);
    const T factor = ew::select_by_sign(g * prev, s.etaplus, S(1), s.etaminus);
    step_size = ew::clamp(step_size * factor, s.step_size_min, s.step_size_max);
    const T moved = ew::zero_where_equal(g, factor, s.etaminus);
    param = ew::addcmul(param, S(-1), ew::sign(moved), step_size);
    prev = moved;
  }
};

}  // namespace adaptive
