#include "optim/radam.h"

#include "optim/adam.h"  // detail::check_adam_options

#include <cmath>

namespace adaptive {

RAdamOptions::RAdamOptions(double lr) : lr_(lr) {}

void RAdam::validate(const RAdamOptions& o) {
  detail::check_adam_options(kName, o.lr(), o.betas(), o.eps(), o.weight_decay());
}

void RAdam::init_state(RAdamParamState& state, const torch::Tensor& param, const RAdamOptions&) {
  detail::init_adam_moments(state, param);
}

// Each expression in torch.optim.RAdam's order of operations (its ** 0.5 is pow).
template <class S>
RAdamScalars<S> RAdam::scalars(const RAdamOptions& o, const RAdamParamState& state, GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas()), lr = o.lr();
  const double t = static_cast<double>(state.step());
  const double bias_correction1 = 1 - std::pow(beta1, t), bias_correction2 = 1 - std::pow(beta2, t);
  const double rho_inf = 2 / (1 - beta2) - 1;
  const double rho_t = rho_inf - 2 * t * std::pow(beta2, t) / bias_correction2;
  RAdamScalars<S> s;
  detail::set_adam_moment_scalars<S>(s, o, gradient);
  s.bias_correction1 = ew::Divisor<S>::of(bias_correction1);
  s.sqrt_bias_correction2 = static_cast<S>(std::pow(bias_correction2, 0.5));
  s.lr = static_cast<S>(lr);
  s.rectify = rho_t > 5.0;
  if (s.rectify) {
    s.rectification = static_cast<S>(
        std::pow((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5));
  }
  return s;
}
template RAdamScalars<float> RAdam::scalars<float>(const RAdamOptions&, const RAdamParamState&, GradientScalars<double>);
template RAdamScalars<double> RAdam::scalars<double>(const RAdamOptions&, const RAdamParamState&, GradientScalars<double>);

}  // namespace adaptive
