#pragma once
// The optimizers adaptive offers, declared once. Everything that must know
// them all follows from this list: the fused CPU kernels compiled for each
// rule (kernels/fused_cpu_kernels.cc.inc), the test suites' optimizer lists,
// the examples' --optimizer choices and the benchmark rows.
//
// Adding an optimizer: write its rule (rules/<name>.h), its header and source
// (<name>.h, <name>.cc: options, state and the hooks of core/hooks.h; see
// adam.h), then add its #include and its line below; the builds take every
// optim/*.cc. docs/architecture.md lists what its tests need besides.
//
// ADAPTIVE_OPTIMIZERS(X) calls X(Class, flag, regression_lr, regression_steps,
// mnist_lr) once per optimizer:
//   Class    the class in namespace adaptive (Class::Options; Class::Builtin
//            and Class::BuiltinOptions: the torch::optim optimizer it
//            replaces, or void)
//   flag     its name on the examples' command line (--optimizer flag)
//   the rest the examples' defaults for it, checked to converge by
//            tests/examples_test.sh: learning rate and steps on y = 3x + 5
//            (|w − 3| < 0.01, |b − 5| < 0.05), learning rate on MNIST

#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/nadam.h"
#include "optim/radam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"

#define ADAPTIVE_OPTIMIZERS(X)         \
  X(Adam, adam, 0.2, 1000, 1e-3)       \
  X(AdamW, adamw, 0.2, 4000, 1e-3)     \
  X(RMSprop, rmsprop, 0.01, 1500, 1e-3) \
  X(Adagrad, adagrad, 2.0, 1000, 1e-2)  \
  X(SGD, sgd, 0.01, 3000, 0.05)         \
  X(NAdam, nadam, 0.2, 1000, 2e-3)       \
  X(RAdam, radam, 0.05, 4000, 1e-3)      \
  X(Adadelta, adadelta, 0.1, 10000, 1.0)

#include <tuple>

namespace adaptive {
namespace detail {
template <class First, class... Rest>
struct WithoutFirst {
  using type = std::tuple<Rest...>;
};
}  // namespace detail

#define ADAPTIVE_OPTIMIZER_TYPE(Class, ...) , Class
/// Every optimizer as a type list, std::tuple<Adam, RMSprop, Adagrad>: for
/// typed tests and compile-time loops.
using Optimizers = typename detail::WithoutFirst<void ADAPTIVE_OPTIMIZERS(ADAPTIVE_OPTIMIZER_TYPE)>::type;
#undef ADAPTIVE_OPTIMIZER_TYPE

}  // namespace adaptive
