#pragma once
// Adafactor's update (Shazeer & Stern, 2018), as torch.optim.Adafactor
// (PyTorch 2.5 on) computes it, op for op. It is not elementwise: a matrix
// keeps only the means of g² over its rows and over its columns (O(rows +
// cols) memory instead of O(rows·cols)), and the step is scaled by norms of
// the whole parameter and of the whole update. So it is written once here on
// whole tensors, and every device runs it as these tensor ops
// (hooks::kTensorStep; docs/architecture.md says which driver runs what).
//
// Step t of a parameter θ with gradient g (clipped and signed by the shell):
//   w  = t^beta2_decay                      the weight of the new g² (1 − β̂₂ₜ)
//   ρ  = min(lr, 1/√t)                      relative step size
//   α  = max(ε₂, ‖θ‖₂/√n) · ρ               scaled by θ's RMS before decay
//   θ ← θ · (1 − lr·λ)                      decoupled weight decay
//   θ of 2 or more dims (factored over its last two):
//     R ← lerp(R, mean(g², dim −1), w)      row means, last dim kept as 1
//     C ← lerp(C, mean(g², dim −2), w)      column means
//     V  = R·C / max(mean(R, dim −2), ε₁)   rank-1 estimate of E[g²]
//   θ of 0 or 1 dim:
//     v ← lerp(v, g², w);  V = v
//   U  = g / √max(V, ε₁²)
//   θ ← θ − α / max(1, ‖U‖₂/(√n·d)) · U     update clipped to RMS d
// ε₁ "none" is the machine epsilon of θ's dtype.

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <c10/util/Optional.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace adaptive {

/// Adafactor's constants for one step (AdafactorOptions' values).
struct AdafactorScalars {
  double lr = 1e-2;             ///< learning rate (ρ = min(lr, 1/√t))
  double beta2_decay = -0.8;    ///< the new g²'s weight is t^beta2_decay
  c10::optional<double> eps1;   ///< ε₁, the estimate's floor; none: the machine epsilon of the parameter's dtype
  double eps2 = 1e-3;           ///< ε₂, the floor of the parameter's RMS
  double d = 1.0;               ///< the update's RMS is clipped to d
  double weight_decay = 0;      ///< λ (decoupled)
};

/// The machine epsilon of `dtype` (torch.finfo(dtype).eps).
inline double machine_epsilon(at::ScalarType dtype) {
  return AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "machine_epsilon", [] {
    return static_cast<double>(std::numeric_limits<scalar_t>::epsilon());
  });
}

/// One Adafactor step of `param` at step `step` (≥ 1): `row_var` and
/// `col_var` for a parameter of 2 or more dimensions, else `variance`
/// (undefined tensors otherwise). `grad` is read, never written.
inline void adafactor_update(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& row_var,
                             const at::Tensor& col_var, const at::Tensor& variance, int64_t step,
                             const AdafactorScalars& s) {
  // Scalars in double, as Python computes them (std::pow where it writes **).
  const double t = static_cast<double>(step);
  const double eps1 = s.eps1 ? *s.eps1 : machine_epsilon(param.scalar_type());
  const double weight = std::pow(t, s.beta2_decay);
  const double rho = std::min(s.lr, 1.0 / std::pow(t, 0.5));
  const double root_numel = std::pow(static_cast<double>(param.numel()), 0.5);
  const double alpha = std::max(s.eps2, at::linalg_vector_norm(param, 2).item<double>() / root_numel) * rho;

  if (s.weight_decay != 0) param.mul_(1 - s.lr * s.weight_decay);

  at::Tensor estimate;
  if (grad.dim() > 1) {
    // mean(g², dim) as ‖g‖₂² / size along dim: no g²-sized temporary.
    row_var.lerp_(at::linalg_vector_norm(grad, 2, {-1}, /*keepdim=*/true).square_().div_(grad.size(-1)), weight);
    col_var.lerp_(at::linalg_vector_norm(grad, 2, {-2}, /*keepdim=*/true).square_().div_(grad.size(-2)), weight);
    estimate = at::matmul(row_var, col_var);
    estimate.div_(row_var.mean({-2}, /*keepdim=*/true).clamp_(eps1));
  } else {
    variance.lerp_(grad * grad, weight);
    estimate = variance.clone();
  }
  at::Tensor update = estimate.clamp_(eps1 * eps1).rsqrt_();
  update.mul_(grad);
  const double denom = std::max(1.0, at::linalg_vector_norm(update, 2).item<double>() / (root_numel * s.d));
  param.add_(update, -alpha / denom);
}

}  // namespace adaptive
