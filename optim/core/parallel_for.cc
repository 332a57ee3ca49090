#include "optim/core/parallel_for.h"

#include <ATen/Parallel.h>

namespace adaptive {
namespace detail {

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  at::parallel_for(0, n, grain, body);
}

}  // namespace detail
}  // namespace adaptive
