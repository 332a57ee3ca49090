// Optimizer step time on a GPU, side by side in one run, in two tables.
//
// The fused table: torch::optim (the built-in, per-tensor ops), ATen's fused
// kernels (at::_fused_adam_, _fused_adamw_, _fused_adagrad_: what PyTorch's
// fused=True runs) and adaptive's fused CUDA driver, against the floor: the
// bytes a step must move (every state tensor and the parameter read and
// written once, the gradient read once) divided by the bandwidth of a
// device-to-device copy measured in the same run.
//
// The tensor-op table: adaptive's tensor-op driver, which runs in place the
// built-ins' own ops, against the built-in, for every optimizer that has one,
// on what that driver serves on a GPU: float32, float64 and bfloat16 with
// fused(false), and channels-last float32 (which the fused driver does not
// take) with the default options.
//
//   <build>/cuda_benchmark               (CMake with a CUDA LibTorch)
//   <build>/cuda_benchmark --tensor-op   (the tensor-op table only)
//
// A row's sides take turns: each side steps `iterations` times between two
// CUDA events on the current stream, then the next side, five rounds after
// warm-up, in alternating order; a side's time is its best round's mean.
// Gradients are fixed. A step that is bound by the host (launch overhead)
// shows as such: the events then measure the gap the GPU waits.

#include "optim/optim.h"
#include "optim/version.h"
#include "tools/benchmark/tensor_lists.h"
#include "tools/benchmark/tensor_op_rows.h"

#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

using adaptive_benchmark::grads_of;
using adaptive_benchmark::make_params;
using adaptive_benchmark::step_counts;
using adaptive_benchmark::Storage;
using adaptive_benchmark::zeros_like_all;

struct Shape {
  const char* name;
  int64_t tensors, numel;
};

