// What a user switching from torch::optim can get wrong, found by trying
// adaptive as a hostile user would (issue 12). Each case is refused with a
// c10::Error that says what and where, before anything changes, or handled
// as PyTorch handles it. Every test here failed before its fix.

#include "optim/core/compat.h"
#include "optim/core/dtype_support.h"
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
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using adaptive::AdagradOptions;
using adaptive::AdamOptions;
using adaptive::RMSpropOptions;
using Group = torch::optim::OptimizerParamGroup;

using adaptive_test::error_of;

#define EXPECT_ERROR_HAS(statement, text)                                       \
  do {                                                                         \
    const std::string what_ = error_of([&] { statement; });                    \
    EXPECT_NE(what_.find(text), std::string::npos) << "error: " << what_;      \
  } while (0)

torch::Tensor param(int64_t n = 3, torch::Dtype dtype = torch::kFloat32) {
  return torch::linspace(-1, 1, n).to(dtype).requires_grad_();
}

// ---- torch::optim's options in a group of adaptive's optimizer ----------
// They compile (a group holds the options' base class). They used to be read
// as adaptive's struct: an ASan heap-buffer-overflow, and without ASan garbage
// clip values and a parameter that never moved.

template <class Opt, class Foreign>
void expect_foreign_refused(const std::string& ours, const std::string& theirs) {
  const std::string types = "has options of type " + theirs + ", expected " + ours;
  std::vector<Group> groups;
  groups.emplace_back(std::vector<torch::Tensor>{param()});
  groups.emplace_back(std::vector<torch::Tensor>{param()}, std::make_unique<Foreign>(1e-3));
  EXPECT_ERROR_HAS(Opt opt(groups), "group 1 " + types);

  Opt opt({param()});
  EXPECT_ERROR_HAS(opt.add_param_group(Group({param()}, std::make_unique<Foreign>(1e-3))), "group 1 " + types);
  EXPECT_EQ(opt.param_groups().size(), 1u);
}

TEST(ForeignOptions, AreRefusedAtConstructionAndByAddParamGroup) {
  expect_foreign_refused<adaptive::Adam, torch::optim::AdamOptions>("adaptive::AdamOptions",
                                                                   "torch::optim::AdamOptions");
  expect_foreign_refused<adaptive::RMSprop, torch::optim::RMSpropOptions>("adaptive::RMSpropOptions",
                                                                         "torch::optim::RMSpropOptions");
  expect_foreign_refused<adaptive::Adagrad, torch::optim::AdagradOptions>("adaptive::AdagradOptions",
                                                                         "torch::optim::AdagradOptions");
  // Another adaptive optimizer's options are as foreign.
  expect_foreign_refused<adaptive::Adam, adaptive::RMSpropOptions>("adaptive::AdamOptions", "adaptive::RMSpropOptions");
}

// A group that bypasses add_param_group (param_groups() is a mutable vector)
// is caught by step(), before any parameter or state changes.
TEST(ForeignOptions, AreRefusedByStepBeforeAnyUpdate) {
  auto p = param(), q = param();
  adaptive::Adam opt({p}, AdamOptions(0.1));
  opt.param_groups().emplace_back(std::vector<torch::Tensor>{q}, std::make_unique<torch::optim::AdamOptions>(0.1));
  p.mutable_grad() = torch::ones({3});
  q.mutable_grad() = torch::ones({3});
  const auto before = p.detach().clone();
  EXPECT_ERROR_HAS(opt.step(), "group 1 has options of type torch::optim::AdamOptions");
  EXPECT_TRUE(torch::equal(p, before));
  EXPECT_TRUE(opt.state().empty());
  std::ostringstream out;
  EXPECT_ERROR_HAS(torch::save(opt, out), "group 1 has options of type torch::optim::AdamOptions");
}

