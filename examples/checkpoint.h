#pragma once
// Training checkpoints for the examples (--checkpoint FILE, --resume FILE).
//
// A checkpoint holds, for each run (adaptive, builtin, or both): the model's
// parameters and buffers, the optimizer's archive, the learning rate of each
// group (torch::optim's load does not restore options, and schedulers change
// them) and the example's progress (epoch, steps, history) as JSON; plus the
// global CPU RNG state and the configuration that produced it, so that a
// resumed run continues exactly where the saved one was, and resuming with
// different settings is refused instead of silently mixing two runs.
//
// Saving never destroys the previous checkpoint: the archive goes to
// FILE.partial, is flushed to disk (fsync), then renamed over FILE (atomic
// on POSIX file systems), and the directory entry is synced. A crash at any
// moment leaves FILE either the previous complete checkpoint or the new one.

#include "optim/grad_scaler.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace examples {

class CheckpointWriter {
 public:
  // `config`: the settings a resumed run must share (optimizer, lr, model...).
  explicit CheckpointWriter(nlohmann::json config);

  // Adds one run; `model` is every tensor that defines the model (parameters
  // and buffers), `progress` whatever the example needs to continue.
  void add_run(const std::string& name, const std::vector<torch::Tensor>& model,
               const torch::optim::Optimizer& optimizer, const nlohmann::json& progress);

  // Adds run `name`'s loss scaler (--amp fp16), Python's state_dict keys.
  void add_scaler(const std::string& name, const adaptive::GradScaler& scaler);
  // Adds a part of run `name` (its schedule, its averaged model) under `part`.
  void add_part(const std::string& name, const std::string& part, torch::serialize::OutputArchive& archive);
  // Adds the RNG state and writes everything to `path` atomically (see above).
  void save(const std::string& path);

 private:
  torch::serialize::OutputArchive archive_;
  std::vector<std::string> runs_;
};

class CheckpointReader {
 public:
  // Reads `path` and checks that it was written with `config`; throws
  // std::runtime_error naming the file and, for a mismatch, every setting
  // that differs. Restores the global CPU RNG state.
  CheckpointReader(const std::string& path, const nlohmann::json& config);

  // Restores run `name` in place: the model's tensors, the optimizer (state
  // and learning rates); returns its progress. Checks the model first (tensor
  // count and shapes) so that a mismatch changes nothing.
  nlohmann::json restore_run(const std::string& name, const std::vector<torch::Tensor>& model,
                             torch::optim::Optimizer& optimizer);
  // Restores run `name`'s loss scaler (all-or-nothing, GradScaler::load).
  void restore_scaler(const std::string& name, adaptive::GradScaler& scaler);
  // The archive of part `part` of run `name`; throws std::runtime_error where the checkpoint has none.
  torch::serialize::InputArchive part(const std::string& name, const std::string& part);

 private:
  std::string path_;
  torch::serialize::InputArchive archive_;
};

// Writes a serialized archive to `path` atomically (temporary file, fsync,
// rename, directory fsync). Throws std::runtime_error naming the path.
void write_atomically(torch::serialize::OutputArchive& archive, const std::string& path);

}  // namespace examples
