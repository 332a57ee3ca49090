#include "optim/distributed/sharded.h"

#include <map>
#include <numeric>
#include <string>

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

namespace {

// A rank's parameters as one list of numbers: the count, then each
// parameter's dimension count and sizes.
std::vector<int64_t> describe(const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<int64_t> d{static_cast<int64_t>(shapes.size())};
  for (const auto& shape : shapes) {
    d.push_back(static_cast<int64_t>(shape.size()));
    d.insert(d.end(), shape.begin(), shape.end());
  }
  return d;
}

std::string shape_text(const std::vector<int64_t>& d, size_t& at) {
  const int64_t dims = d[at++];
  std::string text = "[";
  for (int64_t k = 0; k < dims; ++k) text += (k ? ", " : "") + std::to_string(d[at++]);
  return text + "]";
}

// The first difference between rank 0's description `a` and rank `r`'s `b`,
// or "" when they agree.
std::string first_difference(const std::vector<int64_t>& a, const std::vector<int64_t>& b, int64_t r) {
  if (a[0] != b[0]) {
    return "rank " + std::to_string(r) + " passed " + std::to_string(b[0]) + " parameters, rank 0 passed " +
           std::to_string(a[0]);
  }
  size_t i = 1, j = 1;
  for (int64_t k = 0; k < a[0]; ++k) {
    const std::string sa = shape_text(a, i), sb = shape_text(b, j);
    if (sa != sb) {
      return "parameter " + std::to_string(k) + " (counting through the groups) has shape " + sb + " on rank " +
             std::to_string(r) + " but " + sa + " on rank 0";
    }
  }
  return "";
}

}  // namespace

void check_ranks_agree(const std::vector<std::vector<int64_t>>& shapes, const std::string& refused,
                       c10d::ProcessGroup& group, const c10::Device& device) {
  const int64_t world = group.getSize();
  TORCH_CHECK(world > 1 || refused.empty(), refused);
  if (world == 1) return;
  const auto on = torch::TensorOptions().dtype(torch::kLong).device(device);
  // Descriptions differ in length between ranks: the lengths first, then every
  // description padded to the longest. A rank whose own checks refused its
  // arguments sends a length of 0.
  const std::vector<int64_t> mine = refused.empty() ? describe(shapes) : std::vector<int64_t>{};
  std::vector<std::vector<torch::Tensor>> lengths(1);
  for (int64_t r = 0; r < world; ++r) lengths[0].push_back(torch::empty({1}, on));
  std::vector<torch::Tensor> my_length{torch::full({1}, static_cast<int64_t>(mine.size()), on)};
  group.allgather(lengths, my_length)->wait();
  int64_t longest = 0, first_refusing = -1;
  for (int64_t r = 0; r < world; ++r) {
    longest = std::max(longest, lengths[0][r].item<int64_t>());
    if (first_refusing < 0 && lengths[0][r].item<int64_t>() == 0) first_refusing = r;
  }
  TORCH_CHECK(refused.empty(), refused);
  TORCH_CHECK(first_refusing < 0, "adaptive::ShardedOptimizer: rank ", first_refusing,
              " refused its arguments (its own error says why); every rank must pass the same valid parameters");
  std::vector<int64_t> padded = mine;
  padded.resize(static_cast<size_t>(longest), 0);
  std::vector<std::vector<torch::Tensor>> all(1);
  for (int64_t r = 0; r < world; ++r) all[0].push_back(torch::empty({longest}, on));
  std::vector<torch::Tensor> my_description{torch::tensor(padded, torch::kLong).to(device)};
  group.allgather(all, my_description)->wait();
  std::vector<std::vector<int64_t>> descriptions;
  for (int64_t r = 0; r < world; ++r) {
    const torch::Tensor cpu = all[0][r].cpu().contiguous();
    descriptions.emplace_back(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + lengths[0][r].item<int64_t>());
  }
  // Every rank finds the same first difference, so every rank throws.
  for (int64_t r = 1; r < world; ++r) {
    const std::string difference = first_difference(descriptions[0], descriptions[r], r);
    TORCH_CHECK(difference.empty(), "adaptive::ShardedOptimizer: the ranks passed different parameters: ", difference,
                " (every rank must pass the same parameters, with the same shapes, in the same order)");
  }
}

}  // namespace detail
}  // namespace adaptive
