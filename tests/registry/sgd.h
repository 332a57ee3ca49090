#pragma once
// adaptive::SGD's test entry (members: tests/registry/optimizer_info.h).

#include "tests/parity_cases.h"
#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::SGD> {
  using Options = adaptive::SGDOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    const double momentum = r.pick({0.0, 0.9}), dampening = r.pick({0.0, 0.5});
    return Options(r.pick({1e-2, 0.5}))
        .momentum(momentum)
        .dampening(dampening)
        .weight_decay(r.pick({0.0, 0.1}))
        .nesterov(momentum > 0 && dampening == 0 && r.coin());
  }

  template <class O>
  static O stateful(O o) {
    return o.momentum(0.5).nesterov(true);
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.1), "invalid lr = -0.1"},
            {"momentum_negative", Options().momentum(-0.9), "invalid momentum = -0.9"},
            {"dampening_above_one", Options().dampening(1.5), "invalid dampening = 1.5 (expected a number in [0, 1])"},
            {"weight_decay_nan", Options().weight_decay(kNaN), "invalid weight_decay = nan"},
            {"nesterov_without_momentum", Options().nesterov(true),
             "invalid nesterov = true with momentum = 0 and dampening = 0 (Nesterov momentum needs momentum > 0 and "
             "dampening = 0)"},
            {"nesterov_with_dampening", Options().momentum(0.9).dampening(0.1).nesterov(true),
             "invalid nesterov = true with momentum = 0.9 and dampening = 0.1"},
            {"clip_grad_norm_negative", Options().clip_grad_norm(-1), "invalid clip_grad_norm = -1"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"nesterov_clip", Options(2e-2).momentum(0.9).nesterov(true).clip_grad_norm(0.1), Options()},
            {"dampening_weight_decay", Options(2e-2).momentum(0.5).dampening(0.2).weight_decay(0.01), Options()},
            // No state to save: load must leave the resumed optimizer without any.
            {"without_momentum_no_state", Options(2e-2), Options(0.5).momentum(0.9)}};
  }

  struct Config {
    double lr = 2e-2, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
    template <class O>
    O to() const {
      return O(lr).momentum(momentum).dampening(dampening).weight_decay(weight_decay).nesterov(nesterov);
    }
  };

  static ParityCase parity(const std::string& name, std::vector<Config> configs) {
    return parity_case<torch::optim::SGD, torch::optim::SGDOptions, adaptive::SGD>("SGD", name, configs);
  }

  static std::vector<ParityCase> builtin_parity() {
    std::vector<ParityCase> cases;
    for (double momentum : {0.0, 0.9})
      for (double dampening : {0.0, 0.3})
        for (double wd : {0.0, 0.05})
          for (bool nesterov : {false, true}) {
            if (nesterov && (momentum == 0 || dampening != 0)) continue;  // refused by both
            Config k;
            k.momentum = momentum, k.dampening = dampening, k.weight_decay = wd, k.nesterov = nesterov;
            cases.push_back(parity("mom" + name_of(momentum) + "_damp" + name_of(dampening) + "_wd" + name_of(wd) +
                                       "_nesterov" + std::to_string(nesterov),
                                   {k}));
          }
    // A group without momentum (no state) beside one with Nesterov momentum.
    Config a, b;
    b.lr = 5e-2, b.momentum = 0.5, b.nesterov = true, b.weight_decay = 0.02;
    cases.push_back(parity("groups_plain_and_nesterov", {a, b}));
    return cases;
  }
};

}  // namespace adaptive_test
