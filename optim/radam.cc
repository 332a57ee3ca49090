#include "optim/radam.h"

#include "optim/adam.h"  // detail::check_adam_options

#include <cmath>

namespace adaptive {

RAdamOptions::RAdamOptions(double lr) : lr_(lr) {}

void RAdam::validate(const RAdamOptions& o) {
  detail::check_adam_options(kName, o.lr(), o.betas(), o.eps(), o.weight_decay());
}

void RAdam::init_state(RAdamParamState& state, const torch::Tensor& param, const RAdamOptions&) {
  if (!state.exp_avg().defined()) state.exp_avg(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  if (!state.exp_avg_sq().defined()) state.exp_avg_sq(torch::zeros_like(param, torch::MemoryFormat::Preserve));
}

// Each expression in torch.optim.RAdam's order of operations (its ** 0.5 is pow).
template <class S>
RAdamScalars<S> RAdam::scalars(const RAdamOptions& o, const RAdamParamState& state, GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas()), lr = o.lr();
  const double t = static_cast<double>(state.step());
  const bool decoupled = o.decoupled_weight_decay();
  const double bias_correction1 = 1 - std::pow(beta1, t), bias_correction2 = 1 - std::pow(beta2, t);
  const double rho_inf = 2 / (1 - beta2) - 1;
  const double rho_t = rho_inf - 2 * t * std::pow(beta2, t) / bias_correction2;
  gradient.weight_decay = decoupled ? 0.0 : o.weight_decay();
  RAdamScalars<S> s;
  s.grad = gradient.as<S>();
  s.decay_factor = static_cast<S>(decoupled ? 1.0 - lr * o.weight_decay() : 1.0);
  s.one_minus_beta1 = static_cast<S>(1.0 - beta1);
  s.beta2 = static_cast<S>(beta2);
  s.one_minus_beta2 = static_cast<S>(1.0 - beta2);
  s.bias_correction1 = ew::Divisor<S>::of(bias_correction1);
  s.sqrt_bias_correction2 = static_cast<S>(std::pow(bias_correction2, 0.5));
  s.lr = static_cast<S>(lr);
  s.eps = static_cast<S>(o.eps());
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
