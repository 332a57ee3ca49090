// Every option check: a bad value is refused with a c10::Error that names the
// optimizer, the option and the value; at construction, per group, and in
// add_param_group. Plus the parameter and gradient checks of step().

#include "optim/core/compat.h"
#include "optim/optim.h"
#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/optim/schedulers/step_lr.h>
#include <torch/types.h>

#include <cmath>
#include <functional>
#include <limits>

namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

std::vector<torch::Tensor> params() { return {torch::ones({3}, torch::requires_grad())}; }
// A parameter Opt takes (a matrix for Muon).
template <class Opt>
std::vector<torch::Tensor> params_for() {
  return {torch::ones(adaptive_test::shape_for<Opt>({3}), torch::requires_grad())};
}

using adaptive_test::error_of;

struct BadOption {
  std::string label;       // test name
  std::string expected;    // substring of the message
  std::function<void()> construct, add_group;
};

// Every registry entry's invalid options: refused with
// "adaptive::<Name>: <expected>", at construction and by add_param_group.
std::vector<BadOption> bad_options() {
  std::vector<BadOption> v;
  adaptive_test::for_each_optimizer([&](auto entry) {
    using Entry = decltype(entry);
    using Opt = typename Entry::Optimizer;
    using Options = typename Entry::Options;
    for (const auto& c : Entry::Info::invalid()) {
      const Options options = c.options;
      v.push_back({std::string(entry.name) + "_" + c.label, std::string("adaptive::") + entry.name + ": " + c.expected,
                   [options] { Opt opt(params_for<Opt>(), options); },
                   [options] {
                     Opt opt(params_for<Opt>());
                     opt.add_param_group(
                         torch::optim::OptimizerParamGroup(params_for<Opt>(), std::make_unique<Options>(options)));
                   }});
    }
  });
  return v;
}

using adaptive::AdagradOptions;
using adaptive::AdamOptions;
using adaptive::RMSpropOptions;

class InvalidOption : public ::testing::TestWithParam<BadOption> {};

TEST_P(InvalidOption, IsRefusedAtConstruction) {
  EXPECT_NE(error_of(GetParam().construct).find(GetParam().expected), std::string::npos)
      << error_of(GetParam().construct);
}

TEST_P(InvalidOption, IsRefusedByAddParamGroup) {
  EXPECT_NE(error_of(GetParam().add_group).find(GetParam().expected), std::string::npos)
      << error_of(GetParam().add_group);
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidOption, ::testing::ValuesIn(bad_options()),
                         [](const auto& info) { return info.param.label; });

// What every optimizer checks, whatever its entry lists: lr and the common
// options, with the optimizer's name, the option and the value in the message.
TEST(InvalidOption, EveryOptimizerChecksLrAndTheCommonOptions) {
  adaptive_test::for_each_optimizer([&](auto entry) {
    using Entry = decltype(entry);
    using Opt = typename Entry::Optimizer;
    using Options = typename Entry::Options;
    const std::string name = std::string("adaptive::") + entry.name + ": invalid ";
    const std::vector<std::pair<Options, std::string>> cases = {
        {Options(-1.0), "lr = -1"},
        {Options(kNaN), "lr = nan"},
        {Options().clip_grad_norm(-1), "clip_grad_norm = -1"},
        {Options().clip_grad_norm(kInf), "clip_grad_norm = inf"},
        {Options().clip_grad_value(kNaN), "clip_grad_value = nan"}};
    for (const auto& c : cases) {
      const auto message = error_of([&] { Opt opt(params_for<Opt>(), c.first); });
      EXPECT_NE(message.find(name + c.second), std::string::npos) << message;
    }
  });
}

// A namespace change keeps the hyper-parameters: the defaults are the built-in's.
TEST(Defaults, AdamWsAreTheBuiltinsOwn) {
  const adaptive::AdamWOptions ours;
  const torch::optim::AdamWOptions builtin;
  EXPECT_EQ(ours.lr(), builtin.lr());
  EXPECT_EQ(ours.betas(), builtin.betas());
  EXPECT_EQ(ours.eps(), builtin.eps());
  EXPECT_EQ(ours.weight_decay(), builtin.weight_decay());
  EXPECT_EQ(ours.weight_decay(), 1e-2);
  EXPECT_EQ(ours.amsgrad(), builtin.amsgrad());
}

