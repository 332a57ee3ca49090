#pragma once
// `bazel run` starts binaries in their runfiles tree; relative paths given on
// the command line are meant relative to where the user typed the command.

#include <cstdlib>
#include <string>

namespace examples {

inline std::string user_path(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  return cwd ? std::string(cwd) + "/" + path : path;
}

}  // namespace examples
