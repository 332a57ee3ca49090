// Trains a TorchScript module in C++ with an adaptive optimizer: load it with
// torch::jit::load, train, save it, load the saved file again and report its
// test accuracy.
//
//   bazel run //examples:torchscript -- --out /tmp/trained.pt
//
// The module (examples/data/mnist_small_cnn.pt, untrained) is exported from
// Python by tools/export_torchscript.py.

#include "examples/flag_checks.h"
#include "examples/idx_dataset.h"
#include "examples/optimizer_flags.h"
#include "examples/paths.h"
#include "examples/report.h"
#include "examples/training.h"

#include <CLI/CLI.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdio>

namespace {

examples::Model wrap(std::shared_ptr<torch::jit::Module> module) {
  return {[module](const torch::Tensor& x) { return module->forward({x}).toTensor(); },
          [module](bool training) { module->train(training); },
          [module] {
            std::vector<torch::Tensor> params;
            for (const auto& p : module->parameters()) params.push_back(p);
            return params;
          },
          [module] {
            std::vector<torch::Tensor> tensors;
            for (const auto& p : module->parameters()) tensors.push_back(p);
            for (const auto& b : module->buffers()) tensors.push_back(b);
            return tensors;
          }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a TorchScript MNIST classifier with adaptive and/or torch::optim, save and reload it."};
  examples::OptimizerFlags flags;
  examples::add_optimizer_flags(app, flags);
  examples::RunFlags run_flags;
  std::string module_path = "examples/data/mnist_small_cnn.pt", data_dir = "data/mnist", out_path = "trained_mnist.pt";
  int64_t batch_size = 64, epochs = 3, max_steps = 0;
  uint64_t seed = 1;
  app.add_option("--module", module_path, "TorchScript module to train")->capture_default_str();
  app.add_option("--data", data_dir, "directory with the four MNIST IDX files")->capture_default_str();
  app.add_option("--out", out_path, "where to save the trained module (adaptive's run)")
      ->check(examples::writable_file())
      ->capture_default_str();
  app.add_option("--batch-size", batch_size, "examples per optimizer step")->check(examples::whole_in(1, 1000000))->capture_default_str();
  app.add_option("--epochs", epochs, "passes over the training set")->check(examples::whole_in(1, 1000000))->capture_default_str();
  app.add_option("--max-steps", max_steps, "stop after this many optimizer steps (0: no limit)")
      ->check(examples::whole_in(0, 1000000000000))
      ->capture_default_str();
  app.add_option("--seed", seed, "seed for shuffling")->capture_default_str();
  examples::add_run_flags(app, run_flags, /*with_training_logs=*/false);
  examples::CheckpointFlags checkpoint;
  examples::add_checkpoint_flags(app, checkpoint, "epoch");
  if (const auto exit_code = examples::parse_command_line(app, argc, argv)) return *exit_code;

  try {
    const torch::Device device = examples::device_of(run_flags);
    const double lr = flags.lr.value_or(examples::example_defaults(flags.optimizer).mnist_lr);
    const std::string dir = examples::user_path(data_dir);
    // The module ships with the runfiles; a path the user gives is theirs.
    const std::string module_file = app.count("--module") ? examples::user_path(module_path) : module_path;
    auto train_set = examples::IdxDataset(dir, examples::IdxDataset::Split::kTrain);
    const examples::IdxDataset test_set(dir, examples::IdxDataset::Split::kTest);
    const int64_t batches_per_epoch = (static_cast<int64_t>(*train_set.size()) + batch_size - 1) / batch_size;
    auto loader = torch::data::make_data_loader<torch::data::samplers::RandomSampler>(
        std::move(train_set).map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(batch_size));
    examples::CsvLog no_csv("");

    std::vector<examples::Run> runs;
    std::vector<std::shared_ptr<torch::jit::Module>> modules;
    for (const auto& impl : examples::implementations(flags)) {
      modules.push_back(std::make_shared<torch::jit::Module>(torch::jit::load(module_file, device)));
      examples::Run run;
      run.impl = impl;
      run.model = wrap(modules.back());
      run.optimizer = examples::make_optimizer(flags, impl, run.model.parameters(), lr);
      runs.push_back(std::move(run));
    }
    std::printf("torchscript: %s (%zu parameter tensors), %s, lr %g, data %s\n", module_file.c_str(),
                runs[0].model.parameters().size(), flags.optimizer.c_str(), lr, dir.c_str());
    nlohmann::json config = examples::config_of(flags, lr);
    config.update({{"example", "torchscript"}, {"module", module_file}, {"data", dir}, {"batch_size", batch_size},
                   {"seed", seed}, {"device", run_flags.device}});
    const examples::Distributed single_process;  // this example runs in one process
    const int64_t done = examples::resume_runs(examples::user_path(checkpoint.resume), config, runs, single_process);
    for (int64_t epoch = done + 1; epoch <= epochs; ++epoch) {
      if (max_steps > 0 && runs.front().steps >= max_steps) break;
      for (auto& run : runs) {
        torch::manual_seed(seed * 1000003 + epoch);
        examples::train_epoch(run, *loader, static_cast<int>(epoch), batches_per_epoch, flags, test_set, device,
                              max_steps, no_csv, single_process);
      }
      examples::print_epoch(runs);
      examples::save_runs(examples::user_path(checkpoint.checkpoint), config, runs, epoch, no_csv, single_process);
    }

    // Save the first run's module, load the file again, and measure what was saved.
    const std::string out = examples::user_path(out_path);
    modules.front()->save(out);
    auto reloaded = std::make_shared<torch::jit::Module>(torch::jit::load(out, device));
    const double reloaded_accuracy = examples::test_accuracy(wrap(reloaded), test_set, device, single_process);
    std::printf("saved %s; reloaded: test accuracy %.2f%% (before saving: %.2f%%)\n", out.c_str(), reloaded_accuracy,
                runs.front().history.back().test_accuracy);

    if (!run_flags.summary.empty()) {
      auto doc = examples::summary_of(runs, flags, lr);
      doc["example"] = "torchscript";
      doc["module"] = module_file;
      doc["saved_module"] = out;
      doc["reloaded_test_accuracy"] = reloaded_accuracy;
      examples::write_json(examples::user_path(run_flags.summary), doc);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "torchscript: %s\n", examples::message_of(e).c_str());
    return 1;
  }
  return 0;
}
