#pragma once
// The fused loop, compiled once per CPU capability (fused_cpu_avx2.cc,
// fused_cpu_default.cc) like ATen's own kernels; fused_cpu.cc picks the one
// matching the capability ATen itself dispatches to, so that both evaluate
// the same arithmetic. Include only from those files.

#include "optim/kernels/fused_cpu.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <utility>

#ifndef CPU_CAPABILITY
#error "compile with -DCPU_CAPABILITY=AVX2 or DEFAULT"
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

// Runs the rule on elements [lo, hi) of one job.
template <class Rule, class E, class Scalars, size_t N, size_t... I>
void process(const FusedJob<Scalars, N>& job, int64_t lo, int64_t hi, std::index_sequence<I...>) {
  E* param = static_cast<E*>(job.param);
  const E* grad = static_cast<const E*>(job.grad);
  std::array<E*, N> state;
  for (size_t k = 0; k < N; ++k) state[k] = static_cast<E*>(job.state[k]);
  constexpr int64_t W = width<E>();
  for (int64_t i = lo; i < hi; i += W) {
    const int64_t count = std::min(W, hi - i);
    Lane<E> p = load(param + i, count);
    const Lane<E> g = load(grad + i, count);
    std::array<Lane<E>, N> s{(state[I] ? load(state[I] + i, count) : Lane<E>(E(0)))...};
    Rule::apply(job.scalars, p, g, s[I]...);
    store(p, param + i, count);
    ((state[I] ? store(s[I], state[I] + i, count) : void()), ...);
  }
}

// All jobs in one parallel region, split by element count.
template <class Rule, class E, class Scalars, size_t N>
void run(const std::vector<FusedJob<Scalars, N>>& jobs) {
  std::vector<int64_t> offsets(jobs.size() + 1, 0);
  for (size_t j = 0; j < jobs.size(); ++j) offsets[j + 1] = offsets[j] + jobs[j].numel;
  at::parallel_for(0, offsets.back(), kGrain, [&](int64_t begin, int64_t end) {
    size_t j = std::upper_bound(offsets.begin(), offsets.end(), begin) - offsets.begin() - 1;
    for (; begin < end && j < jobs.size(); ++j) {
      const int64_t stop = std::min(end, offsets[j + 1]);
      if (stop > begin) {
        process<Rule, E>(jobs[j], begin - offsets[j], stop - offsets[j], std::make_index_sequence<N>{});
      }
      begin = stop;
    }
  });
}

// Σ clamp(g)² of elements [lo, hi), in double.
template <class E>
double sum_of_squares(const E* g, int64_t lo, int64_t hi, double clip) {
  double acc[4] = {0, 0, 0, 0};
  int64_t i = lo;
  for (; i + 4 <= hi; i += 4) {
    for (int k = 0; k < 4; ++k) {
      double x = static_cast<double>(g[i + k]);
      if (clip > 0) x = ew::clamp_abs(x, clip);
      acc[k] += x * x;
    }
  }
  for (; i < hi; ++i) {
    double x = static_cast<double>(g[i]);
    if (clip > 0) x = ew::clamp_abs(x, clip);
    acc[0] += x * x;
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

}  // namespace CPU_CAPABILITY
}  // namespace kernels
}  // namespace adaptive
