// adaptive::Muon beyond its numbers (those, against torch.optim.Muon 2.13,
// are python_golden_test's muon_* cases: bit for bit). Muon takes only 2-D
// parameters, so the registry's suites, whose parameters are vectors and
// scalars too, do not walk it; this suite holds it to what they check of
// every other optimizer:
//   - refusals by name before anything changes: a parameter that is not 2-D
//     (at construction, in add_param_group), a complex parameter, a sparse
//     gradient, each bad option, another optimizer's checkpoint;
//   - clipping inside step() equals torch::nn::utils' clipping before it,
//     bit for bit (fused(false): the norm as clip_grad_norm_ takes it);
//     last_grad_norm(); maximize equals the negated gradient;
//   - skip_nonfinite leaves the group, its state and the parameters as they were;
//   - save and load continue a run bit for bit, restoring options;
//   - a bfloat16 matrix without Nesterov leaves its momentum buffer to the
//     momentum update alone (torch.optim divides it in place there);
//   - the recipe: Muon for the hidden weights, AdamW for the rest, learns.

#include "optim/optim.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>

#include <sstream>
#include <string>
#include <vector>

namespace adaptive_test {
namespace {

using adaptive::Muon;
using adaptive::MuonOptions;

#define EXPECT_ERROR_HAS(statement, text)                                  \
  do {                                                                    \
    const std::string what_ = error_of([&] { statement; });               \
    EXPECT_NE(what_.find(text), std::string::npos) << "error: " << what_; \
  } while (0)

// Two matrices, a wide and a tall one (the iteration transposes the tall one).
std::vector<torch::Tensor> matrices(torch::Dtype dtype = torch::kFloat32, uint64_t seed = 0) {
  torch::manual_seed(seed);
  return {torch::randn({4, 6}, dtype).requires_grad_(), torch::randn({7, 3}, dtype).requires_grad_()};
}

void set_grads(const std::vector<torch::Tensor>& params, int step, double scale = 1.0) {
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].mutable_grad() = scale * torch::sin(params[i].detach() * (step + 1) + static_cast<double>(i));
  }
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i].detach(), b[i].detach())) return false;
  }
  return true;
}

// The momentum buffers of `opt` (copies), in parameter order, and its skipped steps.
std::pair<std::vector<torch::Tensor>, int64_t> state_of(const Muon& opt) {
  std::vector<torch::Tensor> buffers;
  for (const auto& group : opt.param_groups()) {
    for (const auto& p : group.params()) {
      const auto found = opt.state().find(adaptive::state_key(p));
      buffers.push_back(found == opt.state().end()
                            ? torch::Tensor()
                            : static_cast<const adaptive::MuonParamState&>(*found->second).momentum_buffer().clone());
    }
  }
  return {buffers, opt.skipped_steps()};
}
bool same_state(const Muon& opt, const std::pair<std::vector<torch::Tensor>, int64_t>& before) {
  const auto now = state_of(opt);
  if (now.second != before.second || now.first.size() != before.first.size()) return false;
  for (size_t i = 0; i < now.first.size(); ++i) {
    if (now.first[i].defined() != before.first[i].defined()) return false;
    if (now.first[i].defined() && !torch::equal(now.first[i], before.first[i])) return false;
  }
  return true;
}

TEST(Muon, RefusesEveryParameterThatIsNotAMatrixByName) {
  const auto bias = torch::zeros({6}).requires_grad_();
  const auto conv = torch::zeros({8, 3, 3, 3}).requires_grad_();
  const std::string advice = "takes only 2-D parameters (matrices), as its torch.optim namesake";
  EXPECT_ERROR_HAS(Muon({matrices()[0], bias}), "adaptive::Muon: parameter 1 of group 0 has shape [6]; adaptive::Muon " + advice);
  EXPECT_ERROR_HAS(Muon({conv}), "adaptive::Muon: parameter 0 of group 0 has shape [8, 3, 3, 3]");
  EXPECT_ERROR_HAS(Muon({torch::zeros({}).requires_grad_()}), "has shape []");
  Muon opt(matrices());
  EXPECT_ERROR_HAS(opt.add_param_group({{bias}}), "parameter 0 of group 1 has shape [6]");
  EXPECT_EQ(opt.param_groups().size(), 1u);
}

TEST(Muon, RefusesComplexParametersAndSparseGradientsByName) {
  EXPECT_ERROR_HAS(Muon({torch::zeros({2, 2}, torch::kComplexFloat).requires_grad_()}),
                   "adaptive::Muon: parameter 0 of group 0 has dtype ComplexFloat; adaptive::Muon does not support "
                   "complex parameters");
  // (Invalid options: validation_test, from the registry entry tests/registry/muon.h.)
  auto params = matrices();
  Muon opt(params);
  set_grads(params, 0);
  const auto before = std::vector<torch::Tensor>{params[0].detach().clone(), params[1].detach().clone()};
  params[1].mutable_grad() = params[1].grad().to_sparse();
  EXPECT_ERROR_HAS(opt.step(), "adaptive::Muon does not support sparse gradients (parameter 1 of group 0)");
  EXPECT_TRUE(same(params, before));
  EXPECT_TRUE(opt.state().empty());
}

