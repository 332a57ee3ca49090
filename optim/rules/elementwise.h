#pragma once
// The element-wise vocabulary the update rules are written in, for every type
// a rule runs on: a whole tensor (the reference driver) and a single float or
// double (the fused CPU driver).
//
// For tensors each function is exactly one ATen op, the op torch::optim and
// PyTorch's torch.optim use at that point of the algorithm; that is why the
// reference driver reproduces them bit for bit, not merely to rounding.
//
// For the fused CPU driver each function evaluates, element by element, what
// ATen's CPU kernel for that op evaluates, with the same roundings: on AVX2
// (FMA) machines ATen's kernels fuse a + alpha·b and a + (v·b)·c into one
// fused multiply-add, so the Vectorized overloads below do too; ATen's
// DEFAULT kernels do not, and neither do the plain scalar templates (compiled
// with -ffp-contract=off). tests/fused_test.cc holds the two drivers to bit
// equality.

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

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
#include <ATen/cpu/vec/functional.h>
#include <ATen/cpu/vec/vec.h>

namespace adaptive {
namespace ew {

template <class E>
using Vec = at::vec::Vectorized<E>;

template <class E>
Vec<E> axpy(const Vec<E>& a, E alpha, const Vec<E>& b) {
  return at::vec::fmadd(Vec<E>(alpha), b, a);
}
template <class E>
Vec<E> addcmul(const Vec<E>& a, E value, const Vec<E>& b, const Vec<E>& c) {
  return at::vec::fmadd(Vec<E>(value) * b, c, a);
}
template <class E>
Vec<E> addcdiv(const Vec<E>& a, E value, const Vec<E>& b, const Vec<E>& c) {
  return a + Vec<E>(value) * b / c;
}
template <class E>
Vec<E> sqrt(const Vec<E>& x) {
  return x.sqrt();
}
template <class E>
Vec<E> maximum(const Vec<E>& a, const Vec<E>& b) {
  return at::vec::maximum(a, b);
}
template <class E>
Vec<E> clamp_abs(const Vec<E>& x, E limit) {
  return at::vec::clamp(x, Vec<E>(-limit), Vec<E>(limit));
}

}  // namespace ew

// Vector-by-scalar arithmetic, so that rules can write `m * s.beta1` for a
// Vectorized m and a scalar β1 (ATen defines only vector-by-vector). Declared
// here, before the rules, so that the rules' unqualified operators find them.
template <class E>
ew::Vec<E> operator*(const ew::Vec<E>& a, E b) {
  return a * ew::Vec<E>(b);
}
template <class E>
ew::Vec<E> operator/(const ew::Vec<E>& a, E b) {
  return a / ew::Vec<E>(b);
}
template <class E>
ew::Vec<E> operator+(const ew::Vec<E>& a, E b) {
  return a + ew::Vec<E>(b);
}

}  // namespace adaptive
#endif
