#pragma once
// adaptive::Rprop's test entry (members: tests/registry/optimizer_info.h).

#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Rprop> {
  using Options = adaptive::RpropOptions;
  // Step 1 meets g_prev = 0 (factor 1); step 2 a kept or flipped sign; step 3
  // a zeroed g_prev after a flip.
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-2, 1e-3}))
        .etas(std::make_tuple(r.pick({0.5, 0.3}), r.pick({1.2, 2.0})))
        .step_sizes(std::make_tuple(r.pick({1e-6, 1e-3}), r.pick({50.0, 0.02})));
  }

  // Its state (step, g_prev, Δ) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"etaminus_one", Options().etas(std::make_tuple(1.0, 1.2)),
             "invalid etas = (1, 1.2) (expected 0 < etas[0] < 1 < etas[1], finite)"},
            {"etaplus_below_one", Options().etas(std::make_tuple(0.5, 0.9)), "invalid etas = (0.5, 0.9)"},
            {"etaminus_nan", Options().etas(std::make_tuple(kNaN, 1.2)), "invalid etas = (nan, 1.2)"},
            {"step_sizes_reversed", Options().step_sizes(std::make_tuple(1.0, 1e-3)),
             "invalid step_sizes = (1, 0.001) (expected 0 <= step_sizes[0] <= step_sizes[1])"},
            {"step_size_min_negative", Options().step_sizes(std::make_tuple(-1e-6, 50.0)),
             "invalid step_sizes = (-1e-06, 50)"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"etas_step_sizes", Options(5e-3).etas(std::make_tuple(0.3, 1.5)).step_sizes(std::make_tuple(1e-4, 0.1)),
             Options()},
            {"clip_maximize", Options(1e-3).clip_grad_norm(0.05).maximize(true), Options()}};
  }
};

}  // namespace adaptive_test
