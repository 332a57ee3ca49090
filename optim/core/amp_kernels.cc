#include "optim/core/amp_kernels.h"

#include "optim/core/compat.h"

#include <cmath>

namespace adaptive {
namespace detail {

bool aten_has_amp_kernels(const at::Device& device) {
  if (device.is_cuda()) return true;
  return device.is_cpu() && ADAPTIVE_ATEN_HAS_CPU_AMP_KERNELS;
}

void amp_unscale_reference(const std::vector<at::Tensor>& grads, at::Tensor& found_inf, const at::Tensor& inv_scale) {
  for (const at::Tensor& g : grads) {
    // found_inf ← 1 where g holds a non-finite value, on the device (no read).
    found_inf.masked_fill_(at::isfinite(g).all().logical_not(), 1.0);
    // As ATen's kernel: the product in float32 (float64 for float64
    // gradients), rounded once to the gradient's dtype; inv_scale 1 leaves g.
    if (g.scalar_type() == at::kDouble) {
      g.mul_(inv_scale.to(at::kDouble));
    } else {
      g.copy_(g.to(at::kFloat).mul_(inv_scale));
    }
  }
}

void amp_update_scale_reference(at::Tensor& scale, at::Tensor& growth_tracker, const at::Tensor& found_inf,
                                double growth_factor, double backoff_factor, int64_t growth_interval) {
  // Host arithmetic, exactly the kernel's: float times double, rounded to float.
  const bool inf = found_inf.item<float>() != 0;
  const float current = scale.item<float>();
  const int tracker = growth_tracker.item<int>();
  float next = current;
  int count = 0;
  if (inf) {
    next = static_cast<float>(current * backoff_factor);
  } else if (tracker + 1 == growth_interval) {
    const auto grown = static_cast<float>(current * growth_factor);
    if (std::isfinite(grown)) next = grown;  // never grow past float32's range to inf
  } else {
    count = tracker + 1;
  }
  scale.fill_(next);
  growth_tracker.fill_(count);
}

void amp_unscale(const std::vector<at::Tensor>& grads, at::Tensor& found_inf, const at::Tensor& inv_scale) {
  if (grads.empty()) return;
  if (aten_has_amp_kernels(grads.front().device())) {
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
  } else {
    amp_unscale_reference(grads, found_inf, inv_scale);
  }
}

void amp_update_scale(at::Tensor& scale, at::Tensor& growth_tracker, const at::Tensor& found_inf,
                      double growth_factor, double backoff_factor, int64_t growth_interval) {
  if (aten_has_amp_kernels(scale.device())) {
    at::_amp_update_scale_(scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval);
  } else {
    amp_update_scale_reference(scale, growth_tracker, found_inf, growth_factor, backoff_factor, growth_interval);
  }
}

}  // namespace detail
}  // namespace adaptive
