// adaptive's learning-rate schedulers (optim/schedulers.h) and the
// learning-rate finder (optim/schedule/lr_finder.h). The schedulers against PyTorch
// 2.13's torch.optim.lr_scheduler (tests/data/golden_schedulers.json,
// tools/golden_schedulers.py): the rate of every group after construction
// and after each of 1,000 steps, bit for bit (a schedule is scalar double
// arithmetic with the same C library functions), on LibTorch's SGD and on
// adaptive's Adam; resumed from a checkpoint halfway, bit for bit; and the
// errors, with nothing changed.

#include "optim/optim.h"
#include "optim/schedulers.h"
#include "optim/schedule/lr_finder.h"
#include "optim/schedule/momentum.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>
#include <torch/types.h>

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

std::vector<double> doubles(const json& v) {
  return v.is_array() ? v.get<std::vector<double>>() : std::vector<double>{v.get<double>()};
}

// The scheduler of golden spec `c` (a case, or a composite's child) on `optimizer`.
std::shared_ptr<adaptive::LRScheduler> make_scheduler(const json& c, torch::optim::Optimizer& optimizer) {
  const std::string kind = c.at("scheduler");
  const json& o = c.at("options");
  if (kind == "StepLR") {
    return std::make_shared<adaptive::StepLR>(
        optimizer, adaptive::StepLROptions(o.at("step_size").get<int64_t>()).gamma(o.value("gamma", 0.1)));
  }
  if (kind == "MultiStepLR") {
    return std::make_shared<adaptive::MultiStepLR>(
        optimizer, adaptive::MultiStepLROptions(o.at("milestones").get<std::vector<int64_t>>()).gamma(o.value("gamma", 0.1)));
  }
  if (kind == "ConstantLR") {
    return std::make_shared<adaptive::ConstantLR>(
        optimizer,
        adaptive::ConstantLROptions().factor(o.value("factor", 1.0 / 3)).total_iters(o.value("total_iters", int64_t{5})));
  }
  if (kind == "LinearLR") {
    return std::make_shared<adaptive::LinearLR>(optimizer, adaptive::LinearLROptions()
                                                               .start_factor(o.value("start_factor", 1.0 / 3))
                                                               .end_factor(o.value("end_factor", 1.0))
                                                               .total_iters(o.value("total_iters", int64_t{5})));
  }
  if (kind == "ExponentialLR") {
    return std::make_shared<adaptive::ExponentialLR>(optimizer, adaptive::ExponentialLROptions(o.at("gamma").get<double>()));
  }
  if (kind == "PolynomialLR") {
    return std::make_shared<adaptive::PolynomialLR>(
        optimizer,
        adaptive::PolynomialLROptions().total_iters(o.value("total_iters", int64_t{5})).power(o.value("power", 1.0)));
  }
  if (kind == "CosineAnnealingLR") {
    return std::make_shared<adaptive::CosineAnnealingLR>(
        optimizer, adaptive::CosineAnnealingLROptions(o.at("T_max").get<int64_t>()).eta_min(o.value("eta_min", 0.0)));
  }
  if (kind == "CosineAnnealingWarmRestarts") {
    return std::make_shared<adaptive::CosineAnnealingWarmRestarts>(
        optimizer, adaptive::CosineAnnealingWarmRestartsOptions(o.at("T_0").get<int64_t>())
                       .T_mult(o.value("T_mult", int64_t{1}))
                       .eta_min(o.value("eta_min", 0.0)));
  }
  if (kind == "CyclicLR") {
    adaptive::CyclicLROptions options(doubles(o.at("base_lr")), doubles(o.at("max_lr")));
    options.step_size_up(o.value("step_size_up", int64_t{2000}))
        .mode(o.value("mode", std::string("triangular")))
        .gamma(o.value("gamma", 1.0))
        .cycle_momentum(o.value("cycle_momentum", true))
        .base_momentum(doubles(o.value("base_momentum", json(0.8))))
        .max_momentum(doubles(o.value("max_momentum", json(0.9))));
    if (o.contains("step_size_down")) options.step_size_down(o.at("step_size_down").get<int64_t>());
    return std::make_shared<adaptive::CyclicLR>(optimizer, options);
  }
  if (kind == "OneCycleLR") {
    adaptive::OneCycleLROptions options(doubles(o.at("max_lr")));
    options.pct_start(o.value("pct_start", 0.3))
        .anneal_strategy(o.value("anneal_strategy", std::string("cos")))
        .cycle_momentum(o.value("cycle_momentum", true))
        .base_momentum(doubles(o.value("base_momentum", json(0.85))))
        .max_momentum(doubles(o.value("max_momentum", json(0.95))))
        .div_factor(o.value("div_factor", 25.0))
        .final_div_factor(o.value("final_div_factor", 1e4))
        .three_phase(o.value("three_phase", false));
    if (o.contains("total_steps")) options.total_steps(o.at("total_steps").get<int64_t>());
    if (o.contains("epochs")) options.epochs(o.at("epochs").get<int64_t>());
    if (o.contains("steps_per_epoch")) options.steps_per_epoch(o.at("steps_per_epoch").get<int64_t>());
    return std::make_shared<adaptive::OneCycleLR>(optimizer, options);
  }
  if (kind == "SWALR") {
    return std::make_shared<adaptive::SWALR>(optimizer, adaptive::SWALROptions(doubles(o.at("swa_lr")))
                                                           .anneal_epochs(o.value("anneal_epochs", int64_t{10}))
                                                           .anneal_strategy(o.value("anneal_strategy", std::string("cos"))));
  }
  if (kind == "SequentialLR" || kind == "ChainedScheduler") {
    std::vector<std::shared_ptr<adaptive::LRScheduler>> children;
    for (const json& child : c.at("children")) children.push_back(make_scheduler(child, optimizer));
    if (kind == "ChainedScheduler") return std::make_shared<adaptive::ChainedScheduler>(optimizer, children);
    return std::make_shared<adaptive::SequentialLR>(
        optimizer, adaptive::SequentialLROptions(children, o.at("milestones").get<std::vector<int64_t>>()));
  }
  std::vector<std::function<double(int64_t)>> lambdas;
  for (const auto& n : c.at("lambdas")) lambdas.push_back(lambda_named(n));
  if (kind == "LambdaLR") {
    return lambdas.size() == 1 ? std::make_shared<adaptive::LambdaLR>(optimizer, lambdas.front())
                               : std::make_shared<adaptive::LambdaLR>(optimizer, lambdas);
  }
  if (kind == "MultiplicativeLR") {
    return lambdas.size() == 1 ? std::make_shared<adaptive::MultiplicativeLR>(optimizer, lambdas.front())
                               : std::make_shared<adaptive::MultiplicativeLR>(optimizer, lambdas);
  }
  throw std::runtime_error("no scheduler " + kind);
}

