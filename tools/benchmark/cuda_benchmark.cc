// Optimizer step time on a GPU, side by side in one run: torch::optim (the
// built-in, per-tensor ops), ATen's fused kernels (at::_fused_adam_,
// _fused_adamw_, _fused_adagrad_: what PyTorch's fused=True runs), adaptive's
// fused CUDA driver, adaptive's tensor-op driver (fused(false)), and the
// floor: the bytes a step must move (every state tensor and the parameter
// read and written once, the gradient read once) divided by the bandwidth of
// a device-to-device copy measured in the same run.
//
//   <build>/cuda_benchmark            (CMake with a CUDA LibTorch)
//
// Each row is timed with CUDA events on the current stream, after warm-up,
// as the mean of several steps; float32 parameters and gradients, gradients
// fixed. A step that is bound by the host (launch overhead) shows as such:
// the events then measure the gap the GPU waits.

#include "optim/optim.h"
#include "optim/version.h"
#include "tools/benchmark/tensor_lists.h"

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
using adaptive_benchmark::step_counts;
using adaptive_benchmark::zeros_like_all;

struct Shape {
  const char* name;
  int64_t tensors, numel;
};

// Milliseconds per call of `step`: by CUDA events after `warmup` calls, the
// mean of `iterations` calls, best of 3 such runs.
double time_ms(const std::function<void()>& step, int iterations, int warmup = 3) {
  for (int i = 0; i < warmup; ++i) step();
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  double best = 1e300;
  for (int run = 0; run < 3; ++run) {
    cudaEventRecord(start, stream);
    for (int i = 0; i < iterations; ++i) step();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    best = std::min(best, static_cast<double>(ms) / iterations);
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
  const double ms = time_ms([&] { dst.copy_(src); }, 20);
  return 2.0 * n * sizeof(float) / ms;
}

std::vector<torch::Tensor> make_params(const Shape& s) {
  std::vector<torch::Tensor> params;
  for (int64_t i = 0; i < s.tensors; ++i) {
    auto p = torch::randn({s.numel}, torch::TensorOptions().device(torch::kCUDA)).requires_grad_(true);
    p.mutable_grad() = torch::randn_like(p) * 1e-2;
    params.push_back(p);
  }
  return params;
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

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("cuda_benchmark (adaptive %s, LibTorch %s)\n", ADAPTIVE_VERSION, TORCH_VERSION);
    return 0;
  }
  if (!torch::cuda::is_available()) {
    std::fprintf(stderr, "cuda_benchmark: no GPU\n");
    return 1;
  }
  torch::NoGradGuard no_grad;
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  const double bandwidth = copy_bandwidth();
  std::printf("device: %s; device-to-device copy: %.0f GB/s (read + write)\n\n", prop.name, bandwidth / 1e6);
  std::printf("| shape | optimizer | built-in ms | adaptive tensor-op ms | at::_fused_* ms | adaptive fused ms | floor ms | "
              "fused / floor | vs at::_fused_* | vs built-in |\n|---|---|---|---|---|---|---|---|---|---|\n");
  const Shape shapes[] = {{"1 x 64M", 1, int64_t(64) << 20}, {"400 x 200k", 400, 200000}, {"5000 x 2k", 5000, 2048}};
  for (const Shape& shape : shapes) {
    for (const Config& c : configs()) {
      const double elements = static_cast<double>(shape.tensors) * shape.numel;
      const double floor_ms = c.bytes_per_element * elements / bandwidth;
      const int iterations = shape.tensors >= 5000 ? 3 : 20;
      double builtin_ms, reference_ms, aten_ms, fused_ms;
      {
        auto p = make_params(shape);
        auto opt = c.builtin(p);
        builtin_ms = time_ms([&] { opt->step(); }, iterations);
      }
      {
        auto p = make_params(shape);
        auto opt = c.adaptive(p);
        for (auto& g : opt->param_groups()) {
          if (auto* o = dynamic_cast<adaptive::AdamOptions*>(&g.options())) o->fused(false);
          if (auto* o = dynamic_cast<adaptive::AdamWOptions*>(&g.options())) o->fused(false);
          if (auto* o = dynamic_cast<adaptive::AdagradOptions*>(&g.options())) o->fused(false);
        }
        reference_ms = time_ms([&] { opt->step(); }, iterations);
      }
      {
        auto p = make_params(shape);
        auto step = c.aten(p);
        aten_ms = time_ms(step, iterations);
      }
      {
        auto p = make_params(shape);
        auto opt = c.adaptive(p);
        fused_ms = time_ms([&] { opt->step(); }, iterations);
      }
      std::printf("| %s | %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.2fx | %.1fx |\n", shape.name, c.optimizer,
                  builtin_ms, reference_ms, aten_ms, fused_ms, floor_ms, fused_ms / floor_ms, aten_ms / fused_ms,
                  builtin_ms / fused_ms);
      std::fflush(stdout);
    }
  }
  return 0;
}
