#include "optim/schedule/basic.h"

#include <c10/util/irange.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace adaptive {

namespace {

// One function per group: `one` for every group, or `each` (as many as groups).
template <class Lambda>
std::vector<Lambda> per_group(const char* scheduler, size_t groups, std::vector<Lambda> each) {
  TORCH_CHECK(each.size() == groups, scheduler, ": expected ", groups, " lr_lambdas (one per parameter group), got ",
              each.size());
  for (const auto i : c10::irange(each.size())) {
    TORCH_CHECK(static_cast<bool>(each[i]), scheduler, ": lr_lambda ", i, " is an empty function");
  }
  return each;
}

// Python's a // b for b > 0: rounds toward −∞.
int64_t python_floordiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Every rate of `lrs` times `factor` (Python's `base_lr * factor`).
std::vector<double> scaled(std::vector<double> lrs, double factor) {
  for (double& lr : lrs) lr = lr * factor;
  return lrs;
}

// Python's a % b for b > 0: never negative.
int64_t python_mod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return r < 0 ? r + b : r;
}

}  // namespace

// ---- LambdaLR

LambdaLR::LambdaLR(torch::optim::Optimizer& optimizer, Lambda lr_lambda)
    : LambdaLR(optimizer, std::vector<Lambda>(optimizer.param_groups().size(), std::move(lr_lambda))) {}

LambdaLR::LambdaLR(torch::optim::Optimizer& optimizer, std::vector<Lambda> lr_lambdas)
    : OptionedScheduler(optimizer, {}),
      lambdas_(per_group("LambdaLR", optimizer.param_groups().size(), std::move(lr_lambdas))) {
  initial_step();
}

std::vector<double> LambdaLR::get_lr() {
  std::vector<double> lrs;
  for (const auto gi : c10::irange(lambdas_.size())) lrs.push_back(base_lrs()[gi] * lambdas_[gi](last_epoch()));
  return lrs;
}

// ---- MultiplicativeLR

MultiplicativeLR::MultiplicativeLR(torch::optim::Optimizer& optimizer, Lambda lr_lambda)
    : MultiplicativeLR(optimizer, std::vector<Lambda>(optimizer.param_groups().size(), std::move(lr_lambda))) {}

MultiplicativeLR::MultiplicativeLR(torch::optim::Optimizer& optimizer, std::vector<Lambda> lr_lambdas)
    : OptionedScheduler(optimizer, {}),
      lambdas_(per_group("MultiplicativeLR", optimizer.param_groups().size(), std::move(lr_lambdas))) {
  initial_step();
}

std::vector<double> MultiplicativeLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  for (const auto gi : c10::irange(lrs.size())) lrs[gi] = lrs[gi] * lambdas_[gi](last_epoch());
  return lrs;
}

// ---- StepLR

StepLR::StepLR(torch::optim::Optimizer& optimizer, StepLROptions options) : OptionedScheduler(optimizer, options) {
  check(options_);
  initial_step();
}

void StepLR::check(const StepLROptions& o) const {
  TORCH_CHECK(o.step_size() >= 1, "StepLR: step_size is ", o.step_size(), "; it must be at least 1");
}

std::vector<double> StepLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch() == 0 || last_epoch() % options_.step_size() != 0) return lrs;
  for (double& lr : lrs) lr = lr * options_.gamma();
  return lrs;
}

c10::optional<std::vector<double>> StepLR::closed_form_lr() const {
  // Python: base_lr * gamma ** (last_epoch // step_size).
  const double factor = std::pow(options_.gamma(), static_cast<double>(python_floordiv(last_epoch(), options_.step_size())));
  return scaled(base_lrs(), factor);
}

// ---- MultiStepLR

MultiStepLR::MultiStepLR(torch::optim::Optimizer& optimizer, MultiStepLROptions options)
    : OptionedScheduler(optimizer, std::move(options)) {
  check(options_);
  initial_step();
}

void MultiStepLR::check(const MultiStepLROptions& o) const {
  const auto& m = o.milestones();
  for (size_t i = 1; i < m.size(); ++i) {
    TORCH_CHECK(m[i] >= m[i - 1], "MultiStepLR: milestones must be in increasing order; milestone ", i, " is ", m[i],
                " after ", m[i - 1]);
  }
}

