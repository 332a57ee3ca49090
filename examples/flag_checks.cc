#include "examples/flag_checks.h"

#include "examples/paths.h"

#include <c10/util/Exception.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

namespace examples {
namespace {

// Shortest text that reads back as `value` ("0.001", "1e+06").
std::string number_text(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  return buf;
}

// The whole text as a finite number: strtod alone accepts "nan", "inf",
// trailing garbage and out-of-range values.
bool parse_finite(const std::string& text, double& value) {
  char* end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' && errno == 0 && std::isfinite(value);
}

}  // namespace

CLI::Validator number_in(double min, double max, bool open) {
  const std::string range = std::string(open ? "(" : "[") + number_text(min) + ", " + number_text(max) + "]";
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        const bool ok = parse_finite(text, value) && (open ? value > min : value >= min) && value <= max;
        return ok ? "" : text + " is not a number in " + range;
      },
      "NUMBER in " + range);
}

CLI::Validator finite_at_least(double min) {
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        return parse_finite(text, value) && value >= min ? "" : text + " is not a finite number >= " + number_text(min);
      },
      "NUMBER >= " + number_text(min));
}

CLI::Validator whole_in(int64_t min, int64_t max) {
  const std::string range = std::to_string(min) + ".." + std::to_string(max);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const long long value = std::strtoll(text.c_str(), &end, 10);
        const bool ok = !text.empty() && *end == '\0' && errno == 0 && value >= min && value <= max;
        return ok ? "" : text + " is not a whole number in " + range;
      },
      "INT in " + range);
}

CLI::Validator writable_file() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string path = user_path(text);
        struct stat info {};
        if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return text + " is a directory, not a file";
        const auto slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
        if (::stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return "directory " + dir + " does not exist";
        if (::access(dir.c_str(), W_OK) != 0) return "directory " + dir + " is not writable";
        if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0) return text + " is not writable";
        return "";
      },
      "FILE (writable)");
}

std::string message_of(const std::exception& e) {
  if (const auto* error = dynamic_cast<const c10::Error*>(&e)) return error->what_without_backtrace();
  return e.what();
}

}  // namespace examples
