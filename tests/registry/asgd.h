#pragma once
// adaptive::ASGD's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::ASGD> {
  using Options = adaptive::ASGDOptions;
  // With t0 = 0, μ = 1/2 first at step 3: the averaging branch.
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-2, 1e-3}))
        .lambd(r.pick({1e-4, 0.1}))
        .alpha(r.pick({0.75, 0.5}))
        .t0(r.pick({1e6, 0.0, 1.0}))
        .weight_decay(r.pick({0.0, 0.1}));
  }

  // Its state (step, η, μ, ax) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"lambd_negative", Options().lambd(-1e-4), "invalid lambd = -0.0001 (expected a finite number >= 0)"},
            {"alpha_inf", Options().alpha(kInf), "invalid alpha = inf (expected a finite number)"},
            {"t0_nan", Options().t0(kNaN), "invalid t0 = nan"},
            {"weight_decay_negative", Options().weight_decay(-0.1), "invalid weight_decay = -0.1"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"averaging", Options(5e-3).lambd(0.01).t0(0).weight_decay(0.05), Options()},
            {"clip_maximize", Options(1e-3).clip_grad_value(0.01).maximize(true).t0(1), Options()}};
  }
};

}  // namespace adaptive_test
