#pragma once
// What happens to a gradient before any optimizer sees it, in this order:
//
//   g ← g · unscale    a loss scale undone (GradScaler's fused path): unscale =
//                      1 / scale in float32, as torch.amp's unscale_ multiplies
//   g ← clamp(g, −clip_grad_value, clip_grad_value)   if clip_grad_value > 0
//   g ← scale · g      scale = ±min(1, clip_grad_norm / (‖g‖₂ + 1e-6)),
//                      negative when maximizing (PyTorch's `maximize`)
//   g ← g + λ·θ        L2 weight decay (coupled), λ = weight_decay
//
// and, separately, decoupled weight decay (AdamW): θ ← θ · (1 − lr·λ).
// Each is one small function so that the fused and reference drivers, and the
// tests, share the same text.

#include "optim/rules/elementwise.h"

namespace adaptive {

/// Per-step, per-group gradient scalars, stored in the element type S of the
/// tensor being updated (double for the tensor-op driver).
template <class S>
struct GradientScalars {
  S clip_value = 0;    ///< clamp limit; 0: no value clipping
  S scale = 1;         ///< norm-clipping coefficient, negated for maximize
  S weight_decay = 0;  ///< L2 penalty folded into the gradient (0: none)
  S unscale = 1;       ///< the loss scale's inverse, multiplied in first (1: none; see GradScaler)

  /// The same scalars in another element type.
  template <class To>
  GradientScalars<To> as() const {
    return {static_cast<To>(clip_value), static_cast<To>(scale), static_cast<To>(weight_decay),
            static_cast<To>(unscale)};
  }
};

/// The gradient the update uses: unscaled, clipped, scaled, signed, plus the L2 term.
ADAPTIVE_HOST_DEVICE_TEMPLATE
template <class T, class S>
C10_HOST_DEVICE T prepare_gradient(T g, const T& param, const GradientScalars<S>& s) {
  if (s.unscale != 1) g = g * s.unscale;
  if (s.clip_value > 0) g = ew::clamp_abs(g, s.clip_value);
  if (s.scale != 1) g = g * s.scale;
  if (s.weight_decay != 0) g = ew::axpy(g, s.weight_decay, param);
  return g;
}

/// θ ← θ · factor with factor = 1 − lr·λ; a no-op when factor is exactly 1.
ADAPTIVE_HOST_DEVICE_TEMPLATE
template <class T, class S>
C10_HOST_DEVICE void decay_parameter(T& param, S factor) {
  if (factor != 1) param = param * factor;
}

}  // namespace adaptive
