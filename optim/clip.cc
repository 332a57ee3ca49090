#include "optim/clip.h"

#include <cmath>

namespace adaptive {

at::Tensor global_grad_norm(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values) {
  TORCH_INTERNAL_ASSERT(grads.size() == clip_values.size());
  if (grads.empty()) return at::zeros({}, at::kDouble);
  std::vector<at::Tensor> norms;
  bool uniform = true;
  for (size_t i = 0; i < grads.size(); ++i) {
    const at::Tensor g = clip_values[i] > 0 ? grads[i].clamp(-clip_values[i], clip_values[i]) : grads[i];
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

double clip_coefficient(double max_norm, const at::Tensor& total_norm) {
  return at::clamp(max_norm / (total_norm + 1e-6), c10::nullopt, 1.0).item<double>();
}

double clip_coefficient(double max_norm, double total_norm) {
  const double coef = max_norm / (total_norm + 1e-6);
  return coef < 1.0 || std::isnan(coef) ? coef : 1.0;
}

}  // namespace adaptive
