#pragma once
// The two kernels of loss scaling, as torch.amp's GradScaler calls them:
// ATen's own where this LibTorch has them on the device, else a readable
// reference of the same arithmetic (LibTorch before 2.3 on the CPU). The
// references are tested against ATen's kernels bit for bit
// (tests/grad_scaler_test.cc).

#include <ATen/ATen.h>

#include <vector>

namespace adaptive {
namespace detail {

/// torch._amp_foreach_non_finite_check_and_unscale_: multiplies every tensor
/// of `grads` (one device and dtype) by `inv_scale` (a 1-element float32
/// tensor on their device) in place, and sets `found_inf` (1-element
/// float32, same device) to 1 where any element was NaN or ±inf. Never
/// reads a value back to the host.
void amp_unscale(const std::vector<at::Tensor>& grads, at::Tensor& found_inf, const at::Tensor& inv_scale);

/// torch._amp_update_scale_: after a step with `found_inf` set, the scale
/// times `backoff_factor` and the tracker back to 0; otherwise the tracker
/// counts the step, and at `growth_interval` clean steps the scale grows by
/// `growth_factor` (unless that would overflow float32) and the tracker
/// restarts. `scale`: 1-element float32; `growth_tracker`: 1-element int32.
void amp_update_scale(at::Tensor& scale, at::Tensor& growth_tracker, const at::Tensor& found_inf,
                      double growth_factor, double backoff_factor, int64_t growth_interval);

/// The references of both, on any device with tensor ops (used where ATen has no kernel).
void amp_unscale_reference(const std::vector<at::Tensor>& grads, at::Tensor& found_inf, const at::Tensor& inv_scale);
void amp_update_scale_reference(at::Tensor& scale, at::Tensor& growth_tracker, const at::Tensor& found_inf,
                                double growth_factor, double backoff_factor, int64_t growth_interval);

/// Whether ATen's kernels run on `device` with this LibTorch.
bool aten_has_amp_kernels(const at::Device& device);

}  // namespace detail
}  // namespace adaptive
