#pragma once
// The schedulers whose next rate is one multiply of the current one:
// LambdaLR, MultiplicativeLR, StepLR, MultiStepLR, ConstantLR, LinearLR,
// ExponentialLR, PolynomialLR, CosineAnnealingLR. Each is constructed as
// Name(optimizer, NameOptions(required arguments in Python's order)), its
// other arguments TORCH_ARGs with Python's names and defaults, and computes
// Python 2.13's chainable get_lr(), operation for operation.

#include "optim/core/fields.h"
#include "optim/schedule/lr_scheduler.h"

#include <c10/util/Optional.h>
#include <torch/arg.h>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace adaptive {

/// A scheduler with options `Options` (whose fields() list its saved
/// values): save, load and the checks shared by construction and load.
template <class Options>
class OptionedScheduler : public LRScheduler {
 public:
  const Options& options() const { return options_; }

 protected:
  OptionedScheduler(torch::optim::Optimizer& optimizer, Options options)
      : LRScheduler(optimizer), options_(std::move(options)) {}
  /// Throws c10::Error naming the option and its value where `o` is invalid.
  virtual void check(const Options& o) const = 0;

  void save_own(torch::serialize::OutputArchive& archive) const override;
  void read_own(torch::serialize::InputArchive& archive) override;
  void commit_own() override {
    options_ = std::move(*staged_);
    staged_.reset();
  }

  Options options_;

 private:
  c10::optional<Options> staged_;
};

// Defined here: every scheduler family instantiates them for its options.
template <class Options>
void OptionedScheduler<Options>::save_own(torch::serialize::OutputArchive& archive) const {
  detail::write_fields(options_, archive);
}

template <class Options>
void OptionedScheduler<Options>::read_own(torch::serialize::InputArchive& archive) {
  Options staged = options_;
  detail::for_each_field<Options>([&](const auto& fd) {
    using T = std::decay_t<decltype(staged.*(fd.member))>;
    if constexpr (std::is_same_v<T, double>) {
      staged.*(fd.member) = detail::read_double(archive, name(), fd.name);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      staged.*(fd.member) = detail::read_int(archive, name(), fd.name);
    } else {
      c10::IValue value;
      TORCH_CHECK(archive.try_read(fd.name, value), name(), "::load: the archive has no '", fd.name, "'");
      staged.*(fd.member) = value.to<T>();
    }
  });
  check(staged);
  staged_ = std::move(staged);
}

/// Options of a scheduler that has none to save (LambdaLR, MultiplicativeLR).
struct NoSchedulerOptions {
  static std::tuple<> fields() { return {}; }
};

