#pragma once
// adaptive::Adamax's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Adamax> {
  using Options = adaptive::AdamaxOptions;
  static constexpr int kStepsToEveryBranch = 2;

  static Options random(RandomCase& r) {
    return Options(r.pick({2e-3, 0.1}))
        .betas(std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.0, 0.5, 0.999})))
        .eps(r.pick({1e-8, 1e-3}))
        .weight_decay(r.pick({0.0, 0.1}))
        .bias_correction(r.coin());
  }

  // Its state (step, m, u) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  // β2 = 0 makes u = |g| + ε: the step is lr·m/(|g| + ε), which for a
  // gradient element near 0 turns its last-bit rounding into a step of ±lr
  // (with β1 = 0, sign descent). Layouts that round float16/bfloat16 apart
  // then part by whole steps (0.7 relative seen in bfloat16).
  static bool ill_conditioned(const Options& o) { return std::get<1>(o.betas()) == 0; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"beta0_one", Options().betas(std::make_tuple(1.0, 0.999)),
             "invalid betas[0] = 1 (expected a number in [0, 1))"},
            {"beta1_negative", Options().betas(std::make_tuple(0.9, -0.5)),
             "invalid betas[1] = -0.5 (expected a number in [0, 1))"},
            {"eps_negative", Options().eps(-1e-8), "invalid eps = -1e-08"},
            {"weight_decay_nan", Options().weight_decay(kNaN), "invalid weight_decay = nan"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"weight_decay_no_bias_correction", Options(5e-3).weight_decay(0.1).bias_correction(false), Options()},
            {"clip_maximize", Options(2e-3).clip_grad_value(0.01).maximize(true), Options()}};
  }
};

}  // namespace adaptive_test
