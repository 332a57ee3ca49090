#include "examples/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace examples {
namespace {

constexpr const char* kFormat = "adaptive-examples-checkpoint-1";

std::runtime_error io_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " '" + path + "': " + std::strerror(errno));
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key, const std::string& path) {
  c10::IValue value;
  if (!archive.try_read(key, value) || !value.isString()) {
    throw std::runtime_error("checkpoint '" + path + "' lacks '" + key + "'");
  }
  return value.toStringRef();
}

// Every key where `saved` and `wanted` differ, as "key: saved → wanted".
std::string differences(const nlohmann::json& saved, const nlohmann::json& wanted) {
  std::string out;
  for (const auto& [key, value] : wanted.items()) {
    const auto it = saved.find(key);
    const std::string before = it == saved.end() ? "(absent)" : it->dump();
    if (before != value.dump()) out += "\n  " + key + ": checkpoint has " + before + ", this run has " + value.dump();
  }
  for (const auto& [key, value] : saved.items()) {
    if (!wanted.contains(key)) out += "\n  " + key + ": checkpoint has " + value.dump() + ", this run has (absent)";
  }
  return out;
}

}  // namespace

void write_atomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  const std::string partial = path + ".partial";
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("cannot write checkpoint", partial);
  bool ok = true;
  archive.save_to([&](const void* data, size_t size) -> size_t {
    const char* bytes = static_cast<const char*>(data);
    size_t done = 0;
    while (ok && done < size) {
      const ssize_t n = ::write(fd, bytes + done, size - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      else done += static_cast<size_t>(n);
    }
    return done;
  });
  // The data must be on disk before the rename makes it the checkpoint.
  // A failed save leaves FILE as it was and no FILE.partial behind.
  const auto fail = [&](const std::runtime_error& error) {
    ::unlink(partial.c_str());
    throw error;
  };
  if (!ok || ::fsync(fd) != 0) {
    const auto error = io_error("error while writing checkpoint", partial);
    ::close(fd);
    fail(error);
  }
  if (::close(fd) != 0) fail(io_error("error while closing checkpoint", partial));
  if (std::rename(partial.c_str(), path.c_str()) != 0) fail(io_error("cannot rename checkpoint to", path));
  // And the rename itself must survive a power loss: sync the directory.
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

CheckpointWriter::CheckpointWriter(nlohmann::json config) {
  archive_.write("format", c10::IValue(std::string(kFormat)));
  archive_.write("config", c10::IValue(config.dump()));
}

void CheckpointWriter::add_run(const std::string& name, const std::vector<torch::Tensor>& model,
                               const torch::optim::Optimizer& optimizer, const nlohmann::json& progress) {
  const std::string prefix = "runs/" + name + "/";
  archive_.write(prefix + "model/size", torch::tensor(static_cast<int64_t>(model.size())));
  for (size_t i = 0; i < model.size(); ++i) archive_.write(prefix + "model/" + std::to_string(i), model[i].detach());
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive_.write(prefix + "optimizer", optimizer_archive);
  std::vector<double> lrs;
  for (const auto& group : optimizer.param_groups()) lrs.push_back(group.options().get_lr());
  archive_.write(prefix + "lr", torch::tensor(lrs, torch::kFloat64));
  archive_.write(prefix + "progress", c10::IValue(progress.dump()));
  runs_.push_back(name);
}

void CheckpointWriter::add_scaler(const std::string& name, const adaptive::GradScaler& scaler) {
  torch::serialize::OutputArchive scaler_archive;
  scaler.save(scaler_archive);
  archive_.write("runs/" + name + "/grad_scaler", scaler_archive);
}

void CheckpointWriter::add_part(const std::string& name, const std::string& part,
                                torch::serialize::OutputArchive& archive) {
  archive_.write("runs/" + name + "/" + part, archive);
}

void CheckpointWriter::save(const std::string& path) {
  auto& generator = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(const_cast<at::Generator&>(generator).mutex());
    archive_.write("rng/cpu", generator.get_state());
  }
  write_atomically(archive_, path);
}

