#pragma once
// Muon's usual recipe as one torch::optim::Optimizer, so that the examples'
// training loops, checkpoints and learning-rate schedules drive it like any
// other: adaptive::Muon for the 2-D weights, adaptive::AdamW for every other
// parameter (biases; the CNN's 4-D convolution kernels). Muon refuses what is
// not a matrix, as torch.optim.Muon does, so a model needs both.
//
// One learning rate serves both: Muon runs with adjust_lr_fn
// "match_rms_adamw", which scales its orthogonalized update to AdamW's RMS,
// and with AdamW's weight decay (0.01) for the same reason. The convolution
// kernels stay with AdamW rather than being flattened into matrices: the
// examples show the recipe as a user would first write it, and the CNN's
// kernels are small (the linear layers hold most of its weights).

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace adaptive {
class Muon;
class AdamW;
}  // namespace adaptive

namespace examples {

class MuonWithAdamW : public torch::optim::Optimizer {
 public:
  // Splits `params` by dimension. Gradients are clipped over all of them
  // together (clip_grad_value, then clip_grad_norm; 0: off), as one optimizer
  // clips: two optimizers each clipping their own share would not.
  // Throws std::invalid_argument when `params` hold no matrix.
  MuonWithAdamW(const std::vector<torch::Tensor>& params, double lr, double clip_grad_norm, double clip_grad_value);
  ~MuonWithAdamW() override;

  // Steps both with the learning rate of this optimizer's groups (group 0:
  // Muon's matrices, group 1: AdamW's rest), where schedules set it.
  torch::Tensor step(LossClosure closure = nullptr) override;

  // Both optimizers' archives, under "muon" and "adamw".
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // Bytes of state both optimizers hold.
  int64_t state_bytes() const;

 private:
  double clip_grad_norm_, clip_grad_value_;
  std::unique_ptr<adaptive::Muon> muon_;
  std::unique_ptr<adaptive::AdamW> adamw_;
};

}  // namespace examples
