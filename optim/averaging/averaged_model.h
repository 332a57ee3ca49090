#pragma once
// adaptive::AveragedModel: torch.optim.swa_utils.AveragedModel in C++. It
// keeps a copy of a model whose parameters (and, with use_buffers, buffers)
// are the average of the model's over update_parameters() calls: SWA's
// running mean by default, an EMA with ema_multi_avg_fn(decay), or a
// function of the caller's. Each update is one multi-tensor pass
// (ATen's _foreach_lerp_, as Python's), so the averages are Python's bit
// for bit. update_bn() recomputes the batch norms' statistics of a model.

#include <c10/util/Optional.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace adaptive {

/// Averages a group of tensors (one device and dtype) into `averaged` in
/// place, from `current`, after `n_averaged` earlier updates (Python's multi_avg_fn).
using MultiAvgFn =
    std::function<void(std::vector<torch::Tensor>& averaged, const std::vector<torch::Tensor>& current, int64_t n_averaged)>;
/// Returns the new average of one tensor (Python's avg_fn).
using AvgFn = std::function<torch::Tensor(const torch::Tensor& averaged, const torch::Tensor& current, int64_t n_averaged)>;

/// Python's get_ema_multi_avg_fn(decay): averaged ← lerp(averaged, current, 1 − decay); decay in [0, 1].
MultiAvgFn ema_multi_avg_fn(double decay = 0.999);
/// Python's get_swa_multi_avg_fn(): the running mean (the default).
MultiAvgFn swa_multi_avg_fn();

struct AveragedModelOptions {
  /// Average the buffers too (e.g. batch norms' statistics); otherwise they are copied from the model.
  TORCH_ARG(bool, use_buffers) = false;
  /// How to average a group of tensors; none (and no avg_fn): swa_multi_avg_fn().
  TORCH_ARG(MultiAvgFn, multi_avg_fn) = nullptr;
  /// How to average one tensor (instead of multi_avg_fn; not both).
  TORCH_ARG(AvgFn, avg_fn) = nullptr;
  /// Where the average lives; none: the model's device.
  TORCH_ARG(c10::optional<torch::Device>, device) = c10::nullopt;
};

class AveragedModel {
 public:
  /// Averages `model`, starting from a copy of it (model.clone(): a module
  /// deriving from torch::nn::Cloneable, as LibTorch's are).
  AveragedModel(const torch::nn::Module& model, AveragedModelOptions options = {});
  /// Averages into `copy`, a module of the same structure as the one that
  /// will be passed to update_parameters() (for a module that is not Cloneable).
  AveragedModel(std::shared_ptr<torch::nn::Module> copy, AveragedModelOptions options = {});

  /// Folds `model`'s current parameters (and buffers) into the average: the
  /// first call copies them. The same structure as the copy, or a c10::Error.
  void update_parameters(const torch::nn::Module& model);

  /// The averaged module (evaluate it: its forward is the model's).
  const std::shared_ptr<torch::nn::Module>& module() const { return module_; }
  /// The averaged module as its own type, e.g. module_as<torch::nn::SequentialImpl>().
  template <class Impl>
  std::shared_ptr<Impl> module_as() const {
    auto typed = std::dynamic_pointer_cast<Impl>(module_);
    TORCH_CHECK(typed != nullptr, "AveragedModel::module_as: the averaged module is not of the type asked for");
    return typed;
  }
  /// Updates folded in so far.
  int64_t n_averaged() const { return n_averaged_; }
  const AveragedModelOptions& options() const { return options_; }

  /// The averaged module's parameters and buffers and n_averaged (Python's
  /// state_dict keys: "module.<name>", "n_averaged").
  void save(torch::serialize::OutputArchive& archive) const;
  /// Restores what save() wrote, all-or-nothing (names and shapes must match).
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<torch::Tensor> averaged_tensors() const;

  std::shared_ptr<torch::nn::Module> module_;
  AveragedModelOptions options_;
  int64_t n_averaged_ = 0;
};

/// torch::save(averaged, ...) and torch::load(averaged, ...).
torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const AveragedModel& averaged);
torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, AveragedModel& averaged);

namespace detail {
/// update_bn's bracket: resets every batch norm's running statistics and
/// sets its momentum to none (a cumulative average); the destructor puts
/// the momenta and the training mode back.
class BatchNormRecompute {
 public:
  explicit BatchNormRecompute(torch::nn::Module& model);
  ~BatchNormRecompute();
  BatchNormRecompute(const BatchNormRecompute&) = delete;
  BatchNormRecompute& operator=(const BatchNormRecompute&) = delete;
  /// Whether the model has any batch norm (none: nothing to do).
  bool any() const { return !restore_.empty(); }

 private:
  torch::nn::Module& model_;
  bool was_training_;
  std::vector<std::function<void()>> restore_;
};
}  // namespace detail

/// Python's update_bn(loader, model): recomputes the running statistics of
/// every batch norm in `model` (a module holder: torch::nn::Sequential, or
/// one of TORCH_MODULE) with one pass over `batches` (tensors, or examples
/// with .data) in training mode; the momenta and the mode are restored.
template <class Batches, class Model>
void update_bn(const Batches& batches, Model& model) {
  torch::NoGradGuard no_grad;
  detail::BatchNormRecompute bracket(*model);
  if (!bracket.any()) return;
  for (const auto& batch : batches) {
    if constexpr (std::is_convertible_v<decltype(batch), torch::Tensor>) {
      model->forward(batch);
    } else {
      model->forward(batch.data);
    }
  }
}

}  // namespace adaptive
