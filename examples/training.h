#pragma once
// The training loop the MNIST examples share: one epoch over a torch::data
// loader, test accuracy, and a progress bar when stdout is a terminal.

#include "examples/amp.h"
#include "examples/checkpoint.h"
#include "examples/distributed.h"
#include "examples/idx_dataset.h"
#include "examples/optimizer_flags.h"
#include "examples/report.h"
#include "examples/schedule_flags.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace examples {

// Anything with a forward (giving log-probabilities), parameters and a
// train/eval switch: a torch::nn module or a TorchScript module.
struct Model {
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::function<void(bool training)> set_training;
  std::function<std::vector<torch::Tensor>()> parameters;
  std::function<std::vector<torch::Tensor>()> tensors;  // parameters and buffers: what a checkpoint holds
  std::shared_ptr<torch::nn::Module> module;            // a torch::nn model (null for TorchScript): what --ema-decay averages
};

Model wrap(torch::nn::AnyModule module);

struct EpochStats {
  int epoch = 0;
  double train_loss = 0, test_accuracy = 0, seconds = 0;
  double images_per_second = 0;  // training images (all ranks together) per second of the epoch
  double lr = 0;                 // the first group's rate at the end of the epoch
  double ema_test_accuracy = -1;  // --ema-decay: the averaged model's (−1: none)
};

// Percentage of `test` classified correctly, in eval mode; each rank
// evaluates its share of the test set.
double test_accuracy(const Model& model, const IdxDataset& test, torch::Device device, const Distributed& dist);

// One run: a model, its optimizer and what it has done so far.
struct Run {
  std::string impl;
  Model model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<EpochStats> history;
  int64_t steps = 0;
  c10::optional<at::ScalarType> amp;              // --amp: autocast's dtype for the forward pass
  std::unique_ptr<adaptive::GradScaler> scaler;  // --amp fp16: loss scaling
  std::unique_ptr<TrainingSchedule> schedule;    // --schedule, --warmup-steps
  std::unique_ptr<adaptive::AveragedModel> ema;  // --ema-decay
  Model ema_model;                               // the average, to evaluate
};

// --ema-decay: an exponential moving average of `run`'s model (a torch::nn
// model) in `copy`, a model of the same structure (the examples' models are
// not Cloneable; AveragedModel copies run.model's tensors into it first).
void add_ema(Run& run, double decay, torch::nn::AnyModule copy);

class Progress {
 public:
  Progress(std::string label, int64_t total, bool show);
  void update(int64_t done, double mean_loss);
  ~Progress();

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
};

// Trains `run` for one epoch over `loader` (stopping early once run.steps
// reaches max_steps > 0), then measures test accuracy and appends the stats.
// With several ranks each computes on its share of every batch and the
// gradients are summed, so every step is the whole batch's.
template <class Loader>
void train_epoch(Run& run, Loader& loader, int epoch, int64_t batches_per_epoch, const OptimizerFlags& flags,
                 const IdxDataset& test, torch::Device device, int64_t max_steps, CsvLog& csv,
                 const Distributed& dist) {
  const auto start = std::chrono::steady_clock::now();
  Progress progress("epoch " + std::to_string(epoch) + " " + run.impl, batches_per_epoch, dist.is_root());
  double loss_sum = 0;
  int64_t batches = 0, images = 0;
  run.model.set_training(true);
  for (auto& batch : loader) {
    if (max_steps > 0 && run.steps >= max_steps) break;
    run.optimizer->zero_grad();
    const int64_t n = batch.data.size(0);
    const auto [begin, end] = dist.share(n);
    // Σ of this rank's per-example losses / the whole batch's size: summed over the ranks, the batch mean.
    torch::Tensor output;
    {
      AutocastGuard autocast(run.amp, device);  // --amp: the forward pass in bfloat16 or float16
      output = run.model.forward(batch.data.slice(0, begin, end).to(device));
    }
    const torch::Tensor loss =
        torch::nll_loss(output.to(torch::kFloat), batch.target.slice(0, begin, end).to(device), {},
                        at::Reduction::Sum) /
        static_cast<double>(n);
    (run.scaler ? run.scaler->scale(loss) : loss).backward();
    const double l = dist.sum_gradients(run.model.parameters(), loss);
    if (run.scaler && run.impl == "builtin" && (flags.clip_grad_norm > 0 || flags.clip_grad_value > 0)) {
      run.scaler->unscale_(*run.optimizer);  // clip what the optimizer will see (adaptive's clip inside the step)
    }
    clip_before_step(flags, run.impl, run.model.parameters());
    if (run.scaler) {
      run.scaler->step(*run.optimizer);  // skipped when a gradient overflowed
      run.scaler->update();
    } else {
      run.optimizer->step();
    }
    ++run.steps;
    if (run.schedule) run.schedule->after_step();
    if (run.ema) run.ema->update_parameters(*run.model.module);
    loss_sum += l;
    csv.add(run.steps, run.impl, l);
    ++batches;
    images += n;
    progress.update(batches, loss_sum / static_cast<double>(batches));
  }
  EpochStats stats;
  stats.epoch = epoch;
  stats.train_loss = loss_sum / static_cast<double>(std::max<int64_t>(batches, 1));
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.images_per_second = static_cast<double>(images) / std::max(stats.seconds, 1e-9);
  stats.test_accuracy = test_accuracy(run.model, test, device, dist);
  if (run.ema) stats.ema_test_accuracy = test_accuracy(run.ema_model, test, device, dist);
  if (run.schedule) run.schedule->after_epoch(stats.train_loss);
  stats.lr = run.optimizer->param_groups().front().options().get_lr();
  run.history.push_back(stats);
}

// Prints one epoch: a line for a single run, a comparison row for two.
void print_epoch(const std::vector<Run>& runs);

// --checkpoint: saves every run after `epoch` to `path` (nothing when empty;
// with several ranks see Distributed::checkpoint_path), flushing the loss log
// first so it holds every row up to this point.
void save_runs(const std::string& path, const nlohmann::json& config, const std::vector<Run>& runs, int64_t epoch,
               CsvLog& csv, const Distributed& dist);

// --resume: restores every run from `path` (models, optimizers, steps,
// history, RNG) and returns the last epoch it completed; 0 when `path` is empty.
int64_t resume_runs(const std::string& path, const nlohmann::json& config, std::vector<Run>& runs,
                    const Distributed& dist);

// The JSON summary both MNIST examples write.
nlohmann::json summary_of(const std::vector<Run>& runs, const OptimizerFlags& flags, double lr);

}  // namespace examples
