#include "optim/schedule/plateau.h"

#include "optim/schedule/lr_scheduler.h"

#include <c10/util/irange.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace adaptive {
namespace {
double worst(const std::string& mode) {
  return mode == "min" ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
}
}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(torch::optim::Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  const size_t groups = optimizer.param_groups().size();
  options_.min_lr(detail::per_group("ReduceLROnPlateau", "min_lr", options_.min_lr(), groups));
  check(options_);
  last_lr_ = detail::group_lrs(optimizer);
  best_ = worst(options_.mode());
}

void ReduceLROnPlateau::check(const ReduceLROnPlateauOptions& o) const {
  TORCH_CHECK(o.factor() < 1.0, "ReduceLROnPlateau: factor is ", o.factor(), "; it must be < 1.0");
  TORCH_CHECK(o.mode() == "min" || o.mode() == "max", "ReduceLROnPlateau: mode is '", o.mode(), "'; it must be min or max");
  TORCH_CHECK(o.threshold_mode() == "rel" || o.threshold_mode() == "abs", "ReduceLROnPlateau: threshold_mode is '",
              o.threshold_mode(), "'; it must be rel or abs");
  TORCH_CHECK(o.patience() >= 0, "ReduceLROnPlateau: patience is ", o.patience(), "; it cannot be negative");
  TORCH_CHECK(o.cooldown() >= 0, "ReduceLROnPlateau: cooldown is ", o.cooldown(), "; it cannot be negative");
  TORCH_CHECK(o.min_lr().size() == optimizer_.param_groups().size(), "ReduceLROnPlateau: ", o.min_lr().size(),
              " min_lrs for ", optimizer_.param_groups().size(), " parameter groups");
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  const double threshold = options_.threshold();
  if (options_.mode() == "min") {
    return options_.threshold_mode() == "rel" ? a < best * (1.0 - threshold) : a < best - threshold;
  }
  return options_.threshold_mode() == "rel" ? a > best * (threshold + 1.0) : a > best + threshold;
}

void ReduceLROnPlateau::step(double metric) {
  auto& groups = optimizer_.param_groups();
  TORCH_CHECK(groups.size() == options_.min_lr().size(), "ReduceLROnPlateau: the optimizer has ", groups.size(),
              " parameter groups, the scheduler was made for ", options_.min_lr().size());
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad steps in cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience()) {
    for (const auto gi : c10::irange(groups.size())) {
      const double old_lr = groups[gi].options().get_lr();
      const double new_lr = std::max(old_lr * options_.factor(), options_.min_lr()[gi]);
      if (old_lr - new_lr > options_.eps()) groups[gi].options().set_lr(new_lr);
    }
    cooldown_counter_ = options_.cooldown();
    num_bad_epochs_ = 0;
  }
  last_lr_ = detail::group_lrs(optimizer_);
}

void ReduceLROnPlateau::save(torch::serialize::OutputArchive& archive) const {
  archive.write("scheduler", c10::IValue(std::string(name())));
  detail::write_fields(options_, archive);
  archive.write("last_epoch", c10::IValue(last_epoch_));
  archive.write("_last_lr", c10::IValue(last_lr_));
  archive.write("best", c10::IValue(best_));
  archive.write("num_bad_epochs", c10::IValue(num_bad_epochs_));
  archive.write("cooldown_counter", c10::IValue(cooldown_counter_));
}

void ReduceLROnPlateau::load(torch::serialize::InputArchive& archive) {
  detail::check_scheduler_kind(archive, name());
  ReduceLROnPlateauOptions o = options_;
  detail::for_each_field<ReduceLROnPlateauOptions>([&](const auto& fd) {
    c10::IValue value;
    TORCH_CHECK(archive.try_read(fd.name, value), name(), "::load: the archive has no '", fd.name, "'");
    using T = std::decay_t<decltype(o.*(fd.member))>;
    if constexpr (std::is_same_v<T, double>) {
      o.*(fd.member) = detail::read_double(archive, name(), fd.name);
    } else {
      o.*(fd.member) = value.to<T>();
    }
  });
  check(o);
  const int64_t epoch = detail::read_int(archive, name(), "last_epoch");
  const std::vector<double> last = detail::read_doubles(archive, name(), "_last_lr");
  const double best = detail::read_double(archive, name(), "best");
  const int64_t bad = detail::read_int(archive, name(), "num_bad_epochs");
  const int64_t cooldown = detail::read_int(archive, name(), "cooldown_counter");
  TORCH_CHECK(last.size() == optimizer_.param_groups().size(), name(), "::load: the state is for ", last.size(),
              " parameter groups, this optimizer has ", optimizer_.param_groups().size());
  TORCH_CHECK(epoch >= 0 && bad >= 0 && cooldown >= 0, name(), "::load: last_epoch ", epoch, ", num_bad_epochs ", bad,
              " and cooldown_counter ", cooldown, " cannot be negative");
  options_ = std::move(o);
  last_epoch_ = epoch;
  last_lr_ = last;
  best_ = best;
  num_bad_epochs_ = bad;
  cooldown_counter_ = cooldown;
  detail::set_group_lrs(optimizer_, last_lr_);  // as LRScheduler::load
}

torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const ReduceLROnPlateau& scheduler) {
  scheduler.save(archive);
  return archive;
}

torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, ReduceLROnPlateau& scheduler) {
  scheduler.load(archive);
  return archive;
}

}  // namespace adaptive
