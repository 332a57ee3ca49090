#include "optim/adamax.h"

#include "optim/adam.h"  // detail::check_adam_options

#include <cmath>

namespace adaptive {

AdamaxOptions::AdamaxOptions(double lr) : lr_(lr) {}

void Adamax::validate(const AdamaxOptions& o) {
  detail::check_adam_options(kName, o.lr(), o.betas(), o.eps(), o.weight_decay());
}

void Adamax::init_state(AdamaxParamState& state, const torch::Tensor& param, const AdamaxOptions&) {
  const auto zeros = [&] { return torch::zeros_like(param, torch::MemoryFormat::Preserve); };
  if (!state.exp_avg().defined()) state.exp_avg(zeros());
  if (!state.exp_inf().defined()) state.exp_inf(zeros());
}

template <class S>
AdamaxScalars<S> Adamax::scalars(const AdamaxOptions& o, const AdamaxParamState& state,
                                 GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(o.betas());
  gradient.weight_decay = o.weight_decay();
  AdamaxScalars<S> s;
  s.grad = gradient.as<S>();
  s.one_minus_beta1 = static_cast<S>(1.0 - beta1);
  s.beta2 = static_cast<S>(std::get<1>(o.betas()));
  s.eps = static_cast<S>(o.eps());
  // torch.optim: clr = lr / (1 − β1ᵗ), then addcdiv with value −clr.
  const double bias_correction = o.bias_correction() ? 1.0 - std::pow(beta1, static_cast<double>(state.step())) : 1.0;
  s.step = static_cast<S>(-(o.lr() / bias_correction));
  return s;
}
template AdamaxScalars<float> Adamax::scalars<float>(const AdamaxOptions&, const AdamaxParamState&,
                                                      GradientScalars<double>);
template AdamaxScalars<double> Adamax::scalars<double>(const AdamaxOptions&, const AdamaxParamState&,
                                                        GradientScalars<double>);

}  // namespace adaptive
