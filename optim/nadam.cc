#include "optim/nadam.h"

#include "optim/adam.h"  // detail::check_adam_options

#include <cmath>

namespace adaptive {

NAdamOptions::NAdamOptions(double lr) : lr_(lr) {}

namespace {
// μₜ, as torch.optim.NAdam computes it.
double momentum_at(double beta1, double momentum_decay, int64_t step) {
  return beta1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(step) * momentum_decay));
}
}  // namespace

void NAdam::validate(const NAdamOptions& o) {
  detail::check_adam_options(kName, o.lr(), o.betas(), o.eps(), o.weight_decay());
  detail::check_non_negative(kName, "momentum_decay", o.momentum_decay());
}

void NAdam::init_state(NAdamParamState& state, const torch::Tensor& param, const NAdamOptions&) {
  detail::init_adam_moments(state, param);
}

int64_t NAdam::begin_step(NAdamParamState& state, const torch::Tensor&, const NAdamOptions& o) {
  state.step(state.step() + 1);
  state.mu_product(state.mu_product() * momentum_at(std::get<0>(o.betas()), o.momentum_decay(), state.step()));
  // Parameters of a group usually share t and Πₜ, hence their scalars; the
  // key tells apart those that do not (Πₜ differs when momentum_decay changed
  // between steps they did not all take).
  return hooks::scalars_key(state.mu_product(), static_cast<double>(state.step()));
}

template <class S>
NAdamScalars<S> NAdam::scalars(const NAdamOptions& o, const NAdamParamState& state, GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas()), lr = o.lr();
  const int64_t t = state.step();
  const double mu = momentum_at(beta1, o.momentum_decay(), t);
  const double mu_next = momentum_at(beta1, o.momentum_decay(), t + 1);
  const double mu_product = state.mu_product();
  NAdamScalars<S> s;
  detail::set_adam_moment_scalars<S>(s, o, gradient);
  s.bias_correction2 = ew::Divisor<S>::of(1.0 - std::pow(beta2, static_cast<double>(t)));
  s.grad_step = static_cast<S>(-lr * (1.0 - mu) / (1.0 - mu_product));
  s.avg_step = static_cast<S>(-lr * mu_next / (1.0 - mu_product * mu_next));
  return s;
}
template NAdamScalars<float> NAdam::scalars<float>(const NAdamOptions&, const NAdamParamState&, GradientScalars<double>);
template NAdamScalars<double> NAdam::scalars<double>(const NAdamOptions&, const NAdamParamState&, GradientScalars<double>);

}  // namespace adaptive
