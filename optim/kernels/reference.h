#pragma once
// The reference driver: runs an update rule once on whole tensors, as plain
// ATen ops. It is readable, works on any device and dtype (CUDA included), and
// is the ground truth the fused CPU driver is tested against.

#include <ATen/ATen.h>

#include <tuple>
#include <utility>

namespace adaptive {
namespace kernels {

namespace detail {
inline void write_back(const at::Tensor& target, const at::Tensor& result) {
  // The rule rebinds handles to new tensors; parameters and state are updated
  // in place so that models and users holding them see the new values.
  if (target.defined() && !result.is_same(target)) target.copy_(result);
}

template <class Rule, class Scalars, class... State, size_t... I>
void apply_reference(const Scalars& s, const at::Tensor& param, const at::Tensor& grad,
                     std::index_sequence<I...>, const State&... state) {
  at::Tensor p = param;
  std::tuple<std::conditional_t<true, at::Tensor, State>...> local(state...);
  Rule::apply(s, p, grad, std::get<I>(local)...);
  write_back(param, p);
  (write_back(state, std::get<I>(local)), ...);
}
}  // namespace detail

// Applies Rule to `param` with gradient `grad` and the rule's state tensors in
// the order its apply() takes them. Undefined state tensors (options that are
// off) are passed through untouched.
template <class Rule, class Scalars, class... State>
void apply_reference(const Scalars& s, const at::Tensor& param, const at::Tensor& grad, const State&... state) {
  detail::apply_reference<Rule>(s, param, grad, std::index_sequence_for<State...>{}, state...);
}

}  // namespace kernels
}  // namespace adaptive
