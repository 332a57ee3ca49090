#pragma once
// adaptive::GradScaler: loss scaling for float16 training, the same object as
// PyTorch's torch.amp.GradScaler (which LibTorch's C++ API lacks):
//
//   adaptive::GradScaler scaler;                      // init_scale 2^16, ...
//   for (...) {
//     optimizer.zero_grad();
//     torch::Tensor loss = ...;                       // under autocast
//     scaler.scale(loss).backward();
//     scaler.unscale_(optimizer);                     // optional: to clip or log the gradients
//     scaler.step(optimizer);                         // skipped if a gradient is inf or NaN
//     scaler.update();                                // backs off after a skip, grows after
//   }                                                 // growth_interval clean steps
//
// Any torch::optim::Optimizer works, as in Python: its gradients are unscaled
// in place by ATen's _amp_foreach_non_finite_check_and_unscale_ (a pass of
// their own) and its step is skipped when one held a NaN or ±inf. An adaptive
// optimizer instead takes the scale into its step (core/scaled_step.h): one
// read of the gradients for the inf check, none to unscale them, the same
// numbers bit for bit. docs/mixed_precision.md has the details.

#include <c10/core/Device.h>
#include <torch/arg.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace adaptive {

/// Options of GradScaler: torch.amp.GradScaler's, with its names and defaults.
struct GradScalerOptions {
  /// The scale before the first update: 2^16.
  TORCH_ARG(double, init_scale) = 65536.0;
  /// Multiplies the scale after growth_interval steps without inf or NaN; > 1.
  TORCH_ARG(double, growth_factor) = 2.0;
  /// Multiplies the scale after a step with inf or NaN gradients; in (0, 1).
  TORCH_ARG(double, backoff_factor) = 0.5;
  /// Clean steps (no inf or NaN) between two growths; ≥ 1.
  TORCH_ARG(int64_t, growth_interval) = 2000;
  /// false: every method passes through (scale returns its input, step runs
  /// the optimizer's step), as Python's enabled=False.
  TORCH_ARG(bool, enabled) = true;
};

/// Loss scaling, as torch.amp.GradScaler. Not thread-safe (neither is Python's).
class GradScaler {
 public:
  /// A closure for step(optimizer, closure), as torch::optim::Optimizer takes.
  using LossClosure = torch::optim::Optimizer::LossClosure;

  /// Checks the options (c10::Error naming the option and value). The scale
  /// is created by the first scale(), on that output's device.
  explicit GradScaler(GradScalerOptions options = {});

  /// `outputs` times the scale (a float32 1-element tensor, moved to their
  /// device). The first call creates the scale on `outputs`' device.
  torch::Tensor scale(const torch::Tensor& outputs);
  /// Each tensor times the scale.
  std::vector<torch::Tensor> scale(const std::vector<torch::Tensor>& outputs);

  /// Divides `optimizer`'s gradients by the scale, in place, and records
  /// whether any held inf or NaN. At most once per optimizer between two
  /// update()s, and before its step(). float16 gradients are refused (the
  /// parameters must be float32 masters), as Python refuses them.
  void unscale_(torch::optim::Optimizer& optimizer);

  /// Steps `optimizer` unless one of its gradients held inf or NaN.
  /// Unscales first where unscale_ was not called; an adaptive optimizer
  /// does both inside its step (see the top of this file). With `closure`,
  /// runs it first (it computes the scaled gradients: call scale() in it)
  /// and returns its loss; Python refuses closures, here they need only that
  /// unscale_ was not called before (the closure would recompute its
  /// gradients). Returns the closure's loss, or an undefined tensor.
  torch::Tensor step(torch::optim::Optimizer& optimizer, LossClosure closure = nullptr);

  /// Ends the iteration: backs the scale off if any optimizer stepped over an
  /// inf or NaN since the last update(), grows it after growth_interval clean
  /// steps, and makes every optimizer ready for the next unscale_/step.
  void update();
  /// Ends the iteration with the scale set to `new_scale` (positive, finite).
  void update(double new_scale);
  /// \copydoc update(double): a 1-element tensor without grad, on the scale's device type.
  void update(const torch::Tensor& new_scale);

  /// The scale: init_scale before the first scale(), 1 when disabled. Reads
  /// it from its device (on a GPU: a synchronization).
  double get_scale() const;
  /// The clean steps counted towards the next growth.
  int64_t get_growth_tracker() const;
  /// The factor the scale grows by after growth_interval clean steps.
  double get_growth_factor() const { return options_.growth_factor(); }
  /// The factor the scale backs off by after a step with inf or NaN.
  double get_backoff_factor() const { return options_.backoff_factor(); }
  /// Clean steps between two growths.
  int64_t get_growth_interval() const { return options_.growth_interval(); }
  /// Sets growth_factor (> 1, finite; c10::Error otherwise, nothing changed).
  void set_growth_factor(double value);
  /// Sets backoff_factor (in (0, 1); c10::Error otherwise, nothing changed).
  void set_backoff_factor(double value);
  /// Sets growth_interval (≥ 1; c10::Error otherwise, nothing changed).
  void set_growth_interval(int64_t value);
  /// Whether the scaler scales (GradScalerOptions::enabled).
  bool is_enabled() const { return options_.enabled(); }
  /// The options, as load() and the setters left them.
  const GradScalerOptions& options() const { return options_; }

  /// Python's state_dict(): "scale", "growth_factor", "backoff_factor",
  /// "growth_interval", "_growth_tracker". Nothing when disabled.
  void save(torch::serialize::OutputArchive& archive) const;
  /// Python's load_state_dict(): all-or-nothing, every value checked first;
  /// an archive without a scaler's state (saved disabled, or another
  /// object's) is refused. Nothing happens when disabled.
  void load(torch::serialize::InputArchive& archive);

 private:
  enum class Stage { kReady, kUnscaled, kStepped };
  struct DeviceLess {
    bool operator()(const c10::Device& a, const c10::Device& b) const {
      return std::make_pair(a.type(), a.index()) < std::make_pair(b.type(), b.index());
    }
  };
  struct OptimizerState {
    Stage stage = Stage::kReady;
    std::map<c10::Device, torch::Tensor, DeviceLess> found_inf;  // per device of its gradients
  };

  void check_started(const char* method) const;
  OptimizerState& state_of(const torch::optim::Optimizer& optimizer);
  torch::Tensor inv_scale() const;                 // 1/scale in float32, as Python computes it
  void start_iteration();                          // every optimizer ready again

  GradScalerOptions options_;
  torch::Tensor scale_;           // float32, 1 element; undefined until the first scale()
  torch::Tensor growth_tracker_;  // int32, 1 element
  int64_t init_growth_tracker_ = 0;
  std::unordered_map<const torch::optim::Optimizer*, OptimizerState> optimizers_;
};

/// torch::save(scaler, ...) and torch::load(scaler, ...).
torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const GradScaler& scaler);
torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, GradScaler& scaler);

}  // namespace adaptive
