#pragma once
// adaptive::ShardedOptimizer: optimizer state sharded across the ranks of a
// c10d process group (ZeRO stage 1).
//
// In data-parallel training every rank holds the whole model and, after the
// gradient allreduce, the whole (averaged) gradient; an unsharded optimizer
// then keeps the whole state on every rank too: for Adam, two extra copies of
// the model per rank. ShardedOptimizer<Adam> splits the model's elements
// (all parameters, flattened in group order) into N equal contiguous ranges,
// one per rank; a parameter that straddles a boundary is split, so shards are
// equal even when one tensor dominates the model. Each rank keeps state only
// for its range, steps it, and broadcasts it to the others. State memory per
// rank is 1/N; every rank ends the step with the same parameters, equal (bit
// for bit) to what the unsharded optimizer computes from the same gradients:
// the update rules are element-wise, so splitting a tensor changes nothing.
//
//   auto pg = adaptive::make_gloo_group(store, rank, world, {adaptive::gloo_device("127.0.0.1")});  // gloo_group.h
//   adaptive::ShardedOptimizer<adaptive::Adam> opt(model->parameters(), adaptive::AdamOptions(1e-3), pg);
//   loss.backward();  average the gradients over the ranks (allreduce), then
//   opt.step();
//
// Contract: gradients must already be the same on every rank (averaged) when
// step() runs, as with DistributedDataParallel. The whole-model decisions are
// then taken identically on every rank without extra communication:
// clip_grad_norm uses the norm of all gradients (not just the shard's), and
// skip_nonfinite skips a group on every rank when any of its gradients, in
// any shard, is not finite.
//
// save/load write and read this rank's shard (each rank saves its own file);
// load checks that the world size, rank and partition match.

#include "optim/core/clip.h"
#include "optim/core/fields.h"
#include "optim/core/optimizer_base.h"
#include "optim/core/options_cast.h"

#include <c10/util/irange.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace adaptive {

/// A piece of a parameter: elements [begin, end) of parameter `param`
/// (flattened, in group order), owned by rank `owner`.
struct ShardPiece {
  int64_t param;  ///< index of the parameter, counting through all groups in order
  int64_t begin;  ///< first element of the piece (in the flattened parameter)
  int64_t end;    ///< one past its last element
  int64_t owner;  ///< the rank that keeps its state and steps it
};

/// Splits parameters of `numels` elements into `world_size` ranges of equal
/// size (±1) in order; `splittable[i]` false keeps parameter i whole (with
/// the rank that owns its first element). Deterministic: every rank computes
/// the same pieces.
std::vector<ShardPiece> partition_elements(const std::vector<int64_t>& numels, const std::vector<bool>& splittable,
                                           int64_t world_size);

/// Bytes held by the state tensors in `state` (an optimizer's state(), whose
/// entries are `State`s): what an optimizer's state costs in memory.
template <class State, class StateMap>
int64_t state_bytes(const StateMap& state) {
  int64_t bytes = 0;
  for (const auto& entry : state) {
    const auto* s = dynamic_cast<const State*>(entry.second.get());
    if (s == nullptr) continue;  // another optimizer's state: not this one's cost
    detail::for_each_field<State>([&](const auto& fd) {
      const auto& value = s->*(fd.member);
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, torch::Tensor>) {
        if (value.defined()) bytes += static_cast<int64_t>(value.nbytes());
      }
    });
  }
  return bytes;
}

