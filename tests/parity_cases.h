#pragma once
// A parity case: the built-in and the adaptive optimizer over the same option
// grid point, written once for both: the same setter names build both option
// types, which is itself the drop-in claim under test. Each optimizer's grid is
// its registry entry's builtin_parity() (tests/registry/<name>.h).

#include "optim/optim.h"

#include <torch/serialize.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace adaptive_test {

using OptimizerPtr = std::unique_ptr<torch::optim::Optimizer>;
using Factory = std::function<OptimizerPtr(const std::vector<std::vector<torch::Tensor>>& groups)>;

struct ParityCase {
  std::string optimizer;  // the class name: "Adam", "SGD"
  std::string name;       // unique, test-name safe
  size_t group_count = 1;  // 1: one group; 2: {W1, b1, unused} and {W2, b2}
  Factory builtin, ours;
};

// One optimizer over `groups`, group i using configs[i] (defaults: configs[0]).
template <class Optimizer, class Options, class Config>
OptimizerPtr build(const std::vector<std::vector<torch::Tensor>>& groups, const std::vector<Config>& configs) {
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (size_t i = 0; i < groups.size(); ++i) {
    param_groups.emplace_back(groups[i], std::make_unique<Options>(configs[i].template to<Options>()));
  }
  return std::make_unique<Optimizer>(param_groups, configs[0].template to<Options>());
}

// The built-in Builtin and adaptive's Ours over the same configs; a Config
// has `template <class O> O to() const`, building either options type.
template <class Builtin, class BuiltinOptions, class Ours, class Config>
ParityCase parity_case(const std::string& optimizer, const std::string& name, std::vector<Config> configs) {
  ParityCase c;
  c.optimizer = optimizer;
  c.name = name;
  c.group_count = configs.size();
  c.builtin = [configs](const auto& groups) {
    return build<Builtin, BuiltinOptions, Config>(groups, configs);
  };
  c.ours = [configs](const auto& groups) { return build<Ours, typename Ours::Options, Config>(groups, configs); };
  return c;
}

// A number as part of a test name: 0.05 → "0_05", 1e-08 → "1e_08".
inline std::string name_of(double v) {
  std::ostringstream s;
  s << v;
  std::string out = s.str();
  for (auto& c : out) {
    if (c == '.' || c == '-' || c == '+') c = '_';
  }
  return out;
}

/// Every optimizer's builtin_parity(), for each optimizer of
/// optim/optimizers.h that has a built-in (tests/registry/registry.cc).
std::vector<ParityCase> builtin_parity_cases();

}  // namespace adaptive_test
