#pragma once
// The element-wise vocabulary the update rules are written in, for every type
// a rule runs on: a whole tensor (the reference driver), a single float or
// double (the fused CPU driver, and the fused CUDA driver on the device) and a
// SIMD lane (optim/kernels/simd_lanes.h).
//
// For tensors (at::Tensor, and the reference driver's ew::LazyTensor
// (optim/kernels/lazy_tensor.h), which
// runs `x = f(x, …)` in place) each function is exactly one ATen op, the op
// torch::optim and PyTorch's torch.optim use at that point of the algorithm;
// that is why the reference driver reproduces them bit for bit, not merely
// to rounding.
//
// For the fused CPU driver each function evaluates, element by element, what
// ATen's CPU kernel for that op evaluates, with the same roundings: on AVX2
// (FMA) machines ATen's kernels fuse a + alpha·b and a + (v·b)·c into one
// fused multiply-add, so the Vectorized overloads (optim/kernels/simd_lanes.h) do too; ATen's
// DEFAULT kernels do not, and neither do the plain scalar templates (compiled
// with -ffp-contract=off). Square roots: a LibTorch built with MKL (the
// official 2.x builds) computes at::sqrt of float and double with MKL's VML
// (vmsSqrt/vmdSqrt, high-accuracy mode), which is not always the correctly
// rounded root the sqrt instruction gives (about 1 float in 5 differs in the
// last bit). For those the fused driver takes its roots from a SqrtTape
// (optim/kernels/sqrt_tape.h): it runs the rule over a block of lanes twice, recording every sqrt
// argument, then replaying with the roots of one call of that same function.
// tests/fused_test.cc holds the two drivers to bit equality.
//
// On a CUDA device (code compiled by nvcc with -fmad=false, so that nothing is
// contracted unless written here) each function evaluates what ATen's CUDA
// kernel for that op evaluates. Those are compiled with nvcc's default
// contraction, which turns a + alpha·b (add), a + v·(b·c) (addcmul; b·c + a
// when v = 1), a + v·(b/c) (addcdiv) and lerp into one fused multiply-add
// each; a tensor divided by a scalar is multiplied by the scalar's reciprocal
// (Divisor); roots and quotients are correctly rounded. Each was checked
// against ATen's CUDA ops on an H100 (PyTorch 2.11); tests/cuda_test.cc holds
// the CUDA driver to the reference driver on the GPU.

#include <ATen/ATen.h>
#include <ATen/Config.h>  // AT_MKL_ENABLED
#include <c10/macros/Macros.h>  // C10_HOST_DEVICE

#include <cmath>
#include <limits>
#include <type_traits>

// Precedes a rule's __host__ __device__ template (C10_HOST_DEVICE), which also
// has host-only instantiations (T a tensor or a SIMD lane): nvcc is told not to
// check those against the device. Empty for the host compiler.
#if defined(__CUDACC__)
#define ADAPTIVE_HOST_DEVICE_TEMPLATE _Pragma("nv_exec_check_disable")
#else
#define ADAPTIVE_HOST_DEVICE_TEMPLATE
#endif

namespace adaptive {
namespace ew {

#if defined(__CUDA_ARCH__)
// x·y + z rounded once, on the device (float or double).
template <class S>
__device__ S fma(S x, S y, S z) {
  if constexpr (std::is_same_v<S, float>) {
    return __fmaf_rn(x, y, z);
  } else {
    return __fma_rn(x, y, z);
  }
}
#endif

// a + alpha·b  (at::add with alpha)
inline at::Tensor axpy(const at::Tensor& a, double alpha, const at::Tensor& b) { return at::add(a, b, alpha); }
template <class S>
C10_HOST_DEVICE S axpy(S a, S alpha, S b) {
#if defined(__CUDA_ARCH__)
  return fma(alpha, b, a);
#else
  return a + alpha * b;
#endif
}

// a + value·b·c  (at::addcmul)
inline at::Tensor addcmul(const at::Tensor& a, double value, const at::Tensor& b, const at::Tensor& c) {
  return at::addcmul(a, b, c, value);
}
template <class S>
C10_HOST_DEVICE S addcmul(S a, S value, S b, S c) {
#if defined(__CUDA_ARCH__)
  return value == S(1) ? fma(b, c, a) : fma(value, b * c, a);  // ATen's CUDA kernel, measured on an H100
#else
  return a + value * b * c;
#endif
}

// a + value·b/c  (at::addcdiv)
inline at::Tensor addcdiv(const at::Tensor& a, double value, const at::Tensor& b, const at::Tensor& c) {
  return at::addcdiv(a, b, c, value);
}
template <class S>
C10_HOST_DEVICE S addcdiv(S a, S value, S b, S c) {
#if defined(__CUDA_ARCH__)
  return fma(value, b / c, a);
#else
  return a + value * b / c;
#endif
}

/// A per-step divisor d of a rule, with its reciprocal: ATen's CPU kernels
/// divide a tensor by a scalar, x / d, but its CUDA kernel multiplies by the
/// reciprocal, computed in double and then rounded, x · (1/d). Both are
/// made once per step, in double, and stored in S.
template <class S>
struct Divisor {
  S value = 1;       ///< d
  S reciprocal = 1;  ///< 1/d, rounded from double
  /// The divisor d (computed in double).
  static Divisor of(double d) { return {static_cast<S>(d), static_cast<S>(1.0 / d)}; }
};

// x / d  (at::div by a scalar)
inline at::Tensor div(const at::Tensor& x, const Divisor<double>& d) { return at::div(x, d.value); }
template <class S>
C10_HOST_DEVICE S div(S x, const Divisor<S>& d) {
#if defined(__CUDA_ARCH__)
  return x * d.reciprocal;
#else
  return x / d.value;
#endif
}

// a + weight·(b − a)  (at::lerp with a scalar weight). ATen evaluates it from
// whichever end is nearer, for accuracy: a + w·(b − a) when |w| < 0.5, else
// b − (b − a)·(1 − w).
inline at::Tensor lerp(const at::Tensor& a, const at::Tensor& b, double weight) { return at::lerp(a, b, weight); }
template <class S>
C10_HOST_DEVICE S lerp(S a, S b, S weight) {
  const bool small = (weight < S(0) ? -weight : weight) < S(0.5);
#if defined(__CUDA_ARCH__)
  return small ? fma(weight, b - a, a) : fma(weight - S(1), b - a, b);  // (w − 1) = −(1 − w) exactly
#else
  return small ? a + weight * (b - a) : b - (b - a) * (S(1) - weight);
#endif
}

// 1 / x  (at::reciprocal)
inline at::Tensor reciprocal(const at::Tensor& x) { return at::reciprocal(x); }
template <class S>
C10_HOST_DEVICE S reciprocal(S x) {
  return S(1) / x;
}

}  // namespace ew
}  // namespace adaptive

