#include "optim/muon.h"

#include "optim/core/validation.h"

#include <cmath>

namespace adaptive {

MuonOptions::MuonOptions(double lr) : lr_(lr) {}

void Muon::validate(const MuonOptions& o) {
  // torch.optim.Muon checks lr, momentum and weight_decay (>= 0) and
  // adjust_lr_fn; ns_steps < 100 only when it steps. adaptive checks every
  // option here, before a step.
  detail::check_non_negative(kName, "lr", o.lr());
  detail::check_non_negative(kName, "weight_decay", o.weight_decay());
  detail::check_non_negative(kName, "momentum", o.momentum());
  detail::check_non_negative(kName, "eps", o.eps());
  const auto [a, b, c] = o.ns_coefficients();
  TORCH_CHECK(std::isfinite(a) && std::isfinite(b) && std::isfinite(c), kName, ": invalid ns_coefficients = (", a,
              ", ", b, ", ", c, ") (expected finite numbers)");
  TORCH_CHECK(o.ns_steps() >= 0 && o.ns_steps() < 100, kName, ": invalid ns_steps = ", o.ns_steps(),
              " (expected a whole number in [0, 100))");
  TORCH_CHECK(!o.adjust_lr_fn() || *o.adjust_lr_fn() == "original" || *o.adjust_lr_fn() == "match_rms_adamw", kName,
              ": invalid adjust_lr_fn = \"", o.adjust_lr_fn().value_or(""),
              "\" (expected none, \"original\" or \"match_rms_adamw\")");
}

void Muon::init_state(MuonParamState& state, const torch::Tensor& param, const MuonOptions&) {
  if (!state.momentum_buffer().defined()) {
    state.momentum_buffer(torch::zeros_like(param, torch::MemoryFormat::Preserve));
  }
}

void Muon::tensor_step(MuonParamState& state, const torch::Tensor& param, const torch::Tensor& grad,
                       const MuonOptions& o) {
  MuonScalars s;
  s.lr = o.lr();
  s.weight_decay = o.weight_decay();
  s.momentum = o.momentum();
  s.nesterov = o.nesterov();
  s.ns_coefficients = o.ns_coefficients();
  s.eps = o.eps();
  s.ns_steps = o.ns_steps();
  s.adjust_lr_fn = o.adjust_lr_fn();
  muon_update(param, grad, state.momentum_buffer(), s);
}


}  // namespace adaptive
