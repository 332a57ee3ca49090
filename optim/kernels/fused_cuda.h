#pragma once
// The fused CUDA driver: one multi-tensor launch (or a few) per step updates
// every CUDA parameter that shares a device, a dtype and per-step scalars,
// running the same rule text as the other drivers (rules/, with the device
// arithmetic of rules/elementwise.h).
//
// Eligible: a CUDA parameter of float32, float64, float16 or bfloat16 whose
// gradient and state tensors are contiguous, of its dtype and on its device,
// in a library built with the CUDA driver (CMake's ADAPTIVE_CUDA). Half types
// are loaded into float, updated in float and stored back; the state keeps the
// parameter's dtype, as in the built-ins. Everything else takes the reference
// driver.
//
// This header needs no CUDA header: the kernels live in fused_cuda.cu, built
// only against a CUDA LibTorch; fused_cuda_absent.cc stands in for them in
// CPU-only builds, where nothing is ever eligible.

#include <ATen/ATen.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

namespace adaptive {
namespace kernels {

/// Pointers per tensor: parameter, gradient and up to three state tensors.
constexpr size_t kCudaMaxPointers = 5;

/// One parameter of a CUDA launch: [param, grad, state...] (nullptr: state the
/// options do not use) and its element count.
struct CudaTensor {
  std::array<void*, kCudaMaxPointers> ptr{};
  int64_t numel = 0;
};

/// The type a rule computes in for storage type E: float for the half types.
template <class E>
using CudaMath = std::conditional_t<std::is_same_v<E, double>, double, float>;

/// The parameters of one device and dtype whose step shares one set of scalars.
template <class Rule, class E>
struct CudaLaunch {
  typename Rule::template Scalars<CudaMath<E>> scalars;
  c10::Device device{c10::kCUDA};
  /// Norm clipping's coefficient, a double on the device that the kernel
  /// multiplies into scalars.grad.scale (there the sign only); null: none.
  const double* coefficient = nullptr;
  std::pair<const void*, int64_t> key;  // the scalars' key (group options, step)
  std::vector<CudaTensor> tensors;
};

/// Runs one launch group on the current stream of its device (fused_cuda.cu).
template <class Rule, class E>
void run_fused_cuda(const CudaLaunch<Rule, E>& launch);

/// Whether this library was built with the CUDA driver.
bool cuda_driver_built();

/// Whether the CUDA driver can update `param` (see the top of this file).
bool cuda_fused_eligible(const at::Tensor& param, const at::Tensor& grad,
                         std::initializer_list<std::reference_wrapper<const at::Tensor>> state);

/// Instantiates run_fused_cuda for every rule of optim/rules/rules.h in every
/// storage type: `fused_cuda_entry_points` (fused_cuda.cu, fused_cuda_absent.cc)
/// holds their addresses, initialized with
/// {ADAPTIVE_RULES(ADAPTIVE_INSTANTIATE_FUSED_CUDA)} (optim/rules/rules.h).
#define ADAPTIVE_INSTANTIATE_FUSED_CUDA(Rule)                                                             \
  reinterpret_cast<void (*)()>(&::adaptive::kernels::run_fused_cuda<::adaptive::Rule, float>),            \
      reinterpret_cast<void (*)()>(&::adaptive::kernels::run_fused_cuda<::adaptive::Rule, double>),       \
      reinterpret_cast<void (*)()>(&::adaptive::kernels::run_fused_cuda<::adaptive::Rule, c10::Half>),    \
      reinterpret_cast<void (*)()>(&::adaptive::kernels::run_fused_cuda<::adaptive::Rule, c10::BFloat16>),
extern void (*const fused_cuda_entry_points[])();

/// Collects the CUDA parameters of one step of Rule and launches them together.
template <class Rule>
class CudaBatch {
  static constexpr size_t N = Rule::kStates;
  static_assert(N + 2 <= kCudaMaxPointers, "a rule with more state tensors needs a larger CudaTensor");

 public:
  /// make_scalars(E{}) must return the rule's scalars in E (float or double);
  /// consecutive parameters with the same key, device and dtype share a launch.
  template <class MakeScalars>
  void add(const at::Tensor& param, const at::Tensor& grad, std::array<const at::Tensor*, N> state,
           std::pair<const void*, int64_t> key, const at::Tensor& coefficient, const MakeScalars& make_scalars) {
    switch (param.scalar_type()) {
      case at::kFloat: return add_to(f32_, param, grad, state, key, coefficient, make_scalars);
      case at::kDouble: return add_to(f64_, param, grad, state, key, coefficient, make_scalars);
      case at::kHalf: return add_to(f16_, param, grad, state, key, coefficient, make_scalars);
      default: return add_to(bf16_, param, grad, state, key, coefficient, make_scalars);
    }
  }
  void run() {
    for (const auto& l : f32_) run_fused_cuda(l);
    for (const auto& l : f64_) run_fused_cuda(l);
    for (const auto& l : f16_) run_fused_cuda(l);
    for (const auto& l : bf16_) run_fused_cuda(l);
  }

 private:
  template <class E, class MakeScalars>
  static void add_to(std::vector<CudaLaunch<Rule, E>>& launches, const at::Tensor& param, const at::Tensor& grad,
                     const std::array<const at::Tensor*, N>& state, std::pair<const void*, int64_t> key,
                     const at::Tensor& coefficient, const MakeScalars& make_scalars) {
    const double* coef = coefficient.defined() ? coefficient.data_ptr<double>() : nullptr;
    if (launches.empty() || launches.back().key != key || launches.back().device != param.device() ||
        launches.back().coefficient != coef) {
      launches.emplace_back();
      launches.back().scalars = make_scalars(CudaMath<E>{});
      launches.back().device = param.device();
      launches.back().coefficient = coef;
      launches.back().key = key;
    }
    CudaTensor t;
    t.ptr[0] = param.data_ptr();
    t.ptr[1] = grad.data_ptr();
    for (size_t k = 0; k < N; ++k) t.ptr[2 + k] = state[k]->defined() ? state[k]->data_ptr() : nullptr;
    t.numel = param.numel();
    launches.back().tensors.push_back(t);
  }
  std::vector<CudaLaunch<Rule, float>> f32_;
  std::vector<CudaLaunch<Rule, double>> f64_;
  std::vector<CudaLaunch<Rule, c10::Half>> f16_;
  std::vector<CudaLaunch<Rule, c10::BFloat16>> bf16_;
};

}  // namespace kernels
}  // namespace adaptive