// The fused CPU driver's roots where ATen's are MKL's (scalar_sqrt, SqrtTape).
#include "optim/kernels/sqrt_tape.h"

namespace adaptive {
namespace ew {

inline at::Tensor sqrt(const at::Tensor& x) { return at::sqrt(x); }
// On the device: the correctly rounded root, as ATen's CUDA sqrt.
C10_HOST_DEVICE inline float sqrt(float x) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(x);
#else
  return scalar_sqrt(x);
#endif
}
C10_HOST_DEVICE inline double sqrt(double x) {
#if defined(__CUDA_ARCH__)
  return __dsqrt_rn(x);
#else
  return scalar_sqrt(x);
#endif
}

// |x|  (at::abs): the sign bit cleared, so |−0| = +0 and NaN stays NaN.
inline at::Tensor abs(const at::Tensor& x) { return at::abs(x); }
C10_HOST_DEVICE inline float abs(float x) { return ::fabsf(x); }
C10_HOST_DEVICE inline double abs(double x) { return ::fabs(x); }

// Element-wise maximum that propagates NaN, like at::maximum.
inline at::Tensor maximum(const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }
template <class S>
C10_HOST_DEVICE S maximum(S a, S b) {
  return (a != a || a > b) ? a : b;
}

// Clamp to [lo, hi] (lo <= hi); NaN stays NaN, like at::clamp.
inline at::Tensor clamp(const at::Tensor& x, double lo, double hi) { return at::clamp(x, lo, hi); }
template <class S>
C10_HOST_DEVICE S clamp(S x, S lo, S hi) {
  const S r = x < lo ? lo : x;
  return hi < r ? hi : r;
}

// The sign of x as ATen's sign takes it: 1, −1, or 0 for ±0 and for NaN
// (ATen evaluates (0 < x) − (x < 0)).
inline at::Tensor sign(const at::Tensor& x) { return at::sign(x); }
template <class S>
C10_HOST_DEVICE S sign(S x) {
  return static_cast<S>(S(0) < x) - static_cast<S>(x < S(0));
}

// pos where x > 0, neg where x < 0, zero elsewhere (±0 and NaN): what
// torch.optim.Rprop makes of sign(x) with three masked writes. On tensors
// those same ops, one pass each.
inline at::Tensor select_by_sign(const at::Tensor& x, double pos, double zero, double neg) {
  const at::Tensor positive = x > 0, negative = x < 0;
  at::Tensor r = at::empty_like(x).fill_(zero);
  r.masked_fill_(positive, pos);
  r.masked_fill_(negative, neg);
  return r;
}
template <class S>
C10_HOST_DEVICE S select_by_sign(S x, S pos, S zero, S neg) {
  return x > S(0) ? pos : (x < S(0) ? neg : zero);
}

// 0 where key == value (compared in key's dtype, as ATen compares a tensor
// with a number), x elsewhere.
inline at::Tensor zero_where_equal(const at::Tensor& x, const at::Tensor& key, double value) {
  return x.masked_fill(key == value, 0);
}
template <class S>
C10_HOST_DEVICE S zero_where_equal(S x, S key, S value) {
  return key == value ? S(0) : x;
}

// Clamp to [-limit, limit]; NaN stays NaN, like at::clamp.
// A limit beyond the dtype's largest finite value (1e30 for float16) would
// make ATen refuse the conversion ("cannot be converted to type c10::Half
// without overflow") part-way through a step; in that dtype it is infinite,
// so it clamps nothing.
inline at::Tensor clamp_abs(const at::Tensor& x, double limit) {
  const double largest = AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "clamp_abs", [] {
    return static_cast<double>(std::numeric_limits<scalar_t>::max());
  });
  if (limit > largest) return x;
  return at::clamp(x, -limit, limit);
}
template <class S>
C10_HOST_DEVICE S clamp_abs(S x, S limit) {
  return x < -limit ? -limit : (x > limit ? limit : x);
}

}  // namespace ew
}  // namespace adaptive

// The same functions on the drivers' own types, declared here, before any
// rule: a rule names ew::f qualified, and C++ binds a qualified name where the
// rule's template is defined, so an overload declared later would not be
// found. Each lives beside its driver in optim/kernels/.
#include "optim/kernels/lazy_tensor.h"  // the reference driver's in-place tensors
#include "optim/kernels/simd_lanes.h"   // the fused CPU driver's SIMD lanes (AVX2, AVX-512 builds)
