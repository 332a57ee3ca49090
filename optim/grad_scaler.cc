#include "optim/grad_scaler.h"

#include "optim/core/amp_kernels.h"
#include "optim/core/scaled_step.h"

#include <c10/util/irange.h>

#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

namespace adaptive {
namespace {

void check_scale_value(const char* what, double value) {
  TORCH_CHECK(std::isfinite(value) && value > 0, "GradScaler: ", what, " is ", value,
              "; a loss scale must be positive and finite");
}
void check_growth_factor(double value) {
  TORCH_CHECK(value > 1.0, "GradScaler: growth_factor is ", value, "; it must be > 1.0 (as torch.amp.GradScaler's)");
  TORCH_CHECK(std::isfinite(value), "GradScaler: growth_factor is ", value, "; it must be finite");
}
void check_backoff_factor(double value) {
  TORCH_CHECK(value < 1.0, "GradScaler: backoff_factor is ", value, "; it must be < 1.0 (as torch.amp.GradScaler's)");
  TORCH_CHECK(value > 0.0, "GradScaler: backoff_factor is ", value,
              "; it must be > 0 (a scale of 0 or below would unscale by inf)");
}
void check_growth_interval(int64_t value) {
  TORCH_CHECK(value >= 1 && value <= std::numeric_limits<int32_t>::max(), "GradScaler: growth_interval is ", value,
              "; it must be in [1, 2^31 - 1] (the growth tracker is an int32, as in torch.amp)");
}

}  // namespace

GradScaler::GradScaler(GradScalerOptions options) : options_(options) {
  check_scale_value("init_scale", options_.init_scale());
  check_growth_factor(options_.growth_factor());
  check_backoff_factor(options_.backoff_factor());
  check_growth_interval(options_.growth_interval());
}

void GradScaler::check_started(const char* method) const {
  TORCH_CHECK(scale_.defined(), "GradScaler::", method,
              ": there is no scale yet. This may indicate your loop did not call scaler.scale(loss or outputs) "
              "earlier in the iteration.");
}

GradScaler::OptimizerState& GradScaler::state_of(const torch::optim::Optimizer& optimizer) {
  return optimizers_[&optimizer];
}

torch::Tensor GradScaler::inv_scale() const {
  // In double, then rounded to float32: Python's self._scale.double().reciprocal().float().
  return scale_.to(torch::kDouble).reciprocal().to(torch::kFloat);
}

void GradScaler::start_iteration() { optimizers_.clear(); }

torch::Tensor GradScaler::scale(const torch::Tensor& outputs) {
  if (!options_.enabled()) return outputs;
  TORCH_CHECK(outputs.defined(), "GradScaler::scale: outputs is an undefined tensor");
  if (!scale_.defined()) {
    scale_ = torch::full({}, options_.init_scale(), torch::dtype(torch::kFloat).device(outputs.device()));
    growth_tracker_ =
        torch::full({}, init_growth_tracker_, torch::dtype(torch::kInt).device(outputs.device()));
  }
  return outputs * scale_.to(outputs.device(), /*non_blocking=*/true);
}

std::vector<torch::Tensor> GradScaler::scale(const std::vector<torch::Tensor>& outputs) {
  std::vector<torch::Tensor> scaled;
  scaled.reserve(outputs.size());
  for (const auto& t : outputs) scaled.push_back(scale(t));
  return scaled;
}

void GradScaler::unscale_(torch::optim::Optimizer& optimizer) {
  if (!options_.enabled()) return;
  check_started("unscale_");
  OptimizerState& state = state_of(optimizer);
  TORCH_CHECK(state.stage != Stage::kUnscaled,
              "GradScaler::unscale_: unscale_() has already been called on this optimizer since the last update()");
  TORCH_CHECK(state.stage != Stage::kStepped, "GradScaler::unscale_: unscale_() is being called after step()");
  // Everything checked before any gradient changes.
  // The gradients per device and dtype, as ATen's kernel takes them.
  std::map<std::tuple<int, int, int>, std::vector<torch::Tensor>> batches;
  const auto& groups = optimizer.param_groups();
  for (const auto gi : c10::irange(groups.size())) {
    for (const auto pi : c10::irange(groups[gi].params().size())) {
      const torch::Tensor& grad = groups[gi].params()[pi].grad();
      if (!grad.defined()) continue;
      TORCH_CHECK(grad.scalar_type() != torch::kHalf, "GradScaler::unscale_: parameter ", pi, " of group ", gi,
                  " has a float16 gradient: attempting to unscale FP16 gradients. Keep the parameters in float32 "
                  "(autocast runs the float16 math), as torch.amp requires");
      // A sparse gradient's values; a complex one's real view (Python's
      // kernel refuses complex gradients; the same numbers, element by element).
      const torch::Tensor values = grad.is_sparse() ? grad._values() : grad.is_complex() ? at::view_as_real(grad) : grad;
      TORCH_CHECK(values.layout() == torch::kStrided, "GradScaler::unscale_: parameter ", pi, " of group ", gi,
                  " has a gradient of layout ", grad.layout(), ", which cannot be unscaled");
      batches[{static_cast<int>(values.device().type()), values.device().index(),
               static_cast<int>(values.scalar_type())}]
          .push_back(values);
    }
  }
  const torch::Tensor inv = inv_scale();
  const torch::Tensor found = torch::zeros({}, torch::dtype(torch::kFloat).device(scale_.device()));
  decltype(state.found_inf) found_inf;
  for (auto& [key, grads] : batches) {
    const c10::Device device = grads.front().device();
    auto it = found_inf.find(device);
    if (it == found_inf.end()) it = found_inf.emplace(device, device == scale_.device() ? found : found.to(device)).first;
    detail::amp_unscale(grads, it->second, inv.to(device));
  }
  state.found_inf = std::move(found_inf);
  state.stage = Stage::kUnscaled;
}

torch::Tensor GradScaler::step(torch::optim::Optimizer& optimizer, LossClosure closure) {
  if (!options_.enabled()) return optimizer.step(closure);
  OptimizerState& state = state_of(optimizer);
  TORCH_CHECK(state.stage != Stage::kStepped,
              "GradScaler::step: step() has already been called on this optimizer since the last update()");
  torch::Tensor loss;
  if (closure) {
    TORCH_CHECK(state.stage == Stage::kReady,
                "GradScaler::step: unscale_() was called on this optimizer before a step with a closure; the closure "
                "recomputes the gradients, so there would be nothing unscaled. Call unscale_() inside the closure, "
                "or step without one");
    torch::AutoGradMode enable_grad(true);
    loss = closure();
  }
  check_started("step");
  auto* fused = dynamic_cast<ScaledStep*>(&optimizer);
  if (state.stage == Stage::kReady && fused != nullptr) {
    bool any_grad = false;  // (the generic path learns it from unscale_'s records)
    for (const auto& group : optimizer.param_groups()) {
      for (const auto& p : group.params()) any_grad = any_grad || p.grad().defined();
    }
    TORCH_CHECK(any_grad, "GradScaler::step: no inf checks were recorded for this optimizer: none of its "
                          "parameters has a gradient");
    // 1/scale as Python computes it: in double, rounded to float32. On a GPU
    // this read is one of the path's two synchronizations (the other: the
    // inf check's flag, GradientInputs::all_finite); docs/cuda.md lists them.
    const auto inverse = static_cast<float>(1.0 / static_cast<double>(scale_.item<float>()));
    const bool stepped = fused->step_unscaling(inverse);
    state.found_inf.clear();
    state.found_inf.emplace(scale_.device(),
                            torch::full({}, stepped ? 0.0 : 1.0, torch::dtype(torch::kFloat).device(scale_.device())));
  } else {
    if (state.stage == Stage::kReady) unscale_(optimizer);
    TORCH_CHECK(!state.found_inf.empty(), "GradScaler::step: no inf checks were recorded for this optimizer: none of "
                                          "its parameters has a gradient");
    double found = 0;
    for (const auto& entry : state.found_inf) found += entry.second.item<double>();
    if (found == 0) optimizer.step();
  }
  state.stage = Stage::kStepped;
  return loss;
}

void GradScaler::update() {
  if (!options_.enabled()) return;
  check_started("update");
  std::vector<torch::Tensor> found;
  for (const auto& entry : optimizers_) {
    for (const auto& per_device : entry.second.found_inf) found.push_back(per_device.second.to(scale_.device()));
  }
  TORCH_CHECK(!found.empty(), "GradScaler::update: no inf checks were recorded since the last update(): call "
                              "step() (or unscale_()) on an optimizer first");
  torch::Tensor combined = found.front();
  if (found.size() > 1) {
    combined = combined.clone();  // (Python adds into the first; this leaves every record as it was)
    for (size_t i = 1; i < found.size(); ++i) combined.add_(found[i]);
  }
  detail::amp_update_scale(scale_, growth_tracker_, combined, options_.growth_factor(), options_.backoff_factor(),
                           options_.growth_interval());
  start_iteration();
}

void GradScaler::update(double new_scale) {
  if (!options_.enabled()) return;
  check_started("update");
  check_scale_value("update(new_scale): new_scale", new_scale);
  scale_.fill_(new_scale);
  start_iteration();
}

void GradScaler::update(const torch::Tensor& new_scale) {
  if (!options_.enabled()) return;
  check_started("update");
  TORCH_CHECK(new_scale.defined() && new_scale.numel() == 1 && !new_scale.requires_grad() &&
                  new_scale.device().type() == scale_.device().type(),
              "GradScaler::update: new_scale should be a float or a 1-element tensor on ", scale_.device().type(),
              " with requires_grad=false");
  check_scale_value("update(new_scale): new_scale", new_scale.item<double>());
  scale_.copy_(new_scale.reshape({}));
  start_iteration();
}

double GradScaler::get_scale() const {
  if (!options_.enabled()) return 1.0;
  return scale_.defined() ? scale_.item<double>() : options_.init_scale();
}

int64_t GradScaler::get_growth_tracker() const {
  if (!options_.enabled()) return 0;
  return growth_tracker_.defined() ? growth_tracker_.item<int64_t>() : init_growth_tracker_;
}

void GradScaler::set_growth_factor(double value) {
  check_growth_factor(value);
  options_.growth_factor(value);
}
void GradScaler::set_backoff_factor(double value) {
  check_backoff_factor(value);
  options_.backoff_factor(value);
}
void GradScaler::set_growth_interval(int64_t value) {
  check_growth_interval(value);
  options_.growth_interval(value);
}

void GradScaler::save(torch::serialize::OutputArchive& archive) const {
  if (!options_.enabled()) return;
  archive.write("scale", c10::IValue(get_scale()));
  archive.write("growth_factor", c10::IValue(options_.growth_factor()));
  archive.write("backoff_factor", c10::IValue(options_.backoff_factor()));
  archive.write("growth_interval", c10::IValue(options_.growth_interval()));
  archive.write("_growth_tracker", c10::IValue(get_growth_tracker()));
}

void GradScaler::load(torch::serialize::InputArchive& archive) {
  if (!options_.enabled()) return;
  const auto read = [&](const char* key, bool is_int) {
    c10::IValue value;
    TORCH_CHECK(archive.try_read(key, value),
                "GradScaler::load: the archive has no '", key,
                "': it holds no GradScaler state (saved from a disabled GradScaler, or another object's)");
    TORCH_CHECK(is_int ? value.isInt() : (value.isDouble() || value.isInt()), "GradScaler::load: '", key, "' is a ",
                value.tagKind(), ", not ", is_int ? "an int" : "a float");
    return value;
  };
  const double scale = read("scale", false).toScalar().toDouble();
  const double growth_factor = read("growth_factor", false).toScalar().toDouble();
  const double backoff_factor = read("backoff_factor", false).toScalar().toDouble();
  const int64_t growth_interval = read("growth_interval", true).toInt();
  const int64_t tracker = read("_growth_tracker", true).toInt();
  // Every value checked before anything changes.
  check_scale_value("load: 'scale'", scale);
  check_growth_factor(growth_factor);
  check_backoff_factor(backoff_factor);
  check_growth_interval(growth_interval);
  TORCH_CHECK(tracker >= 0 && tracker < growth_interval, "GradScaler::load: '_growth_tracker' is ", tracker,
              "; it counts clean steps towards growth_interval (", growth_interval, "), so it lies in [0, ",
              growth_interval, ")");
  options_.init_scale(scale).growth_factor(growth_factor).backoff_factor(backoff_factor).growth_interval(
      growth_interval);
  init_growth_tracker_ = tracker;
  if (scale_.defined()) scale_.fill_(scale);
  if (growth_tracker_.defined()) growth_tracker_.fill_(tracker);
}

torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const GradScaler& scaler) {
  scaler.save(archive);
  return archive;
}

torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, GradScaler& scaler) {
  scaler.load(archive);
  return archive;
}

}  // namespace adaptive
