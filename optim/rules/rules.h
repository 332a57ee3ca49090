#pragma once
// Every update rule, each once: what the generic kernels compile (the fused
// CPU loops per capability, kernels/fused_cpu_kernels.cc.inc; the fused CUDA
// kernels, kernels/fused_cuda.cu). They depend on this list, not on the
// optimizers: a rule is the math alone. Several optimizers may share a rule
// (Adam and AdamW). optim/optimizers.h checks, at compile time, that every
// optimizer's Rule is listed here.

#include "optim/rules/adadelta.h"
#include "optim/rules/adagrad.h"
#include "optim/rules/adam.h"
#include "optim/rules/adamax.h"
#include "optim/rules/asgd.h"
#include "optim/rules/nadam.h"
#include "optim/rules/radam.h"
#include "optim/rules/rmsprop.h"
#include "optim/rules/rprop.h"
#include "optim/rules/sgd.h"
#include "optim/rules/sparse_adam.h"

#include <tuple>

// ADAPTIVE_RULES(X) calls X(Rule) once per rule, Rule in namespace adaptive.
#define ADAPTIVE_RULES(X) \
  X(AdamRule)             \
  X(RMSpropRule)          \
  X(AdagradRule)          \
  X(SGDRule)              \
  X(NAdamRule)            \
  X(RAdamRule)            \
  X(AdadeltaRule)         \
  X(AdamaxRule)           \
  X(ASGDRule)             \
  X(RpropRule)            \
  X(SparseAdamRule)

namespace adaptive {
namespace detail {
template <class First, class... Rest>
struct WithoutFirst {
  using type = std::tuple<Rest...>;
};
}  // namespace detail

#define ADAPTIVE_RULE_TYPE(Rule) , Rule
/// Every rule as a type list, std::tuple<AdamRule, RMSpropRule, ...>.
using Rules = typename detail::WithoutFirst<void ADAPTIVE_RULES(ADAPTIVE_RULE_TYPE)>::type;
#undef ADAPTIVE_RULE_TYPE

}  // namespace adaptive
