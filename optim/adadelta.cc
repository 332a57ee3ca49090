#include "optim/adadelta.h"

namespace adaptive {

AdadeltaOptions::AdadeltaOptions(double lr) : lr_(lr) {}

void Adadelta::validate(const AdadeltaOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_unit_interval(kName, "rho", o.rho(), /*upper_inclusive=*/true);
  detail::check_non_negative(kName, "eps", o.eps());
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
}

void Adadelta::init_state(AdadeltaParamState& state, const torch::Tensor& param, const AdadeltaOptions&) {
  if (!state.square_avg().defined()) state.square_avg(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  if (!state.acc_delta().defined()) state.acc_delta(torch::zeros_like(param, torch::MemoryFormat::Preserve));
}

template <class S>
AdadeltaScalars<S> Adadelta::scalars(const AdadeltaOptions& o, const AdadeltaParamState&,
                                     GradientScalars<double> gradient) {
  gradient.weight_decay = o.weight_decay();
  AdadeltaScalars<S> s;
  s.grad = gradient.as<S>();
  s.rho = static_cast<S>(o.rho());
  s.one_minus_rho = static_cast<S>(1.0 - o.rho());
  s.eps = static_cast<S>(o.eps());
  s.lr = static_cast<S>(o.lr());
  return s;
}
template AdadeltaScalars<float> Adadelta::scalars<float>(const AdadeltaOptions&, const AdadeltaParamState&,
                                                         GradientScalars<double>);
template AdadeltaScalars<double> Adadelta::scalars<double>(const AdadeltaOptions&, const AdadeltaParamState&,
                                                           GradientScalars<double>);

}  // namespace adaptive
