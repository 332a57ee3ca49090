#pragma once
// SWALR: torch.optim.swa_utils.SWALR, the schedule of stochastic weight
// averaging: anneals each group's rate to its swa_lr over anneal_epochs
// steps (cosine or linear), then holds it.

#include "optim/schedule/basic.h"

#include <torch/arg.h>

#include <string>
#include <tuple>
#include <vector>

namespace adaptive {

struct SWALROptions {
  /// One value for every group, or one per group.
  /* implicit */ SWALROptions(std::vector<double> swa_lr) : swa_lr_(std::move(swa_lr)) {}
  /* implicit */ SWALROptions(double swa_lr) : SWALROptions(std::vector<double>{swa_lr}) {}
  /// The rate to anneal to and hold.
  TORCH_ARG(std::vector<double>, swa_lr);
  /// Steps of the annealing; ≥ 0 (0: swa_lr at once).
  TORCH_ARG(int64_t, anneal_epochs) = 10;
  /// "cos" or "linear".
  TORCH_ARG(std::string, anneal_strategy) = "cos";

 public:
  /// The saved values, by Python's names (save, load).
  static auto fields() {
    return std::make_tuple(detail::field("swa_lrs", &SWALROptions::swa_lr_),
                           detail::field("anneal_epochs", &SWALROptions::anneal_epochs_),
                           detail::field("_anneal_strategy", &SWALROptions::anneal_strategy_));
  }
};

/// Python's SWALR, on any torch::optim::Optimizer.
class SWALR : public OptionedScheduler<SWALROptions> {
 public:
  SWALR(torch::optim::Optimizer& optimizer, SWALROptions options);
  const char* name() const override { return "SWALR"; }

 protected:
  std::vector<double> get_lr() override;
  void check(const SWALROptions& o) const override;
};

}  // namespace adaptive
