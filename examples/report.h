#pragma once
// Output helpers shared by the examples: JSON summaries, CSV loss logs and the
// side-by-side table.

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <string>
#include <vector>

namespace examples {

// Writes `doc` to `path` (pretty-printed); throws std::runtime_error naming
// the path if it cannot be written.
void write_json(const std::string& path, const nlohmann::json& doc);

// Loss log: one "step,impl,loss" row per optimizer step.
class CsvLog {
 public:
  // Empty path: logging off. keep_through_step >= 0 (resuming): keep the
  // rows of an existing log up to that step and append after them; rows a
  // killed run wrote after its last checkpoint are dropped.
  explicit CsvLog(const std::string& path, int64_t keep_through_step = -1);
  void add(int64_t step, const std::string& impl, double loss);
  // Pushes buffered rows to the file (before a checkpoint, so that the log
  // holds every row up to the checkpoint's step).
  void flush();

 private:
  std::ofstream out_;
};

// L2 norm of all parameters together.
double param_l2(const std::vector<torch::Tensor>& params);

// max |a − b| over all parameters.
double max_param_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);

}  // namespace examples