adaptive::ReduceLROnPlateauOptions plateau_options(const json& o) {
  return adaptive::ReduceLROnPlateauOptions()
      .mode(o.value("mode", std::string("min")))
      .factor(o.value("factor", 0.1))
      .patience(o.value("patience", int64_t{10}))
      .threshold(o.value("threshold", 1e-4))
      .threshold_mode(o.value("threshold_mode", std::string("rel")))
      .cooldown(o.value("cooldown", int64_t{0}))
      .min_lr(doubles(o.value("min_lr", json(0.0))))
      .eps(o.value("eps", 1e-8));
}

// Golden case `c` driven as Python drove it: step(), step(metric) for
// ReduceLROnPlateau (not an LRScheduler), or step(epoch) with fractional epochs.
class Driven {
 public:
  Driven(const json& c, torch::optim::Optimizer& optimizer) : c_(c) {
    if (c.at("scheduler") == "ReduceLROnPlateau") {
      plateau_ = std::make_unique<adaptive::ReduceLROnPlateau>(optimizer, plateau_options(c.at("options")));
    } else {
      scheduler_ = make_scheduler(c, optimizer);
    }
  }
  // Step t (1-based) of the case.
  void step(size_t t) {
    if (plateau_) {
      plateau_->step(c_.at("metrics")[t - 1].get<double>());
    } else if (c_.contains("epochs")) {
      dynamic_cast<adaptive::CosineAnnealingWarmRestarts&>(*scheduler_).step(c_.at("epochs")[t - 1].get<double>());
    } else {
      scheduler_->step();
    }
  }
  const std::vector<double>& last_lr() const { return plateau_ ? plateau_->get_last_lr() : scheduler_->get_last_lr(); }
  int64_t last_epoch() const { return plateau_ ? plateau_->last_epoch() : scheduler_->last_epoch(); }
  std::string save() const {
    std::ostringstream out;
    if (plateau_) {
      torch::save(*plateau_, out);
    } else {
      torch::save(*scheduler_, out);
    }
    return out.str();
  }
  void load(const std::string& saved) {
    std::istringstream in(saved);
    if (plateau_) {
      torch::load(*plateau_, in);
    } else {
      torch::load(*scheduler_, in);
    }
  }

