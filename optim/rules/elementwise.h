#pragma once
// The element-wise vocabulary the update rules are written in, for every type
// a rule runs on: a whole tensor (the reference driver), a single float or
// double (the fused CPU driver, and the fused CUDA driver on the device) and a
// SIMD lane (below).
//
// For tensors (at::Tensor, and the reference driver's ew::LazyTensor, which
// runs `x = f(x, …)` in place) each function is exactly one ATen op, the op
// torch::optim and PyTorch's torch.optim use at that point of the algorithm;
// that is why the reference driver reproduces them bit for bit, not merely
// to rounding.
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
// last bit). For those the fused driver takes its roots from a SqrtTape
// (below): it runs the rule over a block of lanes twice, recording every sqrt
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

#if AT_MKL_ENABLED()
}  // namespace ew
}  // namespace adaptive
// MKL's VML, linked into libtorch_cpu; mode = VML_HA | VML_FTZDAZ_OFF |
// VML_ERRMODE_IGNORE, exactly what ATen passes (ATen/cpu/vml.h). LP64: n is int.
extern "C" void vmsSqrt(int n, const float* a, float* r, long long mode);
extern "C" void vmdSqrt(int n, const double* a, double* r, long long mode);
namespace adaptive {
namespace ew {

/// Square roots as ATen computes them where that is MKL's: one MKL call per
/// lane would cost more than the whole step, so the fused driver runs each
/// block of lanes twice under a tape. Recording, sqrt stores its argument and
/// returns the instruction's root (that pass's results are discarded); then
/// compute() takes every recorded root in one MKL call; replaying, sqrt returns
/// them in order. The rule is deterministic, so it asks for the same roots in
/// the same order. The tape of the running thread is active() (null: none).
///
/// A block's last lane may be partial: its other elements are padding, whose
/// results the driver discards. The driver sets `real` to the real elements'
/// count while it records that lane, and the padding's arguments are recorded
/// as 1: it would otherwise be 0 in most rules, and MKL takes a slow path for
/// each zero (a 512-root call with 12 zeros, a 500-element tensor's padding in
/// AVX-512 float32 lanes, took 111 ns instead of 72 here). MKL's root of an
/// element does not depend on the others in the call (checked for every
/// float, and 2^28 random doubles, in calls of 65,536 and of 3 or 5).
template <class E>
struct SqrtTape {
  static constexpr int kCapacity = 1024;  ///< roots per block (the driver's block × sqrts per element)
  bool replaying = false;
  int size = 0, next = 0;
  int real = kCapacity;  ///< real elements in the lane being recorded (see above)
  alignas(64) E args[kCapacity];
  alignas(64) E roots[kCapacity];

  void compute() {
    constexpr long long kAtenVmlMode = 0x2 | 0x140000 | 0x100;
    if constexpr (std::is_same_v<E, float>) {
      vmsSqrt(size, args, roots, kAtenVmlMode);
    } else {
      vmdSqrt(size, args, roots, kAtenVmlMode);
    }
    replaying = true;
    next = 0;
  }
  /// This thread's tape: initial-exec TLS, a single load even in a shared library.
  /// (nvcc's front end, compiling the CUDA driver, which never records a tape,
  /// ignores the attribute and says so: warning 1835, silenced.)
#if defined(__NVCC__)
#pragma nv_diag_suppress 1835
#endif
  static SqrtTape*& active() {
    static thread_local SqrtTape* tape __attribute__((tls_model("initial-exec"))) = nullptr;
    return tape;
  }
  /// The root of the `width` elements at x (recording: stored, and computed
  /// by `instruction`; replaying: MKL's).
  template <class Lane, class Store, class Load, class Instruction>
  static Lane root(const Lane& x, int width, Store store, Load load, Instruction instruction) {
    SqrtTape* tape = active();
    if (tape == nullptr) return instruction(x);
    if (tape->replaying) {
      const Lane r = load(tape->roots + tape->next);
      tape->next += width;
      return r;
    }
    store(x, tape->args + tape->size);
    for (int k = tape->real; k < width; ++k) tape->args[tape->size + k] = E(1);
    tape->size += width;
    return instruction(x);
  }
};

template <class E>
E scalar_sqrt(E x) {
  return SqrtTape<E>::root(x, 1, [](E v, E* p) { *p = v; }, [](const E* p) { return *p; },
                           [](E v) { return std::sqrt(v); });
}
#else
template <class E>
E scalar_sqrt(E x) {
  return std::sqrt(x);
}
#endif

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

// Element-wise maximum that propagates NaN, like at::maximum.
inline at::Tensor maximum(const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }
template <class S>
C10_HOST_DEVICE S maximum(S a, S b) {
  return (a != a || a > b) ? a : b;
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

// The same functions on the reference driver's lazy tensors (in place where it can).
#include "optim/rules/lazy_tensor.h"

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
#if AT_MKL_ENABLED()
  return SqrtTape<E>::root(
      x, Vec<E>::size(), [](const Vec<E>& v, E* p) { v.store(p); }, [](const E* p) { return Vec<E>::loadu(p); },
      [](const Vec<E>& v) { return v.sqrt(); });
#else
  return x.sqrt();
#endif
}
// ATen's vectorized lerp: one fused multiply-add from the nearer end.
template <class E>
Vec<E> lerp(const Vec<E>& a, const Vec<E>& b, E weight) {
  return std::abs(weight) < E(0.5) ? at::vec::fmadd(Vec<E>(weight), b - a, a)
                                   : at::vec::fmadd(Vec<E>(weight - E(1)), b - a, b);
}
template <class E>
Vec<E> div(const Vec<E>& x, const Divisor<E>& d) {
  return x / Vec<E>(d.value);
}
template <class E>
Vec<E> reciprocal(const Vec<E>& x) {
  return x.reciprocal();
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
