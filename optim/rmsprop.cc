#include "optim/rmsprop.h"

#include "optim/rules/rmsprop.h"

#include <cmath>

namespace adaptive {

RMSpropOptions::RMSpropOptions(double lr) : lr_(lr) {}

void RMSprop::validate(const RMSpropOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_non_negative(kName, "eps", o.eps());
  detail::check_non_negative(kName, "momentum", o.momentum());
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
  // α = 1 freezes the running mean; with bias correction it divides by 1 − 1ᵗ = 0.
  detail::check_unit_interval(kName, "alpha", o.alpha(), /*upper_inclusive=*/!o.bias_correction());
}

void RMSprop::init_state(RMSpropParamState& state, const torch::Tensor& param, const RMSpropOptions& options) {
  const auto zeros = [&] { return torch::zeros_like(param, torch::MemoryFormat::Preserve); };
  if (!state.square_avg().defined()) state.square_avg(zeros());
  if (options.momentum() > 0 && !state.momentum_buffer().defined()) state.momentum_buffer(zeros());
  if (options.centered() && !state.grad_avg().defined()) state.grad_avg(zeros());
}

template <class S>
RMSpropScalars<S> RMSprop::scalars(const RMSpropOptions& o, const RMSpropParamState& state, GradientScalars<double> gradient) {
  const int64_t step = state.step();
  gradient.weight_decay = o.weight_decay();
  RMSpropScalars<S> s;
  s.grad = gradient.as<S>();
  s.alpha = static_cast<S>(o.alpha());
  s.one_minus_alpha = static_cast<S>(1.0 - o.alpha());
  if (o.bias_correction()) {
    s.bias_correction = ew::Divisor<S>::of(1.0 - std::pow(o.alpha(), static_cast<double>(step)));
  }
  s.lr = static_cast<S>(o.lr());
  s.eps = static_cast<S>(o.eps());
  s.momentum = static_cast<S>(o.momentum());
  s.centered = o.centered();
  return s;
}
template RMSpropScalars<float> RMSprop::scalars<float>(const RMSpropOptions&, const RMSpropParamState&, GradientScalars<double>);
template RMSpropScalars<double> RMSprop::scalars<double>(const RMSpropOptions&, const RMSpropParamState&, GradientScalars<double>);

}  // namespace adaptive
