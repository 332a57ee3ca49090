#pragma once
// Option checks shared by the optimizers. Each error names the optimizer, the
// option exactly as its setter is spelled, and the offending value, e.g.
//   adaptive::Adam: invalid lr = -0.1 (expected a finite number >= 0)

#include <c10/util/Exception.h>

#include <cmath>

namespace adaptive {
namespace detail {

inline void check_non_negative(const char* optimizer, const char* option, double value) {
  TORCH_CHECK(std::isfinite(value) && value >= 0, optimizer, ": invalid ", option, " = ", value,
              " (expected a finite number >= 0)");
}

inline void check_positive(const char* optimizer, const char* option, double value) {
  TORCH_CHECK(std::isfinite(value) && value > 0, optimizer, ": invalid ", option, " = ", value,
              " (expected a finite number > 0)");
}

// value in [0, 1) when upper_inclusive is false, [0, 1] otherwise.
inline void check_unit_interval(const char* optimizer, const char* option, double value, bool upper_inclusive) {
  const bool ok = value >= 0 && (upper_inclusive ? value <= 1 : value < 1);
  TORCH_CHECK(ok, optimizer, ": invalid ", option, " = ", value, " (expected a number in [0, 1",
              upper_inclusive ? "]" : ")", ")");
}

}  // namespace detail
}  // namespace adaptive
