#include "optim/adagrad.h"

#include "optim/rules/adagrad.h"

namespace adaptive {

AdagradOptions::AdagradOptions(double lr) : lr_(lr) {}

Adagrad::Adagrad(std::vector<torch::optim::OptimizerParamGroup> param_groups, AdagradOptions defaults)
    : OptimizerBase(std::move(param_groups), defaults) {
  // torch::optim::Adagrad and torch.optim.Adagrad both start every accumulator
  // at the *constructor's* initial_accumulator_value, whatever a group says.
  // Same numbers first; but say so rather than ignore the group silently. A
  // group whose value is the struct's default (0) did not set it (C++ has no
  // unset option): no warning for it, as Python's group dict would hold the
  // optimizer's value there.
  const double unset = AdagradOptions().initial_accumulator_value();
  AdagradParamState unused;  // (Adagrad always keeps state: step_state makes it in state_)
  for (size_t gi = 0; gi < param_groups_.size(); ++gi) {
    const double group_value = options_at(gi).initial_accumulator_value();
    if (group_value != defaults.initial_accumulator_value() && group_value != unset) {
      TORCH_WARN(kName, ": group ", gi, " sets initial_accumulator_value = ", group_value,
                 ", but (as in torch::optim and torch.optim) accumulators created at construction start at the "
                 "optimizer's default, ",
                 defaults.initial_accumulator_value());
    }
    for (const auto& p : param_groups_[gi].params()) detail::step_state<Adagrad>(state_, p, defaults, unused);
  }
}

void Adagrad::validate(const AdagradOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_non_negative(kName, "lr_decay", o.lr_decay());
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
  detail::check_non_negative(kName, "initial_accumulator_value", o.initial_accumulator_value());
  detail::check_non_negative(kName, "eps", o.eps());
}

void Adagrad::check_sparse(const AdagradOptions& o, const std::string& where) {
  TORCH_CHECK(o.weight_decay() == 0, kName, ": weight_decay = ", o.weight_decay(), " cannot be used with the sparse ",
              "gradient of ", where, " (neither torch::optim::Adagrad nor torch.optim.Adagrad define it); nothing ",
              "was updated");
}

// At construction `options` are the defaults (see above); for a group added
// later, its own options (the built-ins have no state for those and fail).
void Adagrad::init_state(AdagradParamState& state, const torch::Tensor& param, const AdagradOptions& options) {
  if (!state.sum().defined()) {
    state.sum(detail::filled_like(param, options.initial_accumulator_value()));
  }
}

template <class S>
AdagradScalars<S> Adagrad::scalars(const AdagradOptions& o, const AdagradParamState& state, GradientScalars<double> gradient) {
  const int64_t step = state.step();
  gradient.weight_decay = o.weight_decay();
  AdagradScalars<S> s;
  s.grad = gradient.as<S>();
  s.lr_t = static_cast<S>(o.lr() / (1.0 + static_cast<double>(step - 1) * o.lr_decay()));
  s.eps = static_cast<S>(o.eps());
  return s;
}
template AdagradScalars<float> Adagrad::scalars<float>(const AdagradOptions&, const AdagradParamState&, GradientScalars<double>);
template AdagradScalars<double> Adagrad::scalars<double>(const AdagradOptions&, const AdagradParamState&, GradientScalars<double>);

}  // namespace adaptive
