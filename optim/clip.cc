#include "optim/clip.h"

#include <algorithm>
#include <cmath>

namespace adaptive {

double global_grad_norm(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values) {
  TORCH_INTERNAL_ASSERT(grads.size() == clip_values.size());
  double sum_sq = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    const at::Tensor g = clip_values[i] > 0 ? grads[i].clamp(-clip_values[i], clip_values[i]) : grads[i];
    const double n = g.norm().item<double>();
    sum_sq += n * n;
  }
  return std::sqrt(sum_sq);
}

double clip_coefficient(double max_norm, double total_norm) {
  // NaN or infinite norms give 0 or NaN, exactly as clip_grad_norm_ does.
  const double coef = max_norm / (total_norm + 1e-6);
  return coef < 1 ? coef : 1.0;
}

}  // namespace adaptive
