// In-step gradient clipping against the built-in optimizers preceded by
// torch::nn::utils::clip_grad_value_ / clip_grad_norm_, as users write it
// today.
//
// Reference driver: it computes the norm and the coefficient with the same ops
// as clip_grad_norm_, so the expected difference is 0.
// Fused driver: its global norm is one pass accumulated in double (a float
// reduction per tensor would cost one ATen call per tensor); it differs from
// clip_grad_norm_'s float32 reduction by that reduction's rounding (~1e-7
// relative). Over 200 float64 steps that stays below 1e-10; in float32 such
// a difference grows chaotically, so float32 is compared over one step.

#include "tests/parity_cases.h"
#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/nn/utils/clip_grad.h>

namespace adaptive_test {
namespace {

void set_clipping(torch::optim::OptimizerOptions& o, double max_norm, double max_value) {
  with_adaptive_options(o, [&](auto& opts) { opts.clip_grad_norm(max_norm).clip_grad_value(max_value); });
}

ParityCase two_group_case(const std::string& optimizer) {
  for (const auto& c : builtin_parity_cases())
    if (c.optimizer == optimizer && c.group_count == 2) return c;
  throw std::runtime_error("no two-group case for " + optimizer);
}

struct ClipParam {
  std::string optimizer;
  torch::Dtype dtype;
  double max_norm, max_value;
  bool fused;
};

void PrintTo(const ClipParam& p, std::ostream* os) {
  *os << p.optimizer << " norm=" << p.max_norm << " value=" << p.max_value << (p.fused ? " fused" : " reference");
}

class ClipParity : public ::testing::TestWithParam<ClipParam> {};

TEST_P(ClipParity, MatchesBuiltinWithClipUtilities) {
  const ClipParam& cp = GetParam();
  const ParityCase c = two_group_case(cp.optimizer);
  const Problem problem = make_problem(cp.dtype, torch::kCPU, 7);
  auto bp = fresh_params(problem), op = fresh_params(problem);
  auto builtin = c.builtin({{bp[0], bp[1]}, {bp[2], bp[3]}});
  auto ours = c.ours({{op[0], op[1]}, {op[2], op[3]}});
  for (auto& g : ours->param_groups()) set_clipping(g.options(), cp.max_norm, cp.max_value);
  set_fused(*ours, cp.fused);

  // Fused norm clipping in float32: one step (see the top of this file).
  const bool one_step = cp.fused && cp.max_norm > 0 && cp.dtype == torch::kFloat32;
  const int steps = one_step ? 1 : 200;
  int clipped_steps = 0;
  train(*builtin, bp, problem, steps, [&] {
    if (cp.max_value > 0) torch::nn::utils::clip_grad_value_(bp, cp.max_value);
    if (cp.max_norm > 0) clipped_steps += torch::nn::utils::clip_grad_norm_(bp, cp.max_norm) > cp.max_norm;
  });
  train(*ours, op, problem, steps);
  if (cp.max_norm > 0) {
    EXPECT_GE(clipped_steps, one_step ? 1 : 10) << "norm clipping barely engaged: the test would prove little";
  }
  const double tolerance = !cp.fused || cp.max_norm == 0 ? 0.0 : (one_step ? 1e-6 : 1e-10);
  EXPECT_LE(max_relative_diff(op, bp), tolerance);
}

std::vector<ClipParam> clip_params() {
  std::vector<ClipParam> out;
  // Every optimizer of optim/optimizers.h that torch::optim has too (the
  // others' clipping is compared with torch.optim: python_golden_test).
  std::vector<std::string> with_builtin;
  for_each_optimizer([&](auto entry) {
    if (!std::is_void_v<typename decltype(entry)::Optimizer::Builtin>) with_builtin.push_back(entry.name);
  });
  for (const std::string& opt : with_builtin)
    for (auto dtype : {torch::kFloat64, torch::kFloat32})
      for (bool fused : {false, true}) {
        out.push_back({opt, dtype, 0.05, 0, fused});     // norm only
        out.push_back({opt, dtype, 0, 0.01, fused});     // value only
        out.push_back({opt, dtype, 0.05, 0.02, fused});  // value first, then norm
      }
  return out;
}

INSTANTIATE_TEST_SUITE_P(All, ClipParity, ::testing::ValuesIn(clip_params()));

// Each group may have its own max_norm; all of them use the global norm.
TEST(Clipping, PerGroupMaxNormUsesTheGlobalNorm) {
  const ParityCase c = two_group_case("Adam");
  const Problem problem = make_problem(torch::kFloat64, torch::kCPU, 3);
  auto bp = fresh_params(problem), op = fresh_params(problem);
  auto builtin = c.builtin({{bp[0], bp[1]}, {bp[2], bp[3]}});
  auto ours = c.ours({{op[0], op[1]}, {op[2], op[3]}});
  set_fused(*ours, false);
  set_clipping(ours->param_groups()[0].options(), 0.02, 0);
  set_clipping(ours->param_groups()[1].options(), 0, 0);  // group 1 not clipped
  train(*builtin, bp, problem, 100, [&] {
    // Formula: coefficient min(1, 0.02 / (‖g‖ + 1e-6)), ‖g‖ over both groups.
    std::vector<torch::Tensor> norms;
    for (const auto& p : bp) norms.push_back(p.grad().norm());
    const double total = torch::stack(norms).norm().item<double>();
    const double coef = std::min(1.0, 0.02 / (total + 1e-6));
    bp[0].grad().mul_(coef);
    bp[1].grad().mul_(coef);
  });
  train(*ours, op, problem, 100);
  EXPECT_LE(max_relative_diff(op, bp), 1e-13);
}

TEST(Clipping, FusedAndReferenceNormsAgree) {
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const Problem problem = make_problem(dtype, torch::kCPU, 4);
    auto a = fresh_params(problem), b = fresh_params(problem);
    adaptive::Adam fused(a, adaptive::AdamOptions().clip_grad_norm(1e-3).clip_grad_value(0.01));
    adaptive::Adam reference(b, adaptive::AdamOptions().clip_grad_norm(1e-3).clip_grad_value(0.01).fused(false));
    train(fused, a, problem, 1);
    train(reference, b, problem, 1);
    EXPECT_NEAR(*fused.last_grad_norm(), *reference.last_grad_norm(), 1e-6 * *reference.last_grad_norm());
  }
}

TEST(Clipping, GradientsAreLeftUntouchedAndThePreClipNormIsReadable) {
  const Problem problem = make_problem(torch::kFloat64, torch::kCPU, 1);
  auto params = fresh_params(problem);
  adaptive::Adam opt(params, adaptive::AdamOptions(1e-2).clip_grad_norm(0.01).clip_grad_value(0.05));
  EXPECT_FALSE(opt.last_grad_norm().has_value());
  mlp_loss(params, problem).backward();
  std::vector<torch::Tensor> before, norms;
  for (const auto& p : params) before.push_back(p.grad().clone());
  for (const auto& g : before) norms.push_back(g.norm());
  const double expected = torch::stack(norms).norm().item<double>();
  opt.step();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::equal(params[i].grad(), before[i]));
  ASSERT_TRUE(opt.last_grad_norm().has_value());
  EXPECT_DOUBLE_EQ(*opt.last_grad_norm(), expected);
  EXPECT_GT(expected, 0.05) << "the raw norm must exceed what value clipping would leave";
}

TEST(Clipping, NoNormIsReportedWhenNormClippingIsOff) {
  const Problem problem = make_problem(torch::kFloat64, torch::kCPU, 1);
  auto params = fresh_params(problem);
  adaptive::RMSprop opt(params, adaptive::RMSpropOptions().clip_grad_value(0.1));
  mlp_loss(params, problem).backward();
  opt.step();
  EXPECT_FALSE(opt.last_grad_norm().has_value());
}

}  // namespace
}  // namespace adaptive_test