// Through a torch::optim::Optimizer& (add_param_group is not virtual) the
// base class adds the group: LibTorch 2.9+ replaces options of a type it
// does not know with the optimizer's defaults; older versions keep them,
// and step() refuses them.
TEST(ForeignOptions, ThroughABaseClassReferenceNeverReinterpret) {
  auto p = param(), q = param();
  adaptive::Adam opt({p}, AdamOptions(0.1));
  torch::optim::Optimizer& base = opt;
  base.add_param_group(Group({q}, std::make_unique<torch::optim::AdamOptions>(0.5)));
  q.mutable_grad() = torch::ones({3});
  if (dynamic_cast<const AdamOptions*>(&opt.param_groups()[1].options()) != nullptr) {
    EXPECT_TRUE(ADAPTIVE_TORCH_AT_LEAST(2, 9)) << "the base class kept foreign options";
    opt.step();  // the defaults
    EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.1);
  } else {
    EXPECT_ERROR_HAS(opt.step(), "group 1 has options of type torch::optim::AdamOptions");
  }
}

// ---- a dtype ATen cannot update: refused before any write ---------------
// It used to fail part-way: float32 tensors already updated (tensor-op
// path), every state's step count advanced, lazily created state left.

torch::Dtype unsupported_dtype() {
#if ADAPTIVE_TORCH_AT_LEAST(2, 1)
  return torch::kFloat8_e5m2;  // 2.x: most ops lack float8 kernels
#else
  return torch::kHalf;  // 1.13's CPU kernels lack float16
#endif
}

template <class Opt, class Options>
void expect_unsupported_dtype_refused(Options options) {
  SCOPED_TRACE(Opt::kName);
  for (const bool fused : {true, false}) {
    auto p = param(), q = param(4, unsupported_dtype());
    Opt opt({p, q}, options.fused(fused));
    p.mutable_grad() = torch::ones({3});
    opt.step();  // q has no gradient yet
    const auto state_count = opt.state().size();
    const auto p_before = p.detach().clone();
    std::ostringstream state_before;
    torch::save(opt, state_before);
    p.mutable_grad() = torch::ones({3});
    q.mutable_grad() = torch::ones({4}, q.options().requires_grad(false));
    EXPECT_ERROR_HAS(opt.step(), "parameter 1 of group 0 has dtype " + std::string(c10::toString(unsupported_dtype())) +
                                     ", which this LibTorch cannot update on cpu");
    EXPECT_TRUE(torch::equal(p, p_before));
    EXPECT_EQ(opt.state().size(), state_count);
    std::ostringstream state_after;
    torch::save(opt, state_after);
    EXPECT_TRUE(state_before.str() == state_after.str()) << "state changed (step count?)";
  }
}

TEST(UnsupportedDtype, IsRefusedBeforeAnyWrite) {
  ASSERT_FALSE(adaptive::kernels::unsupported_reason(unsupported_dtype(), torch::kCPU).empty())
      << "pick another dtype: this LibTorch updates " << unsupported_dtype();
  EXPECT_TRUE(adaptive::kernels::unsupported_reason(torch::kFloat32, torch::kCPU).empty());
  EXPECT_TRUE(adaptive::kernels::unsupported_reason(torch::kFloat64, torch::kCPU).empty());
  expect_unsupported_dtype_refused<adaptive::Adam>(AdamOptions(0.1).amsgrad(true));
  expect_unsupported_dtype_refused<adaptive::RMSprop>(RMSpropOptions(0.1).centered(true).momentum(0.5));
  expect_unsupported_dtype_refused<adaptive::Adagrad>(AdagradOptions(0.1));
}

// ---- load casts state to the parameter's dtype (as load_state_dict) -------

TEST(Load, CastsStateToTheParametersDtype) {
  auto p32 = param(5);
  adaptive::Adam a({p32}, AdamOptions(0.1).amsgrad(true));
  p32.mutable_grad() = torch::ones({5});
  a.step();
  std::stringstream file;
  torch::save(a, file);

  auto p64 = param(5, torch::kFloat64);
  adaptive::Adam b({p64}, AdamOptions(0.1).amsgrad(true));
  torch::load(b, file);
  const auto& s = static_cast<const adaptive::AdamParamState&>(*b.state().at(adaptive::state_key(p64)));
  EXPECT_EQ(s.exp_avg().scalar_type(), torch::kFloat64);
  EXPECT_EQ(s.exp_avg_sq().scalar_type(), torch::kFloat64);
  EXPECT_EQ(s.max_exp_avg_sq().scalar_type(), torch::kFloat64);
  EXPECT_EQ(s.step(), 1);
  p64.mutable_grad() = torch::ones({5}, torch::kFloat64);
  b.step();
  EXPECT_EQ(s.exp_avg().scalar_type(), torch::kFloat64);
}

