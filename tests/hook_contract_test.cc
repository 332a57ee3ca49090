// The optimizer contract of optim/core/hooks.h, from an optimizer's side:
// HookedSGD is SGD rebuilt outside the library from its hooks, listing its
// optional ones (keeps_state, begin_step) in kOptionalHooks.
//
// As a test (ADAPTIVE_HOOK_CASE unset or 0) it must compile and step exactly
// as adaptive::SGD: the shell calls the hooks it lists. tests/CMakeLists.txt
// also compiles it with each mistake below, and checks that the compiler
// refuses it with the contract's message (a negative-compile test):
//   1  keeps_state misspelled (keep_state) but listed: it would otherwise
//      silently fall back to "always keeps state";
//   2  begin_step defined but not listed: the shell would not call it.

#include "optim/core/optimizer_base_impl.h"  // HookedSGD's shell: it is not one of the library's instances
#include "optim/optim.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <vector>

#ifndef ADAPTIVE_HOOK_CASE
#define ADAPTIVE_HOOK_CASE 0
#endif

namespace {

using adaptive::SGD;
using adaptive::SGDOptions;
using adaptive::SGDParamState;

class HookedSGD : public adaptive::OptimizerBase<HookedSGD, SGDOptions, SGDParamState> {
 public:
  static constexpr const char* kName = "HookedSGD";
  using Rule = adaptive::SGDRule;
  using OptimizerBase::OptimizerBase;

#if ADAPTIVE_HOOK_CASE == 2
  static constexpr unsigned kOptionalHooks = adaptive::hooks::kKeepsState;
#else
  static constexpr unsigned kOptionalHooks = adaptive::hooks::kKeepsState | adaptive::hooks::kBeginStep;
#endif

#if ADAPTIVE_HOOK_CASE == 1
  static bool keep_state(const SGDOptions& options) { return SGD::keeps_state(options); }
#else
  static bool keeps_state(const SGDOptions& options) { return SGD::keeps_state(options); }
#endif
  static int64_t begin_step(SGDParamState& state, const torch::Tensor& param, const SGDOptions& options) {
    return SGD::begin_step(state, param, options);
  }

  static void validate(const SGDOptions& options) { SGD::validate(options); }
  static void init_state(SGDParamState& state, const torch::Tensor& param, const SGDOptions& options) {
    SGD::init_state(state, param, options);
  }
  static auto state_tensors(const SGDParamState& state) { return SGD::state_tensors(state); }
  template <class S>
  static auto scalars(const SGDOptions& options, const SGDParamState& state,
                      adaptive::GradientScalars<double> gradient) {
    return SGD::scalars<S>(options, state, gradient);
  }
};

// Steps `Optimizer` with `options` on the same gradients as every other call:
// the parameters after 5 steps, and how many parameters hold state.
template <class Optimizer>
std::pair<torch::Tensor, size_t> five_steps(const SGDOptions& options, bool fused) {
  torch::manual_seed(0);
  auto w = torch::randn({37}, torch::kFloat32).requires_grad_();
  Optimizer optimizer({w}, SGDOptions(options).fused(fused));
  for (int i = 0; i < 5; ++i) {
    w.mutable_grad() = torch::randn({37}, torch::kFloat32);
    optimizer.step();
  }
  return {w.detach().clone(), optimizer.state().size()};
}

TEST(HookContract, ListedHooksRunOnEveryDriver) {
  for (const bool fused : {true, false}) {
    SCOPED_TRACE(fused ? "fused CPU driver" : "reference driver");
    // begin_step makes the momentum buffer at the first step: the steps equal SGD's.
    const auto with = five_steps<HookedSGD>(SGDOptions(0.1).momentum(0.9).nesterov(true), fused);
    const auto expected = five_steps<SGD>(SGDOptions(0.1).momentum(0.9).nesterov(true), fused);
    EXPECT_TRUE(torch::equal(with.first, expected.first));
    EXPECT_EQ(with.second, 1u);
    // keeps_state says no state without momentum: none is made, as in SGD.
    const auto without = five_steps<HookedSGD>(SGDOptions(0.1), fused);
    EXPECT_TRUE(torch::equal(without.first, five_steps<SGD>(SGDOptions(0.1), fused).first));
    EXPECT_EQ(without.second, 0u);
  }
}

TEST(HookContract, OptionalHooksAreReadFromTheList) {
  static_assert(adaptive::hooks::lists<HookedSGD>(adaptive::hooks::kBeginStep));
  static_assert(!adaptive::hooks::takes_sparse_gradients<HookedSGD>());
  static_assert(adaptive::hooks::takes_sparse_gradients<adaptive::Adagrad>());
  static_assert(adaptive::hooks::listed<adaptive::Adam> == 0u);
  SUCCEED();
}

}  // namespace
