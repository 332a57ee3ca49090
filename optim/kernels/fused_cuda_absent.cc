// Stands in for fused_cuda.cu in a library built without the CUDA driver
// (Bazel; CMake with a CPU LibTorch or ADAPTIVE_CUDA=OFF): nothing is
// eligible, so CUDA tensors take the reference driver and nothing here runs.

#include "optim/kernels/fused_cuda.h"
#include "optim/rules/rules.h"

#include <c10/util/Exception.h>

namespace adaptive {
namespace kernels {

template <class Rule, class E>
void run_fused_cuda(const CudaLaunch<Rule, E>&) {
  TORCH_CHECK(false, "adaptive was built without its CUDA driver (CMake: -DADAPTIVE_CUDA=ON with a CUDA LibTorch)");
}

bool cuda_driver_built() { return false; }

bool cuda_fused_eligible(const at::Tensor&, const at::Tensor&,
                         std::initializer_list<std::reference_wrapper<const at::Tensor>>) {
  return false;
}

void (*const fused_cuda_entry_points[])() = {ADAPTIVE_RULES(ADAPTIVE_INSTANTIATE_FUSED_CUDA)};

}  // namespace kernels
}  // namespace adaptive
