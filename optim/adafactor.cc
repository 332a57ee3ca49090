#include "optim/adafactor.h"

#include "optim/core/validation.h"

#include <cmath>
#include <vector>

namespace adaptive {

AdafactorOptions::AdafactorOptions(double lr) : lr_(lr) {}

void Adafactor::validate(const AdafactorOptions& o) {
  detail::check_non_negative(kName, "lr", o.lr());
  TORCH_CHECK(std::isfinite(o.beta2_decay()) && o.beta2_decay() <= 0, kName, ": invalid beta2_decay = ", o.beta2_decay(),
              " (expected a finite number <= 0)");
  if (const auto eps1 = std::get<0>(o.eps())) detail::check_non_negative(kName, "eps[0]", *eps1);
  detail::check_non_negative(kName, "eps[1]", std::get<1>(o.eps()));
  TORCH_CHECK(std::isfinite(o.d()) && o.d() >= 1, kName, ": invalid d = ", o.d(), " (expected a finite number >= 1)");
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
}

void Adafactor::init_state(AdafactorParamState& state, const torch::Tensor& param, const AdafactorOptions&) {
  if (param.dim() > 1) {
    // Python makes them with grad.new_zeros: contiguous, the parameter's dtype and device.
    std::vector<int64_t> rows = param.sizes().vec(), cols = param.sizes().vec();
    rows.back() = 1;
    cols[cols.size() - 2] = 1;
    if (!state.row_var().defined()) state.row_var(torch::zeros(rows, param.options()));
    if (!state.col_var().defined()) state.col_var(torch::zeros(cols, param.options()));
  } else if (!state.variance().defined()) {
    state.variance(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  }
}

void Adafactor::tensor_step(AdafactorParamState& state, const torch::Tensor& param, const torch::Tensor& grad,
                            const AdafactorOptions& o) {
  AdafactorScalars s;
  s.lr = o.lr();
  s.beta2_decay = o.beta2_decay();
  s.eps1 = std::get<0>(o.eps());
  s.eps2 = std::get<1>(o.eps());
  s.d = o.d();
  s.weight_decay = o.weight_decay();
  adafactor_update(param, grad, state.row_var(), state.col_var(), state.variance(), state.step(), s);
}

}  // namespace adaptive
