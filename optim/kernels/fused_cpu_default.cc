// Baseline x86-64 build of the fused kernels (copts in optim/BUILD).
#include "optim/kernels/fused_cpu_kernels.cc.inc"
