#pragma once
// Where one parameter's step runs: queued on the fused CPU driver when the
// options allow it and the tensors are eligible, else now on the reference
// driver. The same choice for every optimizer, so written once.

#include "optim/kernels/fused_cpu.h"
#include "optim/kernels/reference.h"

#include <utility>

namespace adaptive {
namespace kernels {

// make_scalars(E{}) returns the rule's scalars in element type E (float or
// double); `key` (options address, step) lets a group's parameters share them.
template <class Rule, class Batch, class MakeScalars, class... State>
void run_step(bool fused, const at::Tensor& param, const at::Tensor& grad, Batch& batch,
              std::pair<const void*, int64_t> key, const MakeScalars& make_scalars, const State&... state) {
  if (fused && fused_eligible(param, grad, {state...})) {
    batch.add(param, grad, {&state...}, key, make_scalars);
  } else {
    apply_reference<Rule>(make_scalars(double{}), param, grad, state...);
  }
}

}  // namespace kernels
}  // namespace adaptive
