#pragma once
// Entry points of one capability's fused kernels (see fused_cpu_impl.h).

#include "optim/kernels/fused_cpu.h"

#define ADAPTIVE_DECLARE_FUSED_KERNELS(NS)                                                 \
  namespace adaptive {                                                                   \
  namespace kernels {                                                                    \
  namespace NS {                                                                         \
  void run_adam(const std::vector<AdamJob<float>>& jobs);                                 \
  void run_adam(const std::vector<AdamJob<double>>& jobs);                                \
  void run_rmsprop(const std::vector<RMSpropJob<float>>& jobs);                           \
  void run_rmsprop(const std::vector<RMSpropJob<double>>& jobs);                          \
  void run_adagrad(const std::vector<AdagradJob<float>>& jobs);                           \
  void run_adagrad(const std::vector<AdagradJob<double>>& jobs);                          \
  double sum_of_squares(const void* grad, at::ScalarType dtype, int64_t lo, int64_t hi, double clip); \
  }                                                                                      \
  }                                                                                      \
  }

ADAPTIVE_DECLARE_FUSED_KERNELS(AVX2)
ADAPTIVE_DECLARE_FUSED_KERNELS(DEFAULT)
