#pragma once
// A group's options as the optimizer's own Options type, checked. A
// torch::optim::OptimizerParamGroup holds its options as the base class, so a
// group built with torch::optim::AdamOptions compiles when passed to
// adaptive::Adam (the likeliest slip when switching namespaces); a static_cast
// would then read the foreign struct as ours. This cast refuses it instead.

#include <c10/util/Exception.h>
#include <c10/util/Type.h>
#include <torch/optim/optimizer.h>

#include <cstddef>
#include <typeinfo>
#include <utility>

namespace adaptive {
namespace detail {

// `options` as Options (or a class derived from it); a c10::Error naming the
// optimizer, the group and both types otherwise.
template <class Options>
const Options& options_as(const torch::optim::OptimizerOptions& options, const char* optimizer, size_t group) {
  const auto* ours = dynamic_cast<const Options*>(&options);
  TORCH_CHECK(ours != nullptr, optimizer, ": group ", group, " has options of type ",
              c10::demangle(typeid(options).name()), ", expected ", c10::demangle(typeid(Options).name()),
              " (build the group with adaptive's options, not torch::optim's)");
  return *ours;
}

template <class Options>
Options& options_as(torch::optim::OptimizerOptions& options, const char* optimizer, size_t group) {
  return const_cast<Options&>(options_as<Options>(std::as_const(options), optimizer, group));
}

}  // namespace detail
}  // namespace adaptive
