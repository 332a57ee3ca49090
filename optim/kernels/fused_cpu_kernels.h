#pragma once
// Entry points of one capability's fused kernels besides the per-rule loops
// (declared in fused_cpu.h; see fused_cpu_impl.h).

#include "optim/kernels/fused_cpu.h"

#define ADAPTIVE_DECLARE_FUSED_KERNELS(NS)                                                          \
  namespace adaptive {                                                                            \
  namespace kernels {                                                                             \
  namespace NS {                                                                                  \
  double sum_of_squares(const void* grad, at::ScalarType dtype, int64_t lo, int64_t hi, double clip,   \
                        double scale);                                                              \
  bool all_finite(const void* grad, at::ScalarType dtype, int64_t lo, int64_t hi);                  \
  int threads_for(int64_t numel);                                                                 \
  }                                                                                               \
  }                                                                                               \
  }

ADAPTIVE_DECLARE_FUSED_KERNELS(AVX512)
ADAPTIVE_DECLARE_FUSED_KERNELS(AVX2)
ADAPTIVE_DECLARE_FUSED_KERNELS(DEFAULT)