 private:
  const json& c_;
  std::shared_ptr<adaptive::LRScheduler> scheduler_;
  std::unique_ptr<adaptive::ReduceLROnPlateau> plateau_;
};

// Checks the scheduler's last rates, the groups' (and the momentum the case
// cycles) against step `t` of `c`.
void expect_step(const json& c, size_t t, const Driven& s, torch::optim::Optimizer& opt, const std::string& label) {
  const std::vector<double> expected = c.at("lrs")[t].get<std::vector<double>>();
  ASSERT_EQ(s.last_lr(), expected) << label << ": get_last_lr() after step " << t;
  for (size_t gi = 0; gi < expected.size(); ++gi) {
    ASSERT_EQ(opt.param_groups()[gi].options().get_lr(), expected[gi]) << label << ": group " << gi << " after step " << t;
    if (c.contains("momentums")) {
      ASSERT_EQ(adaptive::detail::get_momentum(opt.param_groups()[gi].options()), c.at("momentums")[t][gi].get<double>())
          << label << ": momentum of group " << gi << " after step " << t;
    }
  }
  // Fractional epochs: last_epoch is floor(epoch).
  const auto epoch = c.contains("epochs") && t > 0 ? static_cast<int64_t>(std::floor(c.at("epochs")[t - 1].get<double>()))
                                                   : static_cast<int64_t>(t);
  ASSERT_EQ(s.last_epoch(), epoch) << label;
}

TEST(SchedulerGolden, EveryCaseIsBitIdenticalToPythonOnBothOptimizers) {
  int cases = 0;
  for (const json& c : golden().at("cases")) {
    for (const bool builtin : {true, false}) {
      const std::string label = c.at("name").get<std::string>() + (builtin ? " on torch::optim::SGD" : " on adaptive::Adam");
      Groups g = make_groups(builtin);
      Driven s(c, *g.optimizer);
      expect_step(c, 0, s, *g.optimizer, label);
      for (size_t t = 1; t < c.at("lrs").size(); ++t) {
        g.optimizer->step();
        s.step(t);
        expect_step(c, t, s, *g.optimizer, label);
        if (HasFatalFailure()) return;
      }
      ++cases;
    }
  }
  EXPECT_EQ(cases, 2 * static_cast<int>(golden().at("cases").size()));
}

