// adaptive's learning-rate schedulers (optim/schedulers.h) against PyTorch
// 2.13's torch.optim.lr_scheduler (tests/data/golden_schedulers.json,
// tools/golden_schedulers.py): the rate of every group after construction
// and after each of 1,000 steps, bit for bit (a schedule is scalar double
// arithmetic with the same C library functions), on LibTorch's SGD and on
// adaptive's Adam; resumed from a checkpoint halfway, bit for bit; and the
// errors, with nothing changed.

#include "optim/optim.h"
#include "optim/schedulers.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace adaptive_test {
namespace {

using nlohmann::json;

const json& golden() {
  static const json doc = read_json("tests/data/golden_schedulers.json");
  return doc;
}

// The lambdas of tools/golden_schedulers.py, by name.
std::function<double(int64_t)> lambda_named(const std::string& name) {
  if (name == "pow095") return [](int64_t e) { return std::pow(0.95, static_cast<double>(e)); };
  if (name == "inv_sqrt") return [](int64_t e) { return 1.0 / std::sqrt(static_cast<double>(e + 1)); };
  if (name == "const099") return [](int64_t) { return 0.99; };
  if (name == "one_minus_inv") return [](int64_t e) { return 1.0 - 1.0 / static_cast<double>(e + 10); };
  throw std::runtime_error("unknown lambda " + name);
}

// An optimizer with one group per golden group rate: LibTorch's SGD or adaptive's Adam.
struct Groups {
  std::vector<torch::Tensor> params;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};
Groups make_groups(bool builtin) {
  Groups g;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (double lr : golden().at("group_lrs").get<std::vector<double>>()) {
    g.params.push_back(torch::zeros({1}).requires_grad_(true));
    if (builtin) {
      groups.emplace_back(std::vector<torch::Tensor>{g.params.back()}, std::make_unique<torch::optim::SGDOptions>(lr));
    } else {
      groups.emplace_back(std::vector<torch::Tensor>{g.params.back()}, std::make_unique<adaptive::AdamOptions>(lr));
    }
  }
  if (builtin) {
    g.optimizer = std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(0.1));
  } else {
    g.optimizer = std::make_unique<adaptive::Adam>(groups);
  }
  return g;
}

// The scheduler of golden case `c` on `optimizer`.
std::unique_ptr<adaptive::LRScheduler> make_scheduler(const json& c, torch::optim::Optimizer& optimizer) {
  const std::string kind = c.at("scheduler");
  const json& o = c.at("options");
  if (kind == "StepLR") {
    return std::make_unique<adaptive::StepLR>(
        optimizer, adaptive::StepLROptions(o.at("step_size").get<int64_t>()).gamma(o.value("gamma", 0.1)));
  }
  if (kind == "MultiStepLR") {
    return std::make_unique<adaptive::MultiStepLR>(
        optimizer, adaptive::MultiStepLROptions(o.at("milestones").get<std::vector<int64_t>>()).gamma(o.value("gamma", 0.1)));
  }
  if (kind == "ConstantLR") {
    return std::make_unique<adaptive::ConstantLR>(
        optimizer,
        adaptive::ConstantLROptions().factor(o.value("factor", 1.0 / 3)).total_iters(o.value("total_iters", int64_t{5})));
  }
  if (kind == "LinearLR") {
    return std::make_unique<adaptive::LinearLR>(optimizer, adaptive::LinearLROptions()
                                                               .start_factor(o.value("start_factor", 1.0 / 3))
                                                               .end_factor(o.value("end_factor", 1.0))
                                                               .total_iters(o.value("total_iters", int64_t{5})));
  }
  if (kind == "ExponentialLR") {
    return std::make_unique<adaptive::ExponentialLR>(optimizer, adaptive::ExponentialLROptions(o.at("gamma").get<double>()));
  }
  if (kind == "PolynomialLR") {
    return std::make_unique<adaptive::PolynomialLR>(
        optimizer,
        adaptive::PolynomialLROptions().total_iters(o.value("total_iters", int64_t{5})).power(o.value("power", 1.0)));
  }
  if (kind == "CosineAnnealingLR") {
    return std::make_unique<adaptive::CosineAnnealingLR>(
        optimizer, adaptive::CosineAnnealingLROptions(o.at("T_max").get<int64_t>()).eta_min(o.value("eta_min", 0.0)));
  }
  std::vector<std::function<double(int64_t)>> lambdas;
  for (const auto& n : c.at("lambdas")) lambdas.push_back(lambda_named(n));
  if (kind == "LambdaLR") {
    return lambdas.size() == 1 ? std::make_unique<adaptive::LambdaLR>(optimizer, lambdas.front())
                               : std::make_unique<adaptive::LambdaLR>(optimizer, lambdas);
  }
  if (kind == "MultiplicativeLR") {
    return lambdas.size() == 1 ? std::make_unique<adaptive::MultiplicativeLR>(optimizer, lambdas.front())
                               : std::make_unique<adaptive::MultiplicativeLR>(optimizer, lambdas);
  }
  throw std::runtime_error("no scheduler " + kind);
}

