#include "examples/muon_recipe.h"

#include "optim/adamw.h"
#include "optim/distributed/sharded.h"  // state_bytes
#include "optim/muon.h"

#include <stdexcept>
#include <utility>

namespace examples {
namespace {

adaptive::MuonOptions muon_options(double lr) {
  return adaptive::MuonOptions(lr).adjust_lr_fn("match_rms_adamw").weight_decay(adaptive::AdamWOptions().weight_decay());
}

// This optimizer's own groups: the same tensors as the two optimizers', and
// their options, so that zero_grad, param_groups() and schedules see them all.
std::vector<torch::optim::OptimizerParamGroup> groups_of(const std::vector<torch::Tensor>& params, double lr) {
  std::vector<torch::Tensor> matrices, rest;
  for (const auto& p : params) (p.dim() == 2 ? matrices : rest).push_back(p);
  if (matrices.empty()) throw std::invalid_argument("--optimizer muon: the model has no 2-D weight for Muon");
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(matrices, std::make_unique<adaptive::MuonOptions>(muon_options(lr)));
  if (!rest.empty()) groups.emplace_back(rest, std::make_unique<adaptive::AdamWOptions>(lr));
  return groups;
}

}  // namespace

MuonWithAdamW::MuonWithAdamW(const std::vector<torch::Tensor>& params, double lr, double clip_grad_norm,
                             double clip_grad_value)
    : torch::optim::Optimizer(groups_of(params, lr), std::make_unique<adaptive::AdamWOptions>(lr)),
      clip_grad_norm_(clip_grad_norm),
      clip_grad_value_(clip_grad_value) {
  muon_ = std::make_unique<adaptive::Muon>(param_groups_[0].params(), muon_options(lr));
  if (param_groups_.size() > 1) adamw_ = std::make_unique<adaptive::AdamW>(param_groups_[1].params(), adaptive::AdamWOptions(lr));
}

MuonWithAdamW::~MuonWithAdamW() = default;

torch::Tensor MuonWithAdamW::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode grad_mode(true);
    loss = closure();
  }
  std::vector<torch::Tensor> all;
  for (const auto& group : param_groups_) all.insert(all.end(), group.params().begin(), group.params().end());
  if (clip_grad_value_ > 0) torch::nn::utils::clip_grad_value_(all, clip_grad_value_);
  if (clip_grad_norm_ > 0) torch::nn::utils::clip_grad_norm_(all, clip_grad_norm_);
  muon_->param_groups()[0].options().set_lr(param_groups_[0].options().get_lr());
  muon_->step();
  if (adamw_) {
    adamw_->param_groups()[0].options().set_lr(param_groups_[1].options().get_lr());
    adamw_->step();
  }
  return loss;
}

void MuonWithAdamW::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive muon;
  muon_->save(muon);
  archive.write("muon", muon);
  if (!adamw_) return;
  torch::serialize::OutputArchive adamw;
  adamw_->save(adamw);
  archive.write("adamw", adamw);
}

void MuonWithAdamW::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive muon;
  archive.read("muon", muon);
  if (!adamw_) return muon_->load(muon);
  torch::serialize::InputArchive adamw;
  archive.read("adamw", adamw);
  // Each load is all-or-nothing. AdamW's is tried on a copy first, so that a
  // checkpoint whose AdamW half is broken leaves Muon as it was too.
  adaptive::AdamW trial(adamw_->param_groups()[0].params(),
                        static_cast<const adaptive::AdamWOptions&>(adamw_->defaults()));
  trial.load(adamw);
  muon_->load(muon);
  adamw_->load(adamw);
}

int64_t MuonWithAdamW::state_bytes() const {
  return adaptive::state_bytes<adaptive::Muon::State>(muon_->state()) +
         (adamw_ ? adaptive::state_bytes<adaptive::AdamW::State>(adamw_->state()) : 0);
}

}  // namespace examples
