#pragma once
// Learning-rate schedules, warm-up and weight averaging for the examples:
// --schedule NAME, --warmup-steps N, --ema-decay D (docs/schedulers.md,
// docs/weight_averaging.md). A schedule steps once per optimizer step,
// sized from the run's total steps; plateau steps once per epoch on the
// epoch's training loss. Warm-up is a LinearLR from 1% of the rate, chained
// before the schedule with SequentialLR.

#include "examples/checkpoint.h"
#include "optim/schedulers.h"
#include "optim/swa_utils.h"

#include <CLI/CLI.hpp>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace examples {

struct ScheduleFlags {
  std::string schedule = "none";  // none | step | multistep | exponential | cosine | cosine_restarts | onecycle | cyclic | linear | plateau
  int64_t warmup_steps = 0;
  double ema_decay = 0;  // 0: no EMA
  bool find_lr = false;     // run the range test instead of training
  std::string find_lr_csv;  // its curve, empty: none
};
void add_schedule_flags(CLI::App& app, ScheduleFlags& flags);

// The --schedule names.
std::vector<std::string> schedule_names();

// A run's schedule: the scheduler (or plateau) of --schedule and --warmup-steps on one optimizer.
class TrainingSchedule {
 public:
  // `total_steps`: the optimizer steps of the whole run, `epochs` its epochs
  // (plateau's patience is a tenth of them); `lr`: its base rate.
  TrainingSchedule(const ScheduleFlags& flags, torch::optim::Optimizer& optimizer, int64_t total_steps, int64_t epochs,
                   double lr);
  // After each optimizer step.
  void after_step();
  // After each epoch, with its mean training loss (plateau's metric).
  void after_epoch(double train_loss);
  // The rate of the first group now.
  double lr() const;
  bool active() const { return scheduler_ != nullptr || plateau_ != nullptr; }

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  torch::optim::Optimizer& optimizer_;
  std::shared_ptr<adaptive::LRScheduler> scheduler_;          // per step (with the warm-up, or the warm-up alone before plateau)
  std::unique_ptr<adaptive::ReduceLROnPlateau> plateau_;     // per epoch, once the warm-up is over
  int64_t warmup_steps_ = 0, steps_ = 0;
};

// A run's schedule and average (either may be null) in a checkpoint.
void save_schedule_parts(CheckpointWriter& writer, const std::string& run, const TrainingSchedule* schedule,
                         const adaptive::AveragedModel* ema);
// Reads them from `reader` now (a missing part throws before anything
// changed) and returns what applies them, to call once the run is restored.
std::function<void()> read_schedule_parts(CheckpointReader& reader, const std::string& run, TrainingSchedule* schedule,
                                          adaptive::AveragedModel* ema);

// --find-lr: the range test (adaptive::LRFinder, 100 steps from 1e-6 to 1)
// with `train_step` (one optimizer step, returning its loss), then the
// model's `tensors` and the optimizer put back. Prints the suggestion and
// how it was chosen; writes the curve to `csv_path` (step, lr, loss,
// smoothed loss) unless empty. Returns whether a rate was suggested.
bool find_lr(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& tensors,
             const std::function<double()>& train_step, const std::string& csv_path, const std::string& example);

}  // namespace examples
