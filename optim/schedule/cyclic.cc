#include "optim/schedule/cyclic.h"

#include "optim/schedule/momentum.h"

#include <c10/util/irange.h>

#include <cmath>

namespace adaptive {
namespace {

// The momentum of every group, or a c10::Error where the optimizer has none to cycle.
void check_momentum_slot(const char* scheduler, const torch::optim::Optimizer& optimizer) {
  TORCH_CHECK(detail::momentum_slot(optimizer.defaults()) != detail::MomentumSlot::kNone, scheduler,
              ": cycle_momentum is true, but the optimizer has neither momentum nor betas; "
              "use cycle_momentum(false)");
}

void set_momenta(torch::optim::Optimizer& optimizer, const std::vector<double>& momenta) {
  auto& groups = optimizer.param_groups();
  for (const auto gi : c10::irange(groups.size())) detail::set_momentum(groups[gi].options(), momenta[gi]);
}

// Python's float % for a ≥ 0, b > 0.
double python_fmod(double a, double b) {
  const double r = std::fmod(a, b);
  return (r != 0 && (r < 0) != (b < 0)) ? r + b : r;
}

}  // namespace

// ---- CosineAnnealingWarmRestarts

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(torch::optim::Optimizer& optimizer,
                                                         CosineAnnealingWarmRestartsOptions options)
    : OptionedScheduler(optimizer, options), T_i_(options.T_0()) {
  check(options_);
  initial_step();
}

void CosineAnnealingWarmRestarts::check(const CosineAnnealingWarmRestartsOptions& o) const {
  TORCH_CHECK(o.T_0() >= 1, "CosineAnnealingWarmRestarts: T_0 is ", o.T_0(), "; it must be a positive integer");
  TORCH_CHECK(o.T_mult() >= 1, "CosineAnnealingWarmRestarts: T_mult is ", o.T_mult(), "; it must be an integer ≥ 1");
}

void CosineAnnealingWarmRestarts::advance() {
  if (last_epoch() <= 0) {  // the first step (Python: epoch 0)
    T_i_ = options_.T_0();
    T_cur_ = 0;
    return;
  }
  T_cur_ = T_cur_ + 1;
  if (T_cur_ >= static_cast<double>(T_i_)) {
    T_cur_ = python_fmod(T_cur_, static_cast<double>(T_i_));
    T_i_ = T_i_ * options_.T_mult();
  }
}

void CosineAnnealingWarmRestarts::step(double epoch) {
  TORCH_CHECK(epoch >= 0 && std::isfinite(epoch), "CosineAnnealingWarmRestarts::step: epoch is ", epoch,
              "; it must be finite and not negative");
  const auto t0 = static_cast<double>(options_.T_0());
  const int64_t mult = options_.T_mult();
  int64_t t_i = options_.T_0();
  double t_cur = epoch;
  if (epoch >= t0) {
    if (mult == 1) {
      t_cur = python_fmod(epoch, t0);
    } else {
      // Python: n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult)).
      const auto n = static_cast<int64_t>(std::log(epoch / t0 * static_cast<double>(mult - 1) + 1) /
                                          std::log(static_cast<double>(mult)));
      int64_t power = 1;
      for (int64_t i = 0; i < n; ++i) power *= mult;
      t_cur = epoch - static_cast<double>(options_.T_0() * (power - 1)) / static_cast<double>(mult - 1);
      t_i = options_.T_0() * power;
    }
  }
  T_i_ = t_i;
  T_cur_ = t_cur;
  const std::vector<double> lrs = get_lr();
  detail::set_group_lrs(optimizer(), lrs);
  set_progress(static_cast<int64_t>(std::floor(epoch)), lrs);
}

std::vector<double> CosineAnnealingWarmRestarts::get_lr() {
  // Python: eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2.
  const double eta_min = options_.eta_min();
  const double cosine = 1 + std::cos(M_PI * T_cur_ / static_cast<double>(T_i_));
  std::vector<double> lrs;
  for (const double base : base_lrs()) lrs.push_back(eta_min + (base - eta_min) * cosine / 2);
  return lrs;
}

void CosineAnnealingWarmRestarts::save_own(torch::serialize::OutputArchive& archive) const {
  OptionedScheduler::save_own(archive);
  archive.write("T_i", c10::IValue(T_i_));
  archive.write("T_cur", c10::IValue(T_cur_));
}

void CosineAnnealingWarmRestarts::read_own(torch::serialize::InputArchive& archive) {
  const int64_t t_i = detail::read_int(archive, name(), "T_i");
  const double t_cur = detail::read_double(archive, name(), "T_cur");
  TORCH_CHECK(t_i >= 1 && t_cur >= -1 && t_cur < static_cast<double>(t_i), name(), "::load: T_i ", t_i, " and T_cur ",
              t_cur, " are no state it reaches");
  OptionedScheduler::read_own(archive);
  staged_position_ = {t_i, t_cur};
}

void CosineAnnealingWarmRestarts::commit_own() {
  OptionedScheduler::commit_own();
  std::tie(T_i_, T_cur_) = staged_position_;
}

// ---- CyclicLR

namespace {
CyclicLROptions expanded(CyclicLROptions o, size_t groups) {
  o.base_lr(detail::per_group("CyclicLR", "base_lr", o.base_lr(), groups));
  o.max_lr(detail::per_group("CyclicLR", "max_lr", o.max_lr(), groups));
  o.base_momentum(detail::per_group("CyclicLR", "base_momentum", o.base_momentum(), groups));
  o.max_momentum(detail::per_group("CyclicLR", "max_momentum", o.max_momentum(), groups));
  TORCH_CHECK(o.step_size_up() >= 1, "CyclicLR: step_size_up is ", o.step_size_up(), "; it must be at least 1");
  TORCH_CHECK(!o.step_size_down() || *o.step_size_down() >= 1, "CyclicLR: step_size_down is ",
              o.step_size_down().value_or(0), "; it must be at least 1");
  TORCH_CHECK(o.scale_fn() || o.mode() == "triangular" || o.mode() == "triangular2" || o.mode() == "exp_range",
              "CyclicLR: mode is '", o.mode(), "'; it must be triangular, triangular2 or exp_range (or give a scale_fn)");
  TORCH_CHECK(o.scale_mode() == "cycle" || o.scale_mode() == "iterations", "CyclicLR: scale_mode is '", o.scale_mode(),
              "'; it must be cycle or iterations");
  if (!o.scale_fn()) o.scale_mode(o.mode() == "exp_range" ? "iterations" : "cycle");  // as Python's _init_scale_fn
  return o;
}

// Validates, then sets every group's rate to base_lr (before the base
// constructor takes them as initial rates, as Python's) and the momentum to
// max_momentum: nothing changes where the options are refused.
torch::optim::Optimizer& prepared(torch::optim::Optimizer& optimizer, const CyclicLROptions& options) {
  const CyclicLROptions o = expanded(options, optimizer.param_groups().size());
  if (o.cycle_momentum()) check_momentum_slot("CyclicLR", optimizer);
  if (o.cycle_momentum()) set_momenta(optimizer, o.max_momentum());
  return detail::set_group_lrs(optimizer, o.base_lr());
}
}  // namespace

CyclicLR::CyclicLR(torch::optim::Optimizer& optimizer, CyclicLROptions options)
    : OptionedScheduler(prepared(optimizer, options), expanded(options, optimizer.param_groups().size())) {
  const auto up = static_cast<double>(options_.step_size_up());
  const double down = options_.step_size_down() ? static_cast<double>(*options_.step_size_down()) : up;
  total_size_ = up + down;
  step_ratio_ = up / total_size_;
  set_base_lrs(options_.base_lr());
  initial_step();
}

void CyclicLR::check(const CyclicLROptions& o) const {
  const size_t groups = group_count();
  TORCH_CHECK(o.base_lr().size() == groups && o.max_lr().size() == groups && o.base_momentum().size() == groups &&
                  o.max_momentum().size() == groups,
              "CyclicLR: the state is for other parameter groups than the optimizer's ", groups);
  expanded(o, groups);
}

double CyclicLR::scale(double x) const {
  if (options_.scale_fn()) return options_.scale_fn()(x);
  if (options_.mode() == "triangular") return 1.0;
  if (options_.mode() == "triangular2") return 1 / std::pow(2.0, x - 1);
  return std::pow(options_.gamma(), x);  // exp_range
}

std::pair<std::vector<double>, std::vector<double>> CyclicLR::at(int64_t epoch) const {
  const auto e = static_cast<double>(epoch);
  // Python: cycle = floor(1 + last_epoch / total_size); x = 1.0 + last_epoch / total_size - cycle.
  const double cycle = std::floor(1 + e / total_size_);
  const double x = 1.0 + e / total_size_ - cycle;
  const double scale_factor = x <= step_ratio_ ? x / step_ratio_ : (x - 1) / (step_ratio_ - 1);
  const double s = scale(options_.scale_mode() == "cycle" ? cycle : e);
  std::vector<double> lrs, momenta;
  for (const auto gi : c10::irange(group_count())) {
    const double base_height = (options_.max_lr()[gi] - base_lrs()[gi]) * scale_factor;
    lrs.push_back(base_lrs()[gi] + base_height * s);
    if (options_.cycle_momentum()) {
      const double height = (options_.max_momentum()[gi] - options_.base_momentum()[gi]) * scale_factor;
      momenta.push_back(options_.max_momentum()[gi] - height * s);
    }
  }
  return {lrs, momenta};
}

std::vector<double> CyclicLR::get_lr() {
  auto [lrs, momenta] = at(last_epoch());
  if (options_.cycle_momentum()) set_momenta(optimizer(), momenta);
  return lrs;
}

void CyclicLR::save_own(torch::serialize::OutputArchive& archive) const {
  OptionedScheduler::save_own(archive);
  archive.write("total_size", c10::IValue(total_size_));
  archive.write("step_ratio", c10::IValue(step_ratio_));
}

void CyclicLR::read_own(torch::serialize::InputArchive& archive) {
  const double total = detail::read_double(archive, name(), "total_size");
  const double ratio = detail::read_double(archive, name(), "step_ratio");
  TORCH_CHECK(total >= 2 && ratio > 0 && ratio < 1, name(), "::load: total_size ", total, " and step_ratio ", ratio,
              " are no cycle's");
  OptionedScheduler::read_own(archive);
  staged_sizes_ = {total, ratio};
}

void CyclicLR::commit_own() {
  const auto scale_fn = options_.scale_fn();  // a function is not saved: the constructor's stays
  OptionedScheduler::commit_own();
  options_.scale_fn(scale_fn);
  std::tie(total_size_, step_ratio_) = staged_sizes_;
  // LibTorch's built-in optimizers do not restore their options on load: the
  // momentum of the saved step, as the rates (LRScheduler::load).
  if (options_.cycle_momentum()) set_momenta(optimizer(), at(last_epoch()).second);
}

// ---- OneCycleLR

namespace {
struct OneCyclePlan {
  OneCycleLROptions options;
  int64_t total_steps;
  std::vector<double> initial_lrs;
};

OneCyclePlan plan(OneCycleLROptions o, size_t groups) {
  int64_t total = 0;
  if (o.total_steps()) {
    TORCH_CHECK(*o.total_steps() >= 1, "OneCycleLR: total_steps is ", *o.total_steps(), "; it must be a positive integer");
    total = *o.total_steps();
  } else {
    TORCH_CHECK(o.epochs() && o.steps_per_epoch(), "OneCycleLR: give total_steps, or epochs and steps_per_epoch");
    TORCH_CHECK(*o.epochs() >= 1, "OneCycleLR: epochs is ", *o.epochs(), "; it must be a positive integer");
    TORCH_CHECK(*o.steps_per_epoch() >= 1, "OneCycleLR: steps_per_epoch is ", *o.steps_per_epoch(),
                "; it must be a positive integer");
    total = *o.epochs() * *o.steps_per_epoch();
  }
  TORCH_CHECK(o.pct_start() >= 0 && o.pct_start() <= 1, "OneCycleLR: pct_start is ", o.pct_start(),
              "; it must be between 0 and 1");
  TORCH_CHECK(o.anneal_strategy() == "cos" || o.anneal_strategy() == "linear", "OneCycleLR: anneal_strategy is '",
              o.anneal_strategy(), "'; it must be cos or linear");
  TORCH_CHECK(o.div_factor() > 0 && o.final_div_factor() > 0, "OneCycleLR: div_factor ", o.div_factor(),
              " and final_div_factor ", o.final_div_factor(), " must be positive");
  o.max_lr(detail::per_group("OneCycleLR", "max_lr", o.max_lr(), groups));
  o.base_momentum(detail::per_group("OneCycleLR", "base_momentum", o.base_momentum(), groups));
  o.max_momentum(detail::per_group("OneCycleLR", "max_momentum", o.max_momentum(), groups));
  std::vector<double> initial;
  for (const double max_lr : o.max_lr()) initial.push_back(max_lr / o.div_factor());
  return {std::move(o), total, std::move(initial)};
}

// Validates, then sets the momentum to max_momentum and each group's initial
// rate to max_lr / div_factor (Python's group["initial_lr"] = ..., before its
// base constructor): nothing changes where the options are refused.
torch::optim::Optimizer& prepared(torch::optim::Optimizer& optimizer, const OneCycleLROptions& options) {
  const OneCyclePlan p = plan(options, optimizer.param_groups().size());
  if (p.options.cycle_momentum()) check_momentum_slot("OneCycleLR", optimizer);
  if (p.options.cycle_momentum()) set_momenta(optimizer, p.options.max_momentum());
  return detail::overwrite_initial_lrs(optimizer, p.initial_lrs);
}

// Python's _annealing_cos and _annealing_linear.
double anneal(bool cosine, double start, double end, double pct) {
  if (cosine) {
    const double cos_out = std::cos(M_PI * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  return (end - start) * pct + start;
}
}  // namespace

OneCycleLR::OneCycleLR(torch::optim::Optimizer& optimizer, OneCycleLROptions options)
    : OptionedScheduler(prepared(optimizer, options), plan(options, optimizer.param_groups().size()).options),
      total_steps_(plan(options_, group_count()).total_steps) {
  initial_step();
}

void OneCycleLR::check(const OneCycleLROptions& o) const {
  const size_t groups = group_count();
  TORCH_CHECK(o.max_lr().size() == groups && o.base_momentum().size() == groups && o.max_momentum().size() == groups,
              "OneCycleLR: the state is for other parameter groups than the optimizer's ", groups);
  plan(o, groups);
}

std::pair<std::vector<double>, std::vector<double>> OneCycleLR::at(int64_t step) const {
  TORCH_CHECK(step <= total_steps_, "OneCycleLR: tried to step ", step, " times; the specified number of total steps is ",
              total_steps_);
  const auto& o = options_;
  const auto total = static_cast<double>(total_steps_);
  // Python's _schedule_phases: (end_step, start/end lr, start/end momentum).
  struct Phase {
    double end_step;
    int start_lr, end_lr;  // 0 initial_lr, 1 max_lr, 2 min_lr
    bool start_max_momentum, end_max_momentum;
  };
  std::vector<Phase> phases;
  if (o.three_phase()) {
    phases = {{o.pct_start() * total - 1, 0, 1, true, false},
              {2 * o.pct_start() * total - 2, 1, 0, false, true},
              {total - 1, 0, 2, true, true}};
  } else {
    phases = {{o.pct_start() * total - 1, 0, 1, true, false}, {total - 1, 1, 2, false, true}};
  }
  const bool cosine = o.anneal_strategy() == "cos";
  const auto e = static_cast<double>(step);
  std::vector<double> lrs, momenta;
  for (const auto gi : c10::irange(group_count())) {
    const double initial = o.max_lr()[gi] / o.div_factor();
    const double lr_of[3] = {initial, o.max_lr()[gi], initial / o.final_div_factor()};
    double start_step = 0.0;
    for (const auto pi : c10::irange(phases.size())) {
      const Phase& phase = phases[pi];
      if (e <= phase.end_step || pi + 1 == phases.size()) {
        const double pct = (e - start_step) / (phase.end_step - start_step);
        lrs.push_back(anneal(cosine, lr_of[phase.start_lr], lr_of[phase.end_lr], pct));
        if (o.cycle_momentum()) {
          const double from = phase.start_max_momentum ? o.max_momentum()[gi] : o.base_momentum()[gi];
          const double to = phase.end_max_momentum ? o.max_momentum()[gi] : o.base_momentum()[gi];
          momenta.push_back(anneal(cosine, from, to, pct));
        }
        break;
      }
      start_step = phase.end_step;
    }
  }
  return {lrs, momenta};
}

std::vector<double> OneCycleLR::get_lr() {
  auto [lrs, momenta] = at(last_epoch());
  if (options_.cycle_momentum()) set_momenta(optimizer(), momenta);
  return lrs;
}

void OneCycleLR::save_own(torch::serialize::OutputArchive& archive) const {
  OptionedScheduler::save_own(archive);
  archive.write("total_steps", c10::IValue(total_steps_));
}

void OneCycleLR::read_own(torch::serialize::InputArchive& archive) {
  const int64_t total = detail::read_int(archive, name(), "total_steps");
  TORCH_CHECK(total >= 1, name(), "::load: total_steps is ", total);
  OptionedScheduler::read_own(archive);
  staged_total_steps_ = total;
}

void OneCycleLR::commit_own() {
  OptionedScheduler::commit_own();
  total_steps_ = staged_total_steps_;
  options_.total_steps(total_steps_);
  if (options_.cycle_momentum()) set_momenta(optimizer(), at(last_epoch()).second);
}


}  // namespace adaptive
