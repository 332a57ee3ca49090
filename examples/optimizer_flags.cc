#include "examples/optimizer_flags.h"

#include "examples/flag_checks.h"

#include "optim/optim.h"
#include "optim/sharded.h"
#include "optim/version.h"

#include <torch/version.h>

#include <cstdio>
#include <stdexcept>

namespace examples {

// "regression (adaptive 0.1.0, LibTorch 2.13.0)": what --version prints.
std::string version_line(const std::string& program) {
  return program + " (adaptive " ADAPTIVE_VERSION ", LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "." +
         std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH) + ")";
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  const std::string program = argc > 0 ? argv[0] : "adaptive";
  app.set_version_flag("--version", version_line(program.substr(program.find_last_of('/') + 1)));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the error
    std::fprintf(stderr, "%s", app.help().c_str());
    return 2;
  }
  return std::nullopt;
}

void add_run_flags(CLI::App& app, RunFlags& flags, bool with_training_logs) {
  app.add_option("--device", flags.device, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--summary", flags.summary, "write a JSON summary here")->check(writable_file());
  if (!with_training_logs) return;
  app.add_option("--csv", flags.csv, "write the loss of every step here (step,impl,loss)")->check(writable_file());
  app.add_option("--save-params", flags.save_params, "write the final parameters here (raw float64, for comparisons)")
      ->check(writable_file());
}

void add_checkpoint_flags(CLI::App& app, CheckpointFlags& flags, const std::string& every) {
  app.add_option("--checkpoint", flags.checkpoint,
                 "save model, optimizer, progress and RNG state to this file after every " + every +
                     " (written to FILE.partial, then renamed: a crash never leaves a broken FILE)")
      ->check(writable_file());
  app.add_option("--resume", flags.resume, "continue the run saved in this checkpoint (same settings required)");
}

torch::Device device_of(const RunFlags& flags) {
  if (flags.device == "cuda" && !torch::cuda::is_available()) {
    throw std::invalid_argument("--device cuda: no CUDA device is available (LibTorch sees none)");
  }
  return torch::Device(flags.device);
}

void add_optimizer_flags(CLI::App& app, OptimizerFlags& flags) {
  app.add_option("--optimizer", flags.optimizer, "adam | rmsprop | adagrad")
      ->check(CLI::IsMember({"adam", "rmsprop", "adagrad"}))
      ->capture_default_str();
  app.add_option("--impl", flags.impl, "adaptive | builtin (torch::optim) | both (side by side, same start)")
      ->check(CLI::IsMember({"adaptive", "builtin", "both"}))
      ->capture_default_str();
  app.add_option("--lr", flags.lr, "learning rate (default: per optimizer, see --help text above)")
      ->check(finite_at_least(0));
  app.add_option("--bias-correction", flags.bias_correction,
                 "on | off | default (Adam: on, RMSprop: off; adaptive only can change it)")
      ->check(CLI::IsMember({"on", "off", "default"}))
      ->capture_default_str();
  app.add_option("--clip-grad-norm", flags.clip_grad_norm, "clip gradients to this global L2 norm (0: off)")
      ->check(finite_at_least(0))
      ->capture_default_str();
  app.add_option("--clip-grad-value", flags.clip_grad_value, "clamp gradients to [-v, v] (0: off)")
      ->check(finite_at_least(0))
      ->capture_default_str();
}

nlohmann::json config_of(const OptimizerFlags& flags, double lr) {
  return {{"optimizer", flags.optimizer},         {"impl", flags.impl},
          {"lr", lr},                             {"bias_correction", flags.bias_correction},
          {"clip_grad_norm", flags.clip_grad_norm}, {"clip_grad_value", flags.clip_grad_value}};
}

std::vector<std::string> implementations(const OptimizerFlags& flags) {
  if (flags.impl == "both") return {"adaptive", "builtin"};
  return {flags.impl};
}

namespace {
void require_default_bias_correction(const OptimizerFlags& flags, const char* builtin_has) {
  if (flags.bias_correction != "default" && flags.bias_correction != builtin_has) {
    throw std::invalid_argument("--bias-correction " + flags.bias_correction + ": torch::optim::" +
                                (flags.optimizer == "adam" ? "Adam" : "RMSprop") +
                                " has no such option (it is always " + builtin_has + "); use --impl adaptive");
  }
}

// adaptive's optimizer, whole or sharded over `group`.
template <class Opt>
std::unique_ptr<torch::optim::Optimizer> adaptive_optimizer(std::vector<torch::Tensor> params,
                                                            const typename Opt::Options& options,
                                                            const c10::intrusive_ptr<c10d::ProcessGroup>& group) {
  if (group) return std::make_unique<adaptive::ShardedOptimizer<Opt>>(std::move(params), options, group);
  return std::make_unique<Opt>(std::move(params), options);
}
}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerFlags& flags, const std::string& impl,
                                                        std::vector<torch::Tensor> params, double lr,
                                                        const c10::intrusive_ptr<c10d::ProcessGroup>& shard_over) {
  const bool builtin = impl == "builtin";
  if (builtin && shard_over) {
    throw std::invalid_argument("--shard: torch::optim's optimizers cannot be sharded; use --impl adaptive");
  }
  if (flags.optimizer == "adam") {
    if (builtin) {
      require_default_bias_correction(flags, "on");
      return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(lr));
    }
    return adaptive_optimizer<adaptive::Adam>(params,
                                              adaptive::AdamOptions(lr)
                                                  .bias_correction(flags.bias_correction != "off")
                                                  .clip_grad_norm(flags.clip_grad_norm)
                                                  .clip_grad_value(flags.clip_grad_value),
                                              shard_over);
  }
  if (flags.optimizer == "rmsprop") {
    if (builtin) {
      require_default_bias_correction(flags, "off");
      return std::make_unique<torch::optim::RMSprop>(params, torch::optim::RMSpropOptions(lr));
    }
    return adaptive_optimizer<adaptive::RMSprop>(params,
                                                 adaptive::RMSpropOptions(lr)
                                                     .bias_correction(flags.bias_correction == "on")
                                                     .clip_grad_norm(flags.clip_grad_norm)
                                                     .clip_grad_value(flags.clip_grad_value),
                                                 shard_over);
  }
  if (flags.optimizer == "adagrad") {
    if (flags.bias_correction != "default") {
      throw std::invalid_argument("--bias-correction: Adagrad has no bias correction");
    }
    if (builtin) return std::make_unique<torch::optim::Adagrad>(params, torch::optim::AdagradOptions(lr));
    return adaptive_optimizer<adaptive::Adagrad>(
        params, adaptive::AdagradOptions(lr).clip_grad_norm(flags.clip_grad_norm).clip_grad_value(flags.clip_grad_value),
        shard_over);
  }
  throw std::invalid_argument("unknown --optimizer " + flags.optimizer);
}

namespace {
template <class Opt>
bool add_state_bytes(const torch::optim::Optimizer& optimizer, int64_t& bytes) {
  if (const auto* sharded = dynamic_cast<const adaptive::ShardedOptimizer<Opt>*>(&optimizer)) {
    bytes = sharded->local_state_bytes();
    return true;
  }
  if (const auto* whole = dynamic_cast<const Opt*>(&optimizer)) {
    bytes = adaptive::state_bytes<typename Opt::State>(whole->state());
    return true;
  }
  return false;
}
}  // namespace

int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer) {
  int64_t bytes = -1;
  add_state_bytes<adaptive::Adam>(optimizer, bytes) || add_state_bytes<adaptive::RMSprop>(optimizer, bytes) ||
      add_state_bytes<adaptive::Adagrad>(optimizer, bytes);
  return bytes;
}

void clip_before_step(const OptimizerFlags& flags, const std::string& impl, const std::vector<torch::Tensor>& params) {
  if (impl != "builtin") return;
  if (flags.clip_grad_value > 0) torch::nn::utils::clip_grad_value_(params, flags.clip_grad_value);
  if (flags.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(params, flags.clip_grad_norm);
}

}  // namespace examples
