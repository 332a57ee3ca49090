#pragma once
// What the test suites know of one optimizer, in one entry per optimizer, in
// the spirit of PyTorch's OptimizerInfo: tests/registry/<name>.h specializes
// OptimizerInfo<adaptive::Name>, and every suite iterates the registry
// (tests/registry/registry.h) instead of keeping its own list.
//
// An entry has these members (every one required; the suites name them):
//
//   using Options                  adaptive's options type.
//   kStepsToEveryBranch            steps after which every branch of the rule
//                                  has run (RAdam rectifies from step 6 on).
//   random(RandomCase&)            random valid values of every option but
//                                  the common ones (registry.h adds those).
//   stateful(O)                    options that add state or change what a
//                                  checkpoint holds; a template, so it sets
//                                  the built-in's options (same names) too.
//   ill_conditioned(options)       whether two correct evaluations of the rule
//                                  may part without bound under these options
//                                  (the randomized comparisons skip them).
//   invalid()                      bad options, each with the message that
//                                  must follow "adaptive::Name: ".
//   resume()                       runs that save and load must continue bit
//                                  for bit, each resumed into an optimizer with
//                                  other options (load must restore them).
//   builtin_parity()               only where Name::Builtin is not void: the
//                                  option grid compared with the built-in
//                                  (tests/parity_cases.h).
//
// What parameters and gradients an optimizer takes is not an entry member:
// it follows from the optimizer's hooks (tests/registry/registry.h:
// shape_for, gradient_for).
//
// Python goldens need nothing here: tests/python_golden_test.cc reads a
// golden case's options by the names of Options::fields().

#include "optim/optim.h"

#include <torch/serialize.h>
#include <torch/types.h>

#include <cstdint>
#include <limits>
#include <initializer_list>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

namespace adaptive_test {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// A seeded source of random draws.
struct RandomCase {
  std::mt19937_64 rng;
  explicit RandomCase(uint64_t seed) : rng(seed) {}
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }
  bool coin() { return rng() & 1; }
  template <class T>
  T pick(std::initializer_list<T> values) {
    return *(values.begin() + rng() % values.size());
  }
};

template <class Options>
struct InvalidCase {
  std::string label;     // part of the test's name
  Options options;       // refused at construction and by add_param_group
  std::string expected;  // the message after "adaptive::Name: "
};

template <class Options>
struct ResumeCase {
  std::string label;    // part of the test's name
  Options options;      // the run that is saved and loaded
  Options resume_into;  // the options of the optimizer that loads it
};

template <class Opt>
struct OptimizerInfo {
  static_assert(sizeof(Opt) == 0,
                "this optimizer has no test entry: add tests/registry/<name>.h (see tests/registry/optimizer_info.h) "
                "and its #include in tests/registry/registry.h");
};

}  // namespace adaptive_test
