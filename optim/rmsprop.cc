#include "optim/rmsprop.h"

#include "optim/kernels/dispatch.h"
#include "optim/rules/rmsprop.h"

#include <cmath>

namespace adaptive {

RMSpropOptions::RMSpropOptions(double lr) : lr_(lr) {}
double RMSpropOptions::get_lr() const { return lr(); }
void RMSpropOptions::set_lr(const double lr) { this->lr(lr); }
ADAPTIVE_DEFINE_FIELD_METHODS(RMSpropOptions)
ADAPTIVE_DEFINE_FIELD_METHODS(RMSpropParamState)

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

namespace {
template <class S>
RMSpropScalars<S> rmsprop_scalars(const RMSpropOptions& o, int64_t step, GradientScalars<double> gradient) {
  gradient.weight_decay = o.weight_decay();
  RMSpropScalars<S> s;
  s.grad = gradient.as<S>();
  s.alpha = static_cast<S>(o.alpha());
  s.one_minus_alpha = static_cast<S>(1.0 - o.alpha());
  if (o.bias_correction()) {
    s.bias_correction = static_cast<S>(1.0 - std::pow(o.alpha(), static_cast<double>(step)));
  }
  s.lr = static_cast<S>(o.lr());
  s.eps = static_cast<S>(o.eps());
  s.momentum = static_cast<S>(o.momentum());
  s.centered = o.centered();
  return s;
}
}  // namespace

void RMSprop::update(const torch::Tensor& param, const torch::Tensor& grad, RMSpropParamState& state,
                     const RMSpropOptions& options, GradientScalars<double> gradient, Batch& fused) {
  state.step(state.step() + 1);
  const int64_t step = state.step();
  kernels::run_step<RMSpropRule>(
      options.fused(), param, grad, fused, {&options, step},
      [&](auto e) { return rmsprop_scalars<decltype(e)>(options, step, gradient); }, state.square_avg(),
      state.momentum_buffer(), state.grad_avg());
}

}  // namespace adaptive
