#pragma once
// adaptive::Adagrad's test entry (members: tests/registry/optimizer_info.h).

#include "tests/parity_cases.h"
#include "tests/registry/optimizer_info.h"

namespace adaptive_test {

template <>
struct OptimizerInfo<adaptive::Adagrad> {
  using Options = adaptive::AdagradOptions;
  static constexpr int kStepsToEveryBranch = 3;

  static Options random(RandomCase& r) {
    return Options(r.pick({1e-2, 1.0}))
        .lr_decay(r.pick({0.0, 0.1}))
        .weight_decay(r.pick({0.0, 0.1}))
        .initial_accumulator_value(r.pick({0.0, 0.5}))
        .eps(r.pick({1e-10, 0.0}));
  }

  template <class O>
  static O stateful(O o) {
    return o.lr_decay(0.1);
  }

  static bool ill_conditioned(const Options&) { return false; }

  static std::vector<InvalidCase<Options>> invalid() {
    return {{"lr_negative", Options(-0.5), "invalid lr = -0.5"},
            {"lr_decay_negative", Options().lr_decay(-0.1), "invalid lr_decay = -0.1"},
            {"weight_decay_negative", Options().weight_decay(-3), "invalid weight_decay = -3"},
            {"initial_accumulator_value_negative", Options().initial_accumulator_value(-1),
             "invalid initial_accumulator_value = -1"},
            {"eps_negative", Options().eps(-1e-10), "invalid eps = -1e-10"},
            {"clip_grad_norm_inf", Options().clip_grad_norm(kInf), "invalid clip_grad_norm = inf"}};
  }

  static std::vector<ResumeCase<Options>> resume() {
    return {{"lr_decay_init", Options(5e-2).lr_decay(0.01).initial_accumulator_value(0.1).weight_decay(0.01),
             Options()}};
  }

  struct Config {
    double lr = 5e-2, lr_decay = 0, weight_decay = 0, initial_accumulator_value = 0, eps = 1e-10;
    template <class O>
    O to() const {
      return O(lr).lr_decay(lr_decay).weight_decay(weight_decay).initial_accumulator_value(initial_accumulator_value).eps(
          eps);
    }
  };

  static ParityCase parity(const std::string& name, std::vector<Config> configs) {
    return parity_case<torch::optim::Adagrad, torch::optim::AdagradOptions, adaptive::Adagrad>("Adagrad", name,
                                                                                                 configs);
  }

  static std::vector<ParityCase> builtin_parity() {
    std::vector<ParityCase> cases;
    for (double lr_decay : {0.0, 0.01})
      for (double wd : {0.0, 0.05})
        for (double init : {0.0, 0.1})
          for (double eps : {1e-10, 1e-6}) {
            Config k;
            k.lr_decay = lr_decay, k.weight_decay = wd, k.initial_accumulator_value = init, k.eps = eps;
            cases.push_back(parity("lr_decay" + name_of(lr_decay) + "_wd" + name_of(wd) + "_init" + name_of(init) +
                                       "_eps" + name_of(eps),
                                   {k}));
          }
    // Different initial_accumulator_value per group: torch::optim (and
    // torch.optim) start every accumulator at the default's value; so must we.
    Config a, b;
    a.initial_accumulator_value = 0.1, b.initial_accumulator_value = 0.5;
    b.lr = 0.1, b.lr_decay = 0.05, b.weight_decay = 0.02;
    cases.push_back(parity("groups_plain_and_decayed", {a, b}));
    return cases;
  }
};

}  // namespace adaptive_test
