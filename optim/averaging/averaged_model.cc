#include "optim/averaging/averaged_model.h"

#include "optim/core/compat.h"

#include <c10/util/irange.h>
#include <torch/nn/modules/batchnorm.h>

#include <map>
#include <tuple>

namespace adaptive {
namespace {

bool lerps(const torch::Tensor& t) { return t.is_floating_point() || t.is_complex(); }

// averaged[i].lerp_(current[i], weight) for every i: ATen's multi-tensor op
// where the LibTorch has it (2.0 on), else the loop its CPU path runs.
void lerp_all(std::vector<torch::Tensor>& averaged, const std::vector<torch::Tensor>& current, double weight) {
#if ADAPTIVE_TORCH_AT_LEAST(2, 0)
  at::_foreach_lerp_(averaged, current, weight);
#else
  for (const auto i : c10::irange(averaged.size())) averaged[i].lerp_(current[i], weight);
#endif
}

// The tensors the average covers: parameters, then buffers with use_buffers.
std::vector<torch::Tensor> covered(const torch::nn::Module& m, bool buffers) {
  std::vector<torch::Tensor> out = m.parameters();
  if (buffers) {
    for (const auto& b : m.buffers()) out.push_back(b);
  }
  return out;
}

// The same count and shapes, or a c10::Error naming the first difference.
void check_same_structure(const char* what, const std::vector<torch::Tensor>& averaged,
                          const std::vector<torch::Tensor>& model) {
  TORCH_CHECK(averaged.size() == model.size(), "AveragedModel::update_parameters: the model has ", model.size(), " ",
              what, ", the average ", averaged.size(), "; give it a model of the averaged one's structure");
  for (const auto i : c10::irange(model.size())) {
    TORCH_CHECK(averaged[i].sizes() == model[i].sizes(), "AveragedModel::update_parameters: ", what, " ", i,
                " of the model has shape ", model[i].sizes(), ", the average's ", averaged[i].sizes());
  }
}

std::shared_ptr<torch::nn::Module> cloned(const torch::nn::Module& model, const c10::optional<torch::Device>& device) {
  std::shared_ptr<torch::nn::Module> copy;
  try {
    copy = model.clone(device);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "AveragedModel: the model cannot be cloned (", e.what_without_backtrace(),
                "); derive it from torch::nn::Cloneable, or pass a copy: AveragedModel(copy, options)");
  }
  return copy;
}

}  // namespace

MultiAvgFn ema_multi_avg_fn(double decay) {
  TORCH_CHECK(decay >= 0.0 && decay <= 1.0, "ema_multi_avg_fn: decay is ", decay, "; it must be in [0, 1]");
  return [decay](std::vector<torch::Tensor>& ema, const std::vector<torch::Tensor>& current, int64_t) {
    if (ema.empty()) return;
    if (lerps(ema.front())) {
      lerp_all(ema, current, 1 - decay);
    } else {
      for (const auto i : c10::irange(ema.size())) ema[i].copy_(ema[i] * decay + current[i] * (1 - decay));
    }
  };
}

MultiAvgFn swa_multi_avg_fn() {
  return [](std::vector<torch::Tensor>& averaged, const std::vector<torch::Tensor>& current, int64_t n_averaged) {
    if (averaged.empty()) return;
    if (lerps(averaged.front())) {
      // Python: 1 / (n_averaged + 1) of a long tensor, a float32 quotient.
      lerp_all(averaged, current, static_cast<double>(1.0F / static_cast<float>(n_averaged + 1)));
    } else {
      const auto n = torch::tensor(n_averaged, torch::dtype(torch::kLong).device(averaged.front().device()));
      for (const auto i : c10::irange(averaged.size())) averaged[i].addcdiv_(current[i] - averaged[i], n + 1);
    }
  };
}

AveragedModel::AveragedModel(const torch::nn::Module& model, AveragedModelOptions options)
    : AveragedModel(cloned(model, options.device()), options) {}

AveragedModel::AveragedModel(std::shared_ptr<torch::nn::Module> copy, AveragedModelOptions options)
    : module_(std::move(copy)), options_(std::move(options)) {
  TORCH_CHECK(module_ != nullptr, "AveragedModel: the module to average into is null");
  TORCH_CHECK(!(options_.avg_fn() && options_.multi_avg_fn()),
              "AveragedModel: give avg_fn or multi_avg_fn, not both");
  if (options_.device()) module_->to(*options_.device());
}

std::vector<torch::Tensor> AveragedModel::averaged_tensors() const { return covered(*module_, options_.use_buffers()); }

