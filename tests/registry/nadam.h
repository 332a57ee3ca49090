#pragma once
// adaptive::NAdam's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::NAdam> {
  using Options = adaptive::NAdamOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({2e-3, 0.1}))
        .betas(std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.5, 0.9, 0.999})))
        .eps(r.pick({1e-8, 1e-3}))
        .weight_decay(r.pick({0.0, 0.1}))
        .momentum_decay(r.pick({4e-3, 0.0, 0.5}))
        .decoupled_weight_decay(r.coin());
  }

  // Its state (step, μ product, both moments) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"beta1_one", Options().betas(std::make_tuple(0.9, 1.0)),
             "invalid betas[1] = 1 (expected a number in [0, 1))"},
            {"momentum_decay_negative", Options().momentum_decay(-4e-3), "invalid momentum_decay = -0.004"},
            {"eps_nan", Options().eps(kNaN), "invalid eps = nan"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"decoupled_momentum_decay",
             Options(5e-3).momentum_decay(0.01).decoupled_weight_decay(true).weight_decay(0.1), Options()}};
  }
};

}  // namespace adaptive_test
