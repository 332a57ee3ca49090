#pragma once
// The option grids the parity suites walk, written once for the built-in and
// the adaptive optimizer: the same setter names build both option types, which
// is itself the drop-in claim under test.

#include "optim/optim.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace adaptive_test {

struct AdamConfig {
  double lr = 5e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false;
  bool decoupled = false;  // built-in side: torch::optim::AdamW
  template <class O>
  O to() const {
    O o = O(lr).betas(std::make_tuple(beta1, beta2)).eps(eps).weight_decay(weight_decay).amsgrad(amsgrad);
    if constexpr (std::is_same_v<O, adaptive::AdamOptions>) o.decoupled_weight_decay(decoupled);
    return o;
  }
};

struct AdamWConfig {
  double lr = 5e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;
  template <class O>
  O to() const {
    return O(lr).betas(std::make_tuple(beta1, beta2)).eps(eps).weight_decay(weight_decay).amsgrad(amsgrad);
  }
};

struct RMSpropConfig {
  double lr = 2e-3, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false;
  template <class O>
  O to() const {
    return O(lr).alpha(alpha).eps(eps).weight_decay(weight_decay).momentum(momentum).centered(centered);
  }
};

struct AdagradConfig {
  double lr = 5e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10;
  template <class O>
  O to() const {
    return O(lr).lr_decay(lr_decay).weight_decay(weight_decay).initial_accumulator_value(initial_accumulator_value).eps(
        eps);
  }
};

struct SGDConfig {
  double lr = 2e-2, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  template <class O>
  O to() const {
    return O(lr).momentum(momentum).dampening(dampening).weight_decay(weight_decay).nesterov(nesterov);
  }
};

using OptimizerPtr = std::unique_ptr<torch::optim::Optimizer>;
using Factory = std::function<OptimizerPtr(const std::vector<std::vector<torch::Tensor>>& groups)>;

// One optimizer over `groups`, group i using configs[i] (defaults: configs[0]).
template <class Optimizer, class Options, class Config>
OptimizerPtr build(const std::vector<std::vector<torch::Tensor>>& groups, const std::vector<Config>& configs,
                   const std::function<Options(const Config&)>& to_options) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (size_t i = 0; i < groups.size(); ++i) {
    param_groups.emplace_back(groups[i], std::make_unique<Options>(to_options(configs[i])));
  }
  return std::make_unique<Optimizer>(param_groups, to_options(configs[0]));
}

struct ParityCase {
  std::string optimizer;  // "Adam", "AdamW", "RMSprop", "Adagrad", "SGD"
  std::string name;       // unique, test-name safe
  size_t group_count = 1;  // 1: one group; 2: {W1, b1, unused} and {W2, b2}
  Factory builtin, ours;
};

std::vector<ParityCase> adam_cases();
std::vector<ParityCase> adamw_cases();
std::vector<ParityCase> rmsprop_cases();
std::vector<ParityCase> adagrad_cases();
std::vector<ParityCase> sgd_cases();
/// All of the above: every optimizer of optim/optimizers.h that has a built-in
/// (parity_builtin_test checks that none is missing).
std::vector<ParityCase> builtin_parity_cases();

}  // namespace adaptive_test
