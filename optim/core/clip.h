#pragma once
// Gradient clipping as step() applies it. Gradients are read, never written:
// after step(), p.grad() still holds what backward() produced.

#include "optim/rules/gradient.h"

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <vector>

namespace adaptive {

// Global L2 norm of all `grads`, each first clamped to [-v, v] with v the
// matching entry of `clip_values` (0: not clamped). Computed with the same ops
// as torch::nn::utils::clip_grad_norm_ (per-tensor norms, then the norm of
// those), so with all clip values 0 it returns bit for bit what that returns.
// The result is a 0-dim tensor in the gradients' dtype (double if they mix).
at::Tensor global_grad_norm(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values);

// The factor clip_grad_norm_ multiplies gradients by: min(1, max_norm / (norm + 1e-6)).
// NaN or infinite norms give NaN or 0, as in clip_grad_norm_. The tensor
// overload evaluates it as clip_grad_norm_ does, in the norm's dtype (bit for
// bit); the double one in double (for the fused driver's double norm).
double clip_coefficient(double max_norm, const at::Tensor& total_norm);
double clip_coefficient(double max_norm, double total_norm);
// The same as a 0-dim tensor on the norm's device, in double, without reading
// it: what the fused CUDA driver multiplies in on the device.
at::Tensor clip_coefficient_on_device(double max_norm, const at::Tensor& total_norm);

/// A group's gradient scalars for one step. When norm clipping's coefficient
/// stays on the device (`coefficient` defined), `scalars.scale` holds the sign
/// only: the fused CUDA driver multiplies the coefficient in on the device, and
/// host() folds it in for a driver that needs it on the host (reading it: the
/// one synchronization, at most once per group and step).
struct GroupGradient {
  GradientScalars<double> scalars;  ///< what the fused CUDA driver takes
  at::Tensor coefficient;           ///< clip coefficient (0-dim double on the device), or undefined

  /// `scalars` with the coefficient folded into the scale.
  GradientScalars<double> host() {
    GradientScalars<double> s = scalars;
    if (coefficient.defined()) {
      if (!read_) read_ = coefficient.item<double>();
      s.scale *= *read_;
    }
    return s;
  }

 private:
  c10::optional<double> read_;
};

/// The two norms step() needs when it clips by norm, as 0-dim tensors on the
/// gradients' device, not read: global_grad_norm's, after value clipping and
/// as given (the same tensor when no gradient is value-clipped).
struct GradNormTensors {
  at::Tensor clipped;    ///< what the clip coefficient uses
  at::Tensor unclipped;  ///< last_grad_norm()
};
/// `scale` ≠ 1: of the gradients multiplied by it first, as an unscale in
/// place would leave them (into temporaries).
GradNormTensors grad_norm_tensors(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values,
                                  double scale = 1);

/// The two norms step() needs when it clips by norm: of the gradients as
/// clipping sees them (after value clipping) and as given (last_grad_norm()).
struct GradNorms {
  double clipped = 0;          ///< norm after value clipping: what the clip coefficient uses
  double unclipped = 0;        ///< norm of the gradients as given: last_grad_norm()
  at::Tensor clipped_tensor;   ///< `clipped` as global_grad_norm's tensor (bit parity with clip_grad_norm_), if computed so
};

// Both norms in double. With `fused` and every gradient one the fused driver
// takes (CPU, contiguous, float32/float64): one vectorized pass each,
// accumulated in double in a fixed order (kernels::fused_sum_of_squares).
// Otherwise global_grad_norm's results (and the tensor, for clip_coefficient).
// `scale` ≠ 1: of the gradients multiplied by it first (GradScaler's fused
// path), rounded as an unscale in place would leave them: inside the fused
// pass, else into temporaries.
GradNorms grad_norms(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values, bool fused,
                     double scale = 1);

// √(norm² + ‖grads‖²) in double: the norm of other gradients, `norm`, with
// `grads` (as given) added. A NaN or ±inf in `grads` makes it NaN or inf:
// last_grad_norm() includes the gradients skip_nonfinite dropped, so that a
// blow-up shows in the log even though the step skipped it.
double norm_with(double norm, const std::vector<at::Tensor>& grads);

}  // namespace adaptive
