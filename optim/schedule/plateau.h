#pragma once
// ReduceLROnPlateau: lowers the rates when a metric stops improving, with
// Python 2.13's rules (threshold_mode, cooldown, eps, min_lr per group).
// Its step takes the metric, so it is not a torch::optim::LRScheduler (as
// LibTorch's own ReduceLROnPlateauScheduler is not), and SequentialLR and
// ChainedScheduler do not take it (as Python's refuse it).

#include "optim/core/fields.h"

#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <string>
#include <tuple>
#include <vector>

namespace adaptive {

struct ReduceLROnPlateauOptions {
  /// "min" (a loss: lower is better) or "max" (an accuracy).
  TORCH_ARG(std::string, mode) = "min";
  /// lr ← max(lr · factor, min_lr) on a plateau; < 1.
  TORCH_ARG(double, factor) = 0.1;
  /// Steps without improvement tolerated before a reduction.
  TORCH_ARG(int64_t, patience) = 10;
  /// How much better counts as better.
  TORCH_ARG(double, threshold) = 1e-4;
  /// "rel" (best · (1 ∓ threshold)) or "abs" (best ∓ threshold).
  TORCH_ARG(std::string, threshold_mode) = "rel";
  /// Steps after a reduction during which bad steps are not counted.
  TORCH_ARG(int64_t, cooldown) = 0;
  /// The lowest rate: one for every group, or one per group.
  TORCH_ARG(std::vector<double>, min_lr) = std::vector<double>{0.0};
  /// A reduction smaller than eps is not made.
  TORCH_ARG(double, eps) = 1e-8;

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() {
    return std::make_tuple(
        detail::field("mode", &ReduceLROnPlateauOptions::mode_), detail::field("factor", &ReduceLROnPlateauOptions::factor_),
        detail::field("patience", &ReduceLROnPlateauOptions::patience_),
        detail::field("threshold", &ReduceLROnPlateauOptions::threshold_),
        detail::field("threshold_mode", &ReduceLROnPlateauOptions::threshold_mode_),
        detail::field("cooldown", &ReduceLROnPlateauOptions::cooldown_),
        detail::field("min_lrs", &ReduceLROnPlateauOptions::min_lr_), detail::field("eps", &ReduceLROnPlateauOptions::eps_));
  }
};

/// Python's torch.optim.lr_scheduler.ReduceLROnPlateau on any torch::optim::Optimizer.
class ReduceLROnPlateau {
 public:
  ReduceLROnPlateau(torch::optim::Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  ReduceLROnPlateau(const ReduceLROnPlateau&) = delete;
  ReduceLROnPlateau& operator=(const ReduceLROnPlateau&) = delete;

  /// One step with this step's metric (a loss in mode "min").
  void step(double metric);
  /// The rates after the last step, one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  /// Steps taken (Python's last_epoch: 0 after construction).
  int64_t last_epoch() const { return last_epoch_; }
  /// The best metric so far (±inf before the first step).
  double best() const { return best_; }
  /// Steps since the best one, not counting cooldown.
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  /// Steps of cooldown left.
  int64_t cooldown_counter() const { return cooldown_counter_; }
  const ReduceLROnPlateauOptions& options() const { return options_; }
  /// "ReduceLROnPlateau".
  const char* name() const { return "ReduceLROnPlateau"; }

  /// The whole state, with Python's keys ("best", "num_bad_epochs", ...).
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what save() wrote, all-or-nothing; another scheduler's state is refused.
  void load(torch::serialize::InputArchive& archive);

 private:
  bool is_better(double a, double best) const;
  void check(const ReduceLROnPlateauOptions& o) const;

  torch::optim::Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = 0;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
};

/// torch::save(scheduler, ...) and torch::load(scheduler, ...).
torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const ReduceLROnPlateau& scheduler);
torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, ReduceLROnPlateau& scheduler);

}  // namespace adaptive
