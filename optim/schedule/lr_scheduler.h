#pragma once
// adaptive::LRScheduler: the base of adaptive's learning-rate schedulers,
// with the semantics of PyTorch's torch.optim.lr_scheduler.LRScheduler:
//
//   - construction takes the "initial step" (last_epoch 0), which sets each
//     group's lr to the schedule's first value;
//   - step() advances last_epoch and sets every group's lr to get_lr(), the
//     chainable (recursive) form each scheduler computes from the current
//     lrs, exactly as Python's step() without an epoch;
//   - base_lrs are the groups' lrs when the first scheduler of this
//     optimizer was made (Python's group["initial_lr"], which LibTorch's
//     options cannot hold: a registry per optimizer holds it while any
//     scheduler of it lives);
//   - save/load write and read the whole state (Python's state_dict keys),
//     all-or-nothing; another scheduler's state is refused.
//
// It derives from torch::optim::LRScheduler, so a
// torch::optim::LRScheduler& steps it too. Any torch::optim::Optimizer
// works: learning rates are read and set through options().get_lr()/set_lr().

#include <torch/optim/optimizer.h>
#include <torch/optim/schedulers/lr_scheduler.h>
#include <torch/serialize/archive.h>

#include <cstdint>
#include <string>
#include <vector>

namespace adaptive {

class LRScheduler : public torch::optim::LRScheduler {
 public:
  ~LRScheduler() override;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  /// Python's step(): last_epoch + 1, then every group's lr from get_lr().
  void step() { torch::optim::LRScheduler::step(); }

  /// The learning rates the last step set, one per group (Python's get_last_lr()).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  /// Steps taken since construction, the initial one counting as 0 (Python's last_epoch).
  int64_t last_epoch() const { return last_epoch_; }
  /// The groups' learning rates when the first scheduler of this optimizer was made.
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  /// The class name, as Python's ("StepLR").
  virtual const char* name() const = 0;

  /// The whole state: "scheduler" (the name), "base_lrs", "last_epoch",
  /// "_step_count", "_last_lr" and the scheduler's own options (Python's keys).
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what save() wrote: checked whole before anything changes; a
  /// state of another scheduler, or of another group count, is refused.
  void load(torch::serialize::InputArchive& archive);

 protected:
  explicit LRScheduler(torch::optim::Optimizer& optimizer);

  /// Python's _initial_step: each scheduler's constructor calls it last,
  /// once its own members are set (a base constructor cannot call get_lr()).
  void initial_step();

  /// The next learning rate of every group, chainable as Python's get_lr():
  /// from the current ones (group_lrs()), last_epoch() already advanced.
  virtual std::vector<double> get_lr() = 0;

  /// The scheduler's own options and state in `archive` (Python's keys).
  virtual void save_own(torch::serialize::OutputArchive& archive) const = 0;
  /// Reads them from `archive` into a staging copy, checked; commit_own()
  /// applies it. (Two steps, so that a bad archive changes nothing.)
  virtual void read_own(torch::serialize::InputArchive& archive) = 0;
  virtual void commit_own() = 0;

  /// The groups' current learning rates.
  std::vector<double> group_lrs() const;
  /// Whether the initial step is running (Python's _is_initial).
  bool is_initial() const { return initial_; }
  /// Python's _step_count: 1 after construction, + 1 per step().
  int64_t step_count() const { return step_count_python_; }
  torch::optim::Optimizer& optimizer() const { return optimizer_; }
  size_t group_count() const { return optimizer_.param_groups().size(); }

 private:
  std::vector<double> get_lrs() final;

  torch::optim::Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = -1;
  int64_t step_count_python_ = 0;
  bool initial_ = false;
};

/// Reads a double, an int or a list of doubles saved under `key`; a
/// c10::Error naming the scheduler and the key where absent or of another type.
namespace detail {
double read_double(torch::serialize::InputArchive& archive, const char* scheduler, const char* key);
int64_t read_int(torch::serialize::InputArchive& archive, const char* scheduler, const char* key);
std::vector<double> read_doubles(torch::serialize::InputArchive& archive, const char* scheduler, const char* key);
}  // namespace detail

/// torch::save(scheduler, ...) and torch::load(scheduler, ...).
torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const LRScheduler& scheduler);
torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, LRScheduler& scheduler);

}  // namespace adaptive
