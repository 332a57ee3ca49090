#include "optim/sgd.h"

namespace adaptive {

SGDOptions::SGDOptions(double lr) : lr_(lr) {}

void SGD::validate(const SGDOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_non_negative(kName, "momentum", o.momentum());
  detail::check_unit_interval(kName, "dampening", o.dampening(), /*upper_inclusive=*/true);
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
  TORCH_CHECK(!o.nesterov() || (o.momentum() > 0 && o.dampening() == 0), kName,
              ": invalid nesterov = true with momentum = ", o.momentum(), " and dampening = ", o.dampening(),
              " (Nesterov momentum needs momentum > 0 and dampening = 0)");
}

int64_t SGD::begin_step(SGDParamState& state, const torch::Tensor& param, const SGDOptions& options) {
  state.first_step = options.momentum() != 0 && !state.momentum_buffer().defined();
  // Overwritten by the rule (b ← g). Zeros, not empty_like: a step that
  // failed between here and the rule would otherwise leave uninitialized
  // memory that the next step reads as momentum history.
  if (state.first_step) state.momentum_buffer(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  return state.first_step ? 1 : 0;
}

template <class S>
SGDScalars<S> SGD::scalars(const SGDOptions& o, const SGDParamState& state, GradientScalars<double> gradient) {
  gradient.weight_decay = o.weight_decay();
  SGDScalars<S> s;
  s.grad = gradient.as<S>();
  s.lr = static_cast<S>(o.lr());
  s.momentum = static_cast<S>(o.momentum());
  s.with_momentum = o.momentum() != 0;
  s.one_minus_dampening = static_cast<S>(1.0 - o.dampening());
  s.nesterov = o.nesterov();
  s.first = state.first_step;
  return s;
}
template SGDScalars<float> SGD::scalars<float>(const SGDOptions&, const SGDParamState&, GradientScalars<double>);
template SGDScalars<double> SGD::scalars<double>(const SGDOptions&, const SGDParamState&, GradientScalars<double>);

}  // namespace adaptive
