#pragma once
// The LibTorch versions adaptive supports (Debian's 1.13.1 up to 2.13) differ
// in API and behaviour. Version checks live here, named for what they decide;
// the other differences are handled without a version number:
//   state() keys (string up to 2.1, TensorImpl* after): state_key() in
//     optimizer_base.h follows the map's key type;
//   Vectorized ∘ scalar operators (2.x only): a feature probe in
//     rules/elementwise.h;
//   sqrt through MKL's VML (official builds with MKL): AT_MKL_ENABLED() in
//     rules/elementwise.h;
//   add_param_group dropping foreign options (2.9+): OptimizerBase adds
//     groups itself on every version.
// docs/libtorch_versions.md lists them with their tests.

#include <torch/version.h>

/// True when the LibTorch being compiled against is at least major.minor.
#define ADAPTIVE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10d's ProcessGroupGloo is a c10d::Backend from 2.0 on, wrapped in a
// c10d::ProcessGroup; up to 1.13 it was the ProcessGroup itself.
#define ADAPTIVE_GLOO_IS_BACKEND ADAPTIVE_TORCH_AT_LEAST(2, 0)

// ATen's loss-scaling kernels (_amp_foreach_non_finite_check_and_unscale_,
// _amp_update_scale_) have a CPU kernel from 2.3 on (torch.amp.GradScaler("cpu"));
// before, CUDA only. GradScaler runs its own reference where they lack one.
#define ADAPTIVE_ATEN_HAS_CPU_AMP_KERNELS ADAPTIVE_TORCH_AT_LEAST(2, 3)
