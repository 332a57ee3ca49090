#pragma once
// Shared test fixtures: a small MLP regression problem, a training loop that
// drives any torch::optim::Optimizer, and a relative-difference measure.

#include "optim/optim.h"

#include <nlohmann/json.hpp>
#include <torch/serialize.h>
#include <torch/types.h>

#include <functional>
#include <stdexcept>
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

// The JSON file at `path` (relative to the runfiles root, where the suites
// run); std::runtime_error naming it where it cannot be read.
nlohmann::json read_json(const std::string& path);

// Fresh leaf copies of the initial parameters, requiring grad.
std::vector<torch::Tensor> fresh_params(const Problem& problem);

torch::Tensor mlp_loss(const std::vector<torch::Tensor>& params, const Problem& problem);

// Fresh leaf copies (clones requiring grad) of `groups`, in the same groups.
std::vector<std::vector<torch::Tensor>> leaf_copies(const std::vector<std::vector<torch::Tensor>>& groups);

// zero_grad, loss, backward, optional hook (e.g. clipping), step; `steps` times.
void train(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& params, const Problem& problem,
           int steps, const std::function<void()>& before_step = nullptr);

// max |a − b| / max(max |b|, 1e-30) over all tensors (computed in double).
double max_relative_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);

// Calls f(options) with the concrete adaptive options type of `o` (any
// optimizer in optim/optimizers.h), so tests can set the options all share.
template <class F>
void with_adaptive_options(torch::optim::OptimizerOptions& o, F&& f) {
#define ADAPTIVE_TRY_OPTIONS(Class, ...) \
  if (auto* options = dynamic_cast<adaptive::Class::Options*>(&o)) return f(*options);
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_TRY_OPTIONS)
#undef ADAPTIVE_TRY_OPTIONS
  throw std::invalid_argument("not an adaptive optimizer's options");
}

// The message (without backtrace) of the c10::Error that f() throws, or
// "<no error>".
std::string error_of(const std::function<void()>& f);

// A file path for `name` in the test's temporary folder, unique to this
// process: CTest runs each case as its own process, several at once, in one
// folder (Bazel gives each target its own).
std::string temp_path(const std::string& name);

// Selects the fused CPU driver or the reference (tensor-op) driver in every group.
void set_fused(torch::optim::Optimizer& optimizer, bool fused);

// Both devices the parity suites run on; CUDA tests skip without a GPU.
std::vector<std::string> devices();
bool device_available(const std::string& device);

}  // namespace adaptive_test