TEST(Muon, ClippingInsideStepEqualsTorchClippingBeforeIt) {
  for (const bool by_norm : {false, true}) {
    auto ours = matrices(torch::kFloat64), theirs = matrices(torch::kFloat64);
    Muon clipping(ours, MuonOptions(0.02).clip_grad_value(by_norm ? 0.0 : 0.3).clip_grad_norm(by_norm ? 0.5 : 0.0).fused(false));
    Muon plain(theirs, MuonOptions(0.02).fused(false));
    for (int step = 0; step < 5; ++step) {
      set_grads(ours, step, 3.0);
      set_grads(theirs, step, 3.0);
      const double norm = torch::nn::utils::clip_grad_norm_(theirs, by_norm ? 0.5 : 1e30);
      if (!by_norm) torch::nn::utils::clip_grad_value_(theirs, 0.3);
      clipping.step();
      plain.step();
      if (by_norm) {
        EXPECT_EQ(clipping.last_grad_norm().value(), norm);
      }
    }
    EXPECT_TRUE(same(ours, theirs)) << (by_norm ? "clip_grad_norm" : "clip_grad_value");
  }
}

TEST(Muon, MaximizeEqualsTheNegatedGradient) {
  auto up = matrices(), down = matrices();
  Muon ascending(up, MuonOptions(0.02).maximize(true)), descending(down, MuonOptions(0.02));
  for (int step = 0; step < 4; ++step) {
    set_grads(up, step);
    set_grads(down, step, -1.0);
    ascending.step();
    descending.step();
  }
  EXPECT_TRUE(same(up, down));
}

TEST(Muon, SkipNonfiniteLeavesTheGroupAsItWas) {
  auto params = matrices();
  Muon opt(params, MuonOptions(0.02).skip_nonfinite(true));
  set_grads(params, 0);
  opt.step();
  const auto state = state_of(opt);
  const auto before = std::vector<torch::Tensor>{params[0].detach().clone(), params[1].detach().clone()};
  set_grads(params, 1);
  params[1].mutable_grad()[2][1] = std::numeric_limits<float>::quiet_NaN();
  opt.step();
  EXPECT_EQ(opt.skipped_steps(), 1);
  EXPECT_TRUE(same(params, before));
  EXPECT_TRUE(same_state(opt, {state.first, 1}));
}

TEST(Muon, SaveAndLoadContinueBitForBitRestoringOptions) {
  const auto options = MuonOptions(0.02).momentum(0.9).nesterov(false).ns_steps(4).adjust_lr_fn(std::string("match_rms_adamw"));
  auto straight = matrices(), resumed = matrices();
  Muon uninterrupted(straight, options);
  auto first = std::make_unique<Muon>(resumed, options);
  std::stringstream file;
  for (int step = 0; step < 6; ++step) {
    set_grads(straight, step);
    set_grads(resumed, step);
    uninterrupted.step();
    if (step == 3) {
      torch::save(*first, file);
      first = std::make_unique<Muon>(resumed, MuonOptions());  // other options: load restores them
      torch::load(*first, file);
      EXPECT_TRUE(static_cast<const MuonOptions&>(first->param_groups()[0].options()) == options);
    }
    first->step();
  }
  EXPECT_TRUE(same(straight, resumed));

  // Another optimizer's checkpoint is refused, and changes nothing.
  auto others = matrices();
  adaptive::AdamW adamw(others);
  set_grads(others, 0);
  adamw.step();
  std::stringstream adamw_file;
  torch::save(adamw, adamw_file);
  const auto before = state_of(*first);
  EXPECT_ERROR_HAS(torch::load(*first, adamw_file), "the checkpoint is not this algorithm's");
  EXPECT_TRUE(same_state(*first, before));
  EXPECT_TRUE(static_cast<const MuonOptions&>(first->param_groups()[0].options()) == options);
}

TEST(Muon, ABfloat16MatrixWithoutNesterovKeepsItsMomentumBuffer) {
  auto params = matrices(torch::kBFloat16);
  Muon opt(params, MuonOptions(0.02).nesterov(false).momentum(0.5));
  set_grads(params, 0);
  const auto grad = params[0].grad().clone();
  opt.step();
  const auto& state = static_cast<const adaptive::MuonParamState&>(*opt.state().at(adaptive::state_key(params[0])));
  // B = lerp(0, g, 1 − μ): the iteration's normalization must not divide it.
  EXPECT_TRUE(torch::equal(state.momentum_buffer(), torch::zeros_like(grad).lerp(grad, 0.5)));
}

TEST(Muon, WithAdamWForTheRestLearnsTheRegression) {
  // The recipe: Muon for the hidden weight matrices, AdamW for the biases (two optimizers).
  const Problem problem = make_problem(torch::kFloat32, torch::kCPU);
  auto params = fresh_params(problem);  // W1, b1, W2, b2
  Muon muon({params[0], params[2]}, MuonOptions(0.02));
  adaptive::AdamW adamw({params[1], params[3]}, adaptive::AdamWOptions(1e-2));
  const double initial = mlp_loss(params, problem).item<double>();
  for (int step = 0; step < 200; ++step) {
    muon.zero_grad();
    adamw.zero_grad();
    mlp_loss(params, problem).backward();
    muon.step();
    adamw.step();
  }
  const double final_loss = mlp_loss(params, problem).item<double>();
  EXPECT_LT(final_loss, 0.2 * initial) << initial << " -> " << final_loss;
}

}  // namespace
}  // namespace adaptive_test
