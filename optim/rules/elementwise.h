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
// with -ffp-contract=off). Square roots: a LibTorch built with MKL (the
// official 2.x builds) computes at::sqrt of float and double with MKL's VML
// (vmsSqrt/vmdSqrt, high-accuracy mode), which is not always the correctly
// rounded root the sqrt instruction gives (about 1 float in 5 differs in the
// last bit), so the fused driver runs rules on Blocks of lanes (end of this
// file) whose sqrt is one call of that same function. tests/fused_test.cc
// holds the two drivers to bit equality.

#include <ATen/ATen.h>
#include <ATen/Config.h>  // AT_MKL_ENABLED

#include <cmath>
#include <type_traits>

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

#include <utility>

namespace adaptive_vec_probe {
// Whether ATen itself declares Vectorized<E> * E (see the operators below).
template <class E, class = void>
struct HasScalarOps : std::false_type {};
template <class E>
struct HasScalarOps<E, std::void_t<decltype(std::declval<const at::vec::Vectorized<E>&>() * std::declval<E>())>>
    : std::true_type {};
}  // namespace adaptive_vec_probe

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
// Vectorized m and a scalar β1. ATen 2.x declares these itself (as
// a ∘ Vectorized(b), the same meaning); ATen 1.13 has only vector-by-vector.
// The probe asks ATen alone (it lives outside namespace adaptive, so it cannot
// see the overloads below), and ours exist only where ATen's do not: feature
// detection rather than a version number, and no ambiguity on either.
// Declared before the rules, so that the rules' unqualified operators find them.
template <class E>
constexpr bool kAtenHasScalarOps = adaptive_vec_probe::HasScalarOps<E>::value;

template <class E, std::enable_if_t<!kAtenHasScalarOps<E>, int> = 0>
ew::Vec<E> operator*(const ew::Vec<E>& a, E b) {
  return a * ew::Vec<E>(b);
}
template <class E, std::enable_if_t<!kAtenHasScalarOps<E>, int> = 0>
ew::Vec<E> operator/(const ew::Vec<E>& a, E b) {
  return a / ew::Vec<E>(b);
}
template <class E, std::enable_if_t<!kAtenHasScalarOps<E>, int> = 0>
ew::Vec<E> operator+(const ew::Vec<E>& a, E b) {
  return a + ew::Vec<E>(b);
}

}  // namespace adaptive
#endif

// Blocks: what the fused driver runs a rule on. K lanes, each a
// Vectorized<E> (AVX2 build) or a plain E (DEFAULT build), stored back to back
// so that a block is also K·width contiguous elements. Every function applies
// the lane's version lane by lane, except sqrt, which takes the whole block at
// once where ATen's own sqrt is MKL's (one library call per block instead of
// one per lane: 256 elements cost about as much as 8).
#if AT_MKL_ENABLED()
// MKL's VML, linked into libtorch_cpu; mode = VML_HA | VML_FTZDAZ_OFF |
// VML_ERRMODE_IGNORE, exactly what ATen passes (ATen/cpu/vml.h). LP64: n is int.
extern "C" void vmsSqrt(int n, const float* a, float* r, long long mode);
extern "C" void vmdSqrt(int n, const double* a, double* r, long long mode);
#endif

namespace adaptive {
namespace ew {

template <class V>
struct LaneTraits {  // a plain float or double lane
  using Scalar = V;
  static constexpr int kWidth = 1;
};
#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
template <class E>
struct LaneTraits<Vec<E>> {
  using Scalar = E;
  static constexpr int kWidth = Vec<E>::size();
};
#endif

template <class V, int K>
struct Block {
  using Scalar = typename LaneTraits<V>::Scalar;
  static constexpr int kLanes = K;
  static constexpr int kElements = K * LaneTraits<V>::kWidth;
  V lane[K];

  template <class F>
  static Block each(F&& f) {
    Block r;
    for (int k = 0; k < K; ++k) r.lane[k] = f(k);
    return r;
  }
};

template <class V, int K>
Block<V, K> operator*(const Block<V, K>& a, typename Block<V, K>::Scalar b) {
  return Block<V, K>::each([&](int k) { return a.lane[k] * V(b); });
}
template <class V, int K>
Block<V, K> operator/(const Block<V, K>& a, typename Block<V, K>::Scalar b) {
  return Block<V, K>::each([&](int k) { return a.lane[k] / V(b); });
}
template <class V, int K>
Block<V, K> operator+(const Block<V, K>& a, typename Block<V, K>::Scalar b) {
  return Block<V, K>::each([&](int k) { return a.lane[k] + V(b); });
}
template <class V, int K>
Block<V, K> axpy(const Block<V, K>& a, typename Block<V, K>::Scalar alpha, const Block<V, K>& b) {
  return Block<V, K>::each([&](int k) { return ew::axpy(a.lane[k], alpha, b.lane[k]); });
}
template <class V, int K>
Block<V, K> addcmul(const Block<V, K>& a, typename Block<V, K>::Scalar value, const Block<V, K>& b,
                    const Block<V, K>& c) {
  return Block<V, K>::each([&](int k) { return ew::addcmul(a.lane[k], value, b.lane[k], c.lane[k]); });
}
template <class V, int K>
Block<V, K> addcdiv(const Block<V, K>& a, typename Block<V, K>::Scalar value, const Block<V, K>& b,
                    const Block<V, K>& c) {
  return Block<V, K>::each([&](int k) { return ew::addcdiv(a.lane[k], value, b.lane[k], c.lane[k]); });
}
template <class V, int K>
Block<V, K> maximum(const Block<V, K>& a, const Block<V, K>& b) {
  return Block<V, K>::each([&](int k) { return ew::maximum(a.lane[k], b.lane[k]); });
}
template <class V, int K>
Block<V, K> clamp_abs(const Block<V, K>& x, typename Block<V, K>::Scalar limit) {
  return Block<V, K>::each([&](int k) { return ew::clamp_abs(x.lane[k], limit); });
}
template <class V, int K>
Block<V, K> sqrt(const Block<V, K>& x) {
#if AT_MKL_ENABLED()
  using E = typename Block<V, K>::Scalar;
  static_assert(sizeof(Block<V, K>) == sizeof(E) * Block<V, K>::kElements, "lanes must be contiguous elements");
  constexpr long long kAtenVmlMode = 0x2 | 0x140000 | 0x100;
  Block<V, K> r;
  const E* in = reinterpret_cast<const E*>(x.lane);
  E* out = reinterpret_cast<E*>(r.lane);
  if constexpr (std::is_same_v<E, float>) {
    vmsSqrt(Block<V, K>::kElements, in, out, kAtenVmlMode);
  } else {
    vmdSqrt(Block<V, K>::kElements, in, out, kAtenVmlMode);
  }
  return r;
#else
  return Block<V, K>::each([&](int k) { return ew::sqrt(x.lane[k]); });
#endif
}

}  // namespace ew
}  // namespace adaptive