/// lr = base_lr · λ(last_epoch), λ per group or one for all (Python's LambdaLR).
/// The functions are not saved (as Python does not save plain functions).
class LambdaLR : public OptionedScheduler<NoSchedulerOptions> {
 public:
  using Lambda = std::function<double(int64_t)>;
  LambdaLR(torch::optim::Optimizer& optimizer, Lambda lr_lambda);
  /// One function per group (as many as the optimizer has).
  LambdaLR(torch::optim::Optimizer& optimizer, std::vector<Lambda> lr_lambdas);
  const char* name() const override { return "LambdaLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const NoSchedulerOptions&) const override {}

 private:
  std::vector<Lambda> lambdas_;
};

/// lr ← lr · λ(last_epoch) every step after the first (Python's MultiplicativeLR).
class MultiplicativeLR : public OptionedScheduler<NoSchedulerOptions> {
 public:
  using Lambda = std::function<double(int64_t)>;
  MultiplicativeLR(torch::optim::Optimizer& optimizer, Lambda lr_lambda);
  MultiplicativeLR(torch::optim::Optimizer& optimizer, std::vector<Lambda> lr_lambdas);
  const char* name() const override { return "MultiplicativeLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const NoSchedulerOptions&) const override {}

 private:
  std::vector<Lambda> lambdas_;
};

struct StepLROptions {
  /* implicit */ StepLROptions(int64_t step_size) : step_size_(step_size) {}
  /// Epochs between two decays; ≥ 1.
  TORCH_ARG(int64_t, step_size);
  /// The decay factor.
  TORCH_ARG(double, gamma) = 0.1;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("step_size", &StepLROptions::step_size_), detail::field("gamma", &StepLROptions::gamma_)); }
};
/// lr ← lr · γ every step_size steps.
class StepLR : public OptionedScheduler<StepLROptions> {
 public:
  StepLR(torch::optim::Optimizer& optimizer, StepLROptions options);
  const char* name() const override { return "StepLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const StepLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

struct MultiStepLROptions {
  /* implicit */ MultiStepLROptions(std::vector<int64_t> milestones) : milestones_(std::move(milestones)) {}
  /// Epochs at which lr ← lr · γ; increasing (a repeated milestone decays as often as listed, as Python's Counter).
  TORCH_ARG(std::vector<int64_t>, milestones);
  TORCH_ARG(double, gamma) = 0.1;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("milestones", &MultiStepLROptions::milestones_), detail::field("gamma", &MultiStepLROptions::gamma_)); }
};
/// lr ← lr · γ^(times last_epoch is listed) at each milestone.
class MultiStepLR : public OptionedScheduler<MultiStepLROptions> {
 public:
  MultiStepLR(torch::optim::Optimizer& optimizer, MultiStepLROptions options);
  const char* name() const override { return "MultiStepLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const MultiStepLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

struct ConstantLROptions {
  /// The factor lr is multiplied by for the first total_iters steps; in [0, 1].
  TORCH_ARG(double, factor) = 1.0 / 3;
  TORCH_ARG(int64_t, total_iters) = 5;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("factor", &ConstantLROptions::factor_), detail::field("total_iters", &ConstantLROptions::total_iters_)); }
};
/// lr = base_lr · factor until total_iters, then base_lr.
class ConstantLR : public OptionedScheduler<ConstantLROptions> {
 public:
  ConstantLR(torch::optim::Optimizer& optimizer, ConstantLROptions options = {});
  const char* name() const override { return "ConstantLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const ConstantLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

struct LinearLROptions {
  /// The first factor; in (0, 1].
  TORCH_ARG(double, start_factor) = 1.0 / 3;
  /// The last factor; in [0, 1].
  TORCH_ARG(double, end_factor) = 1.0;
  TORCH_ARG(int64_t, total_iters) = 5;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("start_factor", &LinearLROptions::start_factor_), detail::field("end_factor", &LinearLROptions::end_factor_),
                           detail::field("total_iters", &LinearLROptions::total_iters_)); }
};
/// The factor goes linearly from start_factor to end_factor over total_iters steps (warm-up).
class LinearLR : public OptionedScheduler<LinearLROptions> {
 public:
  LinearLR(torch::optim::Optimizer& optimizer, LinearLROptions options = {});
  const char* name() const override { return "LinearLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const LinearLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

struct ExponentialLROptions {
  /* implicit */ ExponentialLROptions(double gamma) : gamma_(gamma) {}
  TORCH_ARG(double, gamma);

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("gamma", &ExponentialLROptions::gamma_)); }
};
/// lr ← lr · γ every step.
class ExponentialLR : public OptionedScheduler<ExponentialLROptions> {
 public:
  ExponentialLR(torch::optim::Optimizer& optimizer, ExponentialLROptions options);
  const char* name() const override { return "ExponentialLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const ExponentialLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

struct PolynomialLROptions {
  TORCH_ARG(int64_t, total_iters) = 5;
  TORCH_ARG(double, power) = 1.0;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("total_iters", &PolynomialLROptions::total_iters_), detail::field("power", &PolynomialLROptions::power_)); }
};
/// lr = base_lr · (1 − t/total_iters)^power, reaching 0 at total_iters.
class PolynomialLR : public OptionedScheduler<PolynomialLROptions> {
 public:
  PolynomialLR(torch::optim::Optimizer& optimizer, PolynomialLROptions options = {});
  const char* name() const override { return "PolynomialLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const PolynomialLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

struct CosineAnnealingLROptions {
  /* implicit */ CosineAnnealingLROptions(int64_t T_max) : T_max_(T_max) {}
  /// Half a period, in steps; ≥ 1.
  TORCH_ARG(int64_t, T_max);
  TORCH_ARG(double, eta_min) = 0.0;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() { return std::make_tuple(detail::field("T_max", &CosineAnnealingLROptions::T_max_), detail::field("eta_min", &CosineAnnealingLROptions::eta_min_)); }
};
/// lr follows a cosine from base_lr down to eta_min over T_max steps (and
/// back up over the next T_max, as Python's chainable form does).
class CosineAnnealingLR : public OptionedScheduler<CosineAnnealingLROptions> {
 public:
  CosineAnnealingLR(torch::optim::Optimizer& optimizer, CosineAnnealingLROptions options);
  const char* name() const override { return "CosineAnnealingLR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const CosineAnnealingLROptions& o) const override;
  c10::optional<std::vector<double>> closed_form_lr() const override;
};

}  // namespace adaptive
