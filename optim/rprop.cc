#include "optim/rprop.h"

#include "optim/core/validation.h"

#include <cmath>

namespace adaptive {

RpropOptions::RpropOptions(double lr) : lr_(lr) {}

void Rprop::validate(const RpropOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  const double etaminus = std::get<0>(o.etas()), etaplus = std::get<1>(o.etas());
  TORCH_CHECK(0 < etaminus && etaminus < 1 && 1 < etaplus && std::isfinite(etaplus), kName, ": invalid etas = (",
              etaminus, ", ", etaplus, ") (expected 0 < etas[0] < 1 < etas[1], finite)");
  // torch.optim.Rprop takes any step_sizes; a negative, NaN or reversed range
  // would make Δ negative or constant, which is never what was meant.
  const double lowest = std::get<0>(o.step_sizes()), highest = std::get<1>(o.step_sizes());
  TORCH_CHECK(lowest >= 0 && lowest <= highest, kName, ": invalid step_sizes = (", lowest, ", ", highest,
              ") (expected 0 <= step_sizes[0] <= step_sizes[1])");
}

void Rprop::init_state(RpropParamState& state, const torch::Tensor& param, const RpropOptions& o) {
  if (!state.prev().defined()) state.prev(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  if (!state.step_size().defined()) state.step_size(detail::filled_like(param, o.lr()));
}

template <class S>
RpropScalars<S> Rprop::scalars(const RpropOptions& o, const RpropParamState&, GradientScalars<double> gradient) {
  gradient.weight_decay = 0;
  RpropScalars<S> s;
  s.grad = gradient.as<S>();
  s.etaminus = static_cast<S>(std::get<0>(o.etas()));
  s.etaplus = static_cast<S>(std::get<1>(o.etas()));
  s.step_size_min = static_cast<S>(std::get<0>(o.step_sizes()));
  s.step_size_max = static_cast<S>(std::get<1>(o.step_sizes()));
  return s;
}
template RpropScalars<float> Rprop::scalars<float>(const RpropOptions&, const RpropParamState&,
                                                    GradientScalars<double>);
template RpropScalars<double> Rprop::scalars<double>(const RpropOptions&, const RpropParamState&,
                                                      GradientScalars<double>);

}  // namespace adaptive