// ---- last_grad_norm() shows a blow-up that skip_nonfinite skipped --------
// It used to be 0 when every group was skipped, and the finite groups' norm
// when some were.

TEST(LastGradNorm, IncludesTheGradientsSkipNonfiniteDropped) {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (const bool fused : {true, false}) {
    auto p = param(4), q = param(4);
    std::vector<Group> groups;
    groups.emplace_back(std::vector<torch::Tensor>{p});
    groups.emplace_back(std::vector<torch::Tensor>{q});
    adaptive::Adam opt(groups, AdamOptions(0.1).clip_grad_norm(1).skip_nonfinite(true).fused(fused));
    p.mutable_grad() = torch::full({4}, 2.0f);
    q.mutable_grad() = torch::full({4}, 2.0f);
    opt.step();
    EXPECT_NEAR(*opt.last_grad_norm(), std::sqrt(8 * 4.0), 1e-6);
    q.mutable_grad()[1] = inf;  // group 1 skipped
    opt.step();
    EXPECT_EQ(*opt.last_grad_norm(), inf);
    p.mutable_grad()[0] = inf;  // every group skipped
    opt.step();
    EXPECT_EQ(*opt.last_grad_norm(), inf);
    q.mutable_grad()[2] = nan;
    opt.step();
    EXPECT_TRUE(std::isnan(*opt.last_grad_norm()));
    EXPECT_EQ(opt.skipped_steps(), 1 + 2 + 2);
  }
}

// ---- the Adagrad warning only for a group that sets its own value ---------

struct Warnings : c10::WarningHandler {
#if ADAPTIVE_TORCH_AT_LEAST(2, 0)
  void process(const c10::Warning& warning) override { messages.push_back(warning.msg()); }
  using Guard = c10::WarningUtils::WarningHandlerGuard;
#else
  void process(const c10::SourceLocation&, const std::string& msg, const bool) override { messages.push_back(msg); }
  using Guard = c10::Warning::WarningHandlerGuard;
#endif
  std::vector<std::string> messages;
};

TEST(AdagradWarning, OnlyForAGroupThatSetsItsOwnInitialAccumulatorValue) {
  Warnings warnings;
  Warnings::Guard guard(&warnings);
  std::vector<Group> groups;
  groups.emplace_back(std::vector<torch::Tensor>{param()});
  groups.emplace_back(std::vector<torch::Tensor>{param()}, std::make_unique<AdagradOptions>(0.01));  // lr only
  adaptive::Adagrad quiet(groups, AdagradOptions(0.1).initial_accumulator_value(0.1));
  EXPECT_TRUE(warnings.messages.empty()) << warnings.messages.front();

  groups.emplace_back(std::vector<torch::Tensor>{param()},
                      std::make_unique<AdagradOptions>(AdagradOptions(0.01).initial_accumulator_value(0.5)));
  adaptive::Adagrad warned(groups, AdagradOptions(0.1).initial_accumulator_value(0.1));
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_NE(warnings.messages[0].find("group 2 sets initial_accumulator_value = 0.5"), std::string::npos)
      << warnings.messages[0];
}

// ---- resuming with an LR scheduler -----------------------------------------
// load() restores each group's lr, as PyTorch's load_state_dict and the
// 2.4+ built-ins do. The recipe in docs/options.md: build the optimizer and scheduler,
// step the scheduler once per completed epoch, then load the optimizer.
// Replaying the scheduler *after* the load (the usual recipe with 1.13's
// built-ins, which do not restore lr) decays twice.

