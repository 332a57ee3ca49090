#include "tests/parity_cases.h"

#include <sstream>

namespace adaptive_test {
namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  std::string out = s.str();
  for (auto& c : out) {
    if (c == '.' || c == '-' || c == '+') c = '_';
  }
  return out;
}

// One case: the built-in and adaptive optimizer over the same configs.
template <class Builtin, class BuiltinOptions, class Ours, class OursOptions, class Config>
ParityCase make_case(const std::string& optimizer, const std::string& name, std::vector<Config> configs) {
  ParityCase c;
  c.optimizer = optimizer;
  c.name = name;
  c.group_count = configs.size();
  c.builtin = [configs](const auto& groups) {
    return build<Builtin, BuiltinOptions, Config>(groups, configs,
                                                  [](const Config& k) { return k.template to<BuiltinOptions>(); });
  };
  c.ours = [configs](const auto& groups) {
    return build<Ours, OursOptions, Config>(groups, configs,
                                            [](const Config& k) { return k.template to<OursOptions>(); });
  };
  return c;
}

ParityCase adam_case(const std::string& name, std::vector<AdamConfig> configs) {
  if (configs[0].decoupled) {
    return make_case<torch::optim::AdamW, torch::optim::AdamWOptions, adaptive::Adam, adaptive::AdamOptions>(
        "Adam", name, configs);
  }
  return make_case<torch::optim::Adam, torch::optim::AdamOptions, adaptive::Adam, adaptive::AdamOptions>(
      "Adam", name, configs);
}

ParityCase adamw_case(const std::string& name, std::vector<AdamWConfig> configs) {
  return make_case<torch::optim::AdamW, torch::optim::AdamWOptions, adaptive::AdamW, adaptive::AdamWOptions>(
      "AdamW", name, configs);
}

ParityCase rmsprop_case(const std::string& name, std::vector<RMSpropConfig> configs) {
  return make_case<torch::optim::RMSprop, torch::optim::RMSpropOptions, adaptive::RMSprop, adaptive::RMSpropOptions>(
      "RMSprop", name, configs);
}

ParityCase adagrad_case(const std::string& name, std::vector<AdagradConfig> configs) {
  return make_case<torch::optim::Adagrad, torch::optim::AdagradOptions, adaptive::Adagrad, adaptive::AdagradOptions>(
      "Adagrad", name, configs);
}

ParityCase sgd_case(const std::string& name, std::vector<SGDConfig> configs) {
  return make_case<torch::optim::SGD, torch::optim::SGDOptions, adaptive::SGD, adaptive::SGDOptions>("SGD", name,
                                                                                                    configs);
}

}  // namespace

std::vector<ParityCase> adam_cases() {
  std::vector<ParityCase> cases;
  for (bool amsgrad : {false, true})
    for (double wd : {0.0, 0.05})
      for (double eps : {1e-8, 1e-3})
        for (auto betas : {std::make_pair(0.9, 0.999), std::make_pair(0.8, 0.95)}) {
          AdamConfig k;
          k.amsgrad = amsgrad, k.weight_decay = wd, k.eps = eps, k.beta1 = betas.first, k.beta2 = betas.second;
          cases.push_back(adam_case("amsgrad" + std::to_string(amsgrad) + "_wd" + fmt(wd) + "_eps" + fmt(eps) +
                                        "_b" + fmt(betas.first) + "_" + fmt(betas.second),
                                    {k}));
        }
  for (bool amsgrad : {false, true})
    for (double wd : {0.01, 0.2}) {
      AdamConfig k;
      k.decoupled = true, k.amsgrad = amsgrad, k.weight_decay = wd;
      cases.push_back(adam_case("AdamW_amsgrad" + std::to_string(amsgrad) + "_wd" + fmt(wd), {k}));
    }
  AdamConfig a, b;
  b.lr = 1e-2, b.amsgrad = true, b.weight_decay = 0.1, b.beta1 = 0.7;
  cases.push_back(adam_case("groups_plain_and_amsgrad_wd", {a, b}));
  AdamConfig w1, w2;
  w1.decoupled = w2.decoupled = true;
  w1.weight_decay = 0.3, w2.weight_decay = 0.0, w2.eps = 1e-4;
  cases.push_back(adam_case("AdamW_groups", {w1, w2}));
  return cases;
}