TEST(Defaults, SGDsAreTheBuiltinsOwn) {
  const adaptive::SGDOptions ours;
  const torch::optim::SGDOptions builtin(ours.lr());  // the built-in has no default lr (torch.optim's is 1e-3)
  EXPECT_EQ(ours.lr(), 1e-3);
  EXPECT_EQ(ours.momentum(), builtin.momentum());
  EXPECT_EQ(ours.dampening(), builtin.dampening());
  EXPECT_EQ(ours.weight_decay(), builtin.weight_decay());
  EXPECT_EQ(ours.nesterov(), builtin.nesterov());
}

// No built-in to compare with: torch.optim's defaults (2.13), written down.
TEST(Defaults, NAdamRAdamAdadeltaAreTorchOptims) {
  const adaptive::NAdamOptions nadam;
  EXPECT_EQ(nadam.lr(), 2e-3);
  EXPECT_EQ(nadam.betas(), std::make_tuple(0.9, 0.999));
  EXPECT_EQ(nadam.eps(), 1e-8);
  EXPECT_EQ(nadam.weight_decay(), 0);
  EXPECT_EQ(nadam.momentum_decay(), 4e-3);
  EXPECT_FALSE(nadam.decoupled_weight_decay());
  const adaptive::RAdamOptions radam;
  EXPECT_EQ(radam.lr(), 1e-3);
  EXPECT_EQ(radam.betas(), std::make_tuple(0.9, 0.999));
  EXPECT_EQ(radam.eps(), 1e-8);
  EXPECT_EQ(radam.weight_decay(), 0);
  EXPECT_FALSE(radam.decoupled_weight_decay());
  const adaptive::AdadeltaOptions adadelta;
  EXPECT_EQ(adadelta.lr(), 1.0);
  EXPECT_EQ(adadelta.rho(), 0.9);
  EXPECT_EQ(adadelta.eps(), 1e-6);
  EXPECT_EQ(adadelta.weight_decay(), 0);
}

// As the built-in: plain SGD keeps no state; the momentum buffer appears on
// the first step with momentum and starts as that step's gradient.
TEST(SGDState, ExistsOnlyWithMomentumAndStartsAsTheGradient) {
  auto p = torch::tensor({1.0, -2.0}, torch::dtype(torch::kFloat64).requires_grad(true));
  adaptive::SGD opt({p}, adaptive::SGDOptions(0.1));
  p.mutable_grad() = torch::tensor({0.5, 0.25}, torch::kFloat64);
  opt.step();
  EXPECT_TRUE(opt.state().empty());
  EXPECT_TRUE(torch::allclose(p.detach(), torch::tensor({0.95, -2.025}, torch::kFloat64), 0, 1e-15));
  static_cast<adaptive::SGDOptions&>(opt.param_groups()[0].options()).momentum(0.9).dampening(0.5);
  opt.step();
  ASSERT_EQ(opt.state().size(), 1u);
  const auto& state = static_cast<const adaptive::SGDParamState&>(*opt.state().begin()->second);
  EXPECT_TRUE(torch::equal(state.momentum_buffer(), p.grad())) << "not dampened on its first step, as torch.optim";
  opt.step();
  EXPECT_TRUE(torch::allclose(state.momentum_buffer(), p.grad() * 0.9 + p.grad() * 0.5, 0, 1e-15));
}

TEST(ValidOptions, BoundaryValuesAreAccepted) {
  EXPECT_NO_THROW(adaptive::Adam(params(), AdamOptions(0).eps(0).betas(std::make_tuple(0.0, 0.0))));
  EXPECT_NO_THROW(adaptive::RMSprop(params(), RMSpropOptions(0).alpha(1.0)));  // like the built-in
  EXPECT_NO_THROW(adaptive::Adagrad(params(), AdagradOptions(0).eps(0)));
  EXPECT_NO_THROW(adaptive::SGD(params(), adaptive::SGDOptions(0).momentum(0.5).dampening(1.0)));
  EXPECT_NO_THROW(adaptive::Adadelta(params(), adaptive::AdadeltaOptions(0).rho(1.0).eps(0)));
  EXPECT_NO_THROW(adaptive::NAdam(params(), adaptive::NAdamOptions(0).momentum_decay(0)));
}

