// The fused CUDA driver's kernel (see fused_cuda.h): a multi-tensor launch.
//
// The tensors of a launch group are cut into chunks of kChunk elements, one
// thread block per chunk. A launch takes a by-value table (kernel parameters:
// 32 KiB from CUDA 12.1 on, 4 KiB before): the tensors' pointers and sizes, and
// which tensor and chunk each block works on. A group larger than one table
// takes a few launches, on the same stream, in order. The large table matters:
// a 64M-element tensor is one launch of 1,024 blocks (enough to fill the GPU),
// and 5,000 small Adam tensors take 12 launches instead of 103.
//
// Compiled with -fmad=false: the arithmetic is the rule's, with the fused
// multiply-adds rules/elementwise.h writes out where ATen's CUDA kernels have
// them, and no other.
//
// Only device-agnostic c10 headers are used for the device guard and the
// current stream, so this file also compiles against a CPU LibTorch's headers
// (tools/check_cuda_compile, run by CI on machines without a GPU).

#include "optim/kernels/fused_cuda.h"
#include "optim/rules/rules.h"

#include <c10/core/DeviceGuard.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>

#include <cuda_runtime.h>

#include <utility>

namespace adaptive {
namespace kernels {
namespace {

constexpr int64_t kChunk = 1 << 16;     // elements per block
constexpr int kThreads = 512;            // threads per block
constexpr int kILP = 4;                  // consecutive elements per thread and iteration
#if CUDART_VERSION >= 12010
constexpr int kMaxBlocks = 2048;          // blocks per launch (table entries)
constexpr size_t kParameterBytes = 32764; // kernel parameters on Volta and later with CUDA 12.1+
#else
constexpr int kMaxBlocks = 320;
constexpr size_t kParameterBytes = 4096;  // what every GPU accepts as kernel parameters
#endif
static_assert(kChunk % kILP == 0, "chunks start at aligned elements");

// How many tensors a table holds: what fits beside the block list and scalars.
template <size_t P, class Scalars>
constexpr int max_tensors() {
  return static_cast<int>((kParameterBytes - 64 - sizeof(Scalars) - kMaxBlocks * (2 + 4)) / (P * 8 + 8));
}

// One launch's table, passed by value. P: pointers per tensor (2 + states).
template <class Scalars, size_t P>
struct Table {
  static constexpr int kMaxTensors = max_tensors<P, Scalars>() < 1024 ? max_tensors<P, Scalars>() : 1024;
  Scalars scalars;
  const double* coefficient;
  void* ptr[kMaxTensors][P];
  int64_t numel[kMaxTensors];
  int32_t chunk[kMaxBlocks];       // block b works on chunk[b] of tensor[b]
  uint16_t tensor[kMaxBlocks];
};

// kILP elements of one array, loaded and stored in one access where aligned.
template <class E>
struct alignas(sizeof(E) * kILP) Pack {
  E v[kILP];
};

template <class Rule, class E, class Scalars, size_t P, size_t... I>
__global__ void __launch_bounds__(kThreads) fused_step(const Table<Scalars, P> table, std::index_sequence<I...>) {
  using M = CudaMath<E>;
  const int t = table.tensor[blockIdx.x];
  const int64_t lo = static_cast<int64_t>(table.chunk[blockIdx.x]) * kChunk;
  const int64_t hi = table.numel[t] < lo + kChunk ? table.numel[t] : lo + kChunk;
  E* const param = static_cast<E*>(table.ptr[t][0]);
  const E* const grad = static_cast<const E*>(table.ptr[t][1]);
  E* const state[P - 2] = {static_cast<E*>(table.ptr[t][2 + I])...};

  Scalars s = table.scalars;
  if (table.coefficient != nullptr) s.grad.scale *= static_cast<M>(*table.coefficient);  // sign · coefficient

  bool aligned = reinterpret_cast<uintptr_t>(param) % sizeof(Pack<E>) == 0 &&
                 reinterpret_cast<uintptr_t>(grad) % sizeof(Pack<E>) == 0;
  for (size_t k = 0; k < P - 2; ++k) aligned = aligned && reinterpret_cast<uintptr_t>(state[k]) % sizeof(Pack<E>) == 0;

  for (int64_t i = lo + static_cast<int64_t>(threadIdx.x) * kILP; i < hi; i += static_cast<int64_t>(kThreads) * kILP) {
    M p[kILP], g[kILP], st[P - 2 > 0 ? P - 2 : 1][kILP];
    const bool whole = aligned && i + kILP <= hi;
    if (whole) {
      const Pack<E> pp = *reinterpret_cast<const Pack<E>*>(param + i);
      const Pack<E> gp = *reinterpret_cast<const Pack<E>*>(grad + i);
#pragma unroll
      for (int j = 0; j < kILP; ++j) p[j] = static_cast<M>(pp.v[j]), g[j] = static_cast<M>(gp.v[j]);
#pragma unroll
      for (size_t k = 0; k < P - 2; ++k) {
        if (state[k] != nullptr) {
          const Pack<E> sp = *reinterpret_cast<const Pack<E>*>(state[k] + i);
#pragma unroll
          for (int j = 0; j < kILP; ++j) st[k][j] = static_cast<M>(sp.v[j]);
        } else {
#pragma unroll
          for (int j = 0; j < kILP; ++j) st[k][j] = M(0);
        }
      }
    } else {
#pragma unroll
      for (int j = 0; j < kILP; ++j) {
        const bool in = i + j < hi;
        p[j] = in ? static_cast<M>(param[i + j]) : M(0);
        g[j] = in ? static_cast<M>(grad[i + j]) : M(0);
#pragma unroll
        for (size_t k = 0; k < P - 2; ++k) st[k][j] = in && state[k] != nullptr ? static_cast<M>(state[k][i + j]) : M(0);
      }
    }
#pragma unroll
    for (int j = 0; j < kILP; ++j) Rule::apply(s, p[j], g[j], st[I][j]...);
    if (whole) {
      Pack<E> pp;
#pragma unroll
      for (int j = 0; j < kILP; ++j) pp.v[j] = static_cast<E>(p[j]);
      *reinterpret_cast<Pack<E>*>(param + i) = pp;
#pragma unroll
      for (size_t k = 0; k < P - 2; ++k) {
        if (state[k] == nullptr) continue;
        Pack<E> sp;
#pragma unroll
        for (int j = 0; j < kILP; ++j) sp.v[j] = static_cast<E>(st[k][j]);
        *reinterpret_cast<Pack<E>*>(state[k] + i) = sp;
      }
    } else {
#pragma unroll
      for (int j = 0; j < kILP; ++j) {
        if (i + j >= hi) continue;
        param[i + j] = static_cast<E>(p[j]);
#pragma unroll
        for (size_t k = 0; k < P - 2; ++k) {
          if (state[k] != nullptr) state[k][i + j] = static_cast<E>(st[k][j]);
        }
      }
    }
  }
}

// The current CUDA stream of `device`, through c10's device-agnostic interface.
cudaStream_t current_stream(const c10::Device& device) {
  const c10::Stream stream = c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->getStream(device);
  return static_cast<cudaStream_t>(stream.native_handle());
}

}  // namespace

template <class Rule, class E>
void run_fused_cuda(const CudaLaunch<Rule, E>& launch) {
  constexpr size_t P = Rule::kStates + 2;
  using Scalars = typename Rule::template Scalars<CudaMath<E>>;
  using T = Table<Scalars, P>;
  static_assert(P > 2, "every rule keeps state");
  static_assert(sizeof(T) <= kParameterBytes, "the table must fit in the kernel parameters");
  static_assert(T::kMaxTensors >= 16, "too few tensors per launch");
  if (launch.tensors.empty()) return;

  const c10::DeviceGuard guard(launch.device);
  const cudaStream_t stream = current_stream(launch.device);
  T table;
  table.scalars = launch.scalars;
  table.coefficient = launch.coefficient;
  int tensors = 0, blocks = 0;
  const auto flush = [&] {
    fused_step<Rule, E><<<blocks, kThreads, 0, stream>>>(table, std::make_index_sequence<P - 2>{});
    const cudaError_t error = cudaGetLastError();
    TORCH_CHECK(error == cudaSuccess, "adaptive: the fused CUDA step failed to launch: ", cudaGetErrorString(error));
    blocks = 0;
  };
  for (const CudaTensor& tensor : launch.tensors) {
    if (tensor.numel == 0) continue;
    for (size_t k = 0; k < P; ++k) table.ptr[tensors][k] = tensor.ptr[k];
    table.numel[tensors] = tensor.numel;
    const int64_t chunks = (tensor.numel + kChunk - 1) / kChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      table.tensor[blocks] = static_cast<uint16_t>(tensors);
      table.chunk[blocks] = static_cast<int32_t>(c);
      ++blocks;
      const bool last_chunk = c + 1 == chunks;
      if (blocks == kMaxBlocks || (last_chunk && tensors + 1 == T::kMaxTensors)) {
        flush();
        if (last_chunk) {
          tensors = -1;  // the next tensor starts the next table
        } else {         // this tensor goes on in the next table, as its first entry
          for (size_t k = 0; k < P; ++k) table.ptr[0][k] = table.ptr[tensors][k];
          table.numel[0] = table.numel[tensors];
          tensors = 0;
        }
      }
    }
    ++tensors;
  }
  if (blocks > 0) flush();
}

bool cuda_driver_built() { return true; }

bool cuda_fused_eligible(const at::Tensor& param, const at::Tensor& grad,
                         std::initializer_list<std::reference_wrapper<const at::Tensor>> state) {
  const auto dtype = param.scalar_type();
  if (!param.is_cuda() ||
      (dtype != at::kFloat && dtype != at::kDouble && dtype != at::kHalf && dtype != at::kBFloat16)) {
    return false;
  }
  const auto same = [&](const at::Tensor& t) {
    return t.is_contiguous() && t.scalar_type() == dtype && t.device() == param.device();
  };
  if (!param.is_contiguous() || !same(grad)) return false;
  for (const at::Tensor& s : state) {
    if (s.defined() && !same(s)) return false;
  }
  return true;
}

void (*const fused_cuda_entry_points[])() = {ADAPTIVE_RULES(ADAPTIVE_INSTANTIATE_FUSED_CUDA)};

}  // namespace kernels
}  // namespace adaptive
