#pragma once
// adaptive::Muon's test entry (members: tests/registry/optimizer_info.h). It
// takes only matrices: the suites shape its parameters with shape_for.

#include "tests/registry/optimizer_info.h"

#include <string>

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Muon> {
  using Options = adaptive::MuonOptions;
  // Every branch (Nesterov or not, each adjust_lr_fn) from the first step on.
  static constexpr int kStepsToEveryBranch = 1;

  static Options random(RandomCase& r) {
    const int adjust = static_cast<int>(r.rng() % 3);
    return Options(r.pick({1e-3, 0.02}))
        .weight_decay(r.pick({0.0, 0.1}))
        .momentum(r.pick({0.0, 0.9, 0.95}))
        .nesterov(r.coin())
        .ns_steps(r.pick<int64_t>({0, 1, 5}))
        .eps(r.pick({1e-7, 1e-3}))
        .adjust_lr_fn(adjust == 0 ? c10::optional<std::string>() : c10::optional<std::string>(
                                                                         adjust == 1 ? "original" : "match_rms_adamw"));
  }

  // Its state (the momentum buffer) does not depend on options.
  template <class O>
  static O stateful(O o) {
    return o;
  }

  // The Newton–Schulz iterations run in bfloat16 (8 significant bits): two
  // correct evaluations that round one input apart may part by 2^-8 of an
  // element at each step, whatever the options.
  static bool ill_conditioned(const Options&) { return true; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-1.0), "invalid lr = -1"},
            {"weight_decay_negative", Options().weight_decay(-0.1), "invalid weight_decay = -0.1"},
            {"momentum_nan", Options().momentum(kNaN), "invalid momentum = nan"},
            {"eps_negative", Options().eps(-1e-7), "invalid eps = -1e-07"},
            {"ns_coefficients_inf", Options().ns_coefficients(std::make_tuple(3.4, kInf, 2.0)),
             "invalid ns_coefficients = (3.4, inf, 2) (expected finite numbers)"},
            {"ns_steps_100", Options().ns_steps(100), "invalid ns_steps = 100 (expected a whole number in [0, 100))"},
            {"ns_steps_negative", Options().ns_steps(-1), "invalid ns_steps = -1"},
            {"adjust_lr_fn_unknown", Options().adjust_lr_fn(std::string("rms")),
             "invalid adjust_lr_fn = \"rms\" (expected none, \"original\" or \"match_rms_adamw\")"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"no_nesterov_weight_decay_match_rms", Options(0.02).nesterov(false).weight_decay(0.1).adjust_lr_fn(
                                                       std::string("match_rms_adamw")),
             Options()},
            {"coefficients_steps_clip_maximize",
             Options().ns_coefficients(std::make_tuple(2.0, -1.5, 0.5)).ns_steps(3).clip_grad_value(0.01).maximize(true),
             Options()}};
  }
};

}  // namespace adaptive_test