// Checks the scheduler's last rates and the groups' against step `t` of `c`.
void expect_step(const json& c, size_t t, const adaptive::LRScheduler& s, torch::optim::Optimizer& opt,
                 const std::string& label) {
  const std::vector<double> expected = c.at("lrs")[t].get<std::vector<double>>();
  ASSERT_EQ(s.get_last_lr(), expected) << label << ": get_last_lr() after step " << t;
  for (size_t gi = 0; gi < expected.size(); ++gi) {
    ASSERT_EQ(opt.param_groups()[gi].options().get_lr(), expected[gi]) << label << ": group " << gi << " after step " << t;
  }
  ASSERT_EQ(s.last_epoch(), static_cast<int64_t>(t));
}

TEST(SchedulerGolden, EveryCaseIsBitIdenticalToPythonOnBothOptimizers) {
  int cases = 0;
  for (const json& c : golden().at("cases")) {
    for (const bool builtin : {true, false}) {
      const std::string label = c.at("name").get<std::string>() + (builtin ? " on torch::optim::SGD" : " on adaptive::Adam");
      Groups g = make_groups(builtin);
      auto s = make_scheduler(c, *g.optimizer);
      expect_step(c, 0, *s, *g.optimizer, label);
      for (size_t t = 1; t < c.at("lrs").size(); ++t) {
        g.optimizer->step();
        s->step();
        expect_step(c, t, *s, *g.optimizer, label);
        if (HasFatalFailure()) return;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 2 * static_cast<int>(golden().at("cases").size()));
}

// Saved halfway (torch::save), loaded into a fresh optimizer and scheduler,
// the run continues bit for bit: the scheduler's load sets the groups' rates
// (LibTorch's built-ins do not restore theirs).
TEST(SchedulerCheckpoint, EveryCaseResumesHalfwayBitForBit) {
  for (const json& c : golden().at("cases")) {
    const std::string label = c.at("name").get<std::string>();
    Groups first = make_groups(true);
    auto s = make_scheduler(c, *first.optimizer);
    for (int t = 1; t <= 500; ++t) s->step();
    std::ostringstream saved;
    torch::save(*s, saved);

    Groups resumed = make_groups(true);
    auto r = make_scheduler(c, *resumed.optimizer);
    std::istringstream in(saved.str());
    torch::load(*r, in);
    expect_step(c, 500, *r, *resumed.optimizer, label + " resumed");
    for (size_t t = 501; t < c.at("lrs").size(); ++t) {
      r->step();
      expect_step(c, t, *r, *resumed.optimizer, label + " resumed");
      if (HasFatalFailure()) return;
    }
  }
}

TEST(SchedulerCheckpoint, AnotherSchedulersStateIsRefusedAndNothingChanges) {
  Groups g = make_groups(true);
  adaptive::StepLR step(*g.optimizer, adaptive::StepLROptions(3));
  for (int t = 0; t < 4; ++t) step.step();
  std::ostringstream saved;
  torch::save(step, saved);

  Groups h = make_groups(true);
  adaptive::ExponentialLR exponential(*h.optimizer, adaptive::ExponentialLROptions(0.9));
  exponential.step();
  const std::vector<double> before = exponential.get_last_lr();
  std::istringstream in(saved.str());
  const std::string error = error_of([&] { torch::load(exponential, in); });
  EXPECT_NE(error.find("ExponentialLR::load: the archive holds a StepLR's state"), std::string::npos) << error;
  EXPECT_EQ(exponential.get_last_lr(), before);
  EXPECT_EQ(exponential.last_epoch(), 1);
}

TEST(SchedulerCheckpoint, AStateOfOtherGroupsIsRefused) {
  Groups g = make_groups(true);
  adaptive::StepLR step(*g.optimizer, adaptive::StepLROptions(3));
  std::ostringstream saved;
  torch::save(step, saved);
  auto p = torch::zeros({1}).requires_grad_(true);
  torch::optim::SGD one({p}, torch::optim::SGDOptions(0.1));
  adaptive::StepLR other(one, adaptive::StepLROptions(3));
  std::istringstream in(saved.str());
  const std::string error = error_of([&] { torch::load(other, in); });
  EXPECT_NE(error.find("the state is for 2 parameter groups, this optimizer has 1"), std::string::npos) << error;
}

TEST(SchedulerOptions, BadOptionsNameTheArgumentAndValue) {
  Groups g = make_groups(true);
  auto& opt = *g.optimizer;
  const std::vector<std::pair<std::function<void()>, std::string>> bad = {
      {[&] { adaptive::StepLR s(opt, adaptive::StepLROptions(0)); }, "StepLR: step_size is 0"},
      {[&] { adaptive::MultiStepLR s(opt, adaptive::MultiStepLROptions({5, 3})); },
       "MultiStepLR: milestones must be in increasing order; milestone 1 is 3 after 5"},
      {[&] { adaptive::ConstantLR s(opt, adaptive::ConstantLROptions().factor(1.5)); }, "ConstantLR: factor is 1.5"},
      {[&] { adaptive::LinearLR s(opt, adaptive::LinearLROptions().start_factor(0)); }, "LinearLR: start_factor is 0"},
      {[&] { adaptive::LinearLR s(opt, adaptive::LinearLROptions().end_factor(2)); }, "LinearLR: end_factor is 2"},
      {[&] { adaptive::ExponentialLR s(opt, adaptive::ExponentialLROptions(-1)); }, "ExponentialLR: gamma is -1"},
      {[&] { adaptive::PolynomialLR s(opt, adaptive::PolynomialLROptions().total_iters(0)); },
       "PolynomialLR: total_iters is 0"},
      {[&] { adaptive::CosineAnnealingLR s(opt, adaptive::CosineAnnealingLROptions(0)); },
       "CosineAnnealingLR: T_max is 0"},
      {[&] { adaptive::LambdaLR s(opt, std::vector<adaptive::LambdaLR::Lambda>{[](int64_t) { return 1.0; }}); },
       "LambdaLR: expected 2 lr_lambdas (one per parameter group), got 1"},
  };
  for (const auto& [make, message] : bad) {
    const std::string error = error_of(make);
    EXPECT_NE(error.find(message), std::string::npos) << error;
  }
  // Refused before the initial step: the rates are untouched.
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.1);
  EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.05);
}

