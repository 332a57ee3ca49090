#include "optim/adam.h"

#include "optim/rules/adam.h"

#include <cmath>

namespace adaptive {

AdamOptions::AdamOptions(double lr) : lr_(lr) {}

namespace detail {

void check_adam_options(const char* name, double lr, const std::tuple<double, double>& betas, double eps,
                        double weight_decay) {
  check_non_negative(name, "lr", lr);
  check_non_negative(name, "eps", eps);
  check_unit_interval(name, "betas[0]", std::get<0>(betas), /*upper_inclusive=*/false);
  check_unit_interval(name, "betas[1]", std::get<1>(betas), /*upper_inclusive=*/false);
  check_non_negative(name, "weight_decay", weight_decay);
}

void init_adam_state(AdamParamState& state, const torch::Tensor& param, bool amsgrad) {
  const auto zeros = [&] { return torch::zeros_like(param, torch::MemoryFormat::Preserve); };
  if (!state.exp_avg().defined()) state.exp_avg(zeros());
  if (!state.exp_avg_sq().defined()) state.exp_avg_sq(zeros());
  // Also when amsgrad is switched on mid-training (the built-in would crash).
  if (amsgrad && !state.max_exp_avg_sq().defined()) state.max_exp_avg_sq(zeros());
}

template <class S>
AdamScalars<S> adam_scalars(const AdamHyper& h, int64_t step, GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(h.betas), beta2 = std::get<1>(h.betas);
  const double t = static_cast<double>(step);
  gradient.weight_decay = h.decoupled ? 0.0 : h.weight_decay;
  AdamScalars<S> s;
  s.grad = gradient.as<S>();
  s.decay_factor = static_cast<S>(h.decoupled ? 1.0 - h.lr * h.weight_decay : 1.0);
  s.beta1 = static_cast<S>(beta1);
  s.one_minus_beta1 = static_cast<S>(1.0 - beta1);
  s.beta2 = static_cast<S>(beta2);
  s.one_minus_beta2 = static_cast<S>(1.0 - beta2);
  s.step_size = static_cast<S>(h.lr);
  if (h.bias_correction) {
    s.step_size = static_cast<S>(h.lr / (1.0 - std::pow(beta1, t)));
    s.sqrt_bias_correction2 = ew::Divisor<S>::of(std::sqrt(1.0 - std::pow(beta2, t)));
  }
  s.eps = static_cast<S>(h.eps);
  s.amsgrad = h.amsgrad;
  return s;
}
template AdamScalars<float> adam_scalars<float>(const AdamHyper&, int64_t, GradientScalars<double>);
template AdamScalars<double> adam_scalars<double>(const AdamHyper&, int64_t, GradientScalars<double>);

}  // namespace detail

void Adam::validate(const AdamOptions& o) {
  detail::check_adam_options(kName, o.lr(), o.betas(), o.eps(), o.weight_decay());
}

void Adam::init_state(AdamParamState& state, const torch::Tensor& param, const AdamOptions& options) {
  detail::init_adam_state(state, param, options.amsgrad());
}

template <class S>
AdamScalars<S> Adam::scalars(const AdamOptions& o, const AdamParamState& state, GradientScalars<double> gradient) {
  return detail::adam_scalars<S>({o.lr(), o.betas(), o.eps(), o.weight_decay(), o.amsgrad(), o.bias_correction(),
                                  o.decoupled_weight_decay()},
                                 state.step(), gradient);
}
template AdamScalars<float> Adam::scalars<float>(const AdamOptions&, const AdamParamState&, GradientScalars<double>);
template AdamScalars<double> Adam::scalars<double>(const AdamOptions&, const AdamParamState&, GradientScalars<double>);

}  // namespace adaptive