namespace detail {
// Broadcasts each piece's view from its owner (one flat buffer per rank and dtype).
void broadcast_from_owners(const std::vector<torch::Tensor>& views, const std::vector<ShardPiece>& pieces,
                           c10d::ProcessGroup& group);
// The view of `param` a piece covers: the flat range, or the whole tensor.
torch::Tensor piece_view(const torch::Tensor& param, const ShardPiece& piece);
// Checks that every rank of `group` passed the same number of parameters with
// the same shapes, in the same order (one all-gather of sizes, as
// DistributedDataParallel does), and that no rank's own checks refused its
// arguments (`refused`: this rank's error, or ""). Otherwise a c10::Error on
// every rank: this rank's own error, or the first difference and its rank. A
// collective call. `device`: where the sizes travel (the parameters' device:
// NCCL takes CUDA tensors only).
void check_ranks_agree(const std::vector<std::vector<int64_t>>& shapes, const std::string& refused,
                       c10d::ProcessGroup& group, const c10::Device& device);
}  // namespace detail

/// Optimizer state sharded across ranks (ZeRO stage 1) for any adaptive
/// optimizer (optim/optimizers.h); see the file comment. Its param_groups()
/// are the whole model's, so LR schedulers work on it as on the unsharded
/// optimizer. The checks, skip_nonfinite and norm clipping are the shell's
/// own (OptimizerBase), run over the whole model; the update is the shard
/// optimizer's, an Inner over this rank's pieces. Sparse gradients are
/// refused (a piece of one is not a view of it).
template <class Inner>
class ShardedOptimizer : public torch::optim::Optimizer {
 public:
  using Options = typename Inner::Options;  ///< e.g. AdamOptions
  using State = typename Inner::State;      ///< e.g. AdamParamState
  using ParamGroup = torch::optim::OptimizerParamGroup;  ///< as in torch::optim

  /// Shards `param_groups` over the ranks of `process_group`; groups
  /// without options use `defaults`. Every rank must pass the same
  /// parameters (shapes and order) and options.
  ShardedOptimizer(std::vector<ParamGroup> param_groups, const Options& defaults,
                   c10::intrusive_ptr<c10d::ProcessGroup> process_group)
      : Optimizer(std::vector<ParamGroup>{}, std::make_unique<Options>(defaults)),
        process_group_(std::move(process_group)) {
    TORCH_CHECK(process_group_, "adaptive::ShardedOptimizer: process_group is null");
    // Every rank refuses it alike, before any collective: none waits for another.
    TORCH_CHECK(!hooks::steps_whole_tensors<Inner>(), "adaptive::ShardedOptimizer: ", Inner::kName,
                " cannot be sharded: a shard steps flat pieces of parameters, which an elementwise rule updates as "
                "it would the whole, but ", Inner::kName, "'s update is whole-tensor math (means, norms or matrix "
                "products of the whole parameter); use it unsharded");
    TORCH_CHECK(!hooks::takes_only_sparse_gradients<Inner>(), "adaptive::ShardedOptimizer: ", Inner::kName,
                " cannot be sharded: it takes only sparse gradients, and a shard's piece of a sparse gradient is "
                "not a view of it; use it unsharded");
    std::vector<int64_t> numels;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<bool> splittable;
    // This rank's checks; what they refuse is said to every rank by the
    // agreement check below, so that no rank waits in it for one that threw.
    std::string refused;
    try {
      Inner::check_options(defaults);
      for (const auto& group : param_groups) {
        auto options = group.has_options() ? group.options().clone()
                                           : static_cast<const torch::optim::OptimizerOptions&>(defaults).clone();
        Inner::check_options(detail::options_as<Options>(*options, kName, param_groups_.size()));
        param_groups_.emplace_back(group.params(), std::move(options));
        for (const auto pi : c10::irange(group.params().size())) {
          const torch::Tensor& p = group.params()[pi];
          TORCH_CHECK(p.defined() && p.is_floating_point(), kName, ": parameter ", pi, " of group ",
                      param_groups_.size() - 1, " is ",
                      p.defined() ? "of dtype " + std::string(c10::toString(p.scalar_type())) : "undefined",
                      "; a sharded optimizer takes defined real floating-point parameters (complex ones are not "
                      "sharded: optimize them with the optimizer itself)");
          TORCH_CHECK(p.is_leaf(), kName, ": parameter ", pi, " of group ", param_groups_.size() - 1,
                      " is not a leaf tensor (computed from others); only leaves can be optimized");
          numels.push_back(p.numel());
          shapes.push_back(p.sizes().vec());
          splittable.push_back(p.is_contiguous());  // a flat view of the storage needs contiguity
        }
      }
      TORCH_CHECK(!numels.empty(), "adaptive::ShardedOptimizer got an empty parameter list");
      Inner::check_params(param_groups_, nullptr, &unique_params_);  // a tensor twice: two pieces stepped twice
    } catch (const c10::Error& e) {
      refused = e.what_without_backtrace();
    }
    // Every rank computes the partition from its own list: they must agree.
    detail::check_ranks_agree(shapes, refused, *process_group_, numels_device(param_groups_));
    pieces_ = partition_elements(numels, splittable, process_group_->getSize());
    shard_groups_ = param_groups_.size();

    // The shard: views of this rank's pieces, in the same groups (some possibly empty).
    std::vector<size_t> group_of_param;
    for (const auto gi : c10::irange(param_groups_.size())) {
      const auto& group_params = param_groups_[gi].params();
      group_starts_.push_back(params_.size());
      params_.insert(params_.end(), group_params.begin(), group_params.end());
      group_of_param.insert(group_of_param.end(), group_params.size(), gi);
    }
    std::vector<std::vector<torch::Tensor>> mine(param_groups_.size());
    for (const auto& piece : pieces_) {
      views_.push_back(detail::piece_view(params_[piece.param], piece));
      piece_groups_.push_back(group_of_param[piece.param]);
      auto& group = mine[piece_groups_.back()];
      shard_index_.push_back(piece.owner == rank() ? static_cast<int64_t>(group.size()) : -1);
      if (piece.owner == rank()) group.push_back(views_.back());
    }
    group_starts_.push_back(params_.size());
    for (const auto& p : params_) bound_.push_back(binding_of(p));
    std::vector<ParamGroup> shard;
    size_t local = 0;
    for (const auto gi : c10::irange(param_groups_.size())) {
      local += mine[gi].size();
      shard.emplace_back(std::move(mine[gi]), param_groups_[gi].options().clone());
    }
    if (local > 0) {
      shard_ = std::make_unique<Inner>(std::move(shard), defaults);
      shard_->set_grad_norm_source([this] { return whole_model_norms_; });
    }
  }