std::vector<double> MultiStepLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  const auto& m = options_.milestones();
  const auto times = std::count(m.begin(), m.end(), last_epoch());
  if (times == 0) return lrs;
  // Python: group["lr"] * gamma ** count, the power in double (pow).
  const double factor = std::pow(options_.gamma(), static_cast<double>(times));
  for (double& lr : lrs) lr = lr * factor;
  return lrs;
}

c10::optional<std::vector<double>> MultiStepLR::closed_form_lr() const {
  // Python: base_lr * gamma ** bisect_right(sorted(milestones), last_epoch).
  std::vector<int64_t> m = options_.milestones();
  std::sort(m.begin(), m.end());
  const auto below = std::upper_bound(m.begin(), m.end(), last_epoch()) - m.begin();
  return scaled(base_lrs(), std::pow(options_.gamma(), static_cast<double>(below)));
}

// ---- ConstantLR

ConstantLR::ConstantLR(torch::optim::Optimizer& optimizer, ConstantLROptions options)
    : OptionedScheduler(optimizer, options) {
  check(options_);
  initial_step();
}

void ConstantLR::check(const ConstantLROptions& o) const {
  TORCH_CHECK(o.factor() >= 0 && o.factor() <= 1, "ConstantLR: factor is ", o.factor(),
              "; a constant multiplicative factor must be between 0 and 1");
  TORCH_CHECK(o.total_iters() >= 0, "ConstantLR: total_iters is ", o.total_iters(), "; it cannot be negative");
}

std::vector<double> ConstantLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch() == 0) {
    for (double& lr : lrs) lr = lr * options_.factor();
  } else if (last_epoch() == options_.total_iters()) {
    for (double& lr : lrs) lr = lr * (1.0 / options_.factor());
  }
  return lrs;
}

c10::optional<std::vector<double>> ConstantLR::closed_form_lr() const {
  // Python: base_lr * (factor + (last_epoch >= total_iters) * (1 - factor)).
  const double rest = last_epoch() >= options_.total_iters() ? 1 - options_.factor() : 0.0;
  return scaled(base_lrs(), options_.factor() + rest);
}

// ---- LinearLR

LinearLR::LinearLR(torch::optim::Optimizer& optimizer, LinearLROptions options) : OptionedScheduler(optimizer, options) {
  check(options_);
  initial_step();
}

void LinearLR::check(const LinearLROptions& o) const {
  TORCH_CHECK(o.start_factor() > 0 && o.start_factor() <= 1, "LinearLR: start_factor is ", o.start_factor(),
              "; the starting multiplicative factor must be greater than 0 and at most 1");
  TORCH_CHECK(o.end_factor() >= 0 && o.end_factor() <= 1, "LinearLR: end_factor is ", o.end_factor(),
              "; the ending multiplicative factor must be between 0 and 1");
  TORCH_CHECK(o.total_iters() >= 1, "LinearLR: total_iters is ", o.total_iters(), "; it must be at least 1");
}

std::vector<double> LinearLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  const double start = options_.start_factor(), end = options_.end_factor();
  const auto total = static_cast<double>(options_.total_iters());
  if (last_epoch() == 0) {
    for (double& lr : lrs) lr = lr * start;
    return lrs;
  }
  if (is_initial() || last_epoch() > options_.total_iters()) return lrs;
  // Python: 1.0 + (end - start) / (total * start + (last_epoch - 1) * (end - start)).
  const double factor = 1.0 + (end - start) / (total * start + static_cast<double>(last_epoch() - 1) * (end - start));
  for (double& lr : lrs) lr = lr * factor;
  return lrs;
}

c10::optional<std::vector<double>> LinearLR::closed_form_lr() const {
  // Python: base_lr * (start + (end - start) * min(total_iters, last_epoch) / total_iters).
  const double start = options_.start_factor(), end = options_.end_factor();
  const auto reached = static_cast<double>(std::min(options_.total_iters(), last_epoch()));
  return scaled(base_lrs(), start + (end - start) * reached / static_cast<double>(options_.total_iters()));
}

// ---- ExponentialLR

ExponentialLR::ExponentialLR(torch::optim::Optimizer& optimizer, ExponentialLROptions options)
    : OptionedScheduler(optimizer, options) {
  check(options_);
  initial_step();
}