// Milliseconds per call of each of `steps`, taking turns: `warmup` calls of
// each, then five rounds in which each side makes `iterations` calls between
// two CUDA events, the sides in turn, first to last in even rounds and last
// to first in odd ones (so that no side always follows the same one); each
// side's best round's mean.
std::vector<double> time_in_turns(const std::vector<std::function<void()>>& steps, int iterations, int warmup = 3) {
  for (const auto& step : steps) {
    for (int i = 0; i < warmup; ++i) step();
  }
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<double> best(steps.size(), 1e300);
  for (int round = 0; round < 5; ++round) {
    for (size_t turn = 0; turn < steps.size(); ++turn) {
      const size_t s = round % 2 == 0 ? turn : steps.size() - 1 - turn;
      cudaEventRecord(start, stream);
      for (int i = 0; i < iterations; ++i) steps[s]();
      cudaEventRecord(stop, stream);
      cudaEventSynchronize(stop);
      float ms = 0;
      cudaEventElapsedTime(&ms, start, stop);
      best[s] = std::min(best[s], static_cast<double>(ms) / iterations);
    }
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

// Device-to-device copy bandwidth in bytes per millisecond, counting the bytes
// read and written.
double copy_bandwidth() {
  const int64_t n = int64_t(1) << 28;  // 1 GiB of float
  auto src = torch::randn({n}, torch::TensorOptions().device(torch::kCUDA)), dst = torch::empty_like(src);
  const double ms = time_in_turns({[&] { dst.copy_(src); }}, 20)[0];
  return 2.0 * n * sizeof(float) / ms;
}

// The shape's parameters on the GPU, stored as `storage` (by default float32, contiguous).
std::vector<torch::Tensor> gpu_params(const Shape& s, const Storage& storage = {}) {
  return make_params(s.tensors, s.numel, storage, torch::kCUDA);
}

struct Config {
  const char* optimizer;
  int bytes_per_element;
  std::function<std::unique_ptr<torch::optim::Optimizer>(const std::vector<torch::Tensor>&)> builtin, adaptive;
  // One step of ATen's fused kernel over the parameters, with its own state.
  std::function<std::function<void()>(const std::vector<torch::Tensor>&)> aten;
};

std::vector<Config> configs() {
  std::vector<Config> out;
  out.push_back({"Adam", 28,
                 [](const auto& p) { return std::make_unique<torch::optim::Adam>(p, torch::optim::AdamOptions(1e-3)); },
                 [](const auto& p) { return std::make_unique<adaptive::Adam>(p, adaptive::AdamOptions(1e-3)); },
                 [](const std::vector<torch::Tensor>& p) -> std::function<void()> {
                   auto m = zeros_like_all(p), v = zeros_like_all(p);
                   auto steps = step_counts(p.size(), torch::kCUDA, 1);
                   return [p, m, v, steps] {
                     at::_fused_adam_(p, grads_of(p), m, v, {}, steps, 1e-3, 0.9, 0.999, 0.0, 1e-8, false, false);
                   };
                 }});
  out.push_back({"AdamW", 28,
                 [](const auto& p) { return std::make_unique<torch::optim::AdamW>(p, torch::optim::AdamWOptions(1e-3)); },
                 [](const auto& p) { return std::make_unique<adaptive::AdamW>(p, adaptive::AdamWOptions(1e-3)); },
                 [](const std::vector<torch::Tensor>& p) -> std::function<void()> {
                   auto m = zeros_like_all(p), v = zeros_like_all(p);
                   auto steps = step_counts(p.size(), torch::kCUDA, 1);
                   return [p, m, v, steps] {
                     at::_fused_adamw_(p, grads_of(p), m, v, {}, steps, 1e-3, 0.9, 0.999, 1e-2, 1e-8, false, false);
                   };
                 }});
  out.push_back({"Adagrad", 20,
                 [](const auto& p) { return std::make_unique<torch::optim::Adagrad>(p, torch::optim::AdagradOptions(1e-2)); },
                 [](const auto& p) { return std::make_unique<adaptive::Adagrad>(p, adaptive::AdagradOptions(1e-2)); },
                 [](const std::vector<torch::Tensor>& p) -> std::function<void()> {
                   auto sums = zeros_like_all(p);
                   auto steps = step_counts(p.size(), torch::kCUDA, 1);
                   return [p, sums, steps] { at::_fused_adagrad_(p, grads_of(p), sums, steps, 1e-2, 0.0, 0.0, 1e-10, false); };
                 }});
  return out;
}

// The fused table's rows for `shape`.
void fused_rows(const Shape& shape, double bandwidth) {
  for (const Config& c : configs()) {
    const double elements = static_cast<double>(shape.tensors) * shape.numel;
    const double floor_ms = c.bytes_per_element * elements / bandwidth;
    auto builtin_params = gpu_params(shape), aten_params = gpu_params(shape), fused_params = gpu_params(shape);
    auto builtin = c.builtin(builtin_params), fused = c.adaptive(fused_params);
    const auto ms = time_in_turns({[&] { builtin->step(); }, c.aten(aten_params), [&] { fused->step(); }},
                                  shape.tensors >= 5000 ? 3 : 20);
    const double builtin_ms = ms[0], aten_ms = ms[1], fused_ms = ms[2];
    std::printf("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.2f | %.2fx | %.1fx |\n", shape.name, c.optimizer,
                builtin_ms, aten_ms, fused_ms, floor_ms, fused_ms / floor_ms, aten_ms / fused_ms, builtin_ms / fused_ms);
    std::fflush(stdout);
  }
}

// The tensor-op table's row of Opt (if it has a built-in) on `storage`.
template <class Opt>
void tensor_op_row(const Shape& shape, const Storage& storage) {
  if constexpr (!std::is_void_v<typename Opt::Builtin>) {
    torch::manual_seed(0);
    auto builtin_params = gpu_params(shape, storage);
    torch::manual_seed(0);
    auto adaptive_params = gpu_params(shape, storage);
    auto builtin = adaptive_benchmark::make_builtin<Opt>(builtin_params);
    auto adaptive = adaptive_benchmark::make_adaptive<Opt>(adaptive_params, storage.fused);
    const auto ms = time_in_turns({[&] { builtin->step(); }, [&] { adaptive->step(); }}, shape.tensors >= 2000 ? 3 : 10);
    const std::string name = std::string(Opt::kName).substr(std::string("adaptive::").size());
    std::printf("| %s | %s | %s | %.3f | %.3f | %.2fx |\n", name.c_str(), storage.name.c_str(), shape.name, ms[0],
                ms[1], ms[0] / ms[1]);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("cuda_benchmark (adaptive %s, LibTorch %s)\n", ADAPTIVE_VERSION, TORCH_VERSION);
    return 0;
  }
  const bool tensor_op_only = argc > 1 && std::strcmp(argv[1], "--tensor-op") == 0;
  if (argc > 1 && !tensor_op_only) {
    std::fprintf(stderr, "usage: cuda_benchmark [--tensor-op | --version]\n");
    return 2;
  }
  if (!torch::cuda::is_available()) {
    std::fprintf(stderr, "cuda_benchmark: no GPU\n");
    return 1;
  }
  torch::NoGradGuard no_grad;
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::printf("device: %s\n", prop.name);
  if (!tensor_op_only) {
    const double bandwidth = copy_bandwidth();
    std::printf("device-to-device copy: %.0f GB/s (read + write)\n\n", bandwidth / 1e6);
    std::printf("Fused driver:\n\n| shape | optimizer | built-in ms | at::_fused_* ms | adaptive fused ms | floor ms | "
                "fused / floor | vs at::_fused_* | vs built-in |\n|---|---|---|---|---|---|---|---|---|\n");
    for (const Shape& shape : {Shape{"1 x 64M", 1, int64_t(64) << 20}, Shape{"400 x 200k", 400, 200000},
                               Shape{"5000 x 2k", 5000, 2048}}) {
      fused_rows(shape, bandwidth);
    }
  }
  std::printf("\nTensor-op driver (in place) against the built-in; above 1x is faster:\n\n"
              "| optimizer | parameters | shape | built-in ms | adaptive ms | adaptive vs built-in |\n"
              "|---|---|---|---|---|---|\n");
  // 16,000,000 and 20,000: multiples of 5, the channels-last parameters' W.
  for (const Storage& storage : adaptive_benchmark::tensor_op_storages()) {
    for (const Shape& shape : {Shape{"1 x 16M", 1, 16000000}, Shape{"400 x 20k", 400, 20000}, Shape{"2000 x 500", 2000, 500}}) {
#define ADAPTIVE_TENSOR_OP_ROW(Class, ...) tensor_op_row<adaptive::Class>(shape, storage);
      ADAPTIVE_OPTIMIZERS(ADAPTIVE_TENSOR_OP_ROW)
#undef ADAPTIVE_TENSOR_OP_ROW
    }
  }
  return 0;
}