TEST(ValidOptions, AnInvalidGroupOptionIsRefusedEvenWithValidDefaults) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(params(), std::make_unique<AdamOptions>(AdamOptions(-3)));
  EXPECT_NE(error_of([&] { adaptive::Adam opt(groups, AdamOptions(0.1)); }).find("invalid lr = -3"), std::string::npos);
}

TEST(ValidOptions, AnOptionMadeInvalidAfterConstructionIsCaughtByStepBeforeAnyUpdate) {
  auto a = torch::ones({2}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a});
  groups.emplace_back(std::vector<torch::Tensor>{b});
  adaptive::Adam opt(groups);
  static_cast<AdamOptions&>(opt.param_groups()[1].options()).lr(-1);
  a.mutable_grad() = torch::ones({2});
  b.mutable_grad() = torch::ones({2});
  EXPECT_NE(error_of([&] { opt.step(); }).find("invalid lr = -1"), std::string::npos);
  EXPECT_TRUE(torch::equal(a, torch::ones({2}))) << "group 0 was updated before group 1 was checked";
  EXPECT_TRUE(opt.state().empty());
}

// ---- parameters and gradients ---------------------------------------------

TEST(Parameters, IntegerParametersAreRefused) {
  const auto msg = error_of([] { adaptive::Adam opt({torch::ones({2}, torch::kLong)}); });
  EXPECT_NE(msg.find("parameter 0 of group 0 has dtype Long; only floating-point parameters"), std::string::npos) << msg;
}

TEST(Parameters, TheSameTensorTwiceIsRefused) {
  auto p = torch::ones({2}, torch::requires_grad());
  EXPECT_NE(error_of([&] { adaptive::RMSprop opt({p, p}); }).find("appears more than once"), std::string::npos);
  adaptive::Adagrad opt({p});
  EXPECT_NE(error_of([&] { opt.add_param_group(torch::optim::OptimizerParamGroup({p})); }).find("parameter 0 of group 1 appears more than once"),
            std::string::npos);
}

// A step skips the search for duplicates while the parameter list is the one
// it last checked; a list changed through param_groups() is searched again.
TEST(Parameters, ATensorListedTwiceAfterAStepIsRefusedAtTheNext) {
  auto p = torch::ones({2}, torch::requires_grad());
  auto q = torch::ones({2}, torch::requires_grad());
  adaptive::Adam opt({p, q});
  p.mutable_grad() = torch::ones({2});
  q.mutable_grad() = torch::ones({2});
  opt.step();
  opt.step();  // the unchanged list
  const auto before = p.detach().clone();
  opt.param_groups()[0].params()[1] = p;  // q replaced by p: p twice
  EXPECT_NE(error_of([&] { opt.step(); }).find("parameter 1 of group 0 appears more than once"), std::string::npos);
  EXPECT_TRUE(torch::equal(p, before)) << "a parameter was updated by a refused step";
  opt.param_groups()[0].params()[1] = q;  // repaired: steps again
  opt.step();
  EXPECT_FALSE(torch::equal(p, before));
}

// Every optimizer but Adagrad and SparseAdam (tests/sparse_test.cc) refuses sparse gradients.
TEST(Gradients, SparseGradientsAreAClearErrorButForAdagradAndSparseAdam) {
  int refused = 0;
  int taking = 0;
  adaptive_test::for_each_optimizer([&](auto entry) {
    using Opt = typename decltype(entry)::Optimizer;
    if (adaptive::hooks::takes_sparse_gradients<Opt>()) {
      ++taking;
      return;
    }
    const auto shape = adaptive_test::shape_for<Opt>({4});
    auto p = torch::ones(shape, torch::requires_grad());
    Opt opt({p});
    p.mutable_grad() = torch::ones(shape).to_sparse();
    EXPECT_NE(error_of([&] { opt.step(); })
                  .find(std::string("adaptive::") + entry.name + " does not support sparse gradients (parameter 0 of group 0)"),
              std::string::npos)
        << entry.name;
    EXPECT_TRUE(torch::equal(p, torch::ones(shape)));
    ++refused;
  });
  EXPECT_EQ(taking, 2) << "Adagrad and SparseAdam take sparse gradients";
  EXPECT_EQ(refused, adaptive_test::kKinds - 2);
}

TEST(Gradients, ShapeMismatchIsAClearError) {
  auto p = torch::ones({4}, torch::requires_grad());
  adaptive::Adam opt({p});
  p.mutable_grad() = torch::ones({2, 2});
  EXPECT_NE(error_of([&] { opt.step(); }).find("gradient of parameter 0 of group 0 has shape [2, 2] but the parameter has shape [4]"),
            std::string::npos);
}

