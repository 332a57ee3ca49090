#include "optim/schedule/lr_finder.h"

#include "optim/schedule/lr_scheduler.h"

#include <torch/serialize.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace adaptive {

LRFinder::LRFinder(torch::optim::Optimizer& optimizer, LRFinderOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  const auto& o = options_;
  TORCH_CHECK(o.start_lr() > 0 && std::isfinite(o.start_lr()), "LRFinder: start_lr is ", o.start_lr(),
              "; it must be positive and finite");
  TORCH_CHECK(o.end_lr() > o.start_lr() && std::isfinite(o.end_lr()), "LRFinder: end_lr is ", o.end_lr(),
              "; it must be finite and greater than start_lr (", o.start_lr(), ")");
  TORCH_CHECK(o.num_steps() >= 2, "LRFinder: num_steps is ", o.num_steps(), "; it must be at least 2");
  TORCH_CHECK(o.mode() == "exp" || o.mode() == "linear", "LRFinder: mode is '", o.mode(), "'; it must be exp or linear");
  TORCH_CHECK(o.smoothing() >= 0 && o.smoothing() < 1, "LRFinder: smoothing is ", o.smoothing(),
              "; it must be in [0, 1)");
  TORCH_CHECK(o.diverge_factor() > 1, "LRFinder: diverge_factor is ", o.diverge_factor(), "; it must be greater than 1");
  TORCH_CHECK(o.skip_start() >= 0 && o.skip_end() >= 0, "LRFinder: skip_start ", o.skip_start(), " and skip_end ",
              o.skip_end(), " cannot be negative");
  TORCH_CHECK(!optimizer.param_groups().empty(), "LRFinder: the optimizer has no parameter groups");
  std::ostringstream state;
  torch::save(optimizer, state);
  saved_state_ = state.str();
  saved_lrs_ = detail::group_lrs(optimizer);
  set_lr(lr_at(0));
}

LRFinder::~LRFinder() {
  if (restored_) return;
  try {
    restore();
  } catch (...) {  // a destructor must not throw; restore() is the place to see its errors
  }
}

double LRFinder::lr_at(int64_t i) const {
  const double t = static_cast<double>(i) / static_cast<double>(options_.num_steps() - 1);
  if (options_.mode() == "exp") return options_.start_lr() * std::pow(options_.end_lr() / options_.start_lr(), t);
  return options_.start_lr() + (options_.end_lr() - options_.start_lr()) * t;
}

void LRFinder::set_lr(double lr) {
  for (auto& group : optimizer_.param_groups()) group.options().set_lr(lr);
}

bool LRFinder::step(double loss) {
  TORCH_CHECK(!done_, "LRFinder::step: the test is over (", stop_reason_, "); read suggestion() and call restore()");
  TORCH_CHECK(!restored_, "LRFinder::step: the optimizer was restored; the test is over");
  const auto i = static_cast<int64_t>(lrs_.size());
  if (!std::isfinite(loss)) {
    done_ = true;
    stop_reason_ = "non-finite loss";
    return false;
  }
  const double beta = options_.smoothing();
  average_ = beta * average_ + (1 - beta) * loss;
  const double smoothed = average_ / (1 - std::pow(beta, static_cast<double>(i + 1)));
  lrs_.push_back(lr_at(i));
  losses_.push_back(loss);
  smoothed_.push_back(smoothed);
  if (i == 0 || smoothed < best_) best_ = smoothed;
  if (i > 0 && smoothed > options_.diverge_factor() * best_) {
    done_ = true;
    stop_reason_ = "diverged";
  } else if (i + 1 == options_.num_steps()) {
    done_ = true;
    stop_reason_ = "completed";
  } else {
    set_lr(lr_at(i + 1));
  }
  return !done_;
}

LRSuggestion LRFinder::suggestion() const {
  LRSuggestion s;
  const auto n = static_cast<int64_t>(lrs_.size());
  const int64_t first = options_.skip_start(), last = n - 1 - options_.skip_end();
  if (last - first < 2) {
    s.reason = "too few points (" + std::to_string(n) + " recorded, skip_start " + std::to_string(first) +
               ", skip_end " + std::to_string(options_.skip_end()) + "): no suggestion";
    return s;
  }
  const bool exp = options_.mode() == "exp";
  auto x = [&](int64_t i) { return exp ? std::log(lrs_[static_cast<size_t>(i)]) : lrs_[static_cast<size_t>(i)]; };
  auto y = [&](int64_t i) { return smoothed_[static_cast<size_t>(i)]; };
  for (int64_t i = first; i <= last; ++i) {
    // Central differences inside the range, one-sided at its ends (numpy.gradient's rule).
    const int64_t lo = i == first ? i : i - 1, hi = i == last ? i : i + 1;
    const double slope = (y(hi) - y(lo)) / (x(hi) - x(lo));
    if (s.index < 0 || slope < s.slope) {
      s.index = i;
      s.slope = slope;
    }
  }
  s.lr = lrs_[static_cast<size_t>(s.index)];
  char text[256];
  std::snprintf(text, sizeof(text),
                "steepest descent of the smoothed loss: slope %.4g per %s at step %lld of %lld (lr %.4g); "
                "points %lld to %lld considered, the test %s",
                s.slope, exp ? "unit of ln(lr)" : "unit of lr", static_cast<long long>(s.index),
                static_cast<long long>(n), s.lr, static_cast<long long>(first), static_cast<long long>(last),
                stop_reason_.empty() ? "still running" : stop_reason_.c_str());
  s.reason = text;
  return s;
}

void LRFinder::restore() {
  std::istringstream state(saved_state_);
  torch::load(optimizer_, state);
  detail::set_group_lrs(optimizer_, saved_lrs_);
  restored_ = true;
  done_ = true;
  if (stop_reason_.empty()) stop_reason_ = "restored";
}

}  // namespace adaptive
