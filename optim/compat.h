#pragma once
// The LibTorch versions adaptive supports differ in API and behaviour; every
// version check lives here, named for what it decides (see the README's
// "Supported LibTorch" table). Supported: Debian's 1.13.1 up to 2.13.

#include <torch/version.h>

/// True when the LibTorch being compiled against is at least major.minor.
#define ADAPTIVE_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// c10d's ProcessGroupGloo is a c10d::Backend from 2.0 on, wrapped in a
// c10d::ProcessGroup; up to 1.13 it was the ProcessGroup itself.
#define ADAPTIVE_GLOO_IS_BACKEND ADAPTIVE_TORCH_AT_LEAST(2, 0)
