#pragma once
// The momentum CyclicLR and OneCycleLR cycle (Python's cycle_momentum):
// betas[0] where the optimizer's options have betas (Adam, AdamW, Adamax,
// NAdam, RAdam, SparseAdam; LibTorch's Adam, AdamW), else its momentum (SGD,
// RMSprop, Muon; LibTorch's SGD, RMSprop). Python decides by the keys of
// optimizer.defaults; LibTorch's options are typed, so the known types are
// tried in turn.

#include <torch/optim/optimizer.h>

namespace adaptive {
namespace detail {

enum class MomentumSlot { kNone, kBeta1, kMomentum };

/// Which of the two `options` has (kNone: neither).
MomentumSlot momentum_slot(const torch::optim::OptimizerOptions& options);
/// Sets betas[0] or momentum of `options` to `value` (a c10::Error where it has neither).
void set_momentum(torch::optim::OptimizerOptions& options, double value);
/// betas[0] or momentum of `options`.
double get_momentum(const torch::optim::OptimizerOptions& options);

}  // namespace detail
}  // namespace adaptive
