#pragma once
// Gradient clipping as step() applies it. Gradients are read, never written:
// after step(), p.grad() still holds what backward() produced.

#include <ATen/ATen.h>

#include <vector>

namespace adaptive {

// Global L2 norm of all `grads`, each first clamped to [-v, v] with v the
// matching entry of `clip_values` (0: not clamped). With every clip value 0 it
// is the norm torch::nn::utils::clip_grad_norm_ computes and returns.
double global_grad_norm(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values);

// The factor clip_grad_norm_ multiplies gradients by: min(1, max_norm / (norm + 1e-6)).
double clip_coefficient(double max_norm, double total_norm);

}  // namespace adaptive
