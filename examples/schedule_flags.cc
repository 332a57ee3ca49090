#include "examples/schedule_flags.h"

#include "examples/flag_checks.h"
#include "optim/schedule/momentum.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <cmath>

namespace examples {

std::vector<std::string> schedule_names() {
  return {"none", "step", "multistep", "exponential", "cosine", "cosine_restarts", "onecycle", "cyclic", "linear", "plateau"};
}

void add_schedule_flags(CLI::App& app, ScheduleFlags& flags) {
  app.add_option("--schedule", flags.schedule,
                 "learning-rate schedule over the run's steps: none | step (÷10 at 1/3 and 2/3) | multistep (÷10 at "
                 "1/2 and 3/4) | exponential (÷100 over the run) | cosine | cosine_restarts (3 periods) | onecycle | "
                 "cyclic (4 cycles between lr/10 and lr) | linear (to 0) | plateau (halved when the training loss has "
                 "not improved for a tenth of the epochs)")
      ->check(CLI::IsMember(schedule_names()))
      ->capture_default_str();
  app.add_option("--warmup-steps", flags.warmup_steps,
                 "linear warm-up from 1% of the rate over this many steps, before the schedule (SequentialLR)")
      ->check(whole_in(0, 1000000000))
      ->capture_default_str();
  app.add_option("--ema-decay", flags.ema_decay,
                 "also keep an exponential moving average of the parameters with this decay (AveragedModel) and "
                 "report it (0: none)")
      ->check(number_in(0, 1, /*open=*/true))
      ->capture_default_str();
  app.add_flag("--find-lr", flags.find_lr,
               "run the learning-rate range test (adaptive::LRFinder, 100 steps from 1e-6 to 1) instead of training: "
               "print the suggested rate, restore the parameters and optimizer");
  app.add_option("--find-lr-csv", flags.find_lr_csv, "--find-lr: write its curve (step, lr, loss, smoothed loss) here");
}

void save_schedule_parts(CheckpointWriter& writer, const std::string& run, const TrainingSchedule* schedule,
                         const adaptive::AveragedModel* ema) {
  if (schedule) {
    torch::serialize::OutputArchive archive;
    schedule->save(archive);
    writer.add_part(run, "schedule", archive);
  }
  if (ema) {
    torch::serialize::OutputArchive archive;
    ema->save(archive);
    writer.add_part(run, "ema", archive);
  }
}

std::function<void()> read_schedule_parts(CheckpointReader& reader, const std::string& run, TrainingSchedule* schedule,
                                          adaptive::AveragedModel* ema) {
  auto schedule_archive = std::make_shared<torch::serialize::InputArchive>();
  auto ema_archive = std::make_shared<torch::serialize::InputArchive>();
  if (schedule) *schedule_archive = reader.part(run, "schedule");
  if (ema) *ema_archive = reader.part(run, "ema");
  return [=] {
    if (schedule) schedule->load(*schedule_archive);
    if (ema) ema->load(*ema_archive);
  };
}

namespace {

std::shared_ptr<adaptive::LRScheduler> main_schedule(const std::string& name, torch::optim::Optimizer& optimizer,
                                                     int64_t steps, double lr) {
  const int64_t n = std::max<int64_t>(steps, 1);
  const bool has_momentum =
      adaptive::detail::momentum_slot(optimizer.defaults()) != adaptive::detail::MomentumSlot::kNone;
  if (name == "step") return std::make_shared<adaptive::StepLR>(optimizer, adaptive::StepLROptions(std::max<int64_t>(n / 3, 1)));
  if (name == "multistep") {
    return std::make_shared<adaptive::MultiStepLR>(optimizer, adaptive::MultiStepLROptions({n / 2, 3 * n / 4}));
  }
  if (name == "exponential") {
    return std::make_shared<adaptive::ExponentialLR>(optimizer,
                                                     adaptive::ExponentialLROptions(std::pow(0.01, 1.0 / static_cast<double>(n))));
  }
  if (name == "cosine") return std::make_shared<adaptive::CosineAnnealingLR>(optimizer, adaptive::CosineAnnealingLROptions(n));
  if (name == "cosine_restarts") {
    return std::make_shared<adaptive::CosineAnnealingWarmRestarts>(
        optimizer, adaptive::CosineAnnealingWarmRestartsOptions(std::max<int64_t>(n / 3, 1)));
  }
  if (name == "onecycle") {
    // OneCycleLR steps total_steps times after its first rate: n − 1 here, so that the run's last step is its last.
    return std::make_shared<adaptive::OneCycleLR>(
        optimizer, adaptive::OneCycleLROptions(lr).total_steps(n).cycle_momentum(has_momentum));
  }
  if (name == "cyclic") {
    return std::make_shared<adaptive::CyclicLR>(optimizer, adaptive::CyclicLROptions(lr / 10, lr)
                                                               .step_size_up(std::max<int64_t>(n / 8, 1))
                                                               .cycle_momentum(has_momentum));
  }
  if (name == "linear") {
    return std::make_shared<adaptive::LinearLR>(
        optimizer, adaptive::LinearLROptions().start_factor(1.0).end_factor(0.0).total_iters(n));
  }
  return nullptr;  // none, plateau
}

}  // namespace

TrainingSchedule::TrainingSchedule(const ScheduleFlags& flags, torch::optim::Optimizer& optimizer, int64_t total_steps,
                                   int64_t epochs, double lr)
    : optimizer_(optimizer), warmup_steps_(flags.warmup_steps) {
  const int64_t after_warmup = std::max<int64_t>(total_steps - flags.warmup_steps, 1);
  std::shared_ptr<adaptive::LRScheduler> warmup;
  if (flags.warmup_steps > 0) {
    warmup = std::make_shared<adaptive::LinearLR>(
        optimizer, adaptive::LinearLROptions().start_factor(0.01).end_factor(1.0).total_iters(flags.warmup_steps));
  }
  auto main = main_schedule(flags.schedule, optimizer, after_warmup, lr);
  if (warmup && main) {
    scheduler_ = std::make_shared<adaptive::SequentialLR>(
        optimizer, adaptive::SequentialLROptions({warmup, main}, {flags.warmup_steps}));
  } else {
    scheduler_ = warmup ? warmup : main;
  }
  if (flags.schedule == "plateau") {
    plateau_ = std::make_unique<adaptive::ReduceLROnPlateau>(
        optimizer, adaptive::ReduceLROnPlateauOptions().factor(0.5).patience(std::max<int64_t>(epochs / 10, 1)));
  }
}

void TrainingSchedule::after_step() {
  ++steps_;
  // Before a plateau the warm-up alone runs: it stops at its last rate (the base rate).
  if (scheduler_ && (!plateau_ || steps_ <= warmup_steps_)) scheduler_->step();
}

void TrainingSchedule::after_epoch(double train_loss) {
  if (plateau_ && steps_ >= warmup_steps_) plateau_->step(train_loss);
}

double TrainingSchedule::lr() const { return optimizer_.param_groups().front().options().get_lr(); }

void TrainingSchedule::save(torch::serialize::OutputArchive& archive) const {
  archive.write("steps", c10::IValue(steps_));
  if (scheduler_) {
    torch::serialize::OutputArchive scheduler;
    scheduler_->save(scheduler);
    archive.write("scheduler", scheduler);
  }
  if (plateau_) {
    torch::serialize::OutputArchive plateau;
    plateau_->save(plateau);
    archive.write("plateau", plateau);
  }
}

void TrainingSchedule::load(torch::serialize::InputArchive& archive) {
  c10::IValue steps;
  TORCH_CHECK(archive.try_read("steps", steps) && steps.isInt(), "the checkpoint holds no schedule");
  torch::serialize::InputArchive scheduler, plateau;
  TORCH_CHECK(!scheduler_ || archive.try_read("scheduler", scheduler), "the checkpoint holds no scheduler's state");
  TORCH_CHECK(!plateau_ || archive.try_read("plateau", plateau), "the checkpoint holds no plateau's state");
  // The checkpoint's rates (restored with the optimizer) stay the truth:
  // loading a scheduler sets the rates it last set, which a plateau may have changed since.
  const std::vector<double> lrs = adaptive::detail::group_lrs(optimizer_);
  if (scheduler_) scheduler_->stage_load(scheduler);  // checked before anything changes
  if (plateau_) plateau_->load(plateau);
  if (scheduler_) scheduler_->commit_load();
  adaptive::detail::set_group_lrs(optimizer_, lrs);
  steps_ = steps.toInt();
}

bool find_lr(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& tensors,
             const std::function<double()>& train_step, const std::string& csv_path, const std::string& example) {
  std::vector<torch::Tensor> saved;
  for (const auto& t : tensors) saved.push_back(t.detach().clone());
  adaptive::LRFinder finder(optimizer, adaptive::LRFinderOptions().start_lr(1e-6).end_lr(1).num_steps(100));
  while (!finder.done()) finder.step(train_step());
  const adaptive::LRSuggestion suggestion = finder.suggestion();
  finder.restore();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < tensors.size(); ++i) tensors[i].copy_(saved[i]);
  }
  if (!csv_path.empty()) {
    std::ofstream csv(csv_path);
    csv << "step,lr,loss,smoothed_loss\n";
    csv.precision(17);
    for (size_t i = 0; i < finder.lrs().size(); ++i) {
      csv << i << ',' << finder.lrs()[i] << ',' << finder.losses()[i] << ',' << finder.smoothed_losses()[i] << '\n';
    }
    if (!csv) throw std::runtime_error("--find-lr-csv: cannot write " + csv_path);
  }
  if (suggestion.lr > 0) {
    std::printf("%s: learning-rate finder: suggested lr %.4g (%s)\n", example.c_str(), suggestion.lr,
                suggestion.reason.c_str());
  } else {
    std::printf("%s: learning-rate finder: no suggestion (%s)\n", example.c_str(), suggestion.reason.c_str());
  }
  return suggestion.lr > 0;
}

}  // namespace examples
