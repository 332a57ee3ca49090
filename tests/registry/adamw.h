#pragma once
// adaptive::AdamW's test entry (members: tests/registry/optimizer_info.h).

#include "tests/parity_cases.h"
#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::AdamW> {
  using Options = adaptive::AdamWOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-3, 0.1}))
        .betas(std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.5, 0.9, 0.999})))
        .eps(r.pick({1e-8, 1e-3}))
        .weight_decay(r.pick({0.0, 1e-2, 0.1}))
        .amsgrad(r.coin())
        .bias_correction(r.coin());
  }

  template <class O>
  static O stateful(O o) {
    return o.amsgrad(true);
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"beta0_one", Options().betas(std::make_tuple(1.0, 0.9)),
             "invalid betas[0] = 1 (expected a number in [0, 1))"},
            {"weight_decay_nan", Options().weight_decay(kNaN), "invalid weight_decay = nan"},
            {"clip_grad_value_negative", Options().clip_grad_value(-2), "invalid clip_grad_value = -2"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"amsgrad_clip", Options(5e-3).amsgrad(true).clip_grad_norm(0.1), Options()}};
  }

  struct Config {
    double lr = 5e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
    bool amsgrad = false;
    template <class O>
    O to() const {
      return O(lr).betas(std::make_tuple(beta1, beta2)).eps(eps).weight_decay(weight_decay).amsgrad(amsgrad);
    }
  };

  static ParityCase parity(const std::string& name, std::vector<Config> configs) {
    return parity_case<torch::optim::AdamW, torch::optim::AdamWOptions, adaptive::AdamW>("AdamW", name, configs);
  }

  static std::vector<ParityCase> builtin_parity() {
    std::vector<ParityCase> cases;
    for (bool amsgrad : {false, true})
      for (double wd : {1e-2, 0.0, 0.2})
        for (double eps : {1e-8, 1e-3}) {
          Config k;
          k.amsgrad = amsgrad, k.weight_decay = wd, k.eps = eps;
          cases.push_back(
              parity("amsgrad" + std::to_string(amsgrad) + "_wd" + name_of(wd) + "_eps" + name_of(eps), {k}));
        }
    Config a, b;
    b.lr = 1e-2, b.weight_decay = 0.3, b.beta1 = 0.8, b.amsgrad = true;
    cases.push_back(parity("groups_default_and_strong_decay", {a, b}));
    return cases;
  }
};

}  // namespace adaptive_test