std::vector<ParityCase> adamw_cases() {
  std::vector<ParityCase> cases;
  for (bool amsgrad : {false, true})
    for (double wd : {1e-2, 0.0, 0.2})
      for (double eps : {1e-8, 1e-3}) {
        AdamWConfig k;
        k.amsgrad = amsgrad, k.weight_decay = wd, k.eps = eps;
        cases.push_back(adamw_case("amsgrad" + std::to_string(amsgrad) + "_wd" + fmt(wd) + "_eps" + fmt(eps), {k}));
      }
  AdamWConfig a, b;
  b.lr = 1e-2, b.weight_decay = 0.3, b.beta1 = 0.8, b.amsgrad = true;
  cases.push_back(adamw_case("groups_default_and_strong_decay", {a, b}));
  return cases;
}

std::vector<ParityCase> rmsprop_cases() {
  std::vector<ParityCase> cases;
  for (bool centered : {false, true})
    for (double momentum : {0.0, 0.9})
      for (double wd : {0.0, 0.05})
        for (double alpha : {0.99, 0.9})
          for (double eps : {1e-8, 1e-4}) {
            RMSpropConfig k;
            k.centered = centered, k.momentum = momentum, k.weight_decay = wd, k.alpha = alpha, k.eps = eps;
            cases.push_back(rmsprop_case("centered" + std::to_string(centered) + "_mom" + fmt(momentum) + "_wd" +
                                             fmt(wd) + "_alpha" + fmt(alpha) + "_eps" + fmt(eps),
                                         {k}));
          }
  RMSpropConfig a, b;
  b.lr = 5e-3, b.centered = true, b.momentum = 0.5, b.alpha = 0.95;
  cases.push_back(rmsprop_case("groups_plain_and_centered_momentum", {a, b}));
  return cases;
}

std::vector<ParityCase> adagrad_cases() {
  std::vector<ParityCase> cases;
  for (double lr_decay : {0.0, 0.01})
    for (double wd : {0.0, 0.05})
      for (double init : {0.0, 0.1})
        for (double eps : {1e-10, 1e-6}) {
          AdagradConfig k;
          k.lr_decay = lr_decay, k.weight_decay = wd, k.initial_accumulator_value = init, k.eps = eps;
          cases.push_back(adagrad_case("lr_decay" + fmt(lr_decay) + "_wd" + fmt(wd) + "_init" + fmt(init) + "_eps" +
                                           fmt(eps),
                                       {k}));
        }
  // Different initial_accumulator_value per group: torch::optim (and
  // torch.optim) start every accumulator at the default's value; so must we.
  AdagradConfig a, b;
  a.initial_accumulator_value = 0.1, b.initial_accumulator_value = 0.5;
  b.lr = 0.1, b.lr_decay = 0.05, b.weight_decay = 0.02;
  cases.push_back(adagrad_case("groups_plain_and_decayed", {a, b}));
  return cases;
}

std::vector<ParityCase> sgd_cases() {
  std::vector<ParityCase> cases;
  for (double momentum : {0.0, 0.9})
    for (double dampening : {0.0, 0.3})
      for (double wd : {0.0, 0.05})
        for (bool nesterov : {false, true}) {
          if (nesterov && (momentum == 0 || dampening != 0)) continue;  // refused by both
          SGDConfig k;
          k.momentum = momentum, k.dampening = dampening, k.weight_decay = wd, k.nesterov = nesterov;
          cases.push_back(sgd_case("mom" + fmt(momentum) + "_damp" + fmt(dampening) + "_wd" + fmt(wd) + "_nesterov" +
                                       std::to_string(nesterov),
                                   {k}));
        }
  // A group without momentum (no state) beside one with Nesterov momentum.
  SGDConfig a, b;
  b.lr = 5e-2, b.momentum = 0.5, b.nesterov = true, b.weight_decay = 0.02;
  cases.push_back(sgd_case("groups_plain_and_nesterov", {a, b}));
  return cases;
}

std::vector<ParityCase> builtin_parity_cases() {
  std::vector<ParityCase> all;
  for (auto cases : {adam_cases(), adamw_cases(), rmsprop_cases(), adagrad_cases(), sgd_cases()}) {
    all.insert(all.end(), cases.begin(), cases.end());
  }
  return all;
}

}  // namespace adaptive_test
