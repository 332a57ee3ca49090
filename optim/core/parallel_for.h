#pragma once
// A parallel loop over ATen's threads for the shell's per-parameter work (the
// step's checks and the fused set-up), compiled into the library.

#include <cstdint>
#include <functional>

namespace adaptive {
namespace detail {

/// at::parallel_for(0, n, grain, body), run from the library's own code, which
/// is compiled with OpenMP (-fopenmp, set by optim/BUILD and CMakeLists.txt).
/// at::parallel_for is a header template: called from a header (OptimizerBase,
/// instantiated in the user's code, which may be compiled without OpenMP) it
/// would run on one thread.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

}  // namespace detail
}  // namespace adaptive
