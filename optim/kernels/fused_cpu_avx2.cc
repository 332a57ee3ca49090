// AVX2 + FMA build of the fused kernels (copts in optim/BUILD).
#include "optim/kernels/fused_cpu_kernels.cc.inc"
