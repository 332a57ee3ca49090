#include "examples/training.h"

#include <cstdio>
#include <unistd.h>

namespace examples {

Model wrap(torch::nn::AnyModule module) {
  auto ptr = module.ptr();
  return {[module](const torch::Tensor& x) mutable { return module.forward(x); },
          [ptr](bool training) { ptr->train(training); },
          [ptr] { return ptr->parameters(); },
          [ptr] {
            auto tensors = ptr->parameters();
            for (const auto& b : ptr->buffers()) tensors.push_back(b);
            return tensors;
          },
          ptr};
}

void add_ema(Run& run, double decay, torch::nn::AnyModule copy) {
  if (!run.model.module) throw std::invalid_argument("--ema-decay needs a torch::nn model (not a TorchScript one)");
  run.ema = std::make_unique<adaptive::AveragedModel>(
      copy.ptr(), adaptive::AveragedModelOptions().multi_avg_fn(adaptive::ema_multi_avg_fn(decay)));
  run.ema_model = wrap(copy);
}

namespace {

nlohmann::json to_json(const std::vector<EpochStats>& history) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : history) {
    out.push_back({{"epoch", s.epoch},
                   {"train_loss", s.train_loss},
                   {"test_accuracy", s.test_accuracy},
                   {"seconds", s.seconds},
                   {"images_per_second", s.images_per_second},
                   {"lr", s.lr},
                   {"ema_test_accuracy", s.ema_test_accuracy}});
  }
  return out;
}

std::vector<EpochStats> history_of(const nlohmann::json& doc) {
  std::vector<EpochStats> history;
  for (const auto& e : doc) {
    EpochStats s;
    s.epoch = e.at("epoch");
    s.train_loss = e.at("train_loss");
    s.test_accuracy = e.at("test_accuracy");
    s.seconds = e.at("seconds");
    s.images_per_second = e.value("images_per_second", 0.0);
    s.lr = e.value("lr", 0.0);
    s.ema_test_accuracy = e.value("ema_test_accuracy", -1.0);
    history.push_back(s);
  }
  return history;
}

}  // namespace

void save_runs(const std::string& path, const nlohmann::json& config, const std::vector<Run>& runs, int64_t epoch,
               CsvLog& csv, const Distributed& dist) {
  if (path.empty() || !dist.writes_checkpoints()) return;
  csv.flush();
  CheckpointWriter writer(config);
  for (const auto& run : runs) {
    writer.add_run(run.impl, run.model.tensors(), *run.optimizer,
                   {{"epoch", epoch}, {"steps", run.steps}, {"history", to_json(run.history)}});
    if (run.scaler) writer.add_scaler(run.impl, *run.scaler);
    save_schedule_parts(writer, run.impl, run.schedule.get(), run.ema.get());
  }
  writer.save(dist.checkpoint_path(path));
}

int64_t resume_runs(const std::string& path, const nlohmann::json& config, std::vector<Run>& runs,
                    const Distributed& dist) {
  if (path.empty()) return 0;
  CheckpointReader reader(dist.checkpoint_path(path), config);
  int64_t epoch = 0;
  for (auto& run : runs) {
    if (run.scaler) reader.restore_scaler(run.impl, *run.scaler);  // first: a refusal changes nothing
    const auto restore_parts = read_schedule_parts(reader, run.impl, run.schedule.get(), run.ema.get());
    const auto progress = reader.restore_run(run.impl, run.model.tensors(), *run.optimizer);
    restore_parts();
    epoch = progress.at("epoch");
    run.steps = progress.at("steps");
    run.history = history_of(progress.at("history"));
  }
  dist.check_same_everywhere(epoch, "epoch");
  if (dist.is_root()) {
    std::printf("resumed from %s after epoch %lld (%lld steps)\n", path.c_str(), static_cast<long long>(epoch),
                static_cast<long long>(runs.front().steps));
  }
  return epoch;
}

