#pragma once
// Where one parameter's step runs: queued on a fused driver (CPU or CUDA) when
// the options allow it and the tensors are eligible, else now on the reference
// driver. The same choice for every optimizer, so written once.

#include "optim/kernels/fused_cpu.h"
#include "optim/kernels/fused_cuda.h"
#include "optim/kernels/reference.h"

#include <utility>

namespace adaptive {
namespace kernels {

/// The fused work of one step: CPU and CUDA parameters, run together at its
/// end; and the temporaries the reference driver reuses from tensor to tensor.
template <class Rule>
struct StepBatch {
  FusedBatch<Rule> cpu;
  CudaBatch<Rule> cuda;
  ew::lazy::Scratch scratch;
  void run() {
    cpu.run();
    cuda.run();
  }
};

// make_scalars(E{}, on_device) returns the rule's scalars in element type E
// (float or double): on_device, for the CUDA driver, which multiplies in
// `coefficient` (norm clipping's, kept on the device; undefined: none) itself;
// otherwise with everything folded in on the host. `key` (options address,
// step) lets a group's parameters share them.
template <class Rule, class MakeScalars, class... State>
void run_step(bool fused, const at::Tensor& param, const at::Tensor& grad, StepBatch<Rule>& batch,
              std::pair<const void*, int64_t> key, const at::Tensor& coefficient, const MakeScalars& make_scalars,
              const State&... state) {
  const auto on_host = [&](auto e) { return make_scalars(e, false); };
  if (fused && fused_eligible(param, grad, {state...})) {
    batch.cpu.add(param, grad, {&state...}, key, on_host);
  } else if (fused && cuda_fused_eligible(param, grad, {state...})) {
    batch.cuda.add(param, grad, {&state...}, key, coefficient, [&](auto e) { return make_scalars(e, true); });
  } else {
    apply_reference<Rule>(on_host(double{}), &batch.scratch, param, grad, state...);
  }
}

}  // namespace kernels
}  // namespace adaptive
