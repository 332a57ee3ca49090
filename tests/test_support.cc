#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace adaptive_test {

Problem make_problem(torch::Dtype dtype, torch::Device device, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto randn = [&](std::vector<int64_t> shape, double scale) {
    return (at::randn(shape, gen, opts) * scale).to(device, dtype);
  };
  Problem p;
  p.x = randn({64, 8}, 1.0);
  const auto teacher = randn({8, 1}, 1.0);
  p.y = torch::sin(p.x.matmul(teacher)) + 0.1 * p.x.select(1, 0).unsqueeze(1);
  p.init = {randn({16, 8}, 0.35), randn({16}, 0.1), randn({1, 16}, 0.25), randn({1}, 0.1)};
  return p;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + " not found (run from the runfiles root)");
  return nlohmann::json::parse(in);
}

std::vector<std::vector<torch::Tensor>> leaf_copies(const std::vector<std::vector<torch::Tensor>>& groups) {
  std::vector<std::vector<torch::Tensor>> out;
  for (const auto& group : groups) {
    out.emplace_back();
    for (const auto& p : group) out.back().push_back(p.clone().requires_grad_(true));
  }
  return out;
}

std::vector<torch::Tensor> fresh_params(const Problem& problem) {
  std::vector<torch::Tensor> params;
  for (const auto& t : problem.init) params.push_back(t.detach().clone().requires_grad_(true));
  return params;
}

torch::Tensor mlp_loss(const std::vector<torch::Tensor>& w, const Problem& problem) {
  const auto hidden = torch::tanh(torch::addmm(w[1], problem.x, w[0].t()));
  const auto out = torch::addmm(w[3], hidden, w[2].t());
  return 0.5 * (out - problem.y).pow(2).mean();
}

void train(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& params, const Problem& problem,
           int steps, const std::function<void()>& before_step) {
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    mlp_loss(params, problem).backward();
    if (before_step) before_step();
    optimizer.step();
  }
}

double max_relative_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  TORCH_CHECK(a.size() == b.size());
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto ad = a[i].detach().to(torch::kCPU, torch::kFloat64);
    const auto bd = b[i].detach().to(torch::kCPU, torch::kFloat64);
    if (ad.numel() == 0) continue;
    diff = std::max(diff, (ad - bd).abs().max().item<double>());
    scale = std::max(scale, bd.abs().max().item<double>());
  }
  return diff / scale;
}

void set_fused(torch::optim::Optimizer& optimizer, bool fused) {
  for (auto& group : optimizer.param_groups()) {
    with_adaptive_options(group.options(), [&](auto& o) { o.fused(fused); });
  }
}

std::vector<std::string> devices() { return {"cpu", "cuda"}; }

bool device_available(const std::string& device) { return device == "cpu" || torch::cuda::is_available(); }

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/adaptive-" + std::to_string(::getpid()) + "-" + name + ".pt";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "<no error>";
}

}  // namespace adaptive_test