  /// Shards `params` as one group with `defaults`.
  ShardedOptimizer(std::vector<torch::Tensor> params, const Options& defaults,
                   c10::intrusive_ptr<c10d::ProcessGroup> process_group)
      : ShardedOptimizer(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults,
                         std::move(process_group)) {}

  /// Steps this rank's shard, then broadcasts every shard from its owner. A
  /// collective call: every rank must call it.
  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    const torch::Tensor loss = detail::run_closure(closure);
    refuse_edited_parameter_lists();
    // The whole model's checks, skips and norms, as the unsharded optimizer
    // takes them (OptimizerBase's), on every rank: a bad gradient makes every
    // rank throw, rather than one throwing and the others waiting for it in
    // the broadcast.
    std::vector<std::vector<torch::Tensor>> grads = Inner::checked_gradients(param_groups_, &unique_params_);
    refuse_sparse(grads);
    follow_replaced_storage();
    // Schedulers and users change the whole model's options: the shard follows.
    if (shard_) {
      for (const auto gi : c10::irange(param_groups_.size())) {
        shard_->param_groups()[gi].set_options(param_groups_[gi].options().clone());
      }
    }
    const std::vector<torch::Tensor> dropped = Inner::skip_nonfinite_groups(param_groups_, grads, skipped_steps_);
    whole_model_norms_ = norms_of_whole_model(grads, dropped);

