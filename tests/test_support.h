#pragma once
// Shared test fixtures: a small MLP regression problem, a training loop that
// drives any torch::optim::Optimizer, and a relative-difference measure.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

namespace adaptive_test {

// y = f(x) for a fixed random x (64 × 8) and a fixed random teacher; the
// student is an 8-16-1 tanh MLP. Everything is derived from `seed`.
struct Problem {
  torch::Tensor x, y;
  std::vector<torch::Tensor> init;  // W1, b1, W2, b2
};

Problem make_problem(torch::Dtype dtype, torch::Device device, uint64_t seed = 0);

// Fresh leaf copies of the initial parameters, requiring grad.
std::vector<torch::Tensor> fresh_params(const Problem& problem);

torch::Tensor mlp_loss(const std::vector<torch::Tensor>& params, const Problem& problem);

// zero_grad, loss, backward, optional hook (e.g. clipping), step; `steps` times.
void train(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& params, const Problem& problem,
           int steps, const std::function<void()>& before_step = nullptr);

// max |a − b| / max(max |b|, 1e-30) over all tensors (computed in double).
double max_relative_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);

// Both devices the parity suites run on; CUDA tests skip without a GPU.
std::vector<std::string> devices();
bool device_available(const std::string& device);

}  // namespace adaptive_test
