#pragma once
// adaptive::SparseAdam's test entry (members: tests/registry/optimizer_info.h).
// It takes only sparse gradients: the suites make them with gradient_for.

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::SparseAdam> {
  using Options = adaptive::SparseAdamOptions;
  static constexpr int kStepsToEveryBranch = 2;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-3, 0.1}))
        .betas(std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.5, 0.999})))
        .eps(r.pick({1e-8, 1e-3}));
  }

  // Its state (step, exp_avg, exp_avg_sq) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  // Adam's arithmetic on the entries held, with β2 > 0 (random() draws no
  // β2 = 0, which would make the step lr·m̂/(|g| + ε)).
  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_zero", Options(0.0), "invalid lr = 0 (expected a finite number > 0)"},
            {"lr_negative", Options(-1e-3), "invalid lr = -0.001 (expected a finite number > 0)"},
            {"eps_zero", Options().eps(0), "invalid eps = 0 (expected a finite number > 0)"},
            {"beta0_one", Options().betas(std::make_tuple(1.0, 0.999)),
             "invalid betas[0] = 1 (expected a number in [0, 1))"},
            {"beta1_negative", Options().betas(std::make_tuple(0.9, -0.1)), "invalid betas[1] = -0.1"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"betas_eps", Options(0.05).betas(std::make_tuple(0.5, 0.9)).eps(1e-3), Options()},
            {"clip_maximize", Options(1e-2).clip_grad_value(0.01).maximize(true), Options()}};
  }
};

}  // namespace adaptive_test
