#pragma once
// adaptive::RMSprop's test entry (members: tests/registry/optimizer_info.h).

#include "tests/parity_cases.h"
#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::RMSprop> {
  using Options = adaptive::RMSpropOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-3, 0.1}))
        .alpha(r.pick({0.0, 0.9, 0.99}))
        .eps(r.pick({1e-8, 0.0}))
        .weight_decay(r.pick({0.0, 0.1}))
        .momentum(r.pick({0.0, 0.9}))
        .centered(r.coin())
        .bias_correction(r.coin());
  }

  template <class O>
  static O stateful(O o) {
    return o.centered(true).momentum(0.5);
  }

  // Centered with α = 0 or ε = 0: √(ŝ − ḡ²) takes the root of a difference
  // that is 0 in exact arithmetic, so its rounding alone decides between 0, a
  // tiny root and NaN.
  static bool ill_conditioned(const Options& o) { return o.centered() && (o.eps() == 0 || o.alpha() == 0); }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-1), "invalid lr = -1"},
            {"eps_negative", Options().eps(-1), "invalid eps = -1"},
            {"momentum_negative", Options().momentum(-0.9), "invalid momentum = -0.9"},
            {"weight_decay_inf", Options().weight_decay(kInf), "invalid weight_decay = inf"},
            {"alpha_negative", Options().alpha(-0.1), "invalid alpha = -0.1 (expected a number in [0, 1])"},
            {"alpha_above_one", Options().alpha(1.01), "invalid alpha = 1.01"},
            {"alpha_one_with_bias_correction", Options().alpha(1.0).bias_correction(true),
             "invalid alpha = 1 (expected a number in [0, 1))"},
            {"clip_grad_value_nan", Options().clip_grad_value(kNaN), "invalid clip_grad_value = nan"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"centered_momentum_bias_correction", Options(1e-3).centered(true).momentum(0.9).bias_correction(true),
             Options()},
            {"clip", Options(2e-3).clip_grad_norm(0.05), Options()}};
  }

  struct Config {
    double lr = 2e-3, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
    bool centered = false;
    template <class O>
    O to() const {
      return O(lr).alpha(alpha).eps(eps).weight_decay(weight_decay).momentum(momentum).centered(centered);
    }
  };

  static ParityCase parity(const std::string& name, std::vector<Config> configs) {
    return parity_case<torch::optim::RMSprop, torch::optim::RMSpropOptions, adaptive::RMSprop>("RMSprop", name,
                                                                                                 configs);
  }

  static std::vector<ParityCase> builtin_parity() {
    std::vector<ParityCase> cases;
    for (bool centered : {false, true})
      for (double momentum : {0.0, 0.9})
        for (double wd : {0.0, 0.05})
          for (double alpha : {0.99, 0.9})
            for (double eps : {1e-8, 1e-4}) {
              Config k;
              k.centered = centered, k.momentum = momentum, k.weight_decay = wd, k.alpha = alpha, k.eps = eps;
              cases.push_back(parity("centered" + std::to_string(centered) + "_mom" + name_of(momentum) + "_wd" +
                                         name_of(wd) + "_alpha" + name_of(alpha) + "_eps" + name_of(eps),
                                     {k}));
            }
    Config a, b;
    b.lr = 5e-3, b.centered = true, b.momentum = 0.5, b.alpha = 0.95;
    cases.push_back(parity("groups_plain_and_centered_momentum", {a, b}));
    return cases;
  }
};

}  // namespace adaptive_test
