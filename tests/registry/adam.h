#pragma once
// adaptive::Adam's test entry (members: tests/registry/optimizer_info.h).

#include "tests/parity_cases.h"
#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Adam> {
  using Options = adaptive::AdamOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-3, 0.1}))
        .betas(std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.5, 0.9, 0.999})))
        .eps(r.pick({1e-8, 0.0, 1e-3}))
        .weight_decay(r.pick({0.0, 0.1}))
        .amsgrad(r.coin())
        .bias_correction(r.coin())
        .decoupled_weight_decay(r.coin());
  }

  template <class O>
  static O stateful(O o) {
    return o.amsgrad(true);
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"lr_nan", Options(kNaN), "invalid lr = nan"},
            {"lr_inf", Options(kInf), "invalid lr = inf"},
            {"eps_negative", Options().eps(-1e-8), "invalid eps = -1e-08"},
            {"beta0_one", Options().betas(std::make_tuple(1.0, 0.9)),
             "invalid betas[0] = 1 (expected a number in [0, 1))"},
            {"beta0_negative", Options().betas(std::make_tuple(-0.5, 0.9)), "invalid betas[0] = -0.5"},
            {"beta1_above", Options().betas(std::make_tuple(0.9, 1.5)), "invalid betas[1] = 1.5"},
            {"beta1_nan", Options().betas(std::make_tuple(0.9, kNaN)), "invalid betas[1] = nan"},
            {"weight_decay_negative", Options().weight_decay(-0.01), "invalid weight_decay = -0.01"},
            {"clip_grad_norm_negative", Options().clip_grad_norm(-1), "invalid clip_grad_norm = -1"},
            {"clip_grad_norm_nan", Options().clip_grad_norm(kNaN), "invalid clip_grad_norm = nan"},
            {"clip_grad_value_negative", Options().clip_grad_value(-2), "invalid clip_grad_value = -2"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"amsgrad_clip", Options(5e-3).amsgrad(true).clip_grad_norm(0.1), Options()},
            {"no_bias_correction_value_clip", Options(1e-3).bias_correction(false).clip_grad_value(0.02), Options()},
            {"decoupled_weight_decay", Options(5e-3).decoupled_weight_decay(true).weight_decay(0.1), Options()}};
  }

  // One grid point; decoupled: the built-in side is torch::optim::AdamW.
  struct Config {
    double lr = 5e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
    bool amsgrad = false, decoupled = false;
    template <class O>
    O to() const {
      O o = O(lr).betas(std::make_tuple(beta1, beta2)).eps(eps).weight_decay(weight_decay).amsgrad(amsgrad);
      if constexpr (std::is_same_v<O, Options>) o.decoupled_weight_decay(decoupled);
      return o;
    }
  };

  static ParityCase parity(const std::string& name, std::vector<Config> configs) {
    if (configs[0].decoupled) {
      return parity_case<torch::optim::AdamW, torch::optim::AdamWOptions, adaptive::Adam>("Adam", name, configs);
    }
    return parity_case<torch::optim::Adam, torch::optim::AdamOptions, adaptive::Adam>("Adam", name, configs);
  }

  static std::vector<ParityCase> builtin_parity() {
    std::vector<ParityCase> cases;
    for (bool amsgrad : {false, true})
      for (double wd : {0.0, 0.05})
        for (double eps : {1e-8, 1e-3})
          for (auto betas : {std::make_pair(0.9, 0.999), std::make_pair(0.8, 0.95)}) {
            Config k;
            k.amsgrad = amsgrad, k.weight_decay = wd, k.eps = eps, k.beta1 = betas.first, k.beta2 = betas.second;
            cases.push_back(parity("amsgrad" + std::to_string(amsgrad) + "_wd" + name_of(wd) + "_eps" + name_of(eps) +
                                       "_b" + name_of(betas.first) + "_" + name_of(betas.second),
                                   {k}));
          }
    for (bool amsgrad : {false, true})
      for (double wd : {0.01, 0.2}) {
        Config k;
        k.decoupled = true, k.amsgrad = amsgrad, k.weight_decay = wd;
        cases.push_back(parity("AdamW_amsgrad" + std::to_string(amsgrad) + "_wd" + name_of(wd), {k}));
      }
    Config a, b;
    b.lr = 1e-2, b.amsgrad = true, b.weight_decay = 0.1, b.beta1 = 0.7;
    cases.push_back(parity("groups_plain_and_amsgrad_wd", {a, b}));
    Config w1, w2;
    w1.decoupled = w2.decoupled = true;
    w1.weight_decay = 0.3, w2.weight_decay = 0.0, w2.eps = 1e-4;
    cases.push_back(parity("AdamW_groups", {w1, w2}));
    return cases;
  }
};

}  // namespace adaptive_test
