#include "optim/distributed/sharded.h"

#include <map>
#include <numeric>

namespace adaptive {

std::vector<ShardPiece> partition_elements(const std::vector<int64_t>& numels, const std::vector<bool>& splittable,
                                           int64_t world_size) {
  TORCH_CHECK(world_size >= 1, "adaptive::ShardedOptimizer: invalid world_size = ", world_size);
  TORCH_INTERNAL_ASSERT(numels.size() == splittable.size());
  const int64_t total = std::accumulate(numels.begin(), numels.end(), int64_t{0});
  // Rank r owns the flat elements [start(r), start(r + 1)).
  auto start = [&](int64_t r) { return r * (total / world_size) + std::min(r, total % world_size); };
  auto owner_of = [&](int64_t element) {
    int64_t r = 0;
    while (r + 1 < world_size && start(r + 1) <= element) ++r;
    return r;
  };
  std::vector<ShardPiece> pieces;
  int64_t offset = 0;
  for (size_t i = 0; i < numels.size(); ++i) {
    const int64_t first = offset, last = offset + numels[i];
    offset = last;
    if (numels[i] == 0 || !splittable[i]) {
      pieces.push_back({static_cast<int64_t>(i), 0, numels[i], numels[i] == 0 ? 0 : owner_of(first)});
      continue;
    }
    for (int64_t at = first; at < last;) {
      const int64_t r = owner_of(at);
      const int64_t end = r + 1 < world_size ? std::min(last, start(r + 1)) : last;
      pieces.push_back({static_cast<int64_t>(i), at - first, end - first, r});
      at = end;
    }
  }
  return pieces;
}

namespace detail {

torch::Tensor piece_view(const torch::Tensor& param, const ShardPiece& piece) {
  const torch::Tensor whole = param.detach();
  if (piece.begin == 0 && piece.end == param.numel()) return whole;
  return whole.reshape(-1).slice(0, piece.begin, piece.end);  // a view: splittable pieces are contiguous
}

void broadcast_from_owners(const std::vector<torch::Tensor>& views, const std::vector<ShardPiece>& pieces,
                           c10d::ProcessGroup& group) {
  TORCH_INTERNAL_ASSERT(views.size() == pieces.size());
  const int64_t me = group.getRank();
  for (int64_t root = 0; root < group.getSize(); ++root) {
    // One buffer per dtype (and device): parameters of one kind, concatenated.
    std::map<std::pair<c10::ScalarType, std::string>, std::vector<torch::Tensor>> kinds;
    for (size_t i = 0; i < views.size(); ++i) {
      if (pieces[i].owner == root) kinds[{views[i].scalar_type(), views[i].device().str()}].push_back(views[i]);
    }
    for (auto& [kind, tensors] : kinds) {
      int64_t total = 0;
      for (const auto& t : tensors) total += t.numel();
      if (total == 0) continue;
      std::vector<torch::Tensor> buffer;
      if (root == me) {
        std::vector<torch::Tensor> flat;
        for (const auto& t : tensors) flat.push_back(t.detach().reshape(-1));
        buffer.push_back(torch::cat(flat));
      } else {
        buffer.push_back(torch::empty({total}, tensors.front().options().requires_grad(false)));
      }
      c10d::BroadcastOptions options;
      options.rootRank = root;
      group.broadcast(buffer, options)->wait();
      if (root == me) continue;
      int64_t offset = 0;
      for (const auto& t : tensors) {
        t.detach().copy_(buffer.front().slice(0, offset, offset + t.numel()).view(t.sizes()));
        offset += t.numel();
      }
    }
  }
}

}  // namespace detail
}  // namespace adaptive
