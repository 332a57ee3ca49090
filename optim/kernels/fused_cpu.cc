#include "optim/kernels/fused_cpu.h"

#include "optim/kernels/fused_cpu_kernels.h"

#include <ATen/Parallel.h>

#include <cstdlib>
#include <cstring>

namespace adaptive {
namespace kernels {
namespace {

// Fixed-size chunks make the reduction order independent of the thread count.
constexpr int64_t kNormChunk = 1 << 16;

}  // namespace

// Follow ATen: its elementwise kernels run at one capability, and ours must
// evaluate the same arithmetic (fused multiply-adds or not) to match them.
// ATen's choice (at::native::get_cpu_capability, not exported) is: the
// ATEN_CPU_CAPABILITY environment variable if set, else AVX512 or AVX2 when
// the CPU has AVX2 and FMA, else DEFAULT. Its AVX512 kernels evaluate the
// same formulas as the AVX2 ones, so AVX2 stands in for both here.
bool use_avx2() {
  static const bool avx2 = [] {
    if (const char* env = std::getenv("ATEN_CPU_CAPABILITY")) {
      if (std::strcmp(env, "default") == 0) return false;
    }
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return avx2;
}

bool fused_eligible(const at::Tensor& param, const at::Tensor& grad,
                    std::initializer_list<std::reference_wrapper<const at::Tensor>> state) {
  const auto dtype = param.scalar_type();
  if (!param.device().is_cpu() || (dtype != at::kFloat && dtype != at::kDouble)) return false;
  if (!param.is_contiguous() || !grad.is_contiguous() || grad.scalar_type() != dtype || !grad.device().is_cpu()) {
    return false;
  }
  for (const at::Tensor& s : state) {
    if (s.defined() && (!s.is_contiguous() || s.scalar_type() != dtype || !s.device().is_cpu())) return false;
  }
  return true;
}

int fused_threads(int64_t numel) { return use_avx2() ? AVX2::threads_for(numel) : DEFAULT::threads_for(numel); }

double fused_sum_of_squares(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values) {
  struct Chunk {
    size_t tensor;
    int64_t lo, hi;
  };
  std::vector<Chunk> chunks;
  for (size_t t = 0; t < grads.size(); ++t) {
    for (int64_t lo = 0; lo < grads[t].numel(); lo += kNormChunk) {
      chunks.push_back({t, lo, std::min(grads[t].numel(), lo + kNormChunk)});
    }
  }
  std::vector<double> partial(chunks.size(), 0.0);
  at::parallel_for(0, static_cast<int64_t>(chunks.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const Chunk& k = chunks[c];
      const at::Tensor& g = grads[k.tensor];
      partial[c] = use_avx2() ? AVX2::sum_of_squares(g.data_ptr(), g.scalar_type(), k.lo, k.hi, clip_values[k.tensor])
                              : DEFAULT::sum_of_squares(g.data_ptr(), g.scalar_type(), k.lo, k.hi, clip_values[k.tensor]);
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace kernels
}  // namespace adaptive
