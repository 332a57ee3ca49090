#pragma once
// The element-wise vocabulary the update rules are written in, for every type
// a rule runs on: a whole tensor (the reference driver) and a single float or
// double (the fused CPU driver).
//
// For tensors each function is exactly one ATen op, the op torch::optim and
// PyTorch's torch.optim use at that point of the algorithm; that is why the
// reference driver reproduces them bit for bit, not merely to rounding. For
// scalars each function evaluates the formula ATen's kernel evaluates, in the
// same order.

#include <ATen/ATen.h>

#include <cmath>

namespace adaptive {
namespace ew {

// a + alpha·b  (at::add with alpha)
inline at::Tensor axpy(const at::Tensor& a, double alpha, const at::Tensor& b) { return at::add(a, b, alpha); }
template <class S>
S axpy(S a, S alpha, S b) {
  return a + alpha * b;
}

// a + value·b·c  (at::addcmul)
inline at::Tensor addcmul(const at::Tensor& a, double value, const at::Tensor& b, const at::Tensor& c) {
  return at::addcmul(a, b, c, value);
}
template <class S>
S addcmul(S a, S value, S b, S c) {
  return a + value * b * c;
}

// a + value·b/c  (at::addcdiv)
inline at::Tensor addcdiv(const at::Tensor& a, double value, const at::Tensor& b, const at::Tensor& c) {
  return at::addcdiv(a, b, c, value);
}
template <class S>
S addcdiv(S a, S value, S b, S c) {
  return a + value * b / c;
}

inline at::Tensor sqrt(const at::Tensor& x) { return at::sqrt(x); }
inline float sqrt(float x) { return std::sqrt(x); }
inline double sqrt(double x) { return std::sqrt(x); }

// Element-wise maximum that propagates NaN, like at::maximum.
inline at::Tensor maximum(const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }
template <class S>
S maximum(S a, S b) {
  return (a != a || a > b) ? a : b;
}

// Clamp to [-limit, limit]; NaN stays NaN, like at::clamp.
inline at::Tensor clamp_abs(const at::Tensor& x, double limit) { return at::clamp(x, -limit, limit); }
template <class S>
S clamp_abs(S x, S limit) {
  return x < -limit ? -limit : (x > limit ? limit : x);
}

}  // namespace ew
}  // namespace adaptive
