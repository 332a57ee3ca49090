#include "optim/adamw.h"

namespace adaptive {

AdamWOptions::AdamWOptions(double lr) : lr_(lr) {}

void AdamW::validate(const AdamWOptions& o) {
  detail::check_adam_options(kName, o.lr(), o.betas(), o.eps(), o.weight_decay());
}

void AdamW::init_state(AdamParamState& state, const torch::Tensor& param, const AdamWOptions& options) {
  detail::init_adam_state(state, param, options.amsgrad());
}

template <class S>
AdamScalars<S> AdamW::scalars(const AdamWOptions& o, const AdamParamState& state, GradientScalars<double> gradient) {
  return detail::adam_scalars<S>({o.lr(), o.betas(), o.eps(), o.weight_decay(), o.amsgrad(), o.bias_correction(),
                                  /*decoupled=*/true},
                                 state.step(), gradient);
}
template AdamScalars<float> AdamW::scalars<float>(const AdamWOptions&, const AdamParamState&, GradientScalars<double>);
template AdamScalars<double> AdamW::scalars<double>(const AdamWOptions&, const AdamParamState&, GradientScalars<double>);

}  // namespace adaptive
