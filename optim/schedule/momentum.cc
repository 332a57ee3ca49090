#include "optim/schedule/momentum.h"

#include "optim/optimizers.h"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/rmsprop.h>
#include <torch/optim/sgd.h>

#include <tuple>

namespace adaptive {
namespace detail {
namespace {

// Calls f(options as T&) for the first T of Ts that `options` is; false if none.
template <class... Ts, class Options, class F>
bool visit_as(Options& options, F&& f) {
  return ((dynamic_cast<std::conditional_t<std::is_const_v<Options>, const Ts*, Ts*>>(&options) != nullptr
               ? (f(dynamic_cast<std::conditional_t<std::is_const_v<Options>, const Ts&, Ts&>>(options)), true)
               : false) ||
          ...);
}

#define ADAPTIVE_BETAS_OPTIONS                                                                               \
  adaptive::AdamOptions, adaptive::AdamWOptions, adaptive::AdamaxOptions, adaptive::NAdamOptions,              \
      adaptive::RAdamOptions, adaptive::SparseAdamOptions, torch::optim::AdamOptions, torch::optim::AdamWOptions
#define ADAPTIVE_MOMENTUM_OPTIONS                                                                       \
  adaptive::SGDOptions, adaptive::RMSpropOptions, adaptive::MuonOptions, torch::optim::SGDOptions, \
      torch::optim::RMSpropOptions

}  // namespace

MomentumSlot momentum_slot(const torch::optim::OptimizerOptions& options) {
  if (visit_as<ADAPTIVE_BETAS_OPTIONS>(options, [](const auto&) {})) return MomentumSlot::kBeta1;
  if (visit_as<ADAPTIVE_MOMENTUM_OPTIONS>(options, [](const auto&) {})) return MomentumSlot::kMomentum;
  return MomentumSlot::kNone;
}

void set_momentum(torch::optim::OptimizerOptions& options, double value) {
  const bool set = visit_as<ADAPTIVE_BETAS_OPTIONS>(options, [&](auto& o) {
    auto betas = o.betas();
    std::get<0>(betas) = value;
    o.betas(betas);
  }) || visit_as<ADAPTIVE_MOMENTUM_OPTIONS>(options, [&](auto& o) { o.momentum(value); });
  TORCH_CHECK(set, "the optimizer has neither betas nor momentum to cycle");
}

double get_momentum(const torch::optim::OptimizerOptions& options) {
  double value = 0;
  const bool got = visit_as<ADAPTIVE_BETAS_OPTIONS>(options, [&](const auto& o) { value = std::get<0>(o.betas()); }) ||
                   visit_as<ADAPTIVE_MOMENTUM_OPTIONS>(options, [&](const auto& o) { value = o.momentum(); });
  TORCH_CHECK(got, "the optimizer has neither betas nor momentum");
  return value;
}

#undef ADAPTIVE_BETAS_OPTIONS
#undef ADAPTIVE_MOMENTUM_OPTIONS

}  // namespace detail
}  // namespace adaptive
