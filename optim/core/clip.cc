#include "optim/core/clip.h"

#include "optim/kernels/fused_cpu.h"
#include "optim/rules/elementwise.h"

#include <algorithm>
#include <cmath>

namespace adaptive {

at::Tensor global_grad_norm(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values) {
  TORCH_INTERNAL_ASSERT(grads.size() == clip_values.size());
  if (grads.empty()) return at::zeros({}, at::kDouble);
  std::vector<at::Tensor> norms;
  bool uniform = true;
  for (size_t i = 0; i < grads.size(); ++i) {
    const at::Tensor g = clip_values[i] > 0 ? ew::clamp_abs(grads[i], clip_values[i]) : grads[i];
    norms.push_back(g.norm());
    uniform = uniform && norms.back().scalar_type() == norms.front().scalar_type() &&
              norms.back().device() == norms.front().device();
  }
  if (norms.size() == 1) return norms.front();
  if (!uniform) {
    // Mixed dtypes or devices: torch::stack would refuse; combine in double on the CPU.
    for (auto& n : norms) n = n.to(at::kCPU, at::kDouble);
  }
  return at::stack(norms).norm();
}

at::Tensor clip_coefficient_on_device(double max_norm, const at::Tensor& total_norm) {
  return at::clamp(max_norm / (total_norm + 1e-6), c10::nullopt, 1.0).to(at::kDouble);
}

double clip_coefficient(double max_norm, const at::Tensor& total_norm) {
  return clip_coefficient_on_device(max_norm, total_norm).item<double>();
}

double clip_coefficient(double max_norm, double total_norm) {
  const double coef = max_norm / (total_norm + 1e-6);
  return coef < 1.0 || std::isnan(coef) ? coef : 1.0;
}

double norm_with(double norm, const std::vector<at::Tensor>& grads) {
  if (grads.empty()) return norm;
  const double extra = global_grad_norm(grads, std::vector<double>(grads.size(), 0.0)).item<double>();
  return std::sqrt(norm * norm + extra * extra);
}

GradNormTensors grad_norm_tensors(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values,
                                  double scale) {
  if (scale != 1) {
    std::vector<at::Tensor> unscaled;
    for (const auto& g : grads) unscaled.push_back(g.mul(scale));
    return grad_norm_tensors(unscaled, clip_values);
  }
  const bool value_clipping = std::any_of(clip_values.begin(), clip_values.end(), [](double v) { return v > 0; });
  GradNormTensors norms;
  norms.clipped = global_grad_norm(grads, clip_values);
  norms.unclipped = value_clipping ? global_grad_norm(grads, std::vector<double>(grads.size(), 0.0)) : norms.clipped;
  return norms;
}

GradNorms grad_norms(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values, bool fused,
                     double scale) {
  for (const auto& g : grads) fused = fused && kernels::fused_eligible(g, g, {});
  const bool value_clipping = std::any_of(clip_values.begin(), clip_values.end(), [](double v) { return v > 0; });
  const std::vector<double> unclipped(grads.size(), 0.0);
  GradNorms norms;
  if (fused) {
    norms.clipped = std::sqrt(kernels::fused_sum_of_squares(grads, clip_values, scale));
    norms.unclipped =
        value_clipping ? std::sqrt(kernels::fused_sum_of_squares(grads, unclipped, scale)) : norms.clipped;
  } else {
    const GradNormTensors tensors = grad_norm_tensors(grads, clip_values, scale);
    norms.clipped_tensor = tensors.clipped;
    norms.clipped = tensors.clipped.item<double>();
    norms.unclipped = value_clipping ? tensors.unclipped.item<double>() : norms.clipped;
  }
  return norms;
}

}  // namespace adaptive
