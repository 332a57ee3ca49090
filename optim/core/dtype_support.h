#pragma once
// Which parameter dtypes the reference driver can update on which device.
// ATen's kernels differ by version and backend: LibTorch 1.13's CPU kernels
// lack float16 (addcmul, sqrt, clamp...), 2.x's lack most float8 ops. A dtype
// found missing only part-way through a step would leave earlier tensors
// updated and later ones not; asking before the step writes anything keeps
// the step all-or-nothing.

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <map>
#include <string>
#include <utility>

namespace adaptive {
namespace kernels {

// "" when every tensor op the update rules use (optim/rules/elementwise.h,
// gradient.h) runs on `dtype` on `device`'s type, else ATen's reason (its
// first line). Found once per dtype and device type (per thread) by running
// each op on a one-element tensor. (The clipping norm and the finiteness
// check of skip_nonfinite run before the step writes anything, so they need
// no probe: a missing kernel there is already an error with nothing changed.)
inline std::string unsupported_reason(at::ScalarType dtype, const at::Device& device) {
  // Per thread: no lock on the step's path (a probe per thread is cheap).
  thread_local std::map<std::pair<at::ScalarType, at::DeviceType>, std::string> known;
  const auto key = std::make_pair(dtype, device.type());
  const auto found = known.find(key);
  if (found != known.end()) return found->second;
  std::string reason;
  try {
    const at::Tensor x = at::ones({1}, at::TensorOptions().dtype(dtype).device(device));
    const at::Tensor y = at::add(at::mul(x, 0.5), x, 0.25);
    const at::Tensor z = at::addcdiv(at::addcmul(y, x, y, 0.5), x, at::sqrt(y) / 2.0 + 1e-8, -0.1);
    at::maximum(z, y).copy_(at::clamp(z, -1.0, 1.0));
  } catch (const c10::Error& e) {
    reason = e.what_without_backtrace();
    reason = reason.substr(0, reason.find('\n'));
  }
  known.emplace(key, reason);
  return reason;
}

}  // namespace kernels
}  // namespace adaptive