TEST(Gradients, DtypeMismatchIsAClearError) {
  auto p = torch::ones({4}, torch::requires_grad());
  adaptive::Adam opt({p});
  p.mutable_grad() = torch::ones({4}, torch::kFloat64);
  EXPECT_NE(error_of([&] { opt.step(); }).find("is Double on cpu but the parameter is Float on cpu"), std::string::npos);
}

// The gradients are checked on ATen's threads, 64 parameters a task: the
// error is still the first in parameter order, whichever task meets one
// first, and a refused step changes no parameter and no step count.
TEST(Gradients, ManyParametersGiveTheFirstErrorInOrderAndNoUpdate) {
  std::vector<torch::Tensor> first, second;
  for (int i = 0; i < 600; ++i) {
    auto p = torch::full({3}, static_cast<double>(i), torch::requires_grad());
    p.mutable_grad() = torch::ones({3});
    (i < 300 ? first : second).push_back(p);
  }
  adaptive::Adam opt({torch::optim::OptimizerParamGroup(first), torch::optim::OptimizerParamGroup(second)});
  opt.step();
  const auto snapshot = [&] {
    std::vector<torch::Tensor> copies;
    for (const auto& group : opt.param_groups()) {
      for (const auto& p : group.params()) copies.push_back(p.detach().clone());
    }
    return copies;
  };
  const auto before = snapshot();
  second[220].mutable_grad() = torch::ones({2});  // in a later task than the one below
  first[130].mutable_grad() = torch::ones({3}, torch::kFloat64);
  first[299].mutable_grad() = torch::Tensor();  // no gradient: skipped, not an error
  EXPECT_NE(error_of([&] { opt.step(); }).find("gradient of parameter 130 of group 0 is Double"), std::string::npos);
  first[130].mutable_grad() = torch::ones({3});
  EXPECT_NE(error_of([&] { opt.step(); }).find("gradient of parameter 220 of group 1 has shape [2]"), std::string::npos);
  second[220].mutable_grad() = torch::ones({3});
  second[250].mutable_grad() = torch::ones({3}, torch::kFloat64);  // the only error: found by a task
  EXPECT_NE(error_of([&] { opt.step(); }).find("gradient of parameter 250 of group 1 is Double"), std::string::npos);
  const auto after = snapshot();
  for (size_t i = 0; i < before.size(); ++i) ASSERT_TRUE(torch::equal(before[i], after[i])) << "parameter " << i;
  for (const auto& group : opt.param_groups()) {
    for (const auto& p : group.params()) {
      const auto& state = static_cast<const adaptive::AdamParamState&>(*opt.state().at(adaptive::state_key(p)));
      ASSERT_EQ(state.step(), 1);
    }
  }
  second[250].mutable_grad() = torch::ones({3});
  opt.step();  // repaired: steps again
  EXPECT_FALSE(torch::equal(first[0], before[0]));
}

TEST(Gradients, ParametersWithoutGradientAreSkipped) {
  auto a = torch::ones({2}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad());
  adaptive::Adam opt({a, b}, AdamOptions(0.1));
  a.mutable_grad() = torch::ones({2});
  opt.step();
  EXPECT_FALSE(torch::equal(a, torch::ones({2})));
  EXPECT_TRUE(torch::equal(b, torch::ones({2})));
  EXPECT_EQ(opt.state().size(), 1u);
}

TEST(Step, ClosureIsEvaluatedWithGradAndItsLossReturned) {
  auto p = torch::full({1}, 2.0, torch::requires_grad());
  adaptive::RMSprop opt({p}, RMSpropOptions(0.1));
  torch::NoGradGuard outer;  // step() must enable grad for the closure anyway
  const auto loss = opt.step([&] {
    opt.zero_grad();
    auto l = (p * p).sum();
    l.backward();
    return l;
  });
  EXPECT_DOUBLE_EQ(loss.item<double>(), 4.0);
  EXPECT_LT(p.item<double>(), 2.0);
}

