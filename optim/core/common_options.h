#pragma once
// Options every adaptive optimizer has on top of torch::optim's. Written once
// here and expanded into each *Options struct, so that the fluent setters
// return the right type (TORCH_ARG returns *this).

#include <torch/arg.h>

/// clip_grad_norm(max_norm): scale gradients by min(1, max_norm / (‖g‖₂ + 1e-6)),
///   ‖g‖₂ the L2 norm over every gradient this optimizer updates (all groups);
///   0 (default) disables. Equals torch::nn::utils::clip_grad_norm_ before step().
/// clip_grad_value(v): clamp each gradient element to [−v, v] (applied before
///   norm clipping); 0 (default) disables. Equals clip_grad_value_ before step().
/// maximize: ascend instead of descend (PyTorch semantics: g ← −g first).
/// fused: update eligible CPU tensors (float32/float64, contiguous) in one
///   vectorized pass (optim/kernels/fused_cpu.h), bit-identical to the
///   tensor-op path; false always takes the tensor-op (reference) path.
/// skip_nonfinite: when any gradient of a group holds NaN or ±inf, skip that
///   group's step (parameters, state and step count untouched; counted in
///   skipped_steps()). false (default) behaves like the built-ins.
#define ADAPTIVE_COMMON_OPTIONS            \
  TORCH_ARG(double, clip_grad_norm) = 0;   \
  TORCH_ARG(double, clip_grad_value) = 0;  \
  TORCH_ARG(bool, maximize) = false;       \
  TORCH_ARG(bool, fused) = true;           \
  TORCH_ARG(bool, skip_nonfinite) = false

#define ADAPTIVE_COMMON_FIELDS(Options)                                   \
  ::adaptive::detail::own_field("clip_grad_norm", &Options::clip_grad_norm_),   \
      ::adaptive::detail::own_field("clip_grad_value", &Options::clip_grad_value_), \
      ::adaptive::detail::own_field("maximize", &Options::maximize_),             \
      ::adaptive::detail::own_field("fused", &Options::fused_),                   \
      ::adaptive::detail::own_field("skip_nonfinite", &Options::skip_nonfinite_)
