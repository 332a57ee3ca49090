// AVX512 build of the fused kernels (copts in optim/BUILD): the capability
// ATen dispatches to on CPUs with AVX512 F, BW, VL and DQ.
#include "optim/kernels/fused_cpu_kernels.cc.inc"