void AveragedModel::update_parameters(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> averaged = averaged_tensors();
  const std::vector<torch::Tensor> source = covered(model, options_.use_buffers());
  check_same_structure(options_.use_buffers() ? "parameters and buffers" : "parameters", averaged, source);
  const std::vector<torch::Tensor> own_buffers = module_->buffers(), model_buffers = model.buffers();
  if (!options_.use_buffers()) check_same_structure("buffers", own_buffers, model_buffers);

  std::vector<torch::Tensor> current;
  for (const auto i : c10::irange(source.size())) current.push_back(source[i].detach().to(averaged[i].device()));
  if (n_averaged_ == 0) {
    for (const auto i : c10::irange(averaged.size())) averaged[i].copy_(current[i]);
  } else if (options_.avg_fn()) {
    for (const auto i : c10::irange(averaged.size())) {
      averaged[i].copy_(options_.avg_fn()(averaged[i], current[i], n_averaged_));
    }
  } else {
    // Python groups by device and dtype; without a multi_avg_fn it runs the
    // multi-tensor SWA where the device has foreach kernels (not the CPU)
    // and the per-tensor one, averaged + (current − averaged) / (n + 1), elsewhere.
    std::map<std::tuple<int, int, int>, std::pair<std::vector<torch::Tensor>, std::vector<torch::Tensor>>> groups;
    std::vector<std::tuple<int, int, int>> order;
    for (const auto i : c10::irange(averaged.size())) {
      const auto& t = averaged[i];
      const std::tuple<int, int, int> key{static_cast<int>(t.device().type()), t.device().index(),
                                          static_cast<int>(t.scalar_type())};
      if (groups.find(key) == groups.end()) order.push_back(key);
      groups[key].first.push_back(t);
      groups[key].second.push_back(current[i]);
    }
    for (const auto& key : order) {
      auto& [group_averaged, group_current] = groups[key];
      if (options_.multi_avg_fn()) {
        options_.multi_avg_fn()(group_averaged, group_current, n_averaged_);
      } else if (group_averaged.front().is_cuda()) {
        swa_multi_avg_fn()(group_averaged, group_current, n_averaged_);
      } else {
        const auto n = torch::tensor(n_averaged_, torch::dtype(torch::kLong).device(group_averaged.front().device()));
        for (const auto i : c10::irange(group_averaged.size())) {
          group_averaged[i].copy_(group_averaged[i] + (group_current[i] - group_averaged[i]) / (n + 1));
        }
      }
    }
  }
  if (!options_.use_buffers()) {
    // The buffers follow the model's (Python: kept in sync when not averaged).
    for (const auto i : c10::irange(own_buffers.size())) {
      own_buffers[i].copy_(model_buffers[i].detach().to(own_buffers[i].device()));
    }
  }
  ++n_averaged_;
}

void AveragedModel::save(torch::serialize::OutputArchive& archive) const {
  archive.write("averaged_model", c10::IValue(true));
  for (const auto& p : module_->named_parameters()) archive.write("module." + p.key(), p.value(), /*is_buffer=*/false);
  for (const auto& b : module_->named_buffers()) archive.write("module." + b.key(), b.value(), /*is_buffer=*/true);
  archive.write("n_averaged", c10::IValue(n_averaged_));
}

void AveragedModel::load(torch::serialize::InputArchive& archive) {
  c10::IValue marker;
  TORCH_CHECK(archive.try_read("averaged_model", marker), "AveragedModel::load: the archive holds no AveragedModel's state");
  c10::IValue n;
  TORCH_CHECK(archive.try_read("n_averaged", n) && n.isInt() && n.toInt() >= 0,
              "AveragedModel::load: the archive has no n_averaged ≥ 0");
  std::vector<std::pair<torch::Tensor, torch::Tensor>> staged;  // (destination, value), checked before any copy
  auto stage = [&](const std::string& name, const torch::Tensor& destination, bool is_buffer) {
    torch::Tensor value;
    TORCH_CHECK(archive.try_read("module." + name, value, is_buffer), "AveragedModel::load: the archive has no 'module.",
                name, "'");
    TORCH_CHECK(value.sizes() == destination.sizes() && value.scalar_type() == destination.scalar_type(),
                "AveragedModel::load: 'module.", name, "' is ", value.scalar_type(), value.sizes(), ", the average's ",
                destination.scalar_type(), destination.sizes());
    staged.emplace_back(destination, value);
  };
  for (const auto& p : module_->named_parameters()) stage(p.key(), p.value(), false);
  for (const auto& b : module_->named_buffers()) stage(b.key(), b.value(), true);
  torch::NoGradGuard no_grad;
  for (auto& [destination, value] : staged) destination.copy_(value);
  n_averaged_ = n.toInt();
}

torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const AveragedModel& averaged) {
  averaged.save(archive);
  return archive;
}

torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, AveragedModel& averaged) {
  averaged.load(archive);
  return archive;
}

namespace detail {

BatchNormRecompute::BatchNormRecompute(torch::nn::Module& model) : model_(model), was_training_(model.is_training()) {
  auto bracket = [&](auto batch_norm) {
    if (batch_norm == nullptr) return;
    const c10::optional<double> momentum = batch_norm->options.momentum();
    batch_norm->reset_running_stats();
    batch_norm->options.momentum(c10::nullopt);  // a cumulative average over the pass
    restore_.emplace_back([batch_norm, momentum] { batch_norm->options.momentum(momentum); });
  };
  for (const auto& m : model.modules(/*include_self=*/true)) {
    bracket(std::dynamic_pointer_cast<torch::nn::BatchNorm1dImpl>(m));
    bracket(std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(m));
    bracket(std::dynamic_pointer_cast<torch::nn::BatchNorm3dImpl>(m));
  }
  if (any()) model.train(true);
}

BatchNormRecompute::~BatchNormRecompute() {
  for (const auto& restore : restore_) restore();
  model_.train(was_training_);
}

}  // namespace detail
}  // namespace adaptive