// Saved halfway (torch::save), loaded into a fresh optimizer and scheduler,
// the run continues bit for bit: the scheduler's load sets the groups' rates
// and cycled momentum (LibTorch's built-ins do not restore theirs).
TEST(SchedulerCheckpoint, EveryCaseResumesHalfwayBitForBit) {
  for (const json& c : golden().at("cases")) {
    for (const bool builtin : {true, false}) {
      const std::string label = c.at("name").get<std::string>() + (builtin ? " on torch::optim::SGD" : " on adaptive::Adam");
      Groups first = make_groups(builtin);
      Driven s(c, *first.optimizer);
      for (size_t t = 1; t <= 500; ++t) s.step(t);
      const std::string saved = s.save();

      Groups resumed = make_groups(builtin);
      Driven r(c, *resumed.optimizer);
      r.load(saved);
      expect_step(c, 500, r, *resumed.optimizer, label + " resumed");
      for (size_t t = 501; t < c.at("lrs").size(); ++t) {
        r.step(t);
        expect_step(c, t, r, *resumed.optimizer, label + " resumed");
        if (HasFatalFailure()) return;
      }
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

// The cycling, plateau and composite schedulers: each refusal names the
// argument and its value, and leaves the rates and the momentum as they were.
TEST(SchedulerOptions, CyclingPlateauAndCompositeRefusalsChangeNothing) {
  Groups g = make_groups(true), other = make_groups(true);
  auto& opt = *g.optimizer;
  auto step = [&](torch::optim::Optimizer& o) {
    return std::make_shared<adaptive::StepLR>(o, adaptive::StepLROptions(10));
  };
  auto p = torch::zeros({1}).requires_grad_(true);
  torch::optim::Adagrad adagrad({p}, torch::optim::AdagradOptions(0.1));
  const std::vector<std::pair<std::function<void()>, std::string>> bad = {
      {[&] { adaptive::CosineAnnealingWarmRestarts s(opt, adaptive::CosineAnnealingWarmRestartsOptions(0)); },
       "CosineAnnealingWarmRestarts: T_0 is 0"},
      {[&] { adaptive::CosineAnnealingWarmRestarts s(opt, adaptive::CosineAnnealingWarmRestartsOptions(5).T_mult(0)); },
       "CosineAnnealingWarmRestarts: T_mult is 0"},
      {[&] { adaptive::CyclicLR s(opt, adaptive::CyclicLROptions({0.01, 0.02, 0.03}, {0.1})); },
       "CyclicLR: base_lr has 3 values; give one, or one per parameter group (2)"},
      {[&] { adaptive::CyclicLR s(opt, adaptive::CyclicLROptions(0.01, 0.1).mode("sawtooth")); },
       "CyclicLR: mode is 'sawtooth'"},
      {[&] { adaptive::CyclicLR s(opt, adaptive::CyclicLROptions(0.01, 0.1).step_size_up(0)); },
       "CyclicLR: step_size_up is 0"},
      {[&] { adaptive::CyclicLR s(adagrad, adaptive::CyclicLROptions(0.01, 0.1)); },
       "CyclicLR: cycle_momentum is true, but the optimizer has neither momentum nor betas"},
      {[&] { adaptive::OneCycleLR s(opt, adaptive::OneCycleLROptions(0.1)); },
       "OneCycleLR: give total_steps, or epochs and steps_per_epoch"},
      {[&] { adaptive::OneCycleLR s(opt, adaptive::OneCycleLROptions(0.1).total_steps(0)); },
       "OneCycleLR: total_steps is 0"},
      {[&] { adaptive::OneCycleLR s(opt, adaptive::OneCycleLROptions(0.1).total_steps(10).pct_start(1.5)); },
       "OneCycleLR: pct_start is 1.5"},
      {[&] { adaptive::OneCycleLR s(opt, adaptive::OneCycleLROptions(0.1).total_steps(10).anneal_strategy("exp")); },
       "OneCycleLR: anneal_strategy is 'exp'"},
      {[&] { adaptive::OneCycleLR s(adagrad, adaptive::OneCycleLROptions(0.1).total_steps(10)); },
       "OneCycleLR: cycle_momentum is true, but the optimizer has neither momentum nor betas"},
      {[&] { adaptive::ReduceLROnPlateau s(opt, adaptive::ReduceLROnPlateauOptions().factor(1.0)); },
       "ReduceLROnPlateau: factor is 1"},
      {[&] { adaptive::ReduceLROnPlateau s(opt, adaptive::ReduceLROnPlateauOptions().mode("avg")); },
       "ReduceLROnPlateau: mode is 'avg'"},
      {[&] { adaptive::ReduceLROnPlateau s(opt, adaptive::ReduceLROnPlateauOptions().threshold_mode("pct")); },
       "ReduceLROnPlateau: threshold_mode is 'pct'"},
      {[&] { adaptive::ReduceLROnPlateau s(opt, adaptive::ReduceLROnPlateauOptions().min_lr({0.1, 0.2, 0.3})); },
       "ReduceLROnPlateau: min_lr has 3 values"},
      {[&] { adaptive::SequentialLR s(opt, adaptive::SequentialLROptions({step(opt), step(*other.optimizer)}, {5})); },
       "SequentialLR: scheduler 1 (StepLR) belongs to another optimizer"},
      {[&] { adaptive::SequentialLR s(opt, adaptive::SequentialLROptions({step(opt), step(opt)}, {5, 9})); },
       "SequentialLR: 2 schedulers need 1 milestones, got 2"},
      {[&] { adaptive::SequentialLR s(opt, adaptive::SequentialLROptions({step(opt), step(opt), step(opt)}, {9, 5})); },
       "SequentialLR: milestones must be increasing; milestone 1 is 5 after 9"},
      {[&] { adaptive::SequentialLR s(opt, adaptive::SequentialLROptions({}, {})); }, "SequentialLR: schedulers is empty"},
      {[&] { adaptive::ChainedScheduler s(opt, adaptive::ChainedSchedulerOptions({step(*other.optimizer)})); },
       "ChainedScheduler: scheduler 0 (StepLR) belongs to another optimizer"},
  };
  for (const auto& [make, message] : bad) {
    const std::string error = error_of(make);
    EXPECT_NE(error.find(message), std::string::npos) << error;
    // Refused before any rate or momentum was set (StepLR's initial step keeps the rates).
    EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.1) << message;
    EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.05) << message;
    EXPECT_EQ(adaptive::detail::get_momentum(opt.param_groups()[0].options()), 0.0) << message;
  }
}

// OneCycleLR past its total_steps: refused as Python's, nothing changed.
TEST(SchedulerOptions, OneCycleRefusesAStepPastItsEnd) {
  Groups g = make_groups(true);
  adaptive::OneCycleLR s(*g.optimizer, adaptive::OneCycleLROptions(0.1).total_steps(3));
  for (int t = 0; t < 3; ++t) s.step();
  const std::vector<double> lrs = s.get_last_lr();
  const double momentum = adaptive::detail::get_momentum(g.optimizer->param_groups()[0].options());
  const std::string error = error_of([&] { s.step(); });
  EXPECT_NE(error.find("OneCycleLR: tried to step 4 times; the specified number of total steps is 3"), std::string::npos)
      << error;
  EXPECT_EQ(s.last_epoch(), 3);
  EXPECT_EQ(s.get_last_lr(), lrs);
  EXPECT_EQ(g.optimizer->param_groups()[0].options().get_lr(), lrs[0]);
  EXPECT_EQ(adaptive::detail::get_momentum(g.optimizer->param_groups()[0].options()), momentum);
}

// A composite loads all its children or none: a state whose second child is
// of another kind is refused, and neither child changes.
TEST(SchedulerCheckpoint, ACompositeLoadsAllChildrenOrNone) {
  auto make = [](torch::optim::Optimizer& o, bool exponential_second) {
    std::vector<std::shared_ptr<adaptive::LRScheduler>> children{
        std::make_shared<adaptive::LinearLR>(o, adaptive::LinearLROptions().total_iters(10))};
    if (exponential_second) {
      children.push_back(std::make_shared<adaptive::ExponentialLR>(o, adaptive::ExponentialLROptions(0.9)));
    } else {
      children.push_back(std::make_shared<adaptive::StepLR>(o, adaptive::StepLROptions(4)));
    }
    return std::make_shared<adaptive::SequentialLR>(o, adaptive::SequentialLROptions(children, {10}));
  };
  Groups a = make_groups(true), b = make_groups(true);
  auto saved_from = make(*a.optimizer, true);
  for (int t = 0; t < 25; ++t) saved_from->step();
  std::ostringstream saved;
  torch::save(*saved_from, saved);

  auto target = make(*b.optimizer, false);
  for (int t = 0; t < 3; ++t) target->step();
  const auto& first = *target->options().schedulers()[0];
  const int64_t first_epoch = first.last_epoch();
  const std::vector<double> lrs = target->get_last_lr();
  std::istringstream in(saved.str());
  const std::string error = error_of([&] { torch::load(*target, in); });
  EXPECT_NE(error.find("StepLR::load: the archive holds a ExponentialLR's state"), std::string::npos) << error;
  EXPECT_EQ(first.last_epoch(), first_epoch);  // the first child, which could load, did not
  EXPECT_EQ(target->last_epoch(), 3);
  EXPECT_EQ(target->get_last_lr(), lrs);
  EXPECT_EQ(b.optimizer->param_groups()[0].options().get_lr(), lrs[0]);
}

TEST(SchedulerCheckpoint, PlateauRefusesAnotherSchedulersState) {
  Groups a = make_groups(true), b = make_groups(true);
  adaptive::StepLR step(*a.optimizer, adaptive::StepLROptions(3));
  std::ostringstream saved;
  torch::save(step, saved);
  adaptive::ReduceLROnPlateau plateau(*b.optimizer, adaptive::ReduceLROnPlateauOptions().patience(0));
  plateau.step(1.0);
  plateau.step(2.0);  // a reduction: 0.01
  std::istringstream in(saved.str());
  const std::string error = error_of([&] { torch::load(plateau, in); });
  EXPECT_NE(error.find("ReduceLROnPlateau::load: the archive holds a StepLR's state"), std::string::npos) << error;
  EXPECT_EQ(plateau.last_epoch(), 2);
  EXPECT_EQ(plateau.best(), 1.0);
  EXPECT_DOUBLE_EQ(plateau.get_last_lr()[0], 0.01);
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

// ---- LRFinder

TEST(LRFinder, TriesTheRatesOfItsSequenceAndRecordsEachStep) {
  for (const std::string mode : {"exp", "linear"}) {
    Groups g = make_groups(true);
    adaptive::LRFinder finder(*g.optimizer, adaptive::LRFinderOptions().start_lr(1e-4).end_lr(1).num_steps(5).mode(mode));
    std::vector<double> seen;
    while (!finder.done()) {
      seen.push_back(g.optimizer->param_groups()[1].options().get_lr());  // every group at the same rate
      finder.step(1.0);
    }
    ASSERT_EQ(seen.size(), 5U) << mode;
    EXPECT_EQ(finder.lrs(), seen) << mode;
    EXPECT_EQ(seen.front(), 1e-4) << mode;
    EXPECT_NEAR(seen.back(), 1.0, 1e-12) << mode;
    if (mode == "exp") EXPECT_NEAR(seen[2], 1e-2, 1e-15);
    if (mode == "linear") EXPECT_NEAR(seen[2], (1e-4 + 1) / 2, 1e-15);
    EXPECT_EQ(finder.stop_reason(), "completed");
    // Bias-corrected smoothing of a constant loss is that constant.
    for (const double s : finder.smoothed_losses()) EXPECT_NEAR(s, 1.0, 1e-12);
    const std::string error = error_of([&] { finder.step(1.0); });
    EXPECT_NE(error.find("LRFinder::step: the test is over (completed)"), std::string::npos) << error;
  }
}

TEST(LRFinder, StopsWhenTheLossDivergesOrIsNotFinite) {
  Groups g = make_groups(true);
  adaptive::LRFinder diverging(*g.optimizer, adaptive::LRFinderOptions().num_steps(50).smoothing(0));
  const std::vector<double> losses = {1.0, 0.8, 0.5, 0.9, 1.9, 2.1};  // 2.1 > 4 × 0.5
  size_t taken = 0;
  for (const double loss : losses) {
    ++taken;
    if (!diverging.step(loss)) break;
  }
  EXPECT_EQ(taken, losses.size());
  EXPECT_EQ(diverging.stop_reason(), "diverged");
  EXPECT_EQ(diverging.lrs().size(), losses.size());

  Groups h = make_groups(true);
  adaptive::LRFinder nan(*h.optimizer, adaptive::LRFinderOptions().num_steps(50));
  nan.step(1.0);
  EXPECT_FALSE(nan.step(std::nan("")));
  EXPECT_EQ(nan.stop_reason(), "non-finite loss");
  EXPECT_EQ(nan.losses().size(), 1U);  // the non-finite loss is not recorded
}

TEST(LRFinder, BadOptionsNameTheArgumentAndValue) {
  Groups g = make_groups(true);
  const std::vector<std::pair<adaptive::LRFinderOptions, std::string>> bad = {
      {adaptive::LRFinderOptions().start_lr(0), "LRFinder: start_lr is 0"},
      {adaptive::LRFinderOptions().start_lr(1).end_lr(0.5), "LRFinder: end_lr is 0.5"},
      {adaptive::LRFinderOptions().num_steps(1), "LRFinder: num_steps is 1"},
      {adaptive::LRFinderOptions().mode("cubic"), "LRFinder: mode is 'cubic'"},
      {adaptive::LRFinderOptions().smoothing(1), "LRFinder: smoothing is 1"},
      {adaptive::LRFinderOptions().diverge_factor(1), "LRFinder: diverge_factor is 1"},
  };
  for (const auto& [options, message] : bad) {
    const std::string error = error_of([&] { adaptive::LRFinder f(*g.optimizer, options); });
    EXPECT_NE(error.find(message), std::string::npos) << error;
    EXPECT_EQ(g.optimizer->param_groups()[0].options().get_lr(), 0.1) << message;  // refused before it set a rate
  }
}

// restore() puts back the optimizer's state and rates: LibTorch's Adam and
// adaptive's, with state from steps before the test.
TEST(LRFinder, RestoresTheOptimizersStateAndRates) {
  for (const bool builtin : {true, false}) {
    auto w = torch::ones({3}).requires_grad_(true);
    std::unique_ptr<torch::optim::Optimizer> opt;
    if (builtin) {
      opt = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{w}, torch::optim::AdamOptions(0.01));
    } else {
      opt = std::make_unique<adaptive::Adam>(std::vector<torch::Tensor>{w}, adaptive::AdamOptions(0.01));
    }
    auto train_step = [&] {
      opt->zero_grad();
      auto loss = (w * w).sum();
      loss.backward();
      opt->step();
      return loss.item<double>();
    };
    for (int t = 0; t < 3; ++t) train_step();
    std::ostringstream before;
    torch::save(*opt, before);
    {
      adaptive::LRFinder finder(*opt, adaptive::LRFinderOptions().start_lr(1e-3).end_lr(1).num_steps(20));
      while (!finder.done()) finder.step(train_step());
      finder.restore();
    }
    std::ostringstream after;
    torch::save(*opt, after);
    EXPECT_EQ(after.str(), before.str()) << (builtin ? "torch::optim::Adam" : "adaptive::Adam");
    EXPECT_EQ(opt->param_groups()[0].options().get_lr(), 0.01);
  }
}

// The range test on y = 3x + 5 (the regression example's data): Adam at the
// suggested rate reaches the example's convergence criterion, |w − 3| < 0.01
// and |b − 5| < 0.05, within the example's 1,000 steps.
TEST(LRFinder, ItsSuggestionTrainsTheRegressionToConvergence) {
  const auto x = torch::arange(20, torch::kFloat32).unsqueeze(1), y = 3 * x + 5;
  auto w = torch::zeros({1, 1}).requires_grad_(true), b = torch::zeros({1}).requires_grad_(true);
  adaptive::Adam adam(std::vector<torch::Tensor>{w, b}, adaptive::AdamOptions(1e-3));
  auto train_step = [&] {
    adam.zero_grad();
    auto loss = 0.5 * (w * x + b - y).pow(2).sum() / 20.0;
    loss.backward();
    adam.step();
    return loss.item<double>();
  };
  adaptive::LRFinder finder(adam, adaptive::LRFinderOptions().start_lr(1e-4).end_lr(10).num_steps(100));
  while (!finder.done()) finder.step(train_step());
  const adaptive::LRSuggestion s = finder.suggestion();
  finder.restore();
  {
    torch::NoGradGuard no_grad;  // the model is the caller's to restore
    w.zero_();
    b.zero_();
  }
  ASSERT_GT(s.lr, 0) << s.reason;
  RecordProperty("suggested_lr", std::to_string(s.lr));  // in the JUnit file, for the record
  EXPECT_NE(s.reason.find("steepest descent of the smoothed loss"), std::string::npos) << s.reason;
  adam.param_groups()[0].options().set_lr(s.lr);
  for (int t = 0; t < 1000; ++t) train_step();
  EXPECT_LT(std::abs(w.item<double>() - 3), 0.01) << "suggested lr " << s.lr << ": " << s.reason;
  EXPECT_LT(std::abs(b.item<double>() - 5), 0.05) << "suggested lr " << s.lr << ": " << s.reason;
}

}  // namespace
}  // namespace adaptive_test