TEST(Step, LearningRateSchedulersDriveItLikeTheBuiltin) {
  auto p = torch::ones({1}, torch::requires_grad()), q = torch::ones({1}, torch::requires_grad());
  adaptive::Adam ours({p}, AdamOptions(1.0));
  torch::optim::Adam builtin({q}, torch::optim::AdamOptions(1.0));
  torch::optim::StepLR our_schedule(ours, /*step_size=*/1, /*gamma=*/0.5);
  torch::optim::StepLR builtin_schedule(builtin, /*step_size=*/1, /*gamma=*/0.5);
  for (int i = 0; i < 4; ++i) {
    our_schedule.step();
    builtin_schedule.step();
    EXPECT_EQ(ours.param_groups()[0].options().get_lr(), builtin.param_groups()[0].options().get_lr());
  }
  EXPECT_LT(ours.param_groups()[0].options().get_lr(), 0.2);
}

}  // namespace

namespace {
TEST(State, KeysAreTheOnesLibTorchUses) {
  auto p = torch::ones({2}, torch::requires_grad());
  adaptive::Adam opt({p});
  torch::optim::Adam builtin({p});
  p.mutable_grad() = torch::ones({2});
  opt.step();
  builtin.step();
  // torch::optim keys state() by the parameter's TensorImpl: its address
  // printed up to LibTorch 2.1, the pointer itself from 2.2 on.
  ASSERT_EQ(builtin.state().size(), 1u);
  EXPECT_EQ(builtin.state().begin()->first, adaptive::state_key(p));
  EXPECT_EQ(opt.state().count(adaptive::state_key(p)), 1u);
#if ADAPTIVE_TORCH_AT_LEAST(2, 2)
  static_assert(std::is_same_v<adaptive::state_key_t, void*>);
  EXPECT_EQ(adaptive::state_key(p), static_cast<void*>(p.unsafeGetTensorImpl()));
#else
  static_assert(std::is_same_v<adaptive::state_key_t, std::string>);
  EXPECT_EQ(adaptive::state_key(p), c10::str(p.unsafeGetTensorImpl()));
#endif
}
}  // namespace

namespace {
// skip_nonfinite: a group whose gradients hold NaN or inf takes no step at all.
TEST(SkipNonfinite, SkipsOnlyTheGroupWithANonFiniteGradientAndCountsIt) {
  auto a = torch::ones({3}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a});
  groups.emplace_back(std::vector<torch::Tensor>{b});
  adaptive::Adam opt(groups, AdamOptions(0.1).skip_nonfinite(true).clip_grad_norm(1.0));
  a.mutable_grad() = torch::ones({3});
  b.mutable_grad() = torch::ones({2});
  opt.step();  // both step once
  const auto b_before = b.detach().clone();
  const auto b_state = static_cast<adaptive::AdamParamState&>(*opt.state().at(adaptive::state_key(b)));
  const auto b_exp_avg = b_state.exp_avg().clone();
  a.mutable_grad() = torch::ones({3});
  b.mutable_grad() = torch::tensor({1.0f, std::numeric_limits<float>::quiet_NaN()});
  opt.step();
  EXPECT_EQ(opt.skipped_steps(), 1);
  EXPECT_TRUE(torch::equal(b, b_before));
  const auto& after = static_cast<adaptive::AdamParamState&>(*opt.state().at(adaptive::state_key(b)));
  EXPECT_EQ(after.step(), 1);
  EXPECT_TRUE(torch::equal(after.exp_avg(), b_exp_avg));
  const auto& a_state = static_cast<adaptive::AdamParamState&>(*opt.state().at(adaptive::state_key(a)));
  EXPECT_EQ(a_state.step(), 2);
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
  ASSERT_TRUE(opt.last_grad_norm().has_value());
  // The skipped group's NaN shows in the reported norm but not in the
  // clipping of the others (a is finite).
  EXPECT_TRUE(std::isnan(*opt.last_grad_norm()));
}

TEST(SkipNonfinite, OffByDefaultLikeTheBuiltin) {
  auto a = torch::ones({2}, torch::requires_grad()), b = torch::ones({2}, torch::requires_grad());
  adaptive::Adam ours({a}, AdamOptions(0.1));
  torch::optim::Adam builtin({b}, torch::optim::AdamOptions(0.1));
  a.mutable_grad() = torch::tensor({std::numeric_limits<float>::infinity(), 1.0f});
  b.mutable_grad() = a.grad().clone();
  ours.step();
  builtin.step();
  EXPECT_EQ(ours.skipped_steps(), 0);
  EXPECT_TRUE(torch::allclose(a, b, 0.0, 0.0, /*equal_nan=*/true));
  EXPECT_FALSE(torch::isfinite(a).all().item<bool>());
}
}  // namespace

