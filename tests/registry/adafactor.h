#pragma once
// adaptive::Adafactor's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Adafactor> {
  using Options = adaptive::AdafactorOptions;
  // ρ = min(lr, 1/√t) takes 1/√t from t = 5 on with lr = 0.5.
  static constexpr int kStepsToEveryBranch = 5;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-2, 0.5}))
        .beta2_decay(r.pick({-0.8, -0.5, 0.0}))
        .eps(std::make_tuple(r.coin() ? c10::optional<double>() : c10::optional<double>(1e-20), r.pick({1e-3, 0.0})))
        .d(r.pick({1.0, 1.5}))
        .weight_decay(r.pick({0.0, 0.1}));
  }

  // Its state (step; row_var and col_var, or variance) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  // The step is clipped to RMS d by max(1, RMS(U)/d) and scaled by RMS(θ):
  // both continuous, so two layouts that round apart stay close.
  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"beta2_decay_positive", Options().beta2_decay(0.5),
             "invalid beta2_decay = 0.5 (expected a finite number <= 0)"},
            {"eps1_negative", Options().eps(std::make_tuple(c10::optional<double>(-1.0), 1e-3)),
             "invalid eps[0] = -1"},
            {"eps2_nan", Options().eps(std::make_tuple(c10::optional<double>(), kNaN)), "invalid eps[1] = nan"},
            {"d_below_one", Options().d(0.5), "invalid d = 0.5 (expected a finite number >= 1)"},
            {"weight_decay_negative", Options().weight_decay(-1.0), "invalid weight_decay = -1"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"weight_decay_d", Options(0.5).weight_decay(0.1).d(1.5), Options()},
            {"eps_clip_maximize",
             Options().eps(std::make_tuple(c10::optional<double>(1e-20), 1e-3)).clip_grad_value(0.01).maximize(true),
             Options()}};
  }
};

}  // namespace adaptive_test
