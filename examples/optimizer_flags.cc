#include "examples/optimizer_flags.h"

#include "examples/flag_checks.h"
#include "examples/muon_recipe.h"

#include "optim/optim.h"
#include "optim/sharded.h"
#include "optim/version.h"

#include <torch/version.h>

#include <cstdio>
#include <stdexcept>
#include <type_traits>

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

// Every optimizer of the list but those that take only sparse gradients
// (SparseAdam: examples/embedding.cc), which these models do not have.
std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
#define ADAPTIVE_NAME(Class, flag, ...) \
  if (!adaptive::hooks::takes_only_sparse_gradients<adaptive::Class>()) names.push_back(#flag);
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_NAME)
#undef ADAPTIVE_NAME
  return names;
}

ExampleDefaults example_defaults(const std::string& optimizer) {
#define ADAPTIVE_DEFAULTS(Class, flag, regression_lr, regression_steps, mnist_lr) \
  if (optimizer == #flag) {                                                        \
    return {regression_lr, regression_steps, mnist_lr, !std::is_void_v<adaptive::Class::Builtin>, \
            !adaptive::hooks::steps_whole_tensors<adaptive::Class>()};                              \
  }
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_DEFAULTS)
#undef ADAPTIVE_DEFAULTS
  throw std::invalid_argument("unknown --optimizer " + optimizer);
}

std::string defaults_help(bool regression) {
  std::string text;
  for (const auto& name : optimizer_names()) {
    const ExampleDefaults d = example_defaults(name);
    char line[96];
    if (regression) {
      std::snprintf(line, sizeof(line), "  %s: lr %g, %lld steps", name.c_str(), d.regression_lr,
                    static_cast<long long>(d.regression_steps));
    } else {
      std::snprintf(line, sizeof(line), "  %s: lr %g", name.c_str(), d.mnist_lr);
    }
    text += line + std::string(d.has_builtin ? "" : " (adaptive only)") + (d.shardable ? "" : " (not sharded)") + "\n";
  }
  return text;
}

void add_optimizer_flags(CLI::App& app, OptimizerFlags& flags) {
  std::string choices;
  for (const auto& name : optimizer_names()) choices += (choices.empty() ? "" : " | ") + name;
  app.add_option("--optimizer", flags.optimizer, choices)->check(CLI::IsMember(optimizer_names()))->capture_default_str();
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
// adaptive's optimizer, whole or sharded over `group`.
template <class Opt>
std::unique_ptr<torch::optim::Optimizer> adaptive_optimizer(std::vector<torch::Tensor> params,
                                                            const typename Opt::Options& options,
                                                            const c10::intrusive_ptr<c10d::ProcessGroup>& group) {
  if (group) return std::make_unique<adaptive::ShardedOptimizer<Opt>>(std::move(params), options, group);
  return std::make_unique<Opt>(std::move(params), options);
}

// Whether Options has a bias_correction option.
template <class Options, class = void>
struct HasBiasCorrection : std::false_type {};
template <class Options>
struct HasBiasCorrection<Options, std::void_t<decltype(std::declval<Options&>().bias_correction())>>
    : std::true_type {};

// Optimizer `Opt` of the list as the flags say: adaptive's or its built-in.
template <class Opt>
std::unique_ptr<torch::optim::Optimizer> make(const OptimizerFlags& flags, bool builtin,
                                              std::vector<torch::Tensor> params, double lr,
                                              const c10::intrusive_ptr<c10d::ProcessGroup>& shard_over) {
  using Options = typename Opt::Options;
  const std::string name = std::string(Opt::kName).substr(std::string("adaptive::").size());
  const bool given = flags.bias_correction != "default";
  if constexpr (HasBiasCorrection<Options>::value) {
    // The option's default is what the built-in always does (Adam: on, RMSprop: off).
    const bool fixed = Options().bias_correction();
    if (builtin && given && (flags.bias_correction == "on") != fixed) {
      throw std::invalid_argument("--bias-correction " + flags.bias_correction + ": torch::optim::" + name +
                                  " has no such option (it is always " + (fixed ? "on" : "off") +
                                  "); use --impl adaptive");
    }
  } else if (given) {
    throw std::invalid_argument("--bias-correction: " + name + " has no bias correction");
  }
  if (builtin) {
    if constexpr (std::is_void_v<typename Opt::Builtin>) {
      throw std::invalid_argument("--impl builtin: LibTorch has no torch::optim::" + name + "; use --impl adaptive");
    } else {
      return std::make_unique<typename Opt::Builtin>(params, typename Opt::BuiltinOptions(lr));
    }
  }
  // Muon takes only matrices: its recipe gives the rest to AdamW. (Sharded,
  // ShardedOptimizer refuses Muon on every rank, before any collective.)
  if constexpr (std::is_same_v<Opt, adaptive::Muon>) {
    if (!shard_over) return std::make_unique<MuonWithAdamW>(params, lr, flags.clip_grad_norm, flags.clip_grad_value);
  }
  Options options(lr);
  options.clip_grad_norm(flags.clip_grad_norm).clip_grad_value(flags.clip_grad_value);
  if constexpr (HasBiasCorrection<Options>::value) {
    if (given) options.bias_correction(flags.bias_correction == "on");
  }
  return adaptive_optimizer<Opt>(std::move(params), options, shard_over);
}
}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerFlags& flags, const std::string& impl,
                                                        std::vector<torch::Tensor> params, double lr,
                                                        const c10::intrusive_ptr<c10d::ProcessGroup>& shard_over) {
  const bool builtin = impl == "builtin";
  if (builtin && shard_over) {
    throw std::invalid_argument("--shard: torch::optim's optimizers cannot be sharded; use --impl adaptive");
  }
#define ADAPTIVE_MAKE(Class, flag, ...) \
  if (flags.optimizer == #flag) return make<adaptive::Class>(flags, builtin, std::move(params), lr, shard_over);
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_MAKE)
#undef ADAPTIVE_MAKE
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
#define ADAPTIVE_STATE_BYTES(Class, ...) add_state_bytes<adaptive::Class>(optimizer, bytes) ||
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_STATE_BYTES) false;
#undef ADAPTIVE_STATE_BYTES
  if (const auto* recipe = dynamic_cast<const MuonWithAdamW*>(&optimizer)) bytes = recipe->state_bytes();
  return bytes;
}

void clip_before_step(const OptimizerFlags& flags, const std::string& impl, const std::vector<torch::Tensor>& params) {
  if (impl != "builtin") return;
  if (flags.clip_grad_value > 0) torch::nn::utils::clip_grad_value_(params, flags.clip_grad_value);
  if (flags.clip_grad_norm > 0) torch::nn::utils::clip_grad_norm_(params, flags.clip_grad_norm);
}

}  // namespace examples
