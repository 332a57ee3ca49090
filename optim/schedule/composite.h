#pragma once
// Schedulers made of schedulers: SequentialLR (one after another, switching
// at milestones: warm-up then decay) and ChainedScheduler (all at once, their
// factors multiplying), with Python 2.13's semantics: SequentialLR resets
// the rates to the initial ones, undoes its children's initial steps and
// starts each later child at its milestone from its closed form (Python's
// _update_lr(0)). The children are shared: the caller may keep handles.

#include "optim/schedule/lr_scheduler.h"

#include <torch/arg.h>

#include <memory>
#include <vector>

namespace adaptive {

/// The base of the schedulers made of schedulers: it holds the children
/// (shared), passes SequentialLR's undo to them, and saves and loads their
/// states nested under "_schedulers", all of them or none.
class CompositeScheduler : public LRScheduler {
 public:
  /// The children, in order.
  const std::vector<std::shared_ptr<LRScheduler>>& schedulers() const { return children_; }

 protected:
  /// Checks the children (at least one, none null, all of `optimizer`); `composite` names the class in errors.
  CompositeScheduler(torch::optim::Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> children,
                     const char* composite);
  void undo_epoch() override;
  void save_own(torch::serialize::OutputArchive& archive) const override;
  void read_own(torch::serialize::InputArchive& archive) override;
  void commit_own() override;

 private:
  std::vector<std::shared_ptr<LRScheduler>> children_;
};

struct SequentialLROptions {
  SequentialLROptions(std::vector<std::shared_ptr<LRScheduler>> schedulers, std::vector<int64_t> milestones)
      : schedulers_(std::move(schedulers)), milestones_(std::move(milestones)) {}
  /// The schedulers, in order; all of the same optimizer.
  TORCH_ARG(std::vector<std::shared_ptr<LRScheduler>>, schedulers);
  /// The steps at which the next scheduler takes over: one fewer than the schedulers, increasing.
  TORCH_ARG(std::vector<int64_t>, milestones);
};

/// Runs schedulers[i] from milestones[i − 1] to milestones[i].
class SequentialLR : public CompositeScheduler {
 public:
  SequentialLR(torch::optim::Optimizer& optimizer, SequentialLROptions options);
  const char* name() const override { return "SequentialLR"; }
  const SequentialLROptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;
  void save_own(torch::serialize::OutputArchive& archive) const override;
  void read_own(torch::serialize::InputArchive& archive) override;

 private:
  SequentialLROptions options_;
};

struct ChainedSchedulerOptions {
  /* implicit */ ChainedSchedulerOptions(std::vector<std::shared_ptr<LRScheduler>> schedulers)
      : schedulers_(std::move(schedulers)) {}
  /// The schedulers, stepped in this order every step; all of the same optimizer.
  TORCH_ARG(std::vector<std::shared_ptr<LRScheduler>>, schedulers);
};

/// Steps every scheduler each step (Python's ChainedScheduler): chainable
/// schedulers multiply their factors.
class ChainedScheduler : public CompositeScheduler {
 public:
  ChainedScheduler(torch::optim::Optimizer& optimizer, ChainedSchedulerOptions options);
  const char* name() const override { return "ChainedScheduler"; }
  const ChainedSchedulerOptions& options() const { return options_; }

 protected:
  std::vector<double> get_lr() override;

 private:
  ChainedSchedulerOptions options_;
};

}  // namespace adaptive