    // Each local piece gets its part of its parameter's gradient (none when
    // the parameter has none or its group is skipped).
    std::vector<torch::Tensor> grad_of_param;
    for (const auto& group : grads) grad_of_param.insert(grad_of_param.end(), group.begin(), group.end());
    for (const auto i : c10::irange(pieces_.size())) {
      const ShardPiece& piece = pieces_[i];
      if (piece.owner != rank()) continue;
      const torch::Tensor& grad = grad_of_param[piece.param];
      views_[i].mutable_grad() = grad.defined() ? detail::piece_view(grad, piece) : torch::Tensor();
    }
    if (shard_) shard_->step();
    for (const auto i : c10::irange(pieces_.size())) {
      if (pieces_[i].owner == rank()) views_[i].mutable_grad() = torch::Tensor();  // no reference kept
    }
    detail::broadcast_from_owners(views_, pieces_, *process_group_);
    return loss;
  }

  /// This rank's shard: world size, rank, partition and the shard optimizer's
  /// archive (in torch::optim's format), plus every group's options.
  void save(torch::serialize::OutputArchive& archive) const override {
    archive.write("sharded/world_size", torch::tensor(static_cast<int64_t>(world_size())));
    archive.write("sharded/rank", torch::tensor(static_cast<int64_t>(rank())));
    archive.write("sharded/pieces", pieces_tensor());
    archive.write("sharded/skipped_steps", torch::tensor(skipped_steps_));
    for (const auto gi : c10::irange(param_groups_.size())) {
      torch::serialize::OutputArchive options;
      detail::write_fields(options_at(gi), options);
      archive.write("sharded/options/" + std::to_string(gi), options);
    }
    if (shard_) {
      torch::serialize::OutputArchive shard;
      shard_->save(shard);
      archive.write("sharded/shard", shard);
    }
  }

  /// Restores this rank's shard saved by save(). Checks first that it was
  /// saved by the same rank of a group of the same size with the same
  /// partition; on any mismatch nothing changes.
  void load(torch::serialize::InputArchive& archive) override {
    const char* name = "adaptive::ShardedOptimizer::load";
    torch::Tensor world, saved_rank, pieces, skipped;
    TORCH_CHECK(archive.try_read("sharded/world_size", world) && archive.try_read("sharded/rank", saved_rank) &&
                    archive.try_read("sharded/pieces", pieces) && archive.try_read("sharded/skipped_steps", skipped),
                name, ": not a sharded optimizer checkpoint (no 'sharded/' entries)");
    TORCH_CHECK(world.item<int64_t>() == world_size(), name, ": the checkpoint was saved by a group of ",
                world.item<int64_t>(), " ranks, this group has ", world_size());
    TORCH_CHECK(saved_rank.item<int64_t>() == rank(), name, ": the checkpoint holds the shard of rank ",
                saved_rank.item<int64_t>(), ", this is rank ", rank());
    TORCH_CHECK(pieces.sizes() == pieces_tensor().sizes() && torch::equal(pieces, pieces_tensor()), name,
                ": the checkpoint's partition of the parameters differs from this optimizer's (",
                pieces.size(0), " vs ", pieces_.size(), " pieces): are the parameters (count, sizes) the same?");
    std::vector<std::unique_ptr<Options>> options;
    for (const auto gi : c10::irange(param_groups_.size())) {
      torch::serialize::InputArchive group;
      TORCH_CHECK(archive.try_read("sharded/options/" + std::to_string(gi), group), name,
                  ": the checkpoint lacks the options of group ", gi);
      options.push_back(Inner::read_options(group, options_at(gi), gi, name));
    }
    if (shard_) {
      torch::serialize::InputArchive shard;
      TORCH_CHECK(archive.try_read("sharded/shard", shard), name, ": the checkpoint lacks this rank's shard");
      shard_->load(shard);  // all-or-nothing itself
    }
    for (const auto gi : c10::irange(param_groups_.size())) param_groups_[gi].set_options(std::move(options[gi]));
    skipped_steps_ = skipped.item<int64_t>();
  }

  int64_t rank() const { return process_group_->getRank(); }            ///< this process's rank
  int64_t world_size() const { return process_group_->getSize(); }       ///< ranks in the group
  /// How the parameters are split: each piece, its range and its owner.
  const std::vector<ShardPiece>& pieces() const { return pieces_; }
  /// The optimizer of this rank's shard; null when this rank owns no parameter.
  Inner* shard_optimizer() const { return shard_.get(); }
  /// Group steps skipped by skip_nonfinite (the same on every rank).
  int64_t skipped_steps() const { return skipped_steps_; }
  /// The whole model's gradient norm before clipping, when a group clips by norm.
  c10::optional<double> last_grad_norm() const { return last_norm_; }

  /// Bytes of optimizer state this rank holds (its shard's state tensors).
  int64_t local_state_bytes() const { return shard_ ? state_bytes<State>(shard_->state()) : 0; }

 private:
  static constexpr const char* kName = "adaptive::ShardedOptimizer";

  // Group `gi`'s options, checked (options_cast.h).
  const Options& options_at(size_t gi) const {
    return detail::options_as<Options>(param_groups_[gi].options(), kName, gi);
  }

  // The device of the first parameter (the CPU without one): where the
  // constructor's agreement check exchanges the parameters' sizes.
  static c10::Device numels_device(const std::vector<ParamGroup>& groups) {
    for (const auto& group : groups) {
      if (!group.params().empty() && group.params().front().defined()) return group.params().front().device();
    }
    return c10::Device(c10::kCPU);
  }

  // The partition covers the parameters given at construction: a group
  // added, or a parameter appended, removed or replaced in a group since
  // (through param_groups() or torch::optim's add_param_group and
  // add_parameters), would be left untrained, stepped with another's gradient
  // or indexed past the end. Refused, naming the first difference, before
  // anything is read. (Weights loaded into a parameter keep it the same
  // tensor: follow_replaced_storage handles those.)
  void refuse_edited_parameter_lists() const {
    const auto refuse = [&](const std::string& what) {
      TORCH_CHECK(false, kName, ": ", what,
                  " since construction; the partition over the ranks covers the parameters it was constructed with: "
                  "construct a new ShardedOptimizer (on every rank) for the new list");
    };
    if (param_groups_.size() != shard_groups_) {
      refuse("the optimizer has " + std::to_string(param_groups_.size()) + " parameter groups, not " +
             std::to_string(shard_groups_) + ",");
    }
    size_t k = 0;
    for (const auto gi : c10::irange(param_groups_.size())) {
      const auto& params = param_groups_[gi].params();
      const size_t expected = gi + 1 < group_starts_.size() ? group_starts_[gi + 1] - group_starts_[gi] : 0;
      if (params.size() != expected) {
        refuse("group " + std::to_string(gi) + " has " + std::to_string(params.size()) + " parameters, not " +
               std::to_string(expected) + ",");
      }
      for (const auto pi : c10::irange(params.size())) {
        if (!params[pi].defined() || params[pi].unsafeGetTensorImpl() != params_[k].unsafeGetTensorImpl()) {
          refuse("parameter " + std::to_string(pi) + " of group " + std::to_string(gi) + " was replaced by another tensor");
        }
        ++k;
      }
    }
  }

  // What a parameter's data is now: torch::load(module) (Tensor::set_) and
  // module->to(dtype or device) (set_data) give the same tensor new storage.
  struct Binding {
    const void* data;
    c10::ScalarType dtype;
    c10::Device device;
    std::vector<int64_t> sizes;
    // Compared on every step: no allocation.
    bool holds(const torch::Tensor& p) const {
      return data == p.data_ptr() && dtype == p.scalar_type() && device == p.device() && p.sizes() == sizes;
    }
  };
  static Binding binding_of(const torch::Tensor& p) {
    return {p.data_ptr(), p.scalar_type(), p.device(), p.sizes().vec()};
  }

  // The pieces' views were made from the parameters' storage at
  // construction; a parameter given new storage since (weights loaded after
  // the optimizer was built, a model moved to float64) would leave them
  // stepping the old storage while the model never moves. Such pieces get
  // views of the new storage, and the shard's state follows them, cast to
  // the parameter's new dtype and device. A new shape changes the partition:
  // refused.
  void follow_replaced_storage() {
    for (const auto k : c10::irange(params_.size())) {
      if (bound_[k].holds(params_[k])) continue;
      Binding now = binding_of(params_[k]);
      TORCH_CHECK(now.sizes == bound_[k].sizes, kName, ": parameter ", k, " changed shape from ",
                  c10::IntArrayRef(bound_[k].sizes), " to ", params_[k].sizes(),
                  " since construction, which changes the partition; construct the optimizer after the model's "
                  "final shapes are set");
      for (const auto i : c10::irange(pieces_.size())) {
        if (pieces_[i].param != static_cast<int64_t>(k)) continue;
        views_[i] = detail::piece_view(params_[k], pieces_[i]);
        if (shard_index_[i] >= 0) shard_->replace_param(piece_groups_[i], shard_index_[i], views_[i]);
      }
      bound_[k] = std::move(now);
    }
  }

  // A piece of a sparse gradient is not a view of it: refused (Adagrad's
  // checks let sparse gradients through).
  void refuse_sparse(const std::vector<std::vector<torch::Tensor>>& grads) const {
    for (const auto gi : c10::irange(grads.size())) {
      for (const auto pi : c10::irange(grads[gi].size())) {
        TORCH_CHECK(!grads[gi][pi].defined() || !grads[gi][pi].is_sparse(), kName,
                    " does not support sparse gradients (parameter ", pi, " of group ", gi, ")");
      }
    }
  }

  // What the unsharded optimizer would compute: the same gradients, in the
  // same order, the same reduction.
  GradNorms norms_of_whole_model(const std::vector<std::vector<torch::Tensor>>& grads,
                                 const std::vector<torch::Tensor>& dropped) {
    const auto in = Inner::norm_inputs(param_groups_, grads);
    last_norm_ = c10::nullopt;
    if (!in.clip_norm) return {};
    const GradNorms norms = grad_norms(in.values, in.clip_values, in.all_fused);
    last_norm_ = norm_with(norms.unclipped, dropped);
    return norms;
  }

  c10::intrusive_ptr<c10d::ProcessGroup> process_group_;
  torch::Tensor pieces_tensor() const {
    std::vector<int64_t> flat;
    for (const auto& p : pieces_) flat.insert(flat.end(), {p.param, p.begin, p.end, p.owner});
    return torch::tensor(flat).view({static_cast<int64_t>(pieces_.size()), 4});
  }

  std::vector<ShardPiece> pieces_;
  size_t shard_groups_ = 0;  // groups at construction (the partition covers those)
  std::vector<torch::Tensor> params_;  // every parameter, in group order (what pieces_ index)
  std::vector<size_t> group_starts_;   // per group, where its parameters start in params_; then params_.size()
  std::vector<torch::Tensor> views_;   // per piece: the parameter's elements it covers (shares storage)
  std::vector<size_t> piece_groups_;   // per piece: its parameter's group
  std::vector<int64_t> shard_index_;   // per piece: its index in its shard group, -1 if another rank's
  std::vector<Binding> bound_;         // per parameter: the storage the views were made from
  typename Inner::ParamList unique_params_;  // the whole model's, last found each listed once (check_params)
  std::unique_ptr<Inner> shard_;
  GradNorms whole_model_norms_;
  c10::optional<double> last_norm_;
  int64_t skipped_steps_ = 0;
};

}  // namespace adaptive
