#pragma once
// Gradient clipping as step() applies it. Gradients are read, never written:
// after step(), p.grad() still holds what backward() produced.

#include <ATen/ATen.h>

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

}  // namespace adaptive