TEST(Resume, TheSchedulerRecipeContinuesExactly) {
  const auto run = [](std::vector<torch::Tensor> params, adaptive::Adam& opt, torch::optim::StepLR& schedule,
                      int from, int to) {
    for (int epoch = from; epoch < to; ++epoch) {
      params[0].mutable_grad() = torch::sin(params[0].detach() * 3 + epoch);
      opt.step();
      schedule.step();
    }
  };
  auto straight = param(6);
  adaptive::Adam a({straight}, AdamOptions(0.1));
  torch::optim::StepLR sa(a, /*step_size=*/2, /*gamma=*/0.5);
  run({straight}, a, sa, 0, 7);

  auto first = param(6);
  adaptive::Adam b({first}, AdamOptions(0.1));
  torch::optim::StepLR sb(b, 2, 0.5);
  run({first}, b, sb, 0, 3);
  std::stringstream file;
  torch::save(b, file);

  // The recipe: a new optimizer and scheduler, the scheduler replayed, then load.
  auto resumed = first.detach().clone().requires_grad_();
  adaptive::Adam c({resumed}, AdamOptions(0.1));
  torch::optim::StepLR sc(c, 2, 0.5);
  for (int epoch = 0; epoch < 3; ++epoch) sc.step();
  torch::load(c, file);
  EXPECT_EQ(c.param_groups()[0].options().get_lr(), b.param_groups()[0].options().get_lr());
  run({resumed}, c, sc, 3, 7);
  EXPECT_TRUE(torch::equal(resumed, straight));
  EXPECT_EQ(c.param_groups()[0].options().get_lr(), a.param_groups()[0].options().get_lr());

  // The other order decays twice: lr 0.1 · 0.5 (checkpoint) · 0.5 (replay).
  file.seekg(0);
  adaptive::Adam d({first.detach().clone().requires_grad_()}, AdamOptions(0.1));
  torch::optim::StepLR sd(d, 2, 0.5);
  torch::load(d, file);
  for (int epoch = 0; epoch < 3; ++epoch) sd.step();
  EXPECT_DOUBLE_EQ(d.param_groups()[0].options().get_lr(), 0.025);
}

// ---- a clip_grad_value beyond the dtype's range clamps nothing ------------
// (found by the randomized test) 1e30 for a float16 parameter made ATen
// refuse the conversion part-way through a step, in the value clamp and in
// the clipping norm.
TEST(ClipGradValue, BeyondTheDtypesRangeClampsNothing) {
  for (const auto dtype : {torch::kHalf, torch::kBFloat16}) {
    if (!adaptive::kernels::unsupported_reason(dtype, torch::kCPU).empty()) continue;  // 1.13: refused anyway
    for (const double max_norm : {0.0, 1.0}) {
      auto p = param(4, dtype), q = param(4, dtype);
      adaptive::Adam clipped({p}, AdamOptions(0.1).clip_grad_value(1e30).clip_grad_norm(max_norm));
      adaptive::Adam plain({q}, AdamOptions(0.1).clip_grad_norm(max_norm));
      p.mutable_grad() = torch::full({4}, 3.0).to(dtype);
      q.mutable_grad() = torch::full({4}, 3.0).to(dtype);
      clipped.step();
      plain.step();
      EXPECT_TRUE(torch::equal(p, q)) << dtype << " max_norm " << max_norm;
    }
  }
}

