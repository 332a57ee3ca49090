#pragma once
// The schedulers that cycle: CosineAnnealingWarmRestarts (SGDR), CyclicLR
// and OneCycleLR, with Python 2.13's arithmetic. CyclicLR and OneCycleLR
// also cycle the momentum (betas[0] or momentum, see momentum.h) unless
// cycle_momentum(false). Per-group values (base_lr, max_lr, momenta) take
// one value for every group or one per group, as Python's float-or-list.

#include "optim/schedule/basic.h"

#include <c10/util/Optional.h>
#include <torch/arg.h>

#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace adaptive {

struct CosineAnnealingWarmRestartsOptions {
  /* implicit */ CosineAnnealingWarmRestartsOptions(int64_t T_0) : T_0_(T_0) {}
  /// Steps until the first restart; ≥ 1.
  TORCH_ARG(int64_t, T_0);
  /// Each period is T_mult times the previous one; ≥ 1.
  TORCH_ARG(int64_t, T_mult) = 1;
  TORCH_ARG(double, eta_min) = 0.0;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() {
    return std::make_tuple(detail::field("T_0", &CosineAnnealingWarmRestartsOptions::T_0_),
                           detail::field("T_mult", &CosineAnnealingWarmRestartsOptions::T_mult_),
                           detail::field("eta_min", &CosineAnnealingWarmRestartsOptions::eta_min_));
  }
};
/// A cosine from base_lr to eta_min over T_i steps, then a restart at
/// base_lr with T_i ← T_i · T_mult (Loshchilov & Hutter's SGDR).
class CosineAnnealingWarmRestarts : public OptionedScheduler<CosineAnnealingWarmRestartsOptions> {
 public:
  CosineAnnealingWarmRestarts(torch::optim::Optimizer& optimizer, CosineAnnealingWarmRestartsOptions options);
  const char* name() const override { return "CosineAnnealingWarmRestarts"; }
  using LRScheduler::step;
  /// Python's step(epoch): the schedule at a (possibly fractional) epoch,
  /// e.g. epoch + batch / batches_per_epoch; last_epoch becomes floor(epoch).
  void step(double epoch);
  /// Steps since the last restart (fractional after step(epoch)).
  double T_cur() const { return T_cur_; }
  /// The current period.
  int64_t T_i() const { return T_i_; }

 protected:
  std::vector<double> get_lr() override;
  void advance() override;
  bool counts_steps() const override { return false; }
  void check(const CosineAnnealingWarmRestartsOptions& o) const override;
  void save_own(torch::serialize::OutputArchive& archive) const override;
  void read_own(torch::serialize::InputArchive& archive) override;
  void commit_own() override;

 private:
  int64_t T_i_;
  double T_cur_ = -1;
  std::tuple<int64_t, double> staged_position_{0, 0.0};
};

struct CyclicLROptions {
  /// One value for every group, or one per group.
  CyclicLROptions(std::vector<double> base_lr, std::vector<double> max_lr)
      : base_lr_(std::move(base_lr)), max_lr_(std::move(max_lr)) {}
  CyclicLROptions(double base_lr, double max_lr) : CyclicLROptions(std::vector<double>{base_lr}, std::vector<double>{max_lr}) {}
  /// The lower bound of the cycle (set as every group's rate at construction).
  TORCH_ARG(std::vector<double>, base_lr);
  /// The upper bound (reached as base_lr + amplitude · scale).
  TORCH_ARG(std::vector<double>, max_lr);
  /// Steps of the rising half; ≥ 1.
  TORCH_ARG(int64_t, step_size_up) = 2000;
  /// Steps of the falling half; none: step_size_up.
  TORCH_ARG(c10::optional<int64_t>, step_size_down) = c10::nullopt;
  /// "triangular", "triangular2" (amplitude halved each cycle) or "exp_range" (gamma^iteration).
  TORCH_ARG(std::string, mode) = "triangular";
  TORCH_ARG(double, gamma) = 1.0;
  /// A custom scaling policy (replaces mode; not saved, as Python does not save functions).
  TORCH_ARG(std::function<double(double)>, scale_fn) = nullptr;
  /// What scale_fn takes with a custom one: "cycle" (the cycle number) or "iterations".
  TORCH_ARG(std::string, scale_mode) = "cycle";
  /// Cycle the momentum inversely to the rate, between base_momentum and max_momentum.
  TORCH_ARG(bool, cycle_momentum) = true;
  TORCH_ARG(std::vector<double>, base_momentum) = std::vector<double>{0.8};
  TORCH_ARG(std::vector<double>, max_momentum) = std::vector<double>{0.9};

