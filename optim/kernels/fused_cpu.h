#pragma once
// The fused CPU driver: one pass over memory per step. Every element of every
// eligible tensor is loaded once, updated by the rule (the same text the
// reference driver runs on whole tensors) and stored once, vectorized, with
// all tensors of a step in one parallel region.
//
// Eligible: a CPU parameter whose gradient and state tensors are all
// contiguous and of the parameter's dtype, float32 or float64. Everything else
// (CUDA, bfloat16, channels-last, ...) takes the reference driver.
//
// The results equal the reference driver's bit for bit (tests/fused_test.cc):
// both evaluate ATen's per-element formulas, see rules/elementwise.h.
//
// This header knows no rule: a Rule names its per-step constants
// (Rule::Scalars<E>) and its state count (Rule::kStates); the kernels of every
// rule of optim/rules/rules.h are compiled in fused_cpu_kernels.cc.inc.

#include <ATen/ATen.h>

#include <array>
#include <functional>
#include <utility>
#include <initializer_list>
#include <type_traits>
#include <vector>

namespace adaptive {
namespace kernels {

// One tensor's share of a fused step: its per-step scalars and raw pointers.
template <class Scalars, size_t N>
struct FusedJob {
  Scalars scalars;
  void* param = nullptr;
  const void* grad = nullptr;
  std::array<void*, N> state{};  // nullptr: state the options do not use
  int64_t numel = 0;
};

/// The fused jobs of Rule in element type E.
template <class Rule, class E>
using Jobs = std::vector<FusedJob<typename Rule::template Scalars<E>, Rule::kStates>>;

// The fused loop per CPU capability (fused_cpu_impl.h), instantiated for the
// rule of every optimizer in the list (fused_cpu_kernels.cc.inc).
#define ADAPTIVE_DECLARE_FUSED_RUN(NS)   \
  namespace NS {                         \
  template <class Rule, class E>         \
  void run(const Jobs<Rule, E>& jobs);   \
  }
ADAPTIVE_DECLARE_FUSED_RUN(AVX512)
ADAPTIVE_DECLARE_FUSED_RUN(AVX2)
ADAPTIVE_DECLARE_FUSED_RUN(DEFAULT)
#undef ADAPTIVE_DECLARE_FUSED_RUN

/// The CPU capability of ATen's elementwise kernels here, which ours follow
/// (fused_cpu.cc).
enum class Capability { kDefault, kAvx2, kAvx512 };
Capability capability();

/// Runs every job of one step, all in one parallel region.
template <class Rule, class E>
void run_fused(const Jobs<Rule, E>& jobs) {
  switch (capability()) {
    case Capability::kAvx512: return AVX512::run<Rule, E>(jobs);
    case Capability::kAvx2: return AVX2::run<Rule, E>(jobs);
    case Capability::kDefault: return DEFAULT::run<Rule, E>(jobs);
  }
}

// Whether the fused driver can update `param`: see the top of this file.
// Undefined state tensors (options that are off) are ignored.
bool fused_eligible(const at::Tensor& param, const at::Tensor& grad,
                    std::initializer_list<std::reference_wrapper<const at::Tensor>> state);

/// How many threads a fused step over `numel` elements runs on: up to
/// at::get_num_threads(), one per kGrain elements. at::parallel_for is a
/// header template: with an OpenMP LibTorch (the official builds, Debian's)
/// it runs on several threads only in code compiled with the compiler's
/// OpenMP (-fopenmp, set by optim/BUILD and CMakeLists.txt); without it, on one.
int fused_threads(int64_t numel);

// Σ g² over all `grads` (each first multiplied by `scale`, rounded to its
// dtype, as GradScaler's unscale leaves it; then clamped to ±clip_values[i]
// when that is > 0), accumulated in double in a fixed order: the same result
// for any thread count.
double fused_sum_of_squares(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values,
                            double scale = 1);

// Whether every element of every tensor of `values` (CPU, contiguous,
// float32 or float64) is finite: one parallel read of each, as fast as
// memory delivers it. GradScaler's fused path takes its inf check from here.
bool fused_all_finite(const std::vector<at::Tensor>& values);

// Collects the fused jobs of one step of Rule, per dtype, and runs them together.
template <class Rule>
class FusedBatch {
  template <class E>
  using Scalars = typename Rule::template Scalars<E>;
  static constexpr size_t N = Rule::kStates;

 public:
  // make_scalars(E{}) must return Scalars<E> (called with float or double).
  // Parameters of one group at the same step share their scalars: `key`
  // (the group's options and the step) lets consecutive ones reuse them.
  template <class MakeScalars>
  void add(const at::Tensor& param, const at::Tensor& grad, std::array<const at::Tensor*, N> state,
           std::pair<const void*, int64_t> key, const MakeScalars& make_scalars) {
    if (param.scalar_type() == at::kFloat) {
      jobs<float>().push_back(job<float>(param, grad, state, f32_scalars_.get(key, make_scalars)));
    } else {
      jobs<double>().push_back(job<double>(param, grad, state, f64_scalars_.get(key, make_scalars)));
    }
  }

  /// A step's scalars per (options, step) key, made once for a run of
  /// parameters that share them.
  template <class E>
  struct ScalarsCache {
    template <class MakeScalars>
    const Scalars<E>& get(std::pair<const void*, int64_t> key, const MakeScalars& make_scalars) {
      if (!valid_ || key != key_) value_ = make_scalars(E{}), key_ = key, valid_ = true;
      return value_;
    }

   private:
    bool valid_ = false;
    std::pair<const void*, int64_t> key_{};
    Scalars<E> value_{};
  };

  /// Reserves places for `count` jobs in element type E and returns the
  /// index of the first: set() fills them later, from any thread (a place
  /// left empty is a job of no elements). So a step's jobs can be set up on
  /// several threads, in the order of the parameters.
  template <class E>
  size_t reserve(size_t count) {
    const size_t first = jobs<E>().size();
    jobs<E>().resize(first + count);
    return first;
  }
  /// Fills the place `slot` (from reserve<E>). Distinct places may be filled concurrently.
  template <class E>
  void set(size_t slot, const at::Tensor& param, const at::Tensor& grad, const std::array<const at::Tensor*, N>& state,
           const Scalars<E>& scalars) {
    jobs<E>()[slot] = job<E>(param, grad, state, scalars);
  }

  void run() {
    if (!f32_.empty()) run_fused<Rule, float>(f32_);
    if (!f64_.empty()) run_fused<Rule, double>(f64_);
  }

 private:
  template <class E>
  static FusedJob<Scalars<E>, N> job(const at::Tensor& param, const at::Tensor& grad,
                                     const std::array<const at::Tensor*, N>& state, const Scalars<E>& s) {
    FusedJob<Scalars<E>, N> j;
    j.scalars = s;
    j.param = param.data_ptr();
    j.grad = grad.data_ptr();
    for (size_t k = 0; k < N; ++k) j.state[k] = state[k]->defined() ? state[k]->data_ptr() : nullptr;
    j.numel = param.numel();
    return j;
  }
  template <class E>
  std::vector<FusedJob<Scalars<E>, N>>& jobs() {
    if constexpr (std::is_same_v<E, float>) {
      return f32_;
    } else {
      return f64_;
    }
  }
  std::vector<FusedJob<Scalars<float>, N>> f32_;
  std::vector<FusedJob<Scalars<double>, N>> f64_;
  ScalarsCache<float> f32_scalars_;
  ScalarsCache<double> f64_scalars_;
};

}  // namespace kernels
}  // namespace adaptive
