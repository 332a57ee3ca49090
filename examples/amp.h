#pragma once
// Mixed precision for the examples (--amp bf16|fp16): LibTorch's autocast
// runs the forward pass's matrix products and convolutions in the lower
// precision while the parameters, their gradients and the optimizer stay in
// float32; float16 adds loss scaling (adaptive::GradScaler), so that small
// gradients do not flush to zero. docs/mixed_precision.md says what each
// LibTorch version supports.

#include <c10/core/ScalarType.h>
#include <c10/util/Optional.h>
#include <torch/types.h>

#include <string>

namespace examples {

/// The autocast dtype of an --amp value: "none" → none, "bf16", "fp16".
c10::optional<at::ScalarType> amp_dtype(const std::string& flag);

/// Why this LibTorch's autocast cannot run `dtype` on `device`; empty where it can.
std::string amp_unsupported(at::ScalarType dtype, const torch::Device& device);

/// Autocast on `device` in `dtype` for the guard's lifetime (nothing without
/// a dtype); the previous state comes back after, and the cast cache is
/// cleared when the outermost guard ends, as Python's autocast does.
class AutocastGuard {
 public:
  AutocastGuard(c10::optional<at::ScalarType> dtype, const torch::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  at::DeviceType device_type_ = at::kCPU;
  bool was_enabled_ = false;
  at::ScalarType was_dtype_ = at::kBFloat16;
};

}  // namespace examples
