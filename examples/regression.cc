// Fits y = w·x + b with an adaptive optimizer, the built-in, or both side by
// side from the same start.
//
//   bazel run //examples:regression -- --optimizer adam --impl both
//   bazel run //examples:regression -- --checkpoint /tmp/r.pt [--resume /tmp/r.pt]
//   bazel run //examples:regression -- --schedule cosine --warmup-steps 50 --ema-decay 0.99
//   bazel run //examples:regression -- --find-lr
//
// Data "clean": x = 0..19, y = 3x + 5 (the classic fit). Data "noisy": 100
// points x ~ U(0,1), y = 3x + 2 + 0.5·U(0,1), fixed seed. Loss ½·mean((ŷ−y)²),
// full batch, w = b = 0 at the start.

#include "examples/checkpoint.h"
#include "examples/distributed.h"
#include "examples/flag_checks.h"
#include "examples/optimizer_flags.h"
#include "examples/paths.h"
#include "examples/report.h"
#include "examples/schedule_flags.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <map>

namespace {

struct Data {
  torch::Tensor x, y;
};

Data make_data(const std::string& kind, torch::Dtype dtype, torch::Device device) {
  Data d;
  if (kind == "clean") {
    d.x = torch::arange(20, torch::kFloat64);
    d.y = 3 * d.x + 5;
  } else {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
    d.x = at::rand({100}, gen, torch::kFloat64);
    d.y = 3 * d.x + 2 + 0.5 * at::rand({100}, gen, torch::kFloat64);
  }
  d.x = d.x.to(device, dtype).unsqueeze(1);
  d.y = d.y.to(device, dtype).unsqueeze(1);
  return d;
}

// w and b as a module: what AveragedModel averages (--ema-decay).
struct Params : torch::nn::Module {
  explicit Params(const std::vector<torch::Tensor>& wb) {
    register_parameter("w", wb[0]);
    register_parameter("b", wb[1]);
  }
};

struct Run {
  std::string impl;
  double final_loss = 0, seconds = 0;
  std::vector<torch::Tensor> params;  // w, b
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<examples::TrainingSchedule> schedule;  // --schedule, --warmup-steps
  std::shared_ptr<Params> module;                        // the parameters as a module (--ema-decay)
  std::unique_ptr<adaptive::AveragedModel> ema;          // --ema-decay
};

// ½·Σ(ŷ − y)² over `part` of the data, divided by the size of all of it:
// the ranks' parts add up to the loss (and gradient) of the whole batch.
torch::Tensor loss_of(const Run& run, const Data& part, int64_t total) {
  return 0.5 * (run.params[0] * part.x + run.params[1] - part.y).pow(2).sum() / static_cast<double>(total);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Fit y = w*x + b with adaptive and/or torch::optim.\n"
      "Defaults per optimizer (clean data, converge to |w-3| < 0.01, |b-5| < 0.05):\n" +
      examples::defaults_help(/*regression=*/true)};
  examples::OptimizerFlags flags;
  examples::add_optimizer_flags(app, flags);
  std::optional<int64_t> steps_flag;
  examples::RunFlags run_flags;
  std::string data_kind = "clean", dtype_name = "float32";
  app.add_option("--steps", steps_flag, "optimizer steps (default: per optimizer)")->check(examples::whole_in(1, 1000000000));
  app.add_option("--data", data_kind, "clean | noisy")->check(CLI::IsMember({"clean", "noisy"}))->capture_default_str();
  app.add_option("--dtype", dtype_name, "float32 | float64")->check(CLI::IsMember({"float32", "float64"}))->capture_default_str();
  examples::ScheduleFlags schedule_flags;
  examples::add_schedule_flags(app, schedule_flags);
  examples::add_run_flags(app, run_flags, /*with_training_logs=*/true);
  examples::CheckpointFlags checkpoint;
  int64_t checkpoint_every = 1;
  examples::add_checkpoint_flags(app, checkpoint, "--checkpoint-every steps (each step is one full-batch epoch)");
  app.add_option("--checkpoint-every", checkpoint_every, "steps between checkpoints")
      ->check(examples::whole_in(1, 1000000000))
      ->capture_default_str();
  examples::DistributedFlags distributed_flags;
  examples::add_distributed_flags(app, distributed_flags);
  if (const auto exit_code = examples::parse_command_line(app, argc, argv)) return *exit_code;

