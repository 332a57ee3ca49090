#include "optim/asgd.h"

#include "optim/core/validation.h"

#include <algorithm>
#include <cmath>

namespace adaptive {

ASGDOptions::ASGDOptions(double lr) : lr_(lr) {}

void ASGD::validate(const ASGDOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
  // torch.optim.ASGD checks only lr and weight_decay. A negative λ grows θ
  // and ηₜ; NaN anywhere makes every step NaN: refused here.
  detail::check_non_negative(kName, "lambd", o.lambd());
  TORCH_CHECK(std::isfinite(o.alpha()), kName, ": invalid alpha = ", o.alpha(), " (expected a finite number)");
  TORCH_CHECK(!std::isnan(o.t0()), kName, ": invalid t0 = ", o.t0(), " (expected a number)");
}

void ASGD::init_state(ASGDParamState& state, const torch::Tensor& param, const ASGDOptions& o) {
  if (state.ax().defined()) return;
  state.ax(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  state.eta(o.lr());
  state.mu(1);
}

int64_t ASGD::begin_step(ASGDParamState& state, const torch::Tensor&, const ASGDOptions& o) {
  state.eta_now = state.eta();
  state.mu_now = state.mu();
  state.step(state.step() + 1);
  const double t = static_cast<double>(state.step()), lr = o.lr();
  state.eta(lr / std::pow(1.0 + o.lambd() * lr * t, o.alpha()));
  state.mu(1.0 / std::max(1.0, t - o.t0()));
  // Parameters of a group usually share ηₜ and μₜ, hence their scalars; the
  // key tells apart those that do not (a parameter added to the group later).
  return hooks::scalars_key(state.eta_now, state.mu_now);
}

template <class S>
ASGDScalars<S> ASGD::scalars(const ASGDOptions& o, const ASGDParamState& state, GradientScalars<double> gradient) {
  gradient.weight_decay = o.weight_decay();
  ASGDScalars<S> s;
  s.grad = gradient.as<S>();
  s.decay_factor = static_cast<S>(1.0 - o.lambd() * state.eta_now);
  s.neg_eta = static_cast<S>(-state.eta_now);
  s.mu = static_cast<S>(state.mu_now);
  s.average = state.mu_now != 1;
  return s;
}
template ASGDScalars<float> ASGD::scalars<float>(const ASGDOptions&, const ASGDParamState&, GradientScalars<double>);
template ASGDScalars<double> ASGD::scalars<double>(const ASGDOptions&, const ASGDParamState&, GradientScalars<double>);

}  // namespace adaptive