void ExponentialLR::check(const ExponentialLROptions& o) const {
  TORCH_CHECK(std::isfinite(o.gamma()) && o.gamma() >= 0, "ExponentialLR: gamma is ", o.gamma(),
              "; it must be finite and not negative");
}

std::vector<double> ExponentialLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  for (double& lr : lrs) lr = lr * options_.gamma();
  return lrs;
}

c10::optional<std::vector<double>> ExponentialLR::closed_form_lr() const {
  // Python: base_lr * gamma ** last_epoch.
  return scaled(base_lrs(), std::pow(options_.gamma(), static_cast<double>(last_epoch())));
}

// ---- PolynomialLR

PolynomialLR::PolynomialLR(torch::optim::Optimizer& optimizer, PolynomialLROptions options)
    : OptionedScheduler(optimizer, options) {
  check(options_);
  initial_step();
}

void PolynomialLR::check(const PolynomialLROptions& o) const {
  TORCH_CHECK(o.total_iters() >= 1, "PolynomialLR: total_iters is ", o.total_iters(), "; it must be at least 1");
}

std::vector<double> PolynomialLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial() || last_epoch() > options_.total_iters()) return lrs;
  const auto t = static_cast<double>(last_epoch()), total = static_cast<double>(options_.total_iters());
  // Python: ((1.0 - t / total) / (1.0 - (t - 1) / total)) ** power.
  const double factor = std::pow((1.0 - t / total) / (1.0 - (t - 1) / total), options_.power());
  for (double& lr : lrs) lr = lr * factor;
  return lrs;
}

c10::optional<std::vector<double>> PolynomialLR::closed_form_lr() const {
  // Python: base_lr * (1.0 - min(total_iters, last_epoch) / total_iters) ** power.
  const auto reached = static_cast<double>(std::min(options_.total_iters(), last_epoch()));
  return scaled(base_lrs(), std::pow(1.0 - reached / static_cast<double>(options_.total_iters()), options_.power()));
}

// ---- CosineAnnealingLR

CosineAnnealingLR::CosineAnnealingLR(torch::optim::Optimizer& optimizer, CosineAnnealingLROptions options)
    : OptionedScheduler(optimizer, options) {
  check(options_);
  initial_step();
}

void CosineAnnealingLR::check(const CosineAnnealingLROptions& o) const {
  TORCH_CHECK(o.T_max() >= 1, "CosineAnnealingLR: T_max is ", o.T_max(), "; it must be at least 1");
}

std::vector<double> CosineAnnealingLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (is_initial()) return lrs;
  const double eta_min = options_.eta_min();
  const auto t_max = static_cast<double>(options_.T_max());
  const auto epoch = static_cast<double>(last_epoch());
  if (step_count() == 1 && last_epoch() > 0) {
    // Python: eta_min + (base_lr - eta_min) * (1 + cos(last_epoch * pi / T_max)) / 2.
    for (const auto gi : c10::irange(lrs.size())) {
      lrs[gi] = eta_min + (base_lrs()[gi] - eta_min) * (1 + std::cos(epoch * M_PI / t_max)) / 2;
    }
  } else if (python_mod(last_epoch() - 1 - options_.T_max(), 2 * options_.T_max()) == 0) {
    // Python: lr + (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2.
    for (const auto gi : c10::irange(lrs.size())) {
      lrs[gi] = lrs[gi] + (base_lrs()[gi] - eta_min) * (1 - std::cos(M_PI / t_max)) / 2;
    }
  } else {
    // Python: (1 + cos(pi * t / T_max)) / (1 + cos(pi * (t - 1) / T_max)) * (lr - eta_min) + eta_min.
    const double ratio = (1 + std::cos(M_PI * epoch / t_max)) / (1 + std::cos(M_PI * (epoch - 1) / t_max));
    for (double& lr : lrs) lr = ratio * (lr - eta_min) + eta_min;
  }
  return lrs;
}

c10::optional<std::vector<double>> CosineAnnealingLR::closed_form_lr() const {
  // Python: eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2.
  const double eta_min = options_.eta_min();
  const double cosine = 1 + std::cos(M_PI * static_cast<double>(last_epoch()) / static_cast<double>(options_.T_max()));
  std::vector<double> lrs;
  for (const double base : base_lrs()) lrs.push_back(eta_min + (base - eta_min) * cosine / 2);
  return lrs;
}


}  // namespace adaptive
