#pragma once
// Random optimizers for the randomized suites (fused_test, cuda_test): every
// optimizer of optim/optimizers.h, with random values of every option it has,
// adaptive's own included.

#include "optim/optim.h"

#include <torch/torch.h>

#include <initializer_list>
#include <memory>
#include <random>
#include <vector>

namespace adaptive_test {

// A seeded source of random draws.
struct RandomCase {
  std::mt19937_64 rng;
  explicit RandomCase(uint64_t seed) : rng(seed) {}
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  bool coin() { return rng() & 1; }
  template <class T>
  T pick(std::initializer_list<T> values) {
    return *(values.begin() + rng() % values.size());
  }
};

// One kind per optimizer of optim/optimizers.h, in its order.
enum Kind { kAdam, kAdamW, kRMSprop, kAdagrad, kSGD, kNAdam, kRAdam, kAdadelta, kKinds };

// Random options of every option the kind has.
std::unique_ptr<torch::optim::OptimizerOptions> random_options(int kind, RandomCase& r);

// An optimizer of `kind` with one group per entry of `groups`, each with random options.
std::unique_ptr<torch::optim::Optimizer> random_optimizer(int kind, RandomCase& r,
                                                          const std::vector<std::vector<torch::Tensor>>& groups);

// Whether a group of `optimizer` is centered RMSprop with α = 0 or ε = 0:
// there √(ŝ − ḡ²) takes the root of a difference that is 0 in exact
// arithmetic, so its rounding alone decides between 0, a tiny root and NaN.
// Two correct evaluations that round differently may then part without bound.
bool ill_conditioned(torch::optim::Optimizer& optimizer);

}  // namespace adaptive_test
