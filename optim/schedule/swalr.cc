#include "optim/schedule/swalr.h"

#include <c10/util/irange.h>

#include <algorithm>
#include <cmath>

namespace adaptive {
namespace {

SWALROptions expanded(SWALROptions o, size_t groups) {
  o.swa_lr(detail::per_group("SWALR", "swa_lr", o.swa_lr(), groups));
  return o;
}

// Python's _cosine_anneal and _linear_anneal.
double anneal(const std::string& strategy, double t) { return strategy == "cos" ? (1 - std::cos(M_PI * t)) / 2 : t; }

// Python: max(0, min(1, x)).
double clamp01(double x) { return std::max(0.0, std::min(1.0, x)); }

}  // namespace

SWALR::SWALR(torch::optim::Optimizer& optimizer, SWALROptions options)
    : OptionedScheduler(optimizer, expanded(std::move(options), optimizer.param_groups().size())) {
  check(options_);
  initial_step();
}

void SWALR::check(const SWALROptions& o) const {
  TORCH_CHECK(o.swa_lr().size() == group_count(), "SWALR: ", o.swa_lr().size(), " swa_lrs for ", group_count(),
              " parameter groups");
  TORCH_CHECK(o.anneal_strategy() == "cos" || o.anneal_strategy() == "linear", "SWALR: anneal_strategy is '",
              o.anneal_strategy(), "'; it must be cos or linear");
  TORCH_CHECK(o.anneal_epochs() >= 0, "SWALR: anneal_epochs is ", o.anneal_epochs(), "; it cannot be negative");
}

std::vector<double> SWALR::get_lr() {
  int64_t step = step_count() - 1;
  if (options_.anneal_epochs() == 0) step = std::max<int64_t>(1, step);
  const auto span = static_cast<double>(std::max<int64_t>(1, options_.anneal_epochs()));
  const double prev_alpha = anneal(options_.anneal_strategy(), clamp01(static_cast<double>(step - 1) / span));
  const double alpha = anneal(options_.anneal_strategy(), clamp01(static_cast<double>(step) / span));
  std::vector<double> lrs = group_lrs();
  for (const auto gi : c10::irange(lrs.size())) {
    const double swa_lr = options_.swa_lr()[gi];
    // Python's _get_initial_lr: the rate before this annealing began.
    const double prev = prev_alpha == 1 ? swa_lr : (lrs[gi] - prev_alpha * swa_lr) / (1 - prev_alpha);
    lrs[gi] = swa_lr * alpha + prev * (1 - alpha);
  }
  return lrs;
}

}  // namespace adaptive
