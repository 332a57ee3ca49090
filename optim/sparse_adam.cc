#include "optim/sparse_adam.h"

#include "optim/core/validation.h"

#include <cmath>

namespace adaptive {

SparseAdamOptions::SparseAdamOptions(double lr) : lr_(lr) {}

void SparseAdam::validate(const SparseAdamOptions& o) {
  // torch.optim.SparseAdam: 0 < lr, 0 < eps (a zero ε would divide an
  // untouched-so-far entry's 0 by √0), betas in [0, 1).
  detail::check_positive(kName, "lr", o.lr());
  detail::check_positive(kName, "eps", o.eps());
  detail::check_unit_interval(kName, "betas[0]", std::get<0>(o.betas()), /*upper_inclusive=*/false);
  detail::check_unit_interval(kName, "betas[1]", std::get<1>(o.betas()), /*upper_inclusive=*/false);
}

void SparseAdam::init_state(SparseAdamParamState& state, const torch::Tensor& param, const SparseAdamOptions&) {
  const auto zeros = [&] { return torch::zeros_like(param, torch::MemoryFormat::Preserve); };
  if (!state.exp_avg().defined()) state.exp_avg(zeros());
  if (!state.exp_avg_sq().defined()) state.exp_avg_sq(zeros());
}

template <class S>
SparseAdamScalars<S> SparseAdam::scalars(const SparseAdamOptions& o, const SparseAdamParamState& state,
                                         GradientScalars<double> gradient) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  const double t = static_cast<double>(state.step());
  SparseAdamScalars<S> s;
  s.grad = gradient.as<S>();
  s.one_minus_beta1 = static_cast<S>(1.0 - beta1);
  s.one_minus_beta2 = static_cast<S>(1.0 - beta2);
  s.eps = static_cast<S>(o.eps());
  // torch.optim: step_size = lr·√(1 − β2ᵗ)/(1 − β1ᵗ), in double, then −step_size.
  s.step = static_cast<S>(-(o.lr() * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t))));
  return s;
}
template SparseAdamScalars<float> SparseAdam::scalars<float>(const SparseAdamOptions&, const SparseAdamParamState&,
                                                              GradientScalars<double>);
template SparseAdamScalars<double> SparseAdam::scalars<double>(const SparseAdamOptions&,
                                                                const SparseAdamParamState&, GradientScalars<double>);


}  // namespace adaptive
