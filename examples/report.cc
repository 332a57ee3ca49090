#include "examples/report.h"

#include <algorithm>
#include <stdexcept>

namespace examples {

void write_json(const std::string& path, const nlohmann::json& doc) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write summary file '" + path + "'");
  out << doc.dump(2) << "\n";
  if (!out) throw std::runtime_error("error while writing summary file '" + path + "'");
}

CsvLog::CsvLog(const std::string& path, int64_t keep_through_step) {
  if (path.empty()) return;
  std::vector<std::string> kept;
  if (keep_through_step >= 0) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // A row cut short by a kill has fewer fields (or no number): skip it.
      if (std::count(line.begin(), line.end(), ',') != 2 || line.front() < '0' || line.front() > '9') continue;
      if (std::stoll(line.substr(0, line.find(','))) <= keep_through_step) kept.push_back(line);
    }
  }
  out_.open(path);
  if (!out_) throw std::runtime_error("cannot write CSV file '" + path + "'");
  out_ << "step,impl,loss\n";
  for (const auto& line : kept) out_ << line << "\n";
}

void CsvLog::add(int64_t step, const std::string& impl, double loss) {
  if (out_.is_open()) out_ << step << "," << impl << "," << loss << "\n";
}

void CsvLog::flush() {
  if (out_.is_open()) out_.flush();
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
