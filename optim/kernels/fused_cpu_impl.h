#pragma once
// The fused loop, compiled once per CPU capability (fused_cpu_avx512.cc,
// fused_cpu_avx2.cc, fused_cpu_default.cc) like ATen's own kernels;
// fused_cpu.cc picks the one matching the capability ATen itself dispatches
// to, so that both evaluate the same arithmetic. Include only from those files.

#include "optim/kernels/fused_cpu.h"
#include "optim/rules/elementwise.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <utility>

#ifndef CPU_CAPABILITY
#error "compile with -DCPU_CAPABILITY=AVX512, AVX2 or DEFAULT"
#endif

namespace adaptive {
namespace kernels {
namespace CPU_CAPABILITY {

// Elements per parallel task: large enough to amortize scheduling, small
// enough that many small tensors spread over the threads.
constexpr int64_t kGrain = 1 << 15;

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
template <class E>
using Lane = at::vec::Vectorized<E>;
template <class E>
Lane<E> load(const E* p, int64_t count) {
  return Lane<E>::loadu(p, count);
}
template <class E>
void store(const Lane<E>& v, E* p, int64_t count) {
  v.store(p, count);
}
template <class E>
constexpr int64_t width() {
  return Lane<E>::size();
}
#else
template <class E>
using Lane = E;
template <class E>
E load(const E* p, int64_t) {
  return *p;
}
template <class E>
void store(E v, E* p, int64_t) {
  *p = v;
}
template <class E>
constexpr int64_t width() {
  return 1;
}
#endif

// Memory a pass asks the caches to fetch while it computes: `count`
// elements from these addresses on (count 0: none).
template <size_t N>
struct Ahead {
  const void* param = nullptr;
  const void* grad = nullptr;
  std::array<const void*, N> state{};
  int64_t count = 0;
};

// `count` elements from element `at` of `job` on (none past its end), as Ahead.
template <class E, class Scalars, size_t N>
Ahead<N> ahead_of(const FusedJob<Scalars, N>& job, int64_t at, int64_t count) {
  Ahead<N> a;
  a.count = std::max<int64_t>(0, std::min(count, job.numel - at));
  if (a.count == 0) return a;
  a.param = static_cast<const E*>(job.param) + at;
  a.grad = static_cast<const E*>(job.grad) + at;
  for (size_t k = 0; k < N; ++k) a.state[k] = job.state[k] ? static_cast<const E*>(job.state[k]) + at : nullptr;
  return a;
}

// Runs the rule on the lanes of elements [lo, hi) of one job; stores the
// results only when kWrite (false: a recording pass, see below; a constant,
// so that the compiler may drop what only the stores use). It also has the
// caches fetch the elements of `ahead` (one per lane group, up to its
// count), so that memory is read while this pass computes.
template <bool kWrite, class Rule, class E, class Scalars, size_t N, size_t... I>
void lanes(const FusedJob<Scalars, N>& job, int64_t lo, int64_t hi, std::index_sequence<I...>,
           const Ahead<N>& ahead = {}) {
  // A local copy: the stores below write E values, which could alias the
  // job's scalars as far as the compiler knows, so from the job itself every
  // scalar (and every option test on it) would be reloaded each iteration.
  const Scalars scalars = job.scalars;
  E* param = static_cast<E*>(job.param);
  const E* grad = static_cast<const E*>(job.grad);
  std::array<E*, N> state;
  for (size_t k = 0; k < N; ++k) state[k] = static_cast<E*>(job.state[k]);
  constexpr int64_t W = width<E>();
  for (int64_t i = lo; i < hi; i += W) {
    const int64_t count = std::min(W, hi - i);
    if (i - lo < ahead.count) {
      const int64_t k = i - lo;
      __builtin_prefetch(static_cast<const E*>(ahead.param) + k, /*write=*/1);
      __builtin_prefetch(static_cast<const E*>(ahead.grad) + k, /*write=*/0);
      ((ahead.state[I] ? __builtin_prefetch(static_cast<const E*>(ahead.state[I]) + k, /*write=*/1) : void()), ...);
    }
    Lane<E> p = load(param + i, count);
    const Lane<E> g = load(grad + i, count);
    std::array<Lane<E>, N> s{(state[I] ? load(state[I] + i, count) : Lane<E>(E(0)))...};
#if AT_MKL_ENABLED()
    // Recording a partial last lane: the tape records its padding's roots as 1 (see ew::SqrtTape).
    if (!kWrite && count < W) ew::SqrtTape<E>::active()->real = static_cast<int>(count);
#endif
    Rule::apply(scalars, p, g, s[I]...);
    if constexpr (!kWrite) continue;
    store(p, param + i, count);
    ((state[I] ? store(s[I], state[I] + i, count) : void()), ...);
  }
#if AT_MKL_ENABLED()
  if (!kWrite && (hi - lo) % W != 0) ew::SqrtTape<E>::active()->real = ew::SqrtTape<E>::kCapacity;
#endif
}

// Elements per block: per tape, and per prefetch. The rules take one sqrt
// per element (at most two fit a tape). 512, not 256: half the MKL calls,
// about 10% faster on large tensors.
constexpr int64_t kTapeBlock = 512;

// Whether Rule's apply() may take a root (ew::sqrt): every rule says so in
// `static constexpr bool kTakesRoots`, required (hooks.h checks it), not
// defaulted: a misspelled name would otherwise fall back without a word.
// SGD's is false: the recording pass below would leave its tape empty and
// only repeat its work.
template <class Rule>
constexpr bool kTakesRoots = Rule::kTakesRoots;

#if AT_MKL_ENABLED()
static_assert(2 * kTapeBlock <= ew::SqrtTape<float>::kCapacity, "the tape holds two roots per element");

// Roots as ATen's MKL sqrt gives them: per block, a recording pass, one MKL
// call, and the real pass replaying its roots (see ew::SqrtTape). The real
// pass, which reads from cache what the recording pass brought in, prefetches
// the next block (the next job's first, after a job's last): otherwise each
// recording pass waits for memory with little to compute, and the other two
// phases compute with nothing to read, and the step takes the sum of both
// instead of the larger. `next`: the next job's first block. A rule that
// takes no root has nothing to record: one pass, asking for `next`.
template <class Rule, class E, class Scalars, size_t N>
void process(const FusedJob<Scalars, N>& job, int64_t lo, int64_t hi, const Ahead<N>& next) {
  if constexpr (!kTakesRoots<Rule>) {
    lanes</*kWrite=*/true, Rule, E>(job, lo, hi, std::make_index_sequence<N>{}, next);
  } else {  // (not instantiated for a rule without roots)
    ew::SqrtTape<E> tape;
    ew::SqrtTape<E>*& active = ew::SqrtTape<E>::active();
    active = &tape;
    for (int64_t b = lo; b < hi; b += kTapeBlock) {
      const int64_t end = std::min(hi, b + kTapeBlock);
      tape.replaying = false;
      tape.size = 0;
      lanes</*kWrite=*/false, Rule, E>(job, b, end, std::make_index_sequence<N>{});
      tape.compute();
      const Ahead<N> ahead = end < hi ? ahead_of<E>(job, end, std::min(kTapeBlock, hi - end)) : next;
      lanes</*kWrite=*/true, Rule, E>(job, b, end, std::make_index_sequence<N>{}, ahead);
    }
    active = nullptr;
  }
}
#else
template <class Rule, class E, class Scalars, size_t N>
void process(const FusedJob<Scalars, N>& job, int64_t lo, int64_t hi, const Ahead<N>&) {
  lanes</*kWrite=*/true, Rule, E>(job, lo, hi, std::make_index_sequence<N>{});
}
#endif

// All jobs in one parallel region, split by element count.
template <class Rule, class E>
void run(const Jobs<Rule, E>& jobs) {
  constexpr size_t N = Rule::kStates;
  std::vector<int64_t> offsets(jobs.size() + 1, 0);
  for (size_t j = 0; j < jobs.size(); ++j) offsets[j + 1] = offsets[j] + jobs[j].numel;
  at::parallel_for(0, offsets.back(), kGrain, [&](int64_t begin, int64_t end) {
    size_t j = std::upper_bound(offsets.begin(), offsets.end(), begin) - offsets.begin() - 1;
    for (; begin < end && j < jobs.size(); ++j) {
      const int64_t stop = std::min(end, offsets[j + 1]);
      if (stop > begin) {
        // The next job of this thread's share, if any: its first block.
        const Ahead<N> next = stop < end && j + 1 < jobs.size()
                                  ? ahead_of<E>(jobs[j + 1], 0, std::min(kTapeBlock, end - stop))
                                  : Ahead<N>{};
        process<Rule, E>(jobs[j], begin - offsets[j], stop - offsets[j], next);
      }
      begin = stop;
    }
  });
}

// Σ clamp(g·scale)² of elements [lo, hi), accumulated in double; g·scale
// is rounded to E first, as an unscale in place would leave it (scale 1: g).
template <class E>
double sum_of_squares_scalar(const E* g, int64_t lo, int64_t hi, double clip, double scale) {
  double acc = 0;
  for (int64_t i = lo; i < hi; ++i) {
    double x = static_cast<double>(scale == 1 ? g[i] : static_cast<E>(g[i] * static_cast<E>(scale)));
    if (clip > 0) x = ew::clamp_abs(x, clip);
    acc += x * x;
  }
  return acc;
}

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
// Vectorized: float lanes are widened to double before squaring, so the sum
// is as accurate as the scalar loop's (only the order differs, and it is fixed).
inline double sum_of_squares(const float* g, int64_t lo, int64_t hi, double clip, double scale) {
  const __m256 limit = _mm256_set1_ps(static_cast<float>(clip)), neg_limit = _mm256_set1_ps(-static_cast<float>(clip));
  const __m256 factor = _mm256_set1_ps(static_cast<float>(scale));
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = lo;
  for (; i + 8 <= hi; i += 8) {
    __m256 x = _mm256_loadu_ps(g + i);
    if (scale != 1) x = _mm256_mul_ps(x, factor);
    if (clip > 0) x = _mm256_min_ps(limit, _mm256_max_ps(neg_limit, x));  // NaN stays NaN, as at::clamp
    const __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(x)), b = _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
    acc0 = _mm256_fmadd_pd(a, a, acc0);
    acc1 = _mm256_fmadd_pd(b, b, acc1);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + sum_of_squares_scalar(g, i, hi, clip, scale);
}
inline double sum_of_squares(const double* g, int64_t lo, int64_t hi, double clip, double scale) {
  const __m256d limit = _mm256_set1_pd(clip), neg_limit = _mm256_set1_pd(-clip), factor = _mm256_set1_pd(scale);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = lo;
  for (; i + 8 <= hi; i += 8) {
    __m256d a = _mm256_loadu_pd(g + i), b = _mm256_loadu_pd(g + i + 4);
    if (scale != 1) a = _mm256_mul_pd(a, factor), b = _mm256_mul_pd(b, factor);
    if (clip > 0) {
      a = _mm256_min_pd(limit, _mm256_max_pd(neg_limit, a));
      b = _mm256_min_pd(limit, _mm256_max_pd(neg_limit, b));
    }
    acc0 = _mm256_fmadd_pd(a, a, acc0);
    acc1 = _mm256_fmadd_pd(b, b, acc1);
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + sum_of_squares_scalar(g, i, hi, clip, scale);
}
#else
template <class E>
double sum_of_squares(const E* g, int64_t lo, int64_t hi, double clip, double scale) {
  return sum_of_squares_scalar(g, lo, hi, clip, scale);
}
#endif

// Whether elements [lo, hi) are all finite: x·0 is 0 for a finite x and NaN
// for ±inf or NaN, so a sum of them is NaN exactly when one is not finite.
// Branch-free, so that it runs at the speed of reading memory.
template <class E>
bool all_finite_scalar(const E* g, int64_t lo, int64_t hi) {
  E acc = 0;
  for (int64_t i = lo; i < hi; ++i) acc += g[i] * E(0);
  return acc == acc;
}

#if defined(CPU_CAPABILITY_AVX2) || defined(CPU_CAPABILITY_AVX512)
inline bool all_finite(const float* g, int64_t lo, int64_t hi) {
  const __m256 zero = _mm256_setzero_ps();
  __m256 acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
  int64_t i = lo;
  for (; i + 32 <= hi; i += 32) {
    acc0 = _mm256_add_ps(acc0, _mm256_mul_ps(_mm256_loadu_ps(g + i), zero));
    acc1 = _mm256_add_ps(acc1, _mm256_mul_ps(_mm256_loadu_ps(g + i + 8), zero));
    acc2 = _mm256_add_ps(acc2, _mm256_mul_ps(_mm256_loadu_ps(g + i + 16), zero));
    acc3 = _mm256_add_ps(acc3, _mm256_mul_ps(_mm256_loadu_ps(g + i + 24), zero));
  }
  const __m256 acc = _mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3));
  return _mm256_movemask_ps(_mm256_cmp_ps(acc, acc, _CMP_UNORD_Q)) == 0 && all_finite_scalar(g, i, hi);
}
inline bool all_finite(const double* g, int64_t lo, int64_t hi) {
  const __m256d zero = _mm256_setzero_pd();
  __m256d acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
  int64_t i = lo;
  for (; i + 16 <= hi; i += 16) {
    acc0 = _mm256_add_pd(acc0, _mm256_mul_pd(_mm256_loadu_pd(g + i), zero));
    acc1 = _mm256_add_pd(acc1, _mm256_mul_pd(_mm256_loadu_pd(g + i + 4), zero));
    acc2 = _mm256_add_pd(acc2, _mm256_mul_pd(_mm256_loadu_pd(g + i + 8), zero));
    acc3 = _mm256_add_pd(acc3, _mm256_mul_pd(_mm256_loadu_pd(g + i + 12), zero));
  }
  const __m256d acc = _mm256_add_pd(_mm256_add_pd(acc0, acc1), _mm256_add_pd(acc2, acc3));
  return _mm256_movemask_pd(_mm256_cmp_pd(acc, acc, _CMP_UNORD_Q)) == 0 && all_finite_scalar(g, i, hi);
}
#else
template <class E>
bool all_finite(const E* g, int64_t lo, int64_t hi) {
  return all_finite_scalar(g, lo, hi);
}
#endif

}  // namespace CPU_CAPABILITY
}  // namespace kernels
}  // namespace adaptive
