#include "optim/sharded.h"

#include <map>

namespace adaptive {

std::vector<int64_t> partition_by_size(const std::vector<int64_t>& numels, int64_t world_size) {
  TORCH_CHECK(world_size >= 1, "adaptive::ShardedOptimizer: invalid world_size = ", world_size);
  std::vector<size_t> order(numels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return numels[a] > numels[b]; });
  std::vector<int64_t> load(static_cast<size_t>(world_size), 0), owners(numels.size(), 0);
  for (const size_t i : order) {
    const auto lightest = std::min_element(load.begin(), load.end()) - load.begin();
    owners[i] = lightest;
    load[static_cast<size_t>(lightest)] += numels[i];
  }
  return owners;
}

namespace detail {

void broadcast_from_owners(const std::vector<torch::Tensor>& params, const std::vector<int64_t>& owners,
                           c10d::ProcessGroup& group) {
  TORCH_INTERNAL_ASSERT(params.size() == owners.size());
  const int64_t me = group.getRank();
  for (int64_t root = 0; root < group.getSize(); ++root) {
    // One buffer per dtype (and device): parameters of one kind, concatenated.
    std::map<std::pair<c10::ScalarType, std::string>, std::vector<torch::Tensor>> kinds;
    for (size_t i = 0; i < params.size(); ++i) {
      if (owners[i] == root) kinds[{params[i].scalar_type(), params[i].device().str()}].push_back(params[i]);
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
