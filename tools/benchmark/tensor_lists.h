#pragma once
// The tensor lists ATen's fused optimizer kernels (at::_fused_adam_, ...) take,
// made as the benchmarks need them (optimizer_benchmark, cuda_benchmark).

#include <torch/torch.h>

#include <vector>

namespace adaptive_benchmark {

/// A zero tensor like each of `ts`: state for ATen's kernels.
inline std::vector<torch::Tensor> zeros_like_all(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  out.reserve(ts.size());
  for (const auto& t : ts) out.push_back(torch::zeros_like(t));
  return out;
}

/// The gradients as a training loop has them each step: read from the parameters.
inline std::vector<torch::Tensor> grads_of(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  out.reserve(params.size());
  for (const auto& p : params) out.push_back(p.grad());
  return out;
}

/// One step count per parameter, a float32 scalar tensor on `device` holding
/// `value`, as torch.optim keeps them.
inline std::vector<torch::Tensor> step_counts(size_t n, torch::Device device = torch::kCPU, double value = 0) {
  std::vector<torch::Tensor> steps;
  steps.reserve(n);
  for (size_t i = 0; i < n; ++i) steps.push_back(torch::full({}, value, torch::TensorOptions().device(device)));
  return steps;
}

}  // namespace adaptive_benchmark