  try {
    const examples::Distributed dist(distributed_flags);
    if (!dist.is_root()) run_flags.summary = run_flags.csv = run_flags.save_params = "";  // rank 0 reports
    const torch::Device device = examples::device_of(run_flags);
    const auto dtype = dtype_name == "float64" ? torch::kFloat64 : torch::kFloat32;
    const examples::ExampleDefaults defaults = examples::example_defaults(flags.optimizer);
    const double lr = flags.lr.value_or(defaults.regression_lr);
    const int64_t steps = steps_flag.value_or(defaults.regression_steps);
    const Data data = make_data(data_kind, dtype, device);
    std::vector<Run> runs;
    for (const auto& impl : examples::implementations(flags)) {
      Run run;
      run.impl = impl;
      // w as torch::nn::Linear(1, 1) holds it, a 1 x 1 matrix (Muon takes only matrices), and b.
      const auto like = torch::TensorOptions().dtype(dtype).device(device).requires_grad(true);
      run.params = {torch::zeros({1, 1}, like), torch::zeros({1}, like)};
      run.optimizer = examples::make_optimizer(flags, impl, run.params, lr, dist.shard_group());
      runs.push_back(std::move(run));
    }
    const int64_t n = data.x.size(0);
    const auto [begin, end] = dist.share(n);
    const Data part{data.x.slice(0, begin, end), data.y.slice(0, begin, end)};

    // What a checkpoint must agree on to be resumed (not --steps: a run may be extended).
    nlohmann::json config = examples::config_of(flags, lr);
    config.update({{"example", "regression"}, {"data", data_kind}, {"dtype", dtype_name}, {"device", run_flags.device}});
    if (dist.sharded()) config["sharded_over_ranks"] = dist.world_size();
    if (schedule_flags.find_lr) {
      if (dist.world_size() > 1) throw std::invalid_argument("--find-lr runs in one process (no --world-size)");
      Run& run = runs.front();
      auto train_step = [&] {
        run.optimizer->zero_grad();
        auto loss = loss_of(run, data, n);
        loss.backward();
        run.optimizer->step();
        return loss.item<double>();
      };
      return examples::find_lr(*run.optimizer, run.params, train_step, examples::user_path(schedule_flags.find_lr_csv), "regression") ? 0
                                                                                                                   : 1;
    }
    if (schedule_flags.schedule != "none" || schedule_flags.warmup_steps > 0) {
      config.update({{"schedule", schedule_flags.schedule}, {"warmup_steps", schedule_flags.warmup_steps}});
      for (auto& run : runs) run.schedule = std::make_unique<examples::TrainingSchedule>(schedule_flags, *run.optimizer, steps, steps, lr);
    }
    if (schedule_flags.ema_decay > 0) {
      config["ema_decay"] = schedule_flags.ema_decay;
      for (auto& run : runs) {
        run.module = std::make_shared<Params>(run.params);
        const std::vector<torch::Tensor> copies{run.params[0].detach().clone(), run.params[1].detach().clone()};
        run.ema = std::make_unique<adaptive::AveragedModel>(
            std::make_shared<Params>(copies),
            adaptive::AveragedModelOptions().multi_avg_fn(adaptive::ema_multi_avg_fn(schedule_flags.ema_decay)));
      }
    }
    const std::string checkpoint_file = dist.checkpoint_path(examples::user_path(checkpoint.checkpoint));
    int64_t done = 0;
    if (!checkpoint.resume.empty()) {
      examples::CheckpointReader reader(dist.checkpoint_path(examples::user_path(checkpoint.resume)), config);
      for (auto& run : runs) {
        const auto restore_parts = examples::read_schedule_parts(reader, run.impl, run.schedule.get(), run.ema.get());
        const auto progress = reader.restore_run(run.impl, run.params, *run.optimizer);
        restore_parts();
        done = progress.at("steps");
        run.seconds = progress.at("seconds");
      }
      dist.check_same_everywhere(done, "step");
      if (dist.is_root()) std::printf("resumed from %s after step %lld\n", checkpoint.resume.c_str(), static_cast<long long>(done));
    }
    examples::CsvLog csv(examples::user_path(run_flags.csv), checkpoint.resume.empty() ? -1 : done);

    // The implementations take their steps in turn, so that a checkpoint holds all of them at the same step.
    for (int64_t step = done + 1; step <= steps; ++step) {
      for (auto& run : runs) {
        const auto start = std::chrono::steady_clock::now();
        run.optimizer->zero_grad();
        auto loss = loss_of(run, part, n);
        loss.backward();
        const double global_loss = dist.sum_gradients(run.params, loss);  // the whole batch's gradient on every rank
        examples::clip_before_step(flags, run.impl, run.params);
        run.optimizer->step();
        if (run.schedule) {
          run.schedule->after_step();
          run.schedule->after_epoch(global_loss);  // a full-batch step is an epoch (plateau)
        }
        if (run.ema) run.ema->update_parameters(*run.module);
        run.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        csv.add(step, run.impl, global_loss);  // the loss that produced this step's gradient
      }
      if (!checkpoint_file.empty() && dist.writes_checkpoints() && (step % checkpoint_every == 0 || step == steps)) {
        csv.flush();
        examples::CheckpointWriter writer(config);
        for (const auto& run : runs) {
          writer.add_run(run.impl, run.params, *run.optimizer, {{"steps", step}, {"seconds", run.seconds}});
          examples::save_schedule_parts(writer, run.impl, run.schedule.get(), run.ema.get());
        }
        writer.save(checkpoint_file);
      }
    }
    for (auto& run : runs) run.final_loss = loss_of(run, data, n).item<double>();
    if (!run_flags.save_params.empty()) {
      examples::save_params_raw(examples::user_path(run_flags.save_params), runs.front().params);
    }
    if (!dist.is_root()) return 0;

    std::printf("regression: %s data, %s, lr %g, %lld steps, %s on %s, %s\n", data_kind.c_str(),
                flags.optimizer.c_str(), lr, static_cast<long long>(steps), dtype_name.c_str(), run_flags.device.c_str(),
                dist.describe().c_str());
    std::printf("  %-9s %14s %12s %12s %9s\n", "impl", "final loss", "w", "b", "seconds");
    for (const auto& r : runs) {
      std::printf("  %-9s %14.6e %12.6f %12.6f %9.3f\n", r.impl.c_str(), r.final_loss,
                  r.params[0].item<double>(), r.params[1].item<double>(), r.seconds);
      if (r.ema) {
        const auto avg = r.ema->module()->parameters();
        std::printf("  %-9s %14s %12.6f %12.6f  (EMA, decay %g)\n", (r.impl + "/ema").c_str(), "", avg[0].item<double>(),
                    avg[1].item<double>(), schedule_flags.ema_decay);
      }
    }
    if (runs.front().schedule) {
      std::printf("  schedule %s, %lld warm-up steps: final lr %.4g\n", schedule_flags.schedule.c_str(),
                  static_cast<long long>(schedule_flags.warmup_steps), runs.front().schedule->lr());
    }
    double diff = 0;
    if (runs.size() == 2) {
      diff = examples::max_param_diff(runs[0].params, runs[1].params);
      std::printf("  largest parameter difference adaptive vs builtin: %.3e%s\n", diff, diff == 0 ? " (bit-identical)" : "");
    }

    if (!run_flags.summary.empty()) {
      const Run& main_run = runs.front();
      nlohmann::json doc = {{"example", "regression"},
                            {"optimizer", flags.optimizer},
                            {"impl", flags.impl},
                            {"data", data_kind},
                            {"dtype", dtype_name},
                            {"device", run_flags.device},
                            {"lr", lr},
                            {"steps", steps},
                            {"final_loss", main_run.final_loss},
                            {"param_l2", examples::param_l2(main_run.params)},
                            {"w", main_run.params[0].item<double>()},
                            {"b", main_run.params[1].item<double>()}};
      if (runs.size() == 2) doc["max_param_diff"] = diff;
      doc["schedule"] = schedule_flags.schedule;
      doc["warmup_steps"] = schedule_flags.warmup_steps;
      if (main_run.schedule) doc["final_lr"] = main_run.schedule->lr();
      if (main_run.ema) {
        const auto avg = main_run.ema->module()->parameters();
        doc["ema"] = {{"decay", schedule_flags.ema_decay}, {"w", avg[0].item<double>()}, {"b", avg[1].item<double>()}};
      }
      for (const auto& r : runs) {
        doc["runs"].push_back({{"impl", r.impl},
                               {"final_loss", r.final_loss},
                               {"w", r.params[0].item<double>()},
                               {"b", r.params[1].item<double>()},
                               {"seconds", r.seconds}});
      }
      examples::write_json(examples::user_path(run_flags.summary), doc);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "regression: %s\n", examples::message_of(e).c_str());
    return 1;
  }
  return 0;
}
