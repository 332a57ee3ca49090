#pragma once
// The tensor-op table's rows, shared by the CPU benchmark
// (optimizer_benchmark --tensor-op) and the GPU one (cuda_benchmark): every
// optimizer that has a built-in, with its default options, on parameters
// stored in each of the ways the fused drivers leave to the tensor-op
// (reference) driver, against that built-in.

#include "optim/optimizers.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace adaptive_benchmark {

/// How the parameters are stored, and the adaptive side's fused() option.
struct Storage {
  std::string name;
  torch::Dtype dtype = torch::kFloat32;
  bool channels_last = false;
  bool fused = true;
};

/// What the tensor-op driver runs: float32 and float64 with fused(false);
/// bfloat16 (fused(false): the CUDA driver takes it, the CPU one does not)
/// and channels-last float32 with the default options, which neither fused
/// driver takes.
inline const std::vector<Storage>& tensor_op_storages() {
  static const std::vector<Storage> storages = {{"f32, fused(false)", torch::kFloat32, false, false},
                                                {"f64, fused(false)", torch::kFloat64, false, false},
                                                {"bf16", torch::kBFloat16, false, false},
                                                {"f32, channels-last", torch::kFloat32, true, true}};
  return storages;
}

/// `tensors` parameters of `numel` elements on `device`, 1-D (or, for
/// channels-last, N x C x 1 x W with W = 5: a layout that differs from the
/// contiguous one; `numel` must be a multiple of 5), with small gradients.
inline std::vector<torch::Tensor> make_params(int64_t tensors, int64_t numel, const Storage& storage,
                                              torch::Device device = torch::kCPU) {
  std::vector<torch::Tensor> params;
  const auto options = torch::TensorOptions().dtype(storage.dtype).device(device);
  const std::vector<int64_t> sizes =
      storage.channels_last ? std::vector<int64_t>{1, numel / 5, 1, 5} : std::vector<int64_t>{numel};
  const auto layout = storage.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  for (int64_t i = 0; i < tensors; ++i) {
    auto p = torch::randn(sizes, options).contiguous(layout).requires_grad_(true);
    p.mutable_grad() = (torch::randn(sizes, options) * 1e-3).contiguous(layout);
    params.push_back(p);
  }
  return params;
}

/// Opt's built-in (Opt::Builtin) with adaptive's default learning rate, as a
/// user switching between the two would make it.
template <class Opt>
std::unique_ptr<torch::optim::Optimizer> make_builtin(const std::vector<torch::Tensor>& params) {
  return std::make_unique<typename Opt::Builtin>(params, typename Opt::BuiltinOptions(typename Opt::Options().lr()));
}

/// Opt with its default options and fused(`fused`).
template <class Opt>
std::unique_ptr<torch::optim::Optimizer> make_adaptive(const std::vector<torch::Tensor>& params, bool fused) {
  return std::make_unique<Opt>(params, typename Opt::Options().fused(fused));
}

}  // namespace adaptive_benchmark
