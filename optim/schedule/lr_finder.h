#pragma once
// adaptive::LRFinder: the learning-rate range test (Smith 2015, "Cyclical
// Learning Rates for Training Neural Networks"; fastai's lr_find). Inside
// the caller's own training loop it raises the optimizer's rate from
// start_lr to end_lr over num_steps steps (exponentially, or linearly),
// records the loss of each step, smooths it, stops when the loss diverges,
// and suggests the rate where the smoothed loss falls fastest.
//
//   torch::save(model, "before_find.pt");            // the finder restores the optimizer, not the model
//   adaptive::LRFinder finder(optimizer, adaptive::LRFinderOptions().start_lr(1e-6).end_lr(1));
//   while (!finder.done()) {
//     auto loss = compute_loss(next_batch());
//     optimizer.zero_grad(); loss.backward(); optimizer.step();
//     finder.step(loss.item<double>());
//   }
//   const auto suggestion = finder.suggestion();     // .lr, .reason
//   finder.restore();                                // the optimizer's state and rates as before
//   torch::load(model, "before_find.pt");

#include <torch/arg.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace adaptive {

struct LRFinderOptions {
  /// The first rate tried; > 0.
  TORCH_ARG(double, start_lr) = 1e-7;
  /// The last rate tried; > start_lr.
  TORCH_ARG(double, end_lr) = 10.0;
  /// Steps of the test (rates tried); ≥ 2.
  TORCH_ARG(int64_t, num_steps) = 100;
  /// "exp" (a geometric sequence: the usual choice) or "linear".
  TORCH_ARG(std::string, mode) = "exp";
  /// The smoothing of the loss: an exponential moving average with this
  /// factor, bias-corrected (fastai's 0.98); in [0, 1).
  TORCH_ARG(double, smoothing) = 0.98;
  /// Stop when the smoothed loss exceeds this times the best one (fastai's 4); > 1.
  TORCH_ARG(double, diverge_factor) = 4.0;
  /// Points left out of the suggestion at each end (the first steps move
  /// little; the last ones diverge).
  TORCH_ARG(int64_t, skip_start) = 10;
  TORCH_ARG(int64_t, skip_end) = 5;
};

/// The rate the finder suggests, and how it chose it.
struct LRSuggestion {
  /// The suggested rate (0 where too few points were recorded).
  double lr = 0;
  /// The index of that point in lrs().
  int64_t index = -1;
  /// The slope of the smoothed loss there, per unit of ln(lr) (or of lr in linear mode).
  double slope = 0;
  /// How the choice was made, in words.
  std::string reason;
};

class LRFinder {
 public:
  /// Saves the optimizer's state and rates, then sets every group's rate to start_lr.
  LRFinder(torch::optim::Optimizer& optimizer, LRFinderOptions options = {});
  /// Restores the optimizer if restore() was not called.
  ~LRFinder();
  LRFinder(const LRFinder&) = delete;
  LRFinder& operator=(const LRFinder&) = delete;

  /// Records the loss of the step just taken at the current rate, then sets
  /// the next rate. Returns false once the test is over (num_steps taken, or
  /// the loss diverged or is not finite); later calls are refused.
  bool step(double loss);
  /// Whether the test is over.
  bool done() const { return done_; }
  /// Why it ended: "" while running, "completed", "diverged" or "non-finite loss".
  const std::string& stop_reason() const { return stop_reason_; }

  /// The rate of each recorded step.
  const std::vector<double>& lrs() const { return lrs_; }
  /// The loss of each recorded step, as given.
  const std::vector<double>& losses() const { return losses_; }
  /// The smoothed loss of each recorded step.
  const std::vector<double>& smoothed_losses() const { return smoothed_; }

  /// The steepest descent of the smoothed loss (the most negative slope,
  /// central differences over ln(lr)), skip_start and skip_end points left out.
  LRSuggestion suggestion() const;

  /// Puts back the optimizer's state (an in-memory checkpoint) and every
  /// group's rate as they were at construction. The model's parameters are
  /// the caller's to restore (save them before the test).
  void restore();

  /// The rate of step `i` (0-based) of the test.
  double lr_at(int64_t i) const;

 private:
  void set_lr(double lr);

  torch::optim::Optimizer& optimizer_;
  LRFinderOptions options_;
  std::string saved_state_;
  std::vector<double> saved_lrs_;
  bool restored_ = false;
  bool done_ = false;
  std::string stop_reason_;
  std::vector<double> lrs_, losses_, smoothed_;
  double average_ = 0, best_ = 0;
};

}  // namespace adaptive