// Python's group["initial_lr"]: the second scheduler of an optimizer takes
// the rates from before the first one's initial step as its base_lrs.
TEST(SchedulerBase, BaseRatesAreTheFirstSchedulersInitialRates) {
  Groups g = make_groups(true);
  adaptive::LinearLR warmup(*g.optimizer, adaptive::LinearLROptions().start_factor(0.1));
  EXPECT_DOUBLE_EQ(g.optimizer->param_groups()[0].options().get_lr(), 0.1 * 0.1);
  adaptive::CosineAnnealingLR cosine(*g.optimizer, adaptive::CosineAnnealingLROptions(10));
  EXPECT_EQ(cosine.base_lrs(), (std::vector<double>{0.1, 0.05}));
}

// A torch::optim::LRScheduler& steps an adaptive scheduler as its own step() does.
TEST(SchedulerBase, LibTorchsBaseClassStepsIt) {
  Groups a = make_groups(true), b = make_groups(true);
  adaptive::StepLR sa(*a.optimizer, adaptive::StepLROptions(2)), sb(*b.optimizer, adaptive::StepLROptions(2));
  torch::optim::LRScheduler& base = sb;
  for (int t = 0; t < 5; ++t) {
    sa.step();
    base.step();
    EXPECT_EQ(sa.get_last_lr(), sb.get_last_lr());
  }
  EXPECT_EQ(sb.last_epoch(), 5);
}

}  // namespace
}  // namespace adaptive_test
