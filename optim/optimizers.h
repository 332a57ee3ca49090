#pragma once
// The optimizers adaptive offers, declared once. Everything that must know
// them all follows from this list: the test registry (tests/registry/),
// the examples' --optimizer choices and the benchmark rows.
//
// Adding an optimizer: write its rule (rules/<name>.h, and its line in
// rules/rules.h unless it shares one), its header and source
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
//            (|w − 3| < 0.01, |b − 5| < 0.05), learning rate on MNIST.
//            Muon's are its recipe's (examples/muon_recipe.h: Muon for the
//            matrices, AdamW for the rest). SparseAdam, which takes only
//            sparse gradients, has none (0): the regression and MNIST
//            examples do not offer it; examples/embedding.cc is its example.

#include "optim/adadelta.h"
#include "optim/adafactor.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamax.h"
#include "optim/adamw.h"
#include "optim/asgd.h"
#include "optim/muon.h"
#include "optim/nadam.h"
#include "optim/radam.h"
#include "optim/rmsprop.h"
#include "optim/rprop.h"
#include "optim/sgd.h"
#include "optim/sparse_adam.h"

#define ADAPTIVE_OPTIMIZERS(X)         \
  X(Adam, adam, 0.2, 1000, 1e-3)       \
  X(AdamW, adamw, 0.2, 4000, 1e-3)     \
  X(RMSprop, rmsprop, 0.01, 1500, 1e-3) \
  X(Adagrad, adagrad, 2.0, 1000, 1e-2)  \
  X(SGD, sgd, 0.01, 3000, 0.05)         \
  X(NAdam, nadam, 0.2, 1000, 2e-3)       \
  X(RAdam, radam, 0.05, 4000, 1e-3)      \
  X(Adadelta, adadelta, 0.1, 10000, 1.0) \
  X(Adamax, adamax, 0.2, 2000, 2e-3)      \
  X(ASGD, asgd, 0.01, 3000, 0.05)        \
  X(Rprop, rprop, 0.01, 1000, 1e-3)        \
  X(Adafactor, adafactor, 0.05, 1000, 1e-2) \
  X(SparseAdam, sparse_adam, 0, 0, 0)       \
  X(Muon, muon, 0.01, 15000, 1e-3)

#include "optim/rules/rules.h"

#include <tuple>
#include <type_traits>

namespace adaptive {
namespace detail {
template <class T, class Tuple>
struct ListedIn;
template <class T, class... U>
struct ListedIn<T, std::tuple<U...>> : std::disjunction<std::is_same<T, U>...> {};

// The generic kernels are compiled for the rules of optim/rules/rules.h
// (optimizers of whole-tensor math, hooks::kTensorStep, have none).
template <class Optimizer, class = void>
struct RuleListed : std::bool_constant<hooks::steps_whole_tensors<Optimizer>()> {};
template <class Optimizer>
struct RuleListed<Optimizer, std::void_t<typename Optimizer::Rule>> : ListedIn<typename Optimizer::Rule, Rules> {};
}  // namespace detail

#define ADAPTIVE_OPTIMIZER_TYPE(Class, ...) , Class
/// Every optimizer as a type list, std::tuple<Adam, RMSprop, Adagrad>: for
/// typed tests and compile-time loops.
using Optimizers = typename detail::WithoutFirst<void ADAPTIVE_OPTIMIZERS(ADAPTIVE_OPTIMIZER_TYPE)>::type;
#undef ADAPTIVE_OPTIMIZER_TYPE

#define ADAPTIVE_CHECK_RULE_LISTED(Class, ...)                                                  \
  static_assert(detail::RuleListed<Class>::value,                                               \
                "adaptive::" #Class "'s Rule is not in ADAPTIVE_RULES (optim/rules/rules.h): no " \
                "fused kernel would be compiled for it");
ADAPTIVE_OPTIMIZERS(ADAPTIVE_CHECK_RULE_LISTED)
#undef ADAPTIVE_CHECK_RULE_LISTED

// Each optimizer's shell is compiled once, in optim/core/optimizer_instances.cc.
#define ADAPTIVE_EXTERN_SHELL(Class, ...) extern template class OptimizerBase<Class, Class::Options, Class::State>;
ADAPTIVE_OPTIMIZERS(ADAPTIVE_EXTERN_SHELL)
#undef ADAPTIVE_EXTERN_SHELL

}  // namespace adaptive