 public:
  /// The saved values, by Python's names (save, load); step_size_down is saved as total_size and step_ratio.
  static auto fields() {
    return std::make_tuple(detail::field("base_lr", &CyclicLROptions::base_lr_), detail::field("max_lrs", &CyclicLROptions::max_lr_),
                           detail::field("step_size_up", &CyclicLROptions::step_size_up_),
                           detail::field("mode", &CyclicLROptions::mode_), detail::field("gamma", &CyclicLROptions::gamma_),
                           detail::field("scale_mode", &CyclicLROptions::scale_mode_),
                           detail::field("cycle_momentum", &CyclicLROptions::cycle_momentum_),
                           detail::field("base_momentums", &CyclicLROptions::base_momentum_),
                           detail::field("max_momentums", &CyclicLROptions::max_momentum_));
  }
};
/// The rate cycles between base_lr and max_lr (Smith's cyclical learning
/// rates), a step being one batch.
class CyclicLR : public OptionedScheduler<CyclicLROptions> {
 public:
  CyclicLR(torch::optim::Optimizer& optimizer, CyclicLROptions options);
  const char* name() const override { return "CyclicLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const CyclicLROptions& o) const override;
  void save_own(torch::serialize::OutputArchive& archive) const override;
  void read_own(torch::serialize::InputArchive& archive) override;
  void commit_own() override;

 private:
  // The rates and momenta at `epoch` (Python's get_lr, without its side effect).
  std::pair<std::vector<double>, std::vector<double>> at(int64_t epoch) const;
  double scale(double x) const;

  double total_size_ = 0, step_ratio_ = 0;
  std::tuple<double, double> staged_sizes_{0.0, 0.0};
};

struct OneCycleLROptions {
  /// One value for every group, or one per group.
  /* implicit */ OneCycleLROptions(std::vector<double> max_lr) : max_lr_(std::move(max_lr)) {}
  /* implicit */ OneCycleLROptions(double max_lr) : OneCycleLROptions(std::vector<double>{max_lr}) {}
  /// The peak rate of every group (the start is max_lr / div_factor).
  TORCH_ARG(std::vector<double>, max_lr);
  /// Steps of the whole cycle; or epochs × steps_per_epoch.
  TORCH_ARG(c10::optional<int64_t>, total_steps) = c10::nullopt;
  TORCH_ARG(c10::optional<int64_t>, epochs) = c10::nullopt;
  TORCH_ARG(c10::optional<int64_t>, steps_per_epoch) = c10::nullopt;
  /// The share of the cycle spent rising; in [0, 1].
  TORCH_ARG(double, pct_start) = 0.3;
  /// "cos" or "linear".
  TORCH_ARG(std::string, anneal_strategy) = "cos";
  TORCH_ARG(bool, cycle_momentum) = true;
  TORCH_ARG(std::vector<double>, base_momentum) = std::vector<double>{0.85};
  TORCH_ARG(std::vector<double>, max_momentum) = std::vector<double>{0.95};
  /// initial_lr = max_lr / div_factor.
  TORCH_ARG(double, div_factor) = 25.0;
  /// min_lr = initial_lr / final_div_factor.
  TORCH_ARG(double, final_div_factor) = 1e4;
  /// Three phases (up, down to initial_lr, down to min_lr) instead of two.
  TORCH_ARG(bool, three_phase) = false;

 public:
  /// The saved values, by Python's names (save, load); the step count is saved as total_steps.
  static auto fields() {
    return std::make_tuple(detail::field("max_lr", &OneCycleLROptions::max_lr_), detail::field("pct_start", &OneCycleLROptions::pct_start_),
                           detail::field("_anneal_func_type", &OneCycleLROptions::anneal_strategy_),
                           detail::field("cycle_momentum", &OneCycleLROptions::cycle_momentum_),
                           detail::field("base_momentum", &OneCycleLROptions::base_momentum_),
                           detail::field("max_momentum", &OneCycleLROptions::max_momentum_),
                           detail::field("div_factor", &OneCycleLROptions::div_factor_),
                           detail::field("final_div_factor", &OneCycleLROptions::final_div_factor_),
                           detail::field("three_phase", &OneCycleLROptions::three_phase_));
  }
};
/// Smith's 1cycle policy: up from max_lr / div_factor to max_lr over
/// pct_start of total_steps, then down to initial_lr / final_div_factor,
/// the momentum moving the other way. Stepping past total_steps is an error.
class OneCycleLR : public OptionedScheduler<OneCycleLROptions> {
 public:
  OneCycleLR(torch::optim::Optimizer& optimizer, OneCycleLROptions options);
  const char* name() const override { return "OneCycleLR"; }
  /// The steps of the whole cycle.
  int64_t total_steps() const { return total_steps_; }

 protected:
  std::vector<double> get_lr() override;
  void check(const OneCycleLROptions& o) const override;
  void save_own(torch::serialize::OutputArchive& archive) const override;
  void read_own(torch::serialize::InputArchive& archive) override;
  void commit_own() override;

 private:
  std::pair<std::vector<double>, std::vector<double>> at(int64_t step) const;

  int64_t total_steps_ = 0, staged_total_steps_ = 0;
};

}  // namespace adaptive