double test_accuracy(const Model& model, const IdxDataset& test, torch::Device device, const Distributed& dist) {
  torch::NoGradGuard no_grad;
  model.set_training(false);
  int64_t correct = 0;
  const int64_t n = test.images().size(0);
  const auto [first, last] = dist.share(n);
  for (int64_t start = first; start < last; start += 1000) {
    const int64_t end = std::min(last, start + 1000);
    const auto out = model.forward(test.images().slice(0, start, end).to(device));
    correct += out.argmax(1).eq(test.labels().slice(0, start, end).to(device)).sum().item<int64_t>();
  }
  model.set_training(true);
  return 100.0 * dist.sum(static_cast<double>(correct)) / static_cast<double>(std::max<int64_t>(n, 1));
}

Progress::Progress(std::string label, int64_t total, bool show)
    : label_(std::move(label)), total_(total), tty_(show && isatty(1)) {}

void Progress::update(int64_t done, double mean_loss) {
  if (!tty_ || (done % 10 != 0 && done != total_)) return;
  const int64_t total = std::max<int64_t>(total_, 1);
  const int width = 30, filled = static_cast<int>(std::min<int64_t>(width, width * done / total));
  std::printf("\r  %s [%s%s] %3d%% loss %.4f", label_.c_str(), std::string(filled, '#').c_str(),
              std::string(width - filled, '.').c_str(), static_cast<int>(std::min<int64_t>(100, 100 * done / total)),
              mean_loss);
  std::fflush(stdout);
}

Progress::~Progress() {
  if (tty_) std::printf("\r%*s\r", 100, "");
}

void print_epoch(const std::vector<Run>& runs) {
  if (runs.size() == 1) {
    const auto& s = runs[0].history.back();
    std::printf("  epoch %2d  %-8s  train loss %.4f  test accuracy %6.2f%%", s.epoch, runs[0].impl.c_str(),
                s.train_loss, s.test_accuracy);
    if (s.ema_test_accuracy >= 0) std::printf("  EMA %6.2f%%", s.ema_test_accuracy);
    if (runs[0].schedule) std::printf("  lr %.3g", s.lr);
    std::printf("  %6.1f s\n", s.seconds);
  } else {
    const auto &a = runs[0].history.back(), &b = runs[1].history.back();
    if (a.epoch == 1) {
      std::printf("  epoch | loss adaptive  loss builtin | acc adaptive  acc builtin | max |param diff| | "
                  "s adaptive  s builtin\n");
    }
    std::printf("  %5d | %13.5f %13.5f | %11.2f%% %11.2f%% | %16.3e | %10.1f %10.1f\n", a.epoch, a.train_loss,
                b.train_loss, a.test_accuracy, b.test_accuracy,
                max_param_diff(runs[0].model.parameters(), runs[1].model.parameters()), a.seconds, b.seconds);
  }
  std::fflush(stdout);
}

nlohmann::json summary_of(const std::vector<Run>& runs, const OptimizerFlags& flags, double lr) {
  const Run& main_run = runs.front();
  nlohmann::json doc = {{"optimizer", flags.optimizer},
                        {"impl", flags.impl},
                        {"lr", lr},
                        {"epochs", main_run.history.size()},
                        {"steps", main_run.steps},
                        {"final_loss", main_run.history.back().train_loss},
                        {"test_accuracy", main_run.history.back().test_accuracy},
                        {"param_l2", param_l2(main_run.model.parameters())}};
  if (runs.size() == 2) doc["max_param_diff"] = max_param_diff(runs[0].model.parameters(), runs[1].model.parameters());
  if (main_run.ema) doc["ema_test_accuracy"] = main_run.history.back().ema_test_accuracy;
  doc["final_lr"] = main_run.history.back().lr;
  for (const auto& r : runs) doc["runs"].push_back({{"impl", r.impl}, {"steps", r.steps}, {"epochs", to_json(r.history)}});
  return doc;
}

}  // namespace examples