// ---- complex parameters (docs/options.md) -----------------
// Every optimizer of the registry updates a complex parameter as torch.optim
// does, through its real view (torch::view_as_real): bit for bit what it
// does to that view given as a real parameter, with random options (clipping,
// maximize and skip_nonfinite included), beside a real parameter in the same
// group, in float32 and float64, and across a save and load (the state stays
// complex, as torch.optim keeps it; a state that starts at a value v, as
// Adagrad's sums and Rprop's step sizes, starts at v + v·i, as there). Their
// numbers against torch.optim are python_golden_test's complex_* cases.
TEST(Parameters, ComplexParametersStepAsTheirRealView) {
  const auto identical = [](const torch::Tensor& a, const torch::Tensor& b) {
    return a.sizes() == b.sizes() && torch::allclose(a, b, 0.0, 0.0, /*equal_nan=*/true);
  };
  int compared = 0;
  adaptive_test::for_each_optimizer([&](auto entry) {
    // (Those that refuse complex parameters, as their torch.optim namesakes: ComplexParametersAreRefusedByName.)
    if (!adaptive::hooks::takes_complex_parameters<typename decltype(entry)::Optimizer>()) return;
    for (int c = 0; c < 6; ++c) {
      adaptive_test::RandomCase r(900 + 10 * entry.kind + c), twin = r;
      const auto complex_type = c % 2 ? torch::kComplexDouble : torch::kComplexFloat;
      const auto real_type = c % 2 ? torch::kFloat64 : torch::kFloat32;
      torch::manual_seed(c);
      const auto z = torch::randn({5, 3}, complex_type).requires_grad_();
      const auto w = torch::randn({4}, real_type).requires_grad_();
      const auto z_real = torch::view_as_real(z.detach()).clone().requires_grad_();
      const auto w_twin = w.detach().clone().requires_grad_();
      auto complex_opt = adaptive_test::random_optimizer(entry.kind, r, {{z, w}});
      auto real_opt = adaptive_test::random_optimizer(entry.kind, twin, {{z_real, w_twin}});
      const int steps = adaptive_test::steps_to_every_branch(entry.kind) + 1;
      for (int step = 0; step < steps; ++step) {
        const auto gz = torch::randn({5, 3}, complex_type), gw = torch::randn({4}, real_type);
        z.mutable_grad() = gz, w.mutable_grad() = gw;
        z_real.mutable_grad() = torch::view_as_real(gz).clone(), w_twin.mutable_grad() = gw.clone();
        if (step == steps - 1) {  // the rest after a save and load into a fresh optimizer
          std::stringstream file;
          torch::save(*complex_opt, file);
          adaptive_test::RandomCase fresh(1);
          complex_opt = adaptive_test::random_optimizer(entry.kind, fresh, {{z, w}});
          torch::load(*complex_opt, file);
        }
        complex_opt->step();
        real_opt->step();
      }
      const std::string where = std::string(entry.name) + " case " + std::to_string(c);
      ASSERT_TRUE(identical(torch::view_as_real(z.detach()), z_real.detach())) << where;
      ASSERT_TRUE(identical(w, w_twin)) << where;
      ++compared;
    }
  });
  int takes_complex = 0;
  adaptive_test::for_each_optimizer([&](auto entry) {
    takes_complex += adaptive::hooks::takes_complex_parameters<typename decltype(entry)::Optimizer>() ? 1 : 0;
  });
  EXPECT_EQ(compared, 6 * takes_complex);
}

// Those whose torch.optim namesakes refuse complex parameters (Adafactor,
// SparseAdam, Muon) refuse them by name, at construction, before anything is made.
TEST(Parameters, ComplexParametersAreRefusedByNameWhereTorchOptimRefusesThem) {
  int refused = 0;
  adaptive_test::for_each_optimizer([&](auto entry) {
    using Opt = typename decltype(entry)::Optimizer;
    if (adaptive::hooks::takes_complex_parameters<Opt>()) return;
    const auto z = torch::ones({4, 2}, torch::kComplexFloat).requires_grad_();
    EXPECT_ERROR_HAS(Opt({torch::ones(adaptive_test::shape_for<Opt>({3})).requires_grad_(), z}),
                     std::string(Opt::kName) + ": parameter 1 of group 0 has dtype ComplexFloat; " + Opt::kName +
                         " does not support complex parameters");
    ++refused;
  });
  EXPECT_EQ(refused, 3);
}

TEST(Parameters, ComplexParametersWithSparseGradientsAreRefusedByName) {
  auto z = torch::ones({4, 2}, torch::kComplexDouble).requires_grad_();
  adaptive::Adagrad opt({z});
  z.mutable_grad() = torch::ones({4, 2}, torch::kComplexDouble).to_sparse();
  EXPECT_ERROR_HAS(opt.step(), "parameter 0 of group 0 is complex and its gradient sparse");
  EXPECT_TRUE(torch::equal(z, torch::ones({4, 2}, torch::kComplexDouble)));
}

}  // namespace
