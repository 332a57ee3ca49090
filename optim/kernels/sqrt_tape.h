#pragma once
// The fused CPU driver's square roots on a LibTorch built with MKL: there
// at::sqrt of float and double is MKL's VML (vmsSqrt/vmdSqrt, high-accuracy
// mode), not always the correctly rounded root the instruction gives, so the
// driver takes its roots from MKL through a tape (SqrtTape, below).
// ew::sqrt on scalars (optim/rules/elementwise.h) and on SIMD lanes
// (simd_lanes.h) call scalar_sqrt / SqrtTape::root; without MKL they are the
// instruction's root.

#include <ATen/Config.h>  // AT_MKL_ENABLED

#include <cmath>
#include <type_traits>

#if AT_MKL_ENABLED()
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

}  // namespace ew
}  // namespace adaptive
#else
namespace adaptive {
namespace ew {

template <class E>
E scalar_sqrt(E x) {
  return std::sqrt(x);
}

}  // namespace ew
}  // namespace adaptive
#endif
