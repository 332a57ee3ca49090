#include "examples/distributed.h"

#include "examples/flag_checks.h"
#include "optim/gloo_group.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace examples {
namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int64_t env_int(const char* name, const std::string& text) {
  try {
    size_t used = 0;
    const int64_t value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(std::string(name) + "=" + text + " is not an integer");
}

// The first line of a c10d/Gloo error (the rest is a backtrace).
std::string first_line(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find('\n'));
}

}  // namespace

void add_distributed_flags(CLI::App& app, DistributedFlags& flags) {
  app.add_option("--rank", flags.rank, "this process's rank (default: $RANK, else 0)")->check(whole_in(0, 65535));
  app.add_option("--world-size", flags.world_size, "number of processes (default: $WORLD_SIZE, else 1)")
      ->check(whole_in(1, 65536));
  app.add_option("--master-addr", flags.master_addr, "rank 0's address (default: $MASTER_ADDR, else 127.0.0.1)");
  app.add_option("--master-port", flags.master_port, "rank 0's TCP port (default: $MASTER_PORT, else 29500)")
      ->check(whole_in(1, 65535));
  app.add_option("--timeout", flags.timeout_seconds,
                 "seconds a rank waits for the others (rendezvous and each collective) before failing")
      ->check(number_in(0, 86400, /*open=*/true))
      ->capture_default_str();
  app.add_flag("--shard", flags.shard,
               "shard the optimizer state across the ranks (adaptive::ShardedOptimizer, ZeRO stage 1)");
}

Distributed::Distributed(const DistributedFlags& flags) : shard_(flags.shard) {
  const auto env_rank = env("RANK"), env_world = env("WORLD_SIZE");
  rank_ = flags.rank.value_or(env_rank ? env_int("RANK", *env_rank) : 0);
  world_size_ = flags.world_size.value_or(env_world ? env_int("WORLD_SIZE", *env_world) : 1);
  if (world_size_ < 1) throw std::invalid_argument("world size " + std::to_string(world_size_) + " must be >= 1");
  if (rank_ < 0 || rank_ >= world_size_) {
    throw std::invalid_argument("rank " + std::to_string(rank_) + " is outside 0.." + std::to_string(world_size_ - 1) +
                                " (world size " + std::to_string(world_size_) + ")");
  }
  const std::string host = flags.master_addr.value_or(env("MASTER_ADDR").value_or("127.0.0.1"));
  const auto env_port = env("MASTER_PORT");
  const int64_t port = flags.master_port.value_or(env_port ? env_int("MASTER_PORT", *env_port) : 29500);
  if (port < 1 || port > 65535) throw std::invalid_argument("master port " + std::to_string(port) + " is not a TCP port");
  address_ = host + ":" + std::to_string(port);
  if (world_size_ == 1) return;

  // Gloo writes to its peers' sockets without MSG_NOSIGNAL: a write racing a
  // peer's death raised SIGPIPE, which killed this rank silently (status 141)
  // instead of failing the collective with "lost the other ranks". Python
  // ignores SIGPIPE from the start, so torchrun's ranks never see it either.
  std::signal(SIGPIPE, SIG_IGN);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(port);
    store_options.isServer = rank_ == 0;
    store_options.numWorkers = static_cast<size_t>(world_size_);
    store_options.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(host, store_options);
    // Which network interface Gloo uses: GLOO_SOCKET_IFNAME as in PyTorch;
    // loopback for a local master; else the interface of this host's name.
    const auto ifname = env("GLOO_SOCKET_IFNAME");
    const bool local = host == "127.0.0.1" || host == "localhost";
    auto device = ifname ? adaptive::gloo_interface(*ifname) : adaptive::gloo_device(local ? "127.0.0.1" : "");
    group_ = adaptive::make_gloo_group(store, static_cast<int>(rank_), static_cast<int>(world_size_), {device}, timeout);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(rank_) + " could not join the group at " + address_ + " within " +
                             std::to_string(flags.timeout_seconds) + " s: " + first_line(e));
  }
}

std::pair<int64_t, int64_t> Distributed::share(int64_t n) const {
  const int64_t base = n / world_size_, extra = n % world_size_;
  const int64_t begin = rank_ * base + std::min(rank_, extra);
  return {begin, begin + base + (rank_ < extra ? 1 : 0)};
}

void Distributed::allreduce(torch::Tensor& buffer, c10d::ReduceOp op) const {
  std::vector<torch::Tensor> tensors{buffer};
  c10d::AllreduceOptions options;
  options.reduceOp = op;
  try {
    group_->allreduce(tensors, options)->wait();
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(rank_) +
                             ": lost the other ranks (one exited or stopped responding): " + first_line(e));
  }
}

double Distributed::sum_gradients(const std::vector<torch::Tensor>& params, const torch::Tensor& loss) const {
  if (!group_) return loss.item<double>();
  std::vector<torch::Tensor> flat;
  for (const auto& p : params) {
    flat.push_back(p.grad().defined() ? p.grad().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  }
  flat.push_back(loss.detach().reshape(1).to(params.front().options()));
  torch::Tensor buffer = torch::cat(flat);
  allreduce(buffer);
  int64_t offset = 0;
  for (const auto& p : params) {
    const auto summed = buffer.slice(0, offset, offset + p.numel()).view(p.sizes());
    if (p.grad().defined()) p.mutable_grad().copy_(summed);
    else p.mutable_grad() = summed.clone();
    offset += p.numel();
  }
  return buffer[offset].item<double>();
}

double Distributed::sum(double value) const {
  if (!group_) return value;
  torch::Tensor buffer = torch::tensor({value}, torch::kFloat64);
  allreduce(buffer);
  return buffer.item<double>();
}

std::string Distributed::checkpoint_path(const std::string& path) const {
  if (path.empty() || !sharded()) return path;
  return path + ".rank" + std::to_string(rank_) + "-of-" + std::to_string(world_size_);
}

void Distributed::check_same_everywhere(int64_t step, const std::string& what) const {
  if (!group_) return;
  // The largest step and the largest negated step: equal everywhere iff max == min.
  // (A sum would pass ranks at 1, 2, 3: the middle one sees 6 == 3·2.)
  torch::Tensor extremes = torch::tensor({static_cast<double>(step), -static_cast<double>(step)}, torch::kFloat64);
  allreduce(extremes, c10d::ReduceOp::MAX);
  if (extremes[0].item<double>() != -extremes[1].item<double>()) {
    throw std::runtime_error("rank " + std::to_string(rank_) + " resumed after " + what + " " + std::to_string(step) +
                             ", but the ranks' checkpoints are not all from that point (a run stopped while the "
                             "ranks were saving?); resume from checkpoints of one point");
  }
}

std::string Distributed::describe() const {
  if (!group_) return "1 process";
  return "rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) + " (" + address_ + ", gloo" +
         (shard_ ? ", sharded optimizer state" : "") + ")";
}

void save_params_raw(const std::string& path, const std::vector<torch::Tensor>& params) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write '" + path + "'");
  for (const auto& p : params) {
    const auto values = p.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    out.write(static_cast<const char*>(values.data_ptr()), static_cast<std::streamsize>(values.nbytes()));
  }
  if (!out) throw std::runtime_error("error while writing '" + path + "'");
}

}  // namespace examples