namespace {
// ---- empty, mixed-dtype and mixed-device parameter lists -------------------

TEST(Parameters, AnEmptyParameterListIsRefused) {
  for (const auto& msg :
       {error_of([] { adaptive::Adam opt(std::vector<torch::Tensor>{}); }),
        error_of([] { adaptive::RMSprop opt(std::vector<torch::optim::OptimizerParamGroup>{}); }),
        error_of([] {
          adaptive::Adagrad opt(std::vector<torch::optim::OptimizerParamGroup>{
              torch::optim::OptimizerParamGroup(std::vector<torch::Tensor>{})});
        })}) {
    EXPECT_NE(msg.find("got an empty parameter list"), std::string::npos) << msg;
  }
  // The built-in accepts it; a group without parameters next to others is harmless and allowed.
  auto p = torch::ones({2}, torch::requires_grad());
  adaptive::Adam opt({p});
  opt.add_param_group(torch::optim::OptimizerParamGroup(std::vector<torch::Tensor>{}));
  p.mutable_grad() = torch::ones({2});
  opt.step();
  EXPECT_EQ(opt.param_groups().size(), 2u);
}

// One group may mix float32 and float64 parameters: each parameter's state
// has its own dtype, and every parameter ends exactly where the built-in
// puts it. Clipping combines the per-tensor norms in double.
TEST(Parameters, MixedDtypesInOneGroupWorkLikeTheBuiltin) {
  auto make = [] {
    return std::vector<torch::Tensor>{torch::linspace(-1, 1, 5, torch::kFloat32).requires_grad_(),
                                      torch::linspace(2, -2, 7, torch::kFloat64).requires_grad_()};
  };
  auto ours = make(), theirs = make();
  adaptive::Adam a(ours, AdamOptions(0.1).amsgrad(true));
  torch::optim::Adam b(theirs, torch::optim::AdamOptions(0.1).amsgrad(true));
  for (int step = 0; step < 20; ++step) {
    for (auto* params : {&ours, &theirs}) {
      for (auto& p : *params) p.mutable_grad() = (p.detach() * p.detach() - 0.5 * step).to(p.scalar_type());
    }
    a.step();
    b.step();
  }
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i].scalar_type(), theirs[i].scalar_type());
    EXPECT_TRUE(torch::equal(ours[i], theirs[i])) << "parameter " << i;
  }
  const auto& s = static_cast<adaptive::AdamParamState&>(*a.state().at(adaptive::state_key(ours[1])));
  EXPECT_EQ(s.exp_avg().scalar_type(), torch::kFloat64);

  // Clipping across the two dtypes: the global norm is sqrt(‖g32‖² + ‖g64‖²).
  auto clipped = make();
  adaptive::Adam c(clipped, AdamOptions(0.1).clip_grad_norm(0.5));
  clipped[0].mutable_grad() = torch::full({5}, 3.0f);
  clipped[1].mutable_grad() = torch::full({7}, 4.0, torch::kFloat64);
  c.step();
  EXPECT_NEAR(*c.last_grad_norm(), std::sqrt(5 * 9.0 + 7 * 16.0), 1e-5);
}

// Parameters on different devices in one group are allowed, as with the
// built-in: every update is per tensor (state is created on the parameter's
// device; the fused CPU driver takes the CPU ones, the tensor-op path the
// rest). With no GPU here, the second device is "meta" (shapes, no data):
// the step must not combine tensors across devices, and the CPU parameter
// must end where it ends alone. (Clipping across devices moves the
// per-tensor norms to the CPU; that part is covered on CUDA machines by the
// parity suite's device variants, not here.)
TEST(Parameters, MixedDevicesInOneGroupAreUpdatedPerDevice) {
  for (const bool fused : {true, false}) {
    auto cpu = torch::linspace(-1, 1, 9).requires_grad_();
    auto meta = torch::empty({4, 4}, torch::TensorOptions().device(torch::kMeta).requires_grad(true));
    auto alone = cpu.detach().clone().requires_grad_();
    adaptive::RMSprop mixed({cpu, meta}, RMSpropOptions(0.01).momentum(0.9).centered(true).fused(fused));
    adaptive::RMSprop single({alone}, RMSpropOptions(0.01).momentum(0.9).centered(true).fused(fused));
    for (int step = 0; step < 5; ++step) {
      cpu.mutable_grad() = cpu.detach().sin();
      alone.mutable_grad() = alone.detach().sin();
      meta.mutable_grad() = torch::empty({4, 4}, torch::kMeta);
      mixed.step();
      single.step();
    }
    EXPECT_TRUE(torch::equal(cpu, alone)) << "fused " << fused;
    const auto& s = static_cast<adaptive::RMSpropParamState&>(*mixed.state().at(adaptive::state_key(meta)));
    EXPECT_TRUE(s.square_avg().is_meta());
    EXPECT_EQ(s.step(), 5);
  }
}
}  // namespace

