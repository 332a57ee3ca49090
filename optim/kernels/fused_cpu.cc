#include "optim/kernels/fused_cpu.h"

#include "optim/kernels/fused_cpu_kernels.h"

#include <ATen/Parallel.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace adaptive {
namespace kernels {
namespace {

// Fixed-size chunks make the reduction order independent of the thread count.
constexpr int64_t kNormChunk = 1 << 16;

// A slice of one tensor, for reductions spread over ATen's threads.
struct Chunk {
  size_t tensor;
  int64_t lo, hi;
};
std::vector<Chunk> chunks_of(const std::vector<at::Tensor>& tensors) {
  std::vector<Chunk> chunks;
  for (size_t t = 0; t < tensors.size(); ++t) {
    for (int64_t lo = 0; lo < tensors[t].numel(); lo += kNormChunk) {
      chunks.push_back({t, lo, std::min(tensors[t].numel(), lo + kNormChunk)});
    }
  }
  return chunks;
}

}  // namespace

// Follow ATen: its elementwise kernels run at one capability, and ours must
// evaluate the same arithmetic (fused multiply-adds or not) to match them,
// and use the same vector width to be as fast. ATen's choice
// (at::native::get_cpu_capability, not exported) is: the ATEN_CPU_CAPABILITY
// environment variable if set ("default", "avx2", "avx512"), else AVX512 when
// the CPU has AVX512 F, BW, VL and DQ and FMA, AVX2 when it has AVX2 and FMA,
// else DEFAULT. Its AVX512 kernels evaluate the same formulas as the AVX2
// ones, on twice the lanes.
Capability capability() {
  static const Capability chosen = [] {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    if (const char* env = std::getenv("ATEN_CPU_CAPABILITY")) {
      if (std::strcmp(env, "default") == 0) return Capability::kDefault;
      if (std::strcmp(env, "avx2") == 0 && avx2) return Capability::kAvx2;
    }
    return avx512 ? Capability::kAvx512 : avx2 ? Capability::kAvx2 : Capability::kDefault;
  }();
  return chosen;
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

int fused_threads(int64_t numel) {
  switch (capability()) {
    case Capability::kAvx512: return AVX512::threads_for(numel);
    case Capability::kAvx2: return AVX2::threads_for(numel);
    case Capability::kDefault: break;
  }
  return DEFAULT::threads_for(numel);
}

double fused_sum_of_squares(const std::vector<at::Tensor>& grads, const std::vector<double>& clip_values,
                            double scale) {
  const std::vector<Chunk> chunks = chunks_of(grads);
  std::vector<double> partial(chunks.size(), 0.0);
  at::parallel_for(0, static_cast<int64_t>(chunks.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const Chunk& k = chunks[c];
      const at::Tensor& g = grads[k.tensor];
      // The AVX512 build runs the same 256-bit reduction as the AVX2 one (the
      // same sums on either machine).
      partial[c] = capability() == Capability::kDefault
                       ? DEFAULT::sum_of_squares(g.data_ptr(), g.scalar_type(), k.lo, k.hi, clip_values[k.tensor], scale)
                       : AVX2::sum_of_squares(g.data_ptr(), g.scalar_type(), k.lo, k.hi, clip_values[k.tensor], scale);
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

bool fused_all_finite(const std::vector<at::Tensor>& values) {
  const std::vector<Chunk> chunks = chunks_of(values);
  std::atomic<bool> finite{true};
  at::parallel_for(0, static_cast<int64_t>(chunks.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end && finite.load(std::memory_order_relaxed); ++c) {
      const Chunk& k = chunks[c];
      const at::Tensor& v = values[k.tensor];
      const bool ok = capability() == Capability::kDefault
                          ? DEFAULT::all_finite(v.data_ptr(), v.scalar_type(), k.lo, k.hi)
                          : AVX2::all_finite(v.data_ptr(), v.scalar_type(), k.lo, k.hi);
      if (!ok) finite = false;
    }
  });
  return finite;
}

}  // namespace kernels
}  // namespace adaptive