CheckpointReader::CheckpointReader(const std::string& path, const nlohmann::json& config) : path_(path) {
  if (::access(path.c_str(), R_OK) != 0) throw io_error("cannot read checkpoint", path);
  try {
    archive_.load_from(path);
  } catch (const std::exception& e) {
    // LibTorch's message is long (a backtrace); its first line says what failed.
    const std::string what = e.what();
    throw std::runtime_error("checkpoint '" + path + "' is damaged or not a checkpoint (" +
                             what.substr(0, what.find('\n')) + ")");
  }
  if (read_string(archive_, "format", path) != kFormat) {
    throw std::runtime_error("'" + path + "' is not a checkpoint of these examples (format " +
                             read_string(archive_, "format", path) + ")");
  }
  const std::string diff = differences(nlohmann::json::parse(read_string(archive_, "config", path)), config);
  if (!diff.empty()) {
    throw std::runtime_error("checkpoint '" + path + "' was written by a different configuration; resume with " +
                             "the same settings or start a new checkpoint:" + diff);
  }
  torch::Tensor rng;
  archive_.read("rng/cpu", rng);
  auto& generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(const_cast<at::Generator&>(generator).mutex());
  const_cast<at::Generator&>(generator).set_state(rng);
}

void CheckpointReader::restore_scaler(const std::string& name, adaptive::GradScaler& scaler) {
  torch::serialize::InputArchive scaler_archive;
  if (!archive_.try_read("runs/" + name + "/grad_scaler", scaler_archive)) {
    throw std::runtime_error("checkpoint '" + path_ + "' has no loss scaler for run '" + name + "'");
  }
  scaler.load(scaler_archive);
}

torch::serialize::InputArchive CheckpointReader::part(const std::string& name, const std::string& part) {
  torch::serialize::InputArchive archive;
  if (!archive_.try_read("runs/" + name + "/" + part, archive)) {
    throw std::runtime_error("checkpoint '" + path_ + "' has no " + part + " for run '" + name +
                             "' (was it saved with other --schedule, --warmup-steps or --ema-decay flags?)");
  }
  return archive;
}

nlohmann::json CheckpointReader::restore_run(const std::string& name, const std::vector<torch::Tensor>& model,
                                             torch::optim::Optimizer& optimizer) {
  const std::string prefix = "runs/" + name + "/";
  torch::Tensor size;
  if (!archive_.try_read(prefix + "model/size", size)) {
    throw std::runtime_error("checkpoint '" + path_ + "' has no run '" + name + "'");
  }
  if (size.item<int64_t>() != static_cast<int64_t>(model.size())) {
    throw std::runtime_error("checkpoint '" + path_ + "': run '" + name + "' has " +
                             std::to_string(size.item<int64_t>()) + " model tensors, this model has " +
                             std::to_string(model.size()));
  }
  std::vector<torch::Tensor> saved(model.size());
  for (size_t i = 0; i < model.size(); ++i) {
    archive_.read(prefix + "model/" + std::to_string(i), saved[i]);
    if (saved[i].sizes() != model[i].sizes()) {
      throw std::runtime_error("checkpoint '" + path_ + "': model tensor " + std::to_string(i) + " of run '" + name +
                               "' has shape " + c10::str(saved[i].sizes()) + ", this model's has " +
                               c10::str(model[i].sizes()));
    }
  }
  torch::Tensor lrs;
  archive_.read(prefix + "lr", lrs);
  if (lrs.numel() != static_cast<int64_t>(optimizer.param_groups().size())) {
    throw std::runtime_error("checkpoint '" + path_ + "': run '" + name + "' has " + std::to_string(lrs.numel()) +
                             " parameter groups, this optimizer has " +
                             std::to_string(optimizer.param_groups().size()));
  }
  torch::serialize::InputArchive optimizer_archive;
  archive_.read(prefix + "optimizer", optimizer_archive);
  optimizer.load(optimizer_archive);
  for (size_t g = 0; g < optimizer.param_groups().size(); ++g) {
    optimizer.param_groups()[g].options().set_lr(lrs[static_cast<int64_t>(g)].item<double>());
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < model.size(); ++i) model[i].copy_(saved[i]);
  return nlohmann::json::parse(read_string(archive_, prefix + "progress", path_));
}

}  // namespace examples
