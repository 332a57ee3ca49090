#include "optim/adam.h"

#include "optim/rules/adam.h"

#include <cmath>

namespace adaptive {

AdamOptions::AdamOptions(double lr) : lr_(lr) {}

void Adam::validate(const AdamOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_non_negative(kName, "eps", o.eps());
  detail::check_unit_interval(kName, "betas[0]", std::get<0>(o.betas()), /*upper_inclusive=*/false);
  detail::check_unit_interval(kName, "betas[1]", std::get<1>(o.betas()), /*upper_inclusive=*/false);
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
}

void Adam::init_state(AdamParamState& state, const torch::Tensor& param, const AdamOptions& options) {
  const auto zeros = [&] { return torch::zeros_like(param, torch::MemoryFormat::Preserve); };
  if (!state.exp_avg().defined()) state.exp_avg(zeros());
  if (!state.exp_avg_sq().defined()) state.exp_avg_sq(zeros());
  // Also when amsgrad is switched on mid-training (the built-in would crash).
  if (options.amsgrad() && !state.max_exp_avg_sq().defined()) state.max_exp_avg_sq(zeros());
}

template <class S>
AdamScalars<S> Adam::scalars(const AdamOptions& o, const AdamParamState& state, GradientScalars<double> gradient) {
  const int64_t step = state.step();
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const double t = static_cast<double>(step);
  const bool decoupled = o.decoupled_weight_decay();
  gradient.weight_decay = decoupled ? 0.0 : o.weight_decay();
  AdamScalars<S> s;
  s.grad = gradient.as<S>();
  s.decay_factor = static_cast<S>(decoupled ? 1.0 - o.lr() * o.weight_decay() : 1.0);
  s.beta1 = static_cast<S>(beta1);
  s.one_minus_beta1 = static_cast<S>(1.0 - beta1);
  s.beta2 = static_cast<S>(beta2);
  s.one_minus_beta2 = static_cast<S>(1.0 - beta2);
  s.step_size = static_cast<S>(o.lr());
  if (o.bias_correction()) {
    s.step_size = static_cast<S>(o.lr() / (1.0 - std::pow(beta1, t)));
    s.sqrt_bias_correction2 = static_cast<S>(std::sqrt(1.0 - std::pow(beta2, t)));
  }
  s.eps = static_cast<S>(o.eps());
  s.amsgrad = o.amsgrad();
  return s;
}
template AdamScalars<float> Adam::scalars<float>(const AdamOptions&, const AdamParamState&, GradientScalars<double>);
template AdamScalars<double> Adam::scalars<double>(const AdamOptions&, const AdamParamState&, GradientScalars<double>);

}  // namespace adaptive
