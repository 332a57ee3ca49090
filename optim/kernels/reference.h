#pragma once
// The reference driver: runs an update rule once on whole tensors, as plain
// ATen ops, in place where the rule assigns x = f(x, …) (ew::LazyTensor). It
// is readable, works on any device and dtype (CUDA included), and is the
// ground truth the fused drivers are tested against.

#include "optim/rules/elementwise.h"

#include <ATen/ATen.h>

#include <utility>

namespace adaptive {
namespace kernels {

namespace detail {
template <class Rule, class Scalars, class... State, size_t... I>
void apply_reference(const Scalars& s, ew::lazy::Scratch* scratch, const at::Tensor& param, const at::Tensor& grad,
                     std::index_sequence<I...>, const State&... state) {
  // Parameters and state are targets: the rule's assignments write them in
  // place, so models and users holding them see the new values.
  ew::LazyTensor p = ew::LazyTensor::target(param, scratch);
  const ew::LazyTensor g = ew::LazyTensor::read_only(grad, scratch);
  ew::LazyTensor local[] = {ew::LazyTensor::target(state, scratch)...};
  Rule::apply(s, p, g, local[I]...);
}
}  // namespace detail

// Applies Rule to `param` with gradient `grad` and the rule's state tensors in
// the order its apply() takes them. Undefined state tensors (options that are
// off) are passed through untouched. Temporaries come from `scratch` where
// given (the step's, shared by its parameters), else are allocated.
template <class Rule, class Scalars, class... State>
void apply_reference(const Scalars& s, ew::lazy::Scratch* scratch, const at::Tensor& param, const at::Tensor& grad,
                     const State&... state) {
  detail::apply_reference<Rule>(s, scratch, param, grad, std::index_sequence_for<State...>{}, state...);
}

}  // namespace kernels
}  // namespace adaptive
