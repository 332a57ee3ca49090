#include "tests/random_cases.h"

#include <stdexcept>
#include <string>

namespace adaptive_test {
namespace {

// Options for group options of a random optimizer kind, common options included.
template <class O>
O with_common(O o, RandomCase& r) {
  return o.clip_grad_value(r.coin() ? r.pick({0.01, 1.0, 1e30}) : 0.0).maximize(r.coin());
}

}  // namespace

std::unique_ptr<torch::optim::OptimizerOptions> random_options(int kind, RandomCase& r) {
  const auto betas = [&] { return std::make_tuple(r.pick({0.0, 0.9}), r.pick({0.5, 0.9, 0.999})); };
  const auto boxed = [&](auto o) -> std::unique_ptr<torch::optim::OptimizerOptions> {
    return std::make_unique<decltype(o)>(with_common(o, r));
  };
  switch (kind) {
    case kAdam:
      return boxed(adaptive::AdamOptions(r.pick({1e-3, 0.1}))
                       .betas(betas())
                       .eps(r.pick({1e-8, 0.0, 1e-3}))
                       .weight_decay(r.pick({0.0, 0.1}))
                       .amsgrad(r.coin())
                       .bias_correction(r.coin())
                       .decoupled_weight_decay(r.coin()));
    case kAdamW:
      return boxed(adaptive::AdamWOptions(r.pick({1e-3, 0.1}))
                       .betas(betas())
                       .eps(r.pick({1e-8, 1e-3}))
                       .weight_decay(r.pick({0.0, 1e-2, 0.1}))
                       .amsgrad(r.coin()));
    case kRMSprop:
      return boxed(adaptive::RMSpropOptions(r.pick({1e-3, 0.1}))
                       .alpha(r.pick({0.0, 0.9, 0.99}))
                       .eps(r.pick({1e-8, 0.0}))
                       .weight_decay(r.pick({0.0, 0.1}))
                       .momentum(r.pick({0.0, 0.9}))
                       .centered(r.coin())
                       .bias_correction(r.coin()));
    case kAdagrad:
      return boxed(adaptive::AdagradOptions(r.pick({1e-2, 1.0}))
                       .lr_decay(r.pick({0.0, 0.1}))
                       .weight_decay(r.pick({0.0, 0.1}))
                       .initial_accumulator_value(r.pick({0.0, 0.5}))
                       .eps(r.pick({1e-10, 0.0})));
    case kSGD: {
      const double momentum = r.pick({0.0, 0.9}), dampening = r.pick({0.0, 0.5});
      return boxed(adaptive::SGDOptions(r.pick({1e-2, 0.5}))
                       .momentum(momentum)
                       .dampening(dampening)
                       .weight_decay(r.pick({0.0, 0.1}))
                       .nesterov(momentum > 0 && dampening == 0 && r.coin()));
    }
    case kNAdam:
      return boxed(adaptive::NAdamOptions(r.pick({2e-3, 0.1}))
                       .betas(betas())
                       .eps(r.pick({1e-8, 1e-3}))
                       .weight_decay(r.pick({0.0, 0.1}))
                       .momentum_decay(r.pick({4e-3, 0.0, 0.5}))
                       .decoupled_weight_decay(r.coin()));
    case kRAdam:
      return boxed(adaptive::RAdamOptions(r.pick({1e-3, 0.1}))
                       .betas(betas())
                       .eps(r.pick({1e-8, 1e-3}))
                       .weight_decay(r.pick({0.0, 0.1}))
                       .decoupled_weight_decay(r.coin()));
    default:
      return boxed(adaptive::AdadeltaOptions(r.pick({1.0, 0.1}))
                       .rho(r.pick({0.9, 0.0, 1.0}))
                       .eps(r.pick({1e-6, 1e-3}))
                       .weight_decay(r.pick({0.0, 0.1})));
  }
}

bool ill_conditioned(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups()) {
    if (auto* o = dynamic_cast<adaptive::RMSpropOptions*>(&group.options())) {
      if (o->centered() && (o->eps() == 0 || o->alpha() == 0)) return true;
    }
  }
  return false;
}

std::unique_ptr<torch::optim::Optimizer> random_optimizer(int kind, RandomCase& r,
                                                          const std::vector<std::vector<torch::Tensor>>& groups) {
  std::vector<torch::optim::OptimizerParamGroup> pg;
  for (const auto& params : groups) pg.emplace_back(params, random_options(kind, r));
  int k = 0;
#define ADAPTIVE_MAKE_KIND(Class, ...) \
  if (kind == k++) return std::make_unique<adaptive::Class>(pg);
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_MAKE_KIND)
#undef ADAPTIVE_MAKE_KIND
  throw std::invalid_argument("no optimizer kind " + std::to_string(kind));
}

}  // namespace adaptive_test
