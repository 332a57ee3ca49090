#pragma once
// The element-wise vocabulary of optim/rules/elementwise.h on SIMD lanes
// (at::vec::Vectorized), for the fused CPU driver's AVX2 and AVX-512 builds:
// each function evaluates what ATen's vectorized CPU kernel for that op
// evaluates, fused multiply-adds included. Included by elementwise.h itself,
// before any rule: see there why.

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
Vec<E> clamp(const Vec<E>& x, E lo, E hi) {
  return at::vec::clamp(x, Vec<E>(lo), Vec<E>(hi));
}
// ATen's vectorized sign: (0 < x) − (x < 0), from comparison masks.
template <class E>
Vec<E> sign(const Vec<E>& x) {
  const Vec<E> zero(E(0)), one(E(1));
  return Vec<E>::blendv(zero, one, zero < x) - Vec<E>::blendv(zero, one, x < zero);
}
template <class E>
Vec<E> select_by_sign(const Vec<E>& x, E pos, E zero, E neg) {
  const Vec<E> z(E(0));
  return Vec<E>::blendv(Vec<E>::blendv(Vec<E>(zero), Vec<E>(pos), x > z), Vec<E>(neg), x < z);
}
template <class E>
Vec<E> zero_where_equal(const Vec<E>& x, const Vec<E>& key, E value) {
  return Vec<E>::blendv(x, Vec<E>(E(0)), key == Vec<E>(value));
}
template <class E>
Vec<E> abs(const Vec<E>& x) {
  return x.abs();
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
