#pragma once
// adaptive::RAdam's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::RAdam> {
  using Options = adaptive::RAdamOptions;
  // With β2 = 0.999 the rectified branch starts at step 6.
  static constexpr int kStepsToEveryBranch = 8;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-3, 0.1}))
        .betas(std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.5, 0.9, 0.999})))
        .eps(r.pick({1e-8, 1e-3}))
        .weight_decay(r.pick({0.0, 0.1}))
        .decoupled_weight_decay(r.coin());
  }

  // Its state (step and both moments) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_inf", Options(kInf), "invalid lr = inf"},
            {"beta0_negative", Options().betas(std::make_tuple(-0.5, 0.9)), "invalid betas[0] = -0.5"},
            {"weight_decay_negative", Options().weight_decay(-1), "invalid weight_decay = -1"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"weight_decay_clip", Options(5e-3).weight_decay(0.05).clip_grad_norm(0.1), Options()}};
  }
};

}  // namespace adaptive_test
