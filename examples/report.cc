#include "examples/report.h"

#include <stdexcept>

namespace examples {

void write_json(const std::string& path, const nlohmann::json& doc) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write summary file '" + path + "'");
  out << doc.dump(2) << "\n";
  if (!out) throw std::runtime_error("error while writing summary file '" + path + "'");
}

CsvLog::CsvLog(const std::string& path) {
  if (path.empty()) return;
  out_.open(path);
  if (!out_) throw std::runtime_error("cannot write CSV file '" + path + "'");
  out_ << "step,impl,loss\n";
}

void CsvLog::add(int64_t step, const std::string& impl, double loss) {
  if (out_.is_open()) out_ << step << "," << impl << "," << loss << "\n";
}

double param_l2(const std::vector<torch::Tensor>& params) {
  double sum = 0;
  for (const auto& p : params) sum += p.detach().to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(sum);
}

double max_param_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, (a[i].detach().to(torch::kFloat64) - b[i].detach().to(torch::kFloat64)).abs().max().item<double>());
  }
  return diff;
}

}  // namespace examples
