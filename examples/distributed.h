#pragma once
// Data-parallel training across processes for the examples, with c10d:
// a TCPStore for the rendezvous and a Gloo process group for the collectives.
//
// Who is who follows the torchrun convention: RANK, WORLD_SIZE, MASTER_ADDR
// and MASTER_PORT from the environment (tools/launch sets them), each
// overridden by --rank, --world-size, --master-addr, --master-port. Without
// them (or with a world size of 1) there is no group and no network.
//
// Every rank sees the same global batches (same seed, same shuffling) and
// computes on its share of each; the gradients are summed across ranks, so
// the same command trains the same model on 1 or N ranks.

#include <CLI/CLI.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/torch.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace examples {

struct DistributedFlags {
  std::optional<int64_t> rank, world_size, master_port;
  std::optional<std::string> master_addr;
  double timeout_seconds = 60;  // a collective that waits longer fails
  bool shard = false;           // ShardedOptimizer (ZeRO-1) instead of a full optimizer per rank
};
void add_distributed_flags(CLI::App& app, DistributedFlags& flags);

class Distributed {
 public:
  // One process, no group (ignores the environment).
  Distributed() = default;
  // Joins the group the flags and environment describe; throws
  // std::invalid_argument for inconsistent settings, std::runtime_error when
  // the rendezvous fails (naming the address and port).
  explicit Distributed(const DistributedFlags& flags);

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  bool is_root() const { return rank_ == 0; }  // writes summaries, logs and (unsharded) checkpoints
  bool shard() const { return shard_; }
  // The process group; null for a single process.
  const c10::intrusive_ptr<c10d::ProcessGroup>& group() const { return group_; }

  // This rank's part [begin, end) of n examples: contiguous, in rank order,
  // sizes differing by at most one.
  std::pair<int64_t, int64_t> share(int64_t n) const;

  // Sums every parameter's gradient and `loss` over the ranks (one allreduce
  // of one flat buffer); returns the summed loss.
  double sum_gradients(const std::vector<torch::Tensor>& params, const torch::Tensor& loss) const;

  // The sum of `value` over the ranks.
  double sum(double value) const;

  // Whether the optimizer state is sharded (--shard with more than one rank).
  bool sharded() const { return shard_ && group_; }
  // The group to shard the optimizer over; null when not sharded.
  c10::intrusive_ptr<c10d::ProcessGroup> shard_group() const {
    return sharded() ? group_ : c10::intrusive_ptr<c10d::ProcessGroup>();
  }

  // Checkpoints: every rank's state is the same, so rank 0 alone writes
  // `path` and every rank reads it; with sharded state each rank writes and
  // reads its own file, path.rank<R>-of-<N>. Empty path: empty.
  bool writes_checkpoints() const { return is_root() || sharded(); }
  std::string checkpoint_path(const std::string& path) const;

  // Throws unless every rank resumed at the same point (sharded checkpoints
  // are separate files; a run stopped while the ranks were saving can leave
  // them at different steps).
  void check_same_everywhere(int64_t step, const std::string& what) const;

  // A description for the first line of output: "rank 1 of 2 (127.0.0.1:29500, gloo)".
  std::string describe() const;

 private:
  void allreduce(torch::Tensor& buffer, c10d::ReduceOp op = c10d::ReduceOp::SUM) const;

  int64_t rank_ = 0, world_size_ = 1;
  bool shard_ = false;
  std::string address_;
  c10::intrusive_ptr<c10d::ProcessGroup> group_;
};

// --save-params FILE: writes every tensor of `params`, converted to float64
// and concatenated, as raw little-endian bytes (for comparing runs).
void save_params_raw(const std::string& path, const std::vector<torch::Tensor>& params);

}  // namespace examples
