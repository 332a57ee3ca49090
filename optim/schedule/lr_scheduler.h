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

#include <c10/util/Optional.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/schedulers/lr_scheduler.h>
#include <torch/serialize/archive.h>

#include <cstdint>
#include <string>
#include <utility>
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
  /// Whether this scheduler sets the rates of `optimizer`.
  bool belongs_to(const torch::optim::Optimizer& optimizer) const { return &optimizer_ == &optimizer; }

  /// The whole state: "scheduler" (the name), "base_lrs", "last_epoch",
  /// "_step_count", "_last_lr" and the scheduler's own options (Python's keys).
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what save() wrote: checked whole before anything changes; a
  /// state of another scheduler, or of another group count, is refused.
  void load(torch::serialize::InputArchive& archive);
  /// load() in two steps, so that a composite scheduler loads its children
  /// all-or-nothing: stage_load() reads and checks everything and changes
  /// nothing; commit_load() applies what the last stage_load() staged.
  void stage_load(torch::serialize::InputArchive& archive);
  /// See stage_load().
  void commit_load();

 protected:
  explicit LRScheduler(torch::optim::Optimizer& optimizer);

  /// Replaces this scheduler's base_lrs (CyclicLR's are its base_lr).
  void set_base_lrs(std::vector<double> lrs) { base_lrs_ = std::move(lrs); }

  /// Python's _initial_step: each scheduler's constructor calls it last,
  /// once its own members are set (a base constructor cannot call get_lr()).
  void initial_step();

  /// The next learning rate of every group, chainable as Python's get_lr():
  /// from the current ones (group_lrs()), last_epoch() already advanced.
  virtual std::vector<double> get_lr() = 0;
  /// Python's _get_closed_form_lr(): the rates at last_epoch() from base_lrs
  /// alone, for the schedulers that have one (none: get_lr() serves).
  virtual c10::optional<std::vector<double>> closed_form_lr() const { return c10::nullopt; }
  /// Called by step() after last_epoch advanced, before get_lr() (state a
  /// scheduler advances per step besides last_epoch: CosineAnnealingWarmRestarts' T_cur).
  virtual void advance() {}
  /// Whether step() counts in _step_count (CosineAnnealingWarmRestarts' own step() does not, in Python).
  virtual bool counts_steps() const { return true; }
  /// Python's _update_lr(epoch): last_epoch = epoch, the rates from the
  /// closed form (or get_lr()), _step_count unchanged. SequentialLR calls it
  /// on a child at its milestone.
  void update_lr(int64_t epoch);
  /// Python's SequentialLR.recursive_undo: last_epoch − 1 (a composite
  /// scheduler passes it to its children instead).
  virtual void undo_epoch() { --last_epoch_; }
  /// Sets last_epoch and the last rates (a composite scheduler's own, as Python's sets them).
  void set_progress(int64_t last_epoch, std::vector<double> last_lr) {
    last_epoch_ = last_epoch;
    last_lr_ = std::move(last_lr);
  }

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
  friend class CompositeScheduler;  // undoes and loads its children
  friend class SequentialLR;        // steps and updates its children
  std::vector<double> get_lrs() final;

  struct Staged {
    std::vector<double> base_lrs, last_lr;
    int64_t last_epoch = 0, step_count = 0;
  };
  c10::optional<Staged> staged_;

  torch::optim::Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  std::vector<double> last_lr_;
  int64_t last_epoch_ = -1;
  int64_t step_count_python_ = 0;
  bool initial_ = false;
};

namespace detail {
/// Sets each group's initial rate (Python's group["initial_lr"] = ..., as
/// OneCycleLR does before its base constructor): the base_lrs of the next
/// and every later scheduler of `optimizer`. Returns `optimizer`, for a
/// constructor's initializer list.
torch::optim::Optimizer& overwrite_initial_lrs(torch::optim::Optimizer& optimizer, const std::vector<double>& lrs);
/// Sets each group's current rate (CyclicLR sets its base_lr before its base
/// constructor). Returns `optimizer`.
torch::optim::Optimizer& set_group_lrs(torch::optim::Optimizer& optimizer, const std::vector<double>& lrs);
/// Each group's current rate.
std::vector<double> group_lrs(const torch::optim::Optimizer& optimizer);
/// Python's _format_param: `values` given once for every group, or once per
/// group, as one per group; a c10::Error naming `scheduler` and the argument
/// `name` for any other count.
std::vector<double> per_group(const char* scheduler, const char* name, const std::vector<double>& values, size_t groups);

/// Checks that `archive` holds the state of a scheduler named `scheduler`
/// (its "scheduler" key), or throws a c10::Error saying what it holds.
void check_scheduler_kind(torch::serialize::InputArchive& archive, const char* scheduler);

/// Reads a double, an int or a list of doubles saved under `key`; a
/// c10::Error naming the scheduler and the key where absent or of another type.
double read_double(torch::serialize::InputArchive& archive, const char* scheduler, const char* key);
int64_t read_int(torch::serialize::InputArchive& archive, const char* scheduler, const char* key);
std::vector<double> read_doubles(torch::serialize::InputArchive& archive, const char* scheduler, const char* key);
}  // namespace detail

/// torch::save(scheduler, ...) and torch::load(scheduler, ...).
torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const LRScheduler& scheduler);
torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, LRScheduler& scheduler);

}  // namespace adaptive
