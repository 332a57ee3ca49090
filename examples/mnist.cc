// Trains an MNIST classifier (MLP or small CNN) with an adaptive optimizer,
// the built-in, or both side by side from the same seed.
//
//   tools/prepare_data                  # data/mnist and data/fashion-mnist
//   bazel run //examples:mnist -- --model cnn --impl both
//   bazel run //examples:mnist -- --data data/fashion-mnist --epochs 3
//   bazel run //examples:mnist -- --amp fp16   # autocast + adaptive::GradScaler (--amp bf16: no scaler)
//   bazel run //examples:mnist -- --checkpoint /tmp/ck.pt      # kill it, then:
//   bazel run //examples:mnist -- --checkpoint /tmp/ck.pt --resume /tmp/ck.pt
//
// With --impl both, both implementations see the same initial weights, the
// same batches and the same dropout masks (the RNG is re-seeded per epoch and
// implementation), so any difference comes from the optimizers alone.

#include "examples/flag_checks.h"
#include "examples/idx_dataset.h"
#include "examples/models.h"
#include "examples/optimizer_flags.h"
#include "examples/paths.h"
#include "examples/report.h"
#include "examples/training.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <map>

int main(int argc, char** argv) {
  CLI::App app{"Train an MNIST classifier with adaptive and/or torch::optim.\nDefault learning rates:\n" +
               examples::defaults_help(/*regression=*/false)};
  examples::OptimizerFlags flags;
  examples::add_optimizer_flags(app, flags);
  examples::RunFlags run_flags;
  std::string model_name = "cnn", data_dir = "data/mnist";
  int64_t batch_size = 64, epochs = 0, max_steps = 0;
  uint64_t seed = 1;
  double lr_gamma = 0.8;
  app.add_option("--model", model_name, "mlp | cnn")->check(CLI::IsMember({"mlp", "cnn"}))->capture_default_str();
  app.add_option("--data", data_dir, "directory with the four MNIST IDX files")->capture_default_str();
  app.add_option("--batch-size", batch_size, "examples per optimizer step")->check(examples::whole_in(1, 1000000))->capture_default_str();
  app.add_option("--epochs", epochs,
                 "passes over the training set (default: 10 up to 20,000 training images, else 5; about 1 and 4 "
                 "minutes on 2 cores for the MNIST digits and Fashion-MNIST)")
      ->check(examples::whole_in(1, 1000000));
  app.add_option("--max-steps", max_steps, "stop after this many optimizer steps (0: no limit)")
      ->check(examples::whole_in(0, 1000000000000))
      ->capture_default_str();
  app.add_option("--lr-gamma", lr_gamma,
                 "multiply the learning rate by this after every epoch (torch::optim::StepLR; not with --schedule or "
                 "--warmup-steps, which replace it)")
      ->check(examples::number_in(0, 1))
      ->capture_default_str();
  app.add_option("--seed", seed, "seed for initialization, shuffling and dropout")->capture_default_str();
  std::string amp = "none";
  app.add_option("--amp", amp,
                 "mixed precision: the forward pass under autocast in bfloat16 (bf16) or float16 (fp16, with "
                 "adaptive::GradScaler's loss scaling); parameters and optimizer stay float32")
      ->check(CLI::IsMember({"none", "bf16", "fp16"}))
      ->capture_default_str();
  examples::ScheduleFlags schedule_flags;
  examples::add_schedule_flags(app, schedule_flags);
  examples::add_run_flags(app, run_flags, /*with_training_logs=*/true);
  examples::CheckpointFlags checkpoint;
  examples::add_checkpoint_flags(app, checkpoint, "epoch");
  examples::DistributedFlags distributed_flags;
  examples::add_distributed_flags(app, distributed_flags);
  if (const auto exit_code = examples::parse_command_line(app, argc, argv)) return *exit_code;

  try {
    const examples::Distributed dist(distributed_flags);
    if (!dist.is_root()) run_flags.summary = run_flags.csv = run_flags.save_params = "";  // rank 0 reports
    const torch::Device device = examples::device_of(run_flags);
    const c10::optional<at::ScalarType> amp_dtype = examples::amp_dtype(amp);
    if (amp_dtype) {
      const std::string unsupported = examples::amp_unsupported(*amp_dtype, device);
      if (!unsupported.empty()) throw std::invalid_argument("--amp " + amp + ": " + unsupported);
      if (*amp_dtype == at::kHalf && dist.sharded()) {
        throw std::invalid_argument("--amp fp16 with --shard: loss scaling over a sharded optimizer is not supported "
                                    "yet; use --amp bf16 (no scaler) or leave out --shard");
      }
    }
    const double lr = flags.lr.value_or(examples::example_defaults(flags.optimizer).mnist_lr);
    const std::string dir = examples::user_path(data_dir);
    auto train_set = examples::IdxDataset(dir, examples::IdxDataset::Split::kTrain);
    const examples::IdxDataset test_set(dir, examples::IdxDataset::Split::kTest);
    const int64_t train_size = static_cast<int64_t>(*train_set.size());
    auto loader = torch::data::make_data_loader<torch::data::samplers::RandomSampler>(
        std::move(train_set).map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(batch_size));
    const int64_t batches_per_epoch = (train_size + batch_size - 1) / batch_size;
    if (epochs == 0) epochs = train_size <= 20000 ? 10 : 5;

    std::vector<examples::Run> runs;
    for (const auto& impl : examples::implementations(flags)) {
      torch::manual_seed(seed);  // the same initial weights for every implementation
      auto module = examples::make_model(model_name);
      module.ptr()->to(device);
      examples::Run run;
      run.impl = impl;
      run.model = examples::wrap(module);
      run.optimizer = examples::make_optimizer(flags, impl, run.model.parameters(), lr, dist.shard_group());
      run.amp = amp_dtype;
      if (amp_dtype == at::kHalf) run.scaler = std::make_unique<adaptive::GradScaler>();
      runs.push_back(std::move(run));
    }
    if (dist.is_root()) {
      std::printf("mnist: %s, %s, lr %g, batch %lld, %lld train / %lld test images from %s, %s, %s%s\n",
                  model_name.c_str(), flags.optimizer.c_str(), lr, static_cast<long long>(batch_size),
                  static_cast<long long>(train_size), static_cast<long long>(test_set.images().size(0)), dir.c_str(),
                  run_flags.device.c_str(), dist.describe().c_str(),
                  amp == "none" ? "" : (", autocast " + amp + (amp == "fp16" ? " with loss scaling" : "")).c_str());
    }

    // What a checkpoint must agree on to be resumed (not --epochs or --max-steps: a run may be extended).
    nlohmann::json config = examples::config_of(flags, lr);
    config.update({{"example", "mnist"}, {"model", model_name}, {"data", dir}, {"train_images", train_size},
                   {"batch_size", batch_size}, {"seed", seed}, {"lr_gamma", lr_gamma}, {"device", run_flags.device}});
    if (amp != "none") config["amp"] = amp;  // absent when off: older checkpoints stay resumable
    if (dist.sharded()) config["sharded_over_ranks"] = dist.world_size();
    if (schedule_flags.find_lr) {
      if (dist.world_size() > 1) throw std::invalid_argument("--find-lr runs in one process (no --world-size)");
      examples::Run& run = runs.front();
      auto batch = loader->begin();
      auto train_step = [&] {
        if (batch == loader->end()) batch = loader->begin();  // another pass when the test outlasts an epoch
        run.optimizer->zero_grad();
        const auto loss = torch::nll_loss(run.model.forward(batch->data.to(device)), batch->target.to(device));
        loss.backward();
        run.optimizer->step();
        ++batch;
        return loss.item<double>();
      };
      run.model.set_training(true);
      return examples::find_lr(*run.optimizer, run.model.tensors(), train_step, examples::user_path(schedule_flags.find_lr_csv),
                               "mnist") ? 0 : 1;
    }
    // --schedule or --warmup-steps replace --lr-gamma's per-epoch StepLR.
    const bool scheduled = schedule_flags.schedule != "none" || schedule_flags.warmup_steps > 0;
    if (scheduled) {
      // Sized for --epochs (--max-steps only stops the run early); a resumed run must plan the same.
      const int64_t planned = epochs * batches_per_epoch;
      config.update({{"schedule", schedule_flags.schedule},
                     {"warmup_steps", schedule_flags.warmup_steps},
                     {"schedule_steps", planned}});
      config.erase("lr_gamma");
      for (auto& run : runs) run.schedule = std::make_unique<examples::TrainingSchedule>(schedule_flags, *run.optimizer, planned, epochs, lr);
    }
    if (schedule_flags.ema_decay > 0) {
      config["ema_decay"] = schedule_flags.ema_decay;
      for (auto& run : runs) {
        auto copy = examples::make_model(model_name);
        copy.ptr()->to(device);
        examples::add_ema(run, schedule_flags.ema_decay, copy);
      }
    }
    std::vector<torch::optim::StepLR> schedules;
    for (auto& run : runs) schedules.emplace_back(*run.optimizer, /*step_size=*/1, scheduled ? 1.0 : lr_gamma);
    const int64_t done = examples::resume_runs(examples::user_path(checkpoint.resume), config, runs, dist);
    // A scheduler counts its steps (StepLR leaves the first one out): replay
    // them so that it continues as if it had run, keeping the checkpoint's rates.
    for (size_t i = 0; i < runs.size() && done > 0; ++i) {
      auto& groups = runs[i].optimizer->param_groups();
      std::vector<double> lrs;
      for (auto& group : groups) lrs.push_back(group.options().get_lr());
      for (int64_t e = 0; e < done; ++e) schedules[i].step();
      for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
    }
    examples::CsvLog csv(examples::user_path(run_flags.csv), checkpoint.resume.empty() ? -1 : runs.front().steps);

    for (int64_t epoch = done + 1; epoch <= epochs; ++epoch) {
      if (max_steps > 0 && runs.front().steps >= max_steps) break;
      for (size_t i = 0; i < runs.size(); ++i) {
        torch::manual_seed(seed * 1000003 + epoch);  // same shuffling and dropout for every implementation
        examples::train_epoch(runs[i], *loader, static_cast<int>(epoch), batches_per_epoch, flags, test_set, device,
                              max_steps, csv, dist);
        schedules[i].step();
      }
      if (dist.is_root()) examples::print_epoch(runs);
      examples::save_runs(examples::user_path(checkpoint.checkpoint), config, runs, epoch, csv, dist);
    }

    // Optimizer state held by each rank, and by all of them together.
    const int64_t state_bytes = examples::optimizer_state_bytes(*runs.front().optimizer);
    const double all_state_bytes = dist.sum(static_cast<double>(state_bytes));
    if (dist.world_size() > 1 && state_bytes >= 0) {
      std::printf("optimizer state on rank %lld: %.2f MB (all ranks: %.2f MB)\n", static_cast<long long>(dist.rank()),
                  static_cast<double>(state_bytes) / 1e6, all_state_bytes / 1e6);
    }
    if (!run_flags.save_params.empty()) {
      examples::save_params_raw(examples::user_path(run_flags.save_params), runs.front().model.parameters());
    }

    if (!run_flags.summary.empty()) {
      auto doc = examples::summary_of(runs, flags, lr);
      doc["example"] = "mnist";
      doc["model"] = model_name;
      doc["data"] = dir;
      doc["batch_size"] = batch_size;
      doc["lr_gamma"] = lr_gamma;
      doc["schedule"] = schedule_flags.schedule;
      doc["warmup_steps"] = schedule_flags.warmup_steps;
      doc["ema_decay"] = schedule_flags.ema_decay;
      doc["amp"] = amp;
      doc["world_size"] = dist.world_size();
      doc["sharded"] = dist.sharded();
      doc["optimizer_state_bytes_rank0"] = state_bytes;
      doc["optimizer_state_bytes_all_ranks"] = all_state_bytes;
      examples::write_json(examples::user_path(run_flags.summary), doc);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mnist: %s\n", examples::message_of(e).c_str());
    return 1;
  }
  return 0;
}
