#pragma once
// Command-line choice of optimizer for the examples: which algorithm, which
// implementation (adaptive or torch::optim), and the options they share.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace examples {

// The --optimizer names of every optimizer in optim/optimizers.h.
std::vector<std::string> optimizer_names();

// The examples' defaults for an optimizer, from optim/optimizers.h.
struct ExampleDefaults {
  double regression_lr;
  int64_t regression_steps;
  double mnist_lr;  // MNIST and TorchScript examples
  bool has_builtin;  // torch::optim has it (--impl builtin and both work)
  bool shardable;    // --shard works (not whole-tensor math such as Adafactor's)
};
ExampleDefaults example_defaults(const std::string& optimizer);

// "  adam: lr 0.2, 1000 steps\n..." (regression) or "  adam: lr 0.001\n..." for --help;
// optimizers LibTorch lacks are marked "(adaptive only)".
std::string defaults_help(bool regression);

struct OptimizerFlags {
  std::string optimizer = "adam";  // any of optimizer_names()
  std::string impl = "adaptive";   // adaptive | builtin | both
  std::optional<double> lr;        // unset: the example's default for the optimizer
  std::string bias_correction = "default";  // on | off | default (Adam on, RMSprop off)
  double clip_grad_norm = 0;
  double clip_grad_value = 0;
};

// The flags every example has: --device, --summary and (with_training_logs)
// --csv and --save-params.
struct RunFlags {
  std::string device = "cpu";
  std::string summary;      // JSON summary path, empty: none
  std::string csv;          // loss log path, empty: none
  std::string save_params;  // final parameters (raw float64) path, empty: none
};
void add_run_flags(CLI::App& app, RunFlags& flags, bool with_training_logs);

// --checkpoint FILE (save after every epoch) and --resume FILE (continue a saved run).
struct CheckpointFlags {
  std::string checkpoint;  // empty: no checkpoints
  std::string resume;      // empty: start fresh
};
void add_checkpoint_flags(CLI::App& app, CheckpointFlags& flags, const std::string& every);

// The device --device names; throws std::invalid_argument for CUDA without a GPU.
torch::Device device_of(const RunFlags& flags);

// Parses the command line (adding --version). Returns the exit code to end with
// when the program should stop here: 0 after --help or --version, 2 (with the
// error and the usage) for bad flags.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

// Registers --optimizer --impl --lr --bias-correction --clip-grad-norm --clip-grad-value.
void add_optimizer_flags(CLI::App& app, OptimizerFlags& flags);

// The optimizer settings as JSON: part of every checkpoint's configuration,
// so that --resume refuses a checkpoint written with other settings.
nlohmann::json config_of(const OptimizerFlags& flags, double lr);

// The implementations --impl asks for, in order: {"adaptive"}, {"builtin"} or both.
std::vector<std::string> implementations(const OptimizerFlags& flags);

// Builds the optimizer; `impl` is "adaptive" or "builtin". With `shard_over`,
// adaptive's optimizer is wrapped in ShardedOptimizer over that group. Throws
// std::invalid_argument for a combination the built-in cannot express
// (e.g. --bias-correction off with the built-in Adam, or sharding).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerFlags& flags, const std::string& impl,
                                                        std::vector<torch::Tensor> params, double lr,
                                                        const c10::intrusive_ptr<c10d::ProcessGroup>& shard_over = {});

// Bytes of optimizer state this process holds (for a ShardedOptimizer: its
// shard's); -1 for torch::optim's optimizers.
int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer);

// For the built-in: clip_grad_value_ then clip_grad_norm_, as a user would
// call them before step(). adaptive clips inside step(); this is a no-op then.
void clip_before_step(const OptimizerFlags& flags, const std::string& impl, const std::vector<torch::Tensor>& params);

}  // namespace examples
