// Replays trajectories recorded from PyTorch's Python optimizers (torch.optim,
// single-tensor path, float64) by tools/make_golden.py, and compares adaptive's
// parameters at steps 1, 10, 100 and 200.
//
// Tolerance: 1e-12 relative to the largest parameter. With the LibTorch that
// python3-torch itself runs on, the match is exact (the same ATen ops in the
// same order; the measured worst case is printed). The margin is for a
// different LibTorch build, whose kernels may round differently in the last bit.

#include "optim/optim.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <set>

namespace {

using nlohmann::json;

const json& golden() {
  static const json doc = [] {
    std::ifstream in("tests/data/golden_trajectories.json");
    if (!in) throw std::runtime_error("tests/data/golden_trajectories.json not found (run from the runfiles root)");
    return json::parse(in);
  }();
  return doc;
}

torch::Tensor tensor_of(const json& values, const json& shape) {
  std::vector<double> v = values.get<std::vector<double>>();
  return torch::tensor(v, torch::kFloat64).reshape(shape.get<std::vector<int64_t>>());
}

// Sets each key of a JSON group on adaptive's options; an unknown key fails.
template <class Options>
Options options_from(const json& group, const std::map<std::string, std::function<void(Options&, const json&)>>& setters) {
  Options o;
  for (const auto& [key, value] : group.items()) {
    const auto it = setters.find(key);
    if (it == setters.end()) throw std::runtime_error("golden file has option '" + key + "' the test does not map");
    it->second(o, value);
  }
  return o;
}

#define SETTER(Options, name, type) \
  { #name, [](Options& o, const json& v) { o.name(v.get<type>()); } }

adaptive::AdamOptions adam_options(const json& g) {
  using O = adaptive::AdamOptions;
  return options_from<O>(g, {SETTER(O, lr, double), SETTER(O, eps, double), SETTER(O, weight_decay, double),
                             SETTER(O, amsgrad, bool), SETTER(O, maximize, bool),
                             SETTER(O, decoupled_weight_decay, bool), SETTER(O, clip_grad_norm, double),
                             SETTER(O, clip_grad_value, double),
                             {"betas", [](O& o, const json& v) {
                                o.betas(std::make_tuple(v.at(0).get<double>(), v.at(1).get<double>()));
                              }}});
}

adaptive::RMSpropOptions rmsprop_options(const json& g) {
  using O = adaptive::RMSpropOptions;
  return options_from<O>(g, {SETTER(O, lr, double), SETTER(O, alpha, double), SETTER(O, eps, double),
                             SETTER(O, weight_decay, double), SETTER(O, momentum, double), SETTER(O, centered, bool),
                             SETTER(O, maximize, bool), SETTER(O, clip_grad_norm, double),
                             SETTER(O, clip_grad_value, double)});
}

adaptive::AdagradOptions adagrad_options(const json& g) {
  using O = adaptive::AdagradOptions;
  return options_from<O>(g, {SETTER(O, lr, double), SETTER(O, lr_decay, double), SETTER(O, weight_decay, double),
                             SETTER(O, initial_accumulator_value, double), SETTER(O, eps, double),
                             SETTER(O, maximize, bool), SETTER(O, clip_grad_norm, double),
                             SETTER(O, clip_grad_value, double)});
}

template <class Opt, class Options>
std::unique_ptr<torch::optim::Optimizer> make(const std::vector<std::vector<torch::Tensor>>& groups, const json& cfg,
                                              Options (*to_options)(const json&)) {
  std::vector<torch::optim::OptimizerParamGroup> pg;
  for (size_t i = 0; i < groups.size(); ++i) {
    pg.emplace_back(groups[i], std::make_unique<Options>(to_options(cfg.at(i))));
  }
  return std::make_unique<Opt>(pg, to_options(cfg.at(0)));
}

double worst_seen = 0;

class PythonGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(PythonGolden, MatchesTorchOptim) {
  const json& doc = golden();
  const json* found = nullptr;
  for (const auto& c : doc.at("cases"))
    if (c.at("name") == GetParam()) found = &c;
  ASSERT_NE(found, nullptr);
  const json& c = *found;
  const json& problem = doc.at("problem");
  const auto x = tensor_of(problem.at("x"), problem.at("x_shape"));
  const auto y = tensor_of(problem.at("y"), problem.at("y_shape"));
  std::vector<torch::Tensor> w;
  for (size_t i = 0; i < 4; ++i) {
    w.push_back(tensor_of(problem.at("init").at(i), problem.at("init_shapes").at(i)).requires_grad_(true));
  }
  const std::vector<std::vector<torch::Tensor>> groups =
      c.at("layout") == "one" ? std::vector<std::vector<torch::Tensor>>{w}
                              : std::vector<std::vector<torch::Tensor>>{{w[0], w[1]}, {w[2], w[3]}};
  std::unique_ptr<torch::optim::Optimizer> opt;
  const std::string name = c.at("optimizer");
  if (name == "Adam") opt = make<adaptive::Adam>(groups, c.at("groups"), &adam_options);
  if (name == "RMSprop") opt = make<adaptive::RMSprop>(groups, c.at("groups"), &rmsprop_options);
  if (name == "Adagrad") opt = make<adaptive::Adagrad>(groups, c.at("groups"), &adagrad_options);
  ASSERT_TRUE(opt) << "unknown optimizer " << name;

  const int steps = doc.at("steps");
  int compared = 0;
  for (int step = 1; step <= steps; ++step) {
    opt->zero_grad();
    const auto hidden = torch::tanh(torch::addmm(w[1], x, w[0].t()));
    const auto out = torch::addmm(w[3], hidden, w[2].t());
    (0.5 * (out - y).pow(2).mean()).backward();
    opt->step();
    const auto key = std::to_string(step);
    if (!c.at("snapshots").contains(key)) continue;
    double diff = 0, scale = 1e-300;
    for (size_t i = 0; i < 4; ++i) {
      const auto want = tensor_of(c.at("snapshots").at(key).at(i), problem.at("init_shapes").at(i));
      diff = std::max(diff, (w[i].detach() - want).abs().max().item<double>());
      scale = std::max(scale, want.abs().max().item<double>());
    }
    EXPECT_LE(diff / scale, 1e-12) << "at step " << step;
    worst_seen = std::max(worst_seen, diff / scale);
    ++compared;
  }
  EXPECT_EQ(compared, 4);
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& c : golden().at("cases")) names.push_back(c.at("name"));
  return names;
}

INSTANTIATE_TEST_SUITE_P(TorchOptim, PythonGolden, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(PythonGoldenFile, CoversEveryOptimizerAndOption) {
  std::set<std::string> optimizers, options;
  for (const auto& c : golden().at("cases")) {
    optimizers.insert(c.at("optimizer").get<std::string>());
    for (const auto& g : c.at("groups"))
      for (const auto& [k, v] : g.items())
        if (v != json(false) && v != json(0.0)) options.insert(k);
  }
  EXPECT_EQ(optimizers, (std::set<std::string>{"Adam", "Adagrad", "RMSprop"}));
  for (const char* o : {"amsgrad", "weight_decay", "betas", "eps", "maximize", "decoupled_weight_decay", "alpha",
                        "centered", "momentum", "lr_decay", "initial_accumulator_value", "clip_grad_norm",
                        "clip_grad_value"}) {
    EXPECT_TRUE(options.count(o)) << "no golden case exercises " << o;
  }
}

class ReportWorst : public ::testing::Environment {
 public:
  void TearDown() override { std::printf("[python-golden] max relative deviation %.3e\n", worst_seen); }
};
const auto* const kReport = ::testing::AddGlobalTestEnvironment(new ReportWorst);

}  // namespace
