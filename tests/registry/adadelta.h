#pragma once
// adaptive::Adadelta's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Adadelta> {
  using Options = adaptive::AdadeltaOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1.0, 0.1}))
        .rho(r.pick({0.9, 0.0, 1.0}))
        .eps(r.pick({1e-6, 1e-3}))
        .weight_decay(r.pick({0.0, 0.1}));
  }

  // Its state (step and both accumulators) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-1), "invalid lr = -1"},
            {"rho_above_one", Options().rho(1.5), "invalid rho = 1.5 (expected a number in [0, 1])"},
            {"eps_negative", Options().eps(-1e-6), "invalid eps = -1e-06"},
            {"clip_grad_value_nan", Options().clip_grad_value(kNaN), "invalid clip_grad_value = nan"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"rho_eps", Options(0.5).rho(0.95).eps(1e-4), Options()}};
  }
};

}  // namespace adaptive_test
