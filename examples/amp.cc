#include "examples/amp.h"

#include "optim/core/compat.h"

#include <ATen/autocast_mode.h>

#include <stdexcept>

namespace examples {
namespace {

// The autocast switches of this LibTorch: per device type from 2.4 on; before,
// one function per device (1.13: set_cpu_enabled, set_autocast_cpu_dtype, ...).
bool enabled_on(at::DeviceType type) {
#if ADAPTIVE_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(type);
#else
  return type == at::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}
void enable_on(at::DeviceType type, bool enabled) {
#if ADAPTIVE_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == at::kCUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}
at::ScalarType dtype_on(at::DeviceType type) {
#if ADAPTIVE_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(type);
#else
  return type == at::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}
void set_dtype_on(at::DeviceType type, at::ScalarType dtype) {
#if ADAPTIVE_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == at::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

}  // namespace

c10::optional<at::ScalarType> amp_dtype(const std::string& flag) {
  if (flag == "none") return c10::nullopt;
  if (flag == "bf16") return at::kBFloat16;
  if (flag == "fp16") return at::kHalf;
  throw std::invalid_argument("--amp: '" + flag + "' is none of none, bf16, fp16");
}

std::string amp_unsupported(at::ScalarType dtype, const torch::Device& device) {
  if (device.is_cpu() && dtype == at::kHalf && !ADAPTIVE_TORCH_AT_LEAST(2, 0)) {
    return "LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
           "'s autocast runs only bfloat16 on the CPU (float16 came with 2.x); use --amp bf16";
  }
  return "";
}

AutocastGuard::AutocastGuard(c10::optional<at::ScalarType> dtype, const torch::Device& device) {
  if (!dtype) return;
  active_ = true;
  device_type_ = device.type();
  was_enabled_ = enabled_on(device_type_);
  was_dtype_ = dtype_on(device_type_);
  enable_on(device_type_, true);
  set_dtype_on(device_type_, *dtype);
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  enable_on(device_type_, was_enabled_);
  set_dtype_on(device_type_, was_dtype_);
}

}  // namespace examples