namespace {
// LibTorch 2.9+'s Optimizer::add_param_group replaces options of any type but
// the built-ins' own with the defaults; adaptive adds groups itself, so each
// group keeps every option it was given (fails on 2.13 without that).
TEST(ParamGroups, KeepTheirOwnOptionsAtConstructionAndInAddParamGroup) {
  auto a = torch::ones({2}, torch::requires_grad()), b = torch::ones({3}, torch::requires_grad()),
       c = torch::ones({4}, torch::requires_grad());
  const auto first = AdamOptions(0.1).eps(1e-3).clip_grad_norm(0.5).amsgrad(true);
  const auto second = AdamOptions(0.02).betas(std::make_tuple(0.8, 0.9)).clip_grad_value(0.25).skip_nonfinite(true);
  const auto third = AdamOptions(0.3).weight_decay(0.1).decoupled_weight_decay(true).maximize(true);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a}, std::make_unique<AdamOptions>(first));
  groups.emplace_back(std::vector<torch::Tensor>{b}, std::make_unique<AdamOptions>(second));
  adaptive::Adam opt(groups, AdamOptions(1e-3));
  opt.add_param_group(torch::optim::OptimizerParamGroup({c}, std::make_unique<AdamOptions>(third)));
  ASSERT_EQ(opt.param_groups().size(), 3u);
  EXPECT_TRUE(static_cast<const AdamOptions&>(opt.param_groups()[0].options()) == first);
  EXPECT_TRUE(static_cast<const AdamOptions&>(opt.param_groups()[1].options()) == second);
  EXPECT_TRUE(static_cast<const AdamOptions&>(opt.param_groups()[2].options()) == third);
  // A group without options gets a copy of the defaults.
  auto d = torch::ones({1}, torch::requires_grad());
  opt.add_param_group(torch::optim::OptimizerParamGroup({d}));
  EXPECT_TRUE(static_cast<const AdamOptions&>(opt.param_groups()[3].options()) == AdamOptions(1e-3));
}

TEST(ParamGroups, NonLeafParametersAreRefusedWithTheirPlace) {
  auto leaf = torch::ones({2}, torch::requires_grad());
  auto computed = leaf * 2;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{leaf});
  groups.emplace_back(std::vector<torch::Tensor>{computed});
  try {
    adaptive::Adam opt(groups);
    FAIL() << "a non-leaf parameter was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace()).find("parameter 0 of group 1 is not a leaf"), std::string::npos)
        << e.what_without_backtrace();
  }
}

// zero_grad() sets gradients to undefined from LibTorch 2.0 on (set_to_none,
// as in Python), zeroes them up to 1.13: adaptive inherits the version's
// behaviour, and a step skips parameters without a gradient either way.
TEST(ZeroGrad, FollowsTheLibTorchVersionAndStepsSkipNoneGradients) {
  auto p = torch::ones({2}, torch::requires_grad());
  adaptive::Adam opt({p}, AdamOptions(0.1));
  p.mutable_grad() = torch::ones({2});
  opt.step();
  opt.zero_grad();
  EXPECT_EQ(p.grad().defined(), !ADAPTIVE_TORCH_AT_LEAST(2, 0));
  const auto before = p.detach().clone();
  opt.step();  // 2.x: no gradient, no step; 1.13: a step with a zero gradient
  if (ADAPTIVE_TORCH_AT_LEAST(2, 0)) {
    EXPECT_TRUE(torch::equal(p, before));
  }
  const auto& state = static_cast<adaptive::AdamParamState&>(*opt.state().at(adaptive::state_key(p)));
  EXPECT_EQ(state.step(), ADAPTIVE_TORCH_AT_LEAST(2, 0) ? 1 : 2);
}
}  // namespace
