#pragma once
// The test registry: one entry per optimizer of optim/optimizers.h
// (tests/registry/<name>.h; what an entry holds: optimizer_info.h), and the
// ways the suites walk it. A suite that needs every optimizer iterates this;
// none keeps a list of its own.

#include "tests/registry/adadelta.h"
#include "tests/registry/adafactor.h"
#include "tests/registry/adagrad.h"
#include "tests/registry/adam.h"
#include "tests/registry/adamax.h"
#include "tests/registry/adamw.h"
#include "tests/registry/asgd.h"
#include "tests/registry/muon.h"
#include "tests/registry/nadam.h"
#include "tests/registry/optimizer_info.h"
#include "tests/registry/radam.h"
#include "tests/registry/rmsprop.h"
#include "tests/registry/rprop.h"
#include "tests/registry/sgd.h"
#include "tests/registry/sparse_adam.h"

#include <functional>
#include <memory>
#include <utility>
#include <string>
#include <tuple>
#include <vector>

namespace adaptive_test {

// What for_each_optimizer passes: the optimizer as a type, its entry, names.
template <class Opt>
struct Registered {
  using Optimizer = Opt;
  using Info = OptimizerInfo<Opt>;
  using Options = typename Info::Options;
  static_assert(std::is_same_v<Options, typename Opt::Options>, "an entry's Options must be its optimizer's");
  const char* name;  // the class name: "Adam"
  const char* flag;  // the examples' --optimizer value: "adam"
  int kind;          // its position in optim/optimizers.h
};

// Calls f(Registered<Opt>) for every optimizer, in the order of optim/optimizers.h.
template <class F>
void for_each_optimizer(F&& f) {
  int kind = 0;
#define ADAPTIVE_REGISTERED(Class, flag, ...) f(Registered<adaptive::Class>{#Class, #flag, kind++});
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_REGISTERED)
#undef ADAPTIVE_REGISTERED
}

// Calls f(state) with `entry`'s concrete State type (Adam and AdamW share
// one: once); returns false, calling nothing, for a state of no adaptive optimizer.
template <class F>
bool with_adaptive_state(torch::optim::OptimizerParamState& entry, F&& f) {
  bool done = false;
  for_each_optimizer([&](auto registered) {
    using State = typename decltype(registered)::Optimizer::State;
    if (auto* s = dynamic_cast<State*>(&entry); s != nullptr && !done) f(*s), done = true;
  });
  return done;
}

// Replaces the first defined tensor of `entry`'s fields by edit(it); returns
// the field's name and its old tensor (for undo_state_edit), or an empty name
// where the state holds no tensor.
std::pair<std::string, torch::Tensor> edit_state_tensor(torch::optim::OptimizerParamState& entry,
                                                         const std::function<torch::Tensor(const torch::Tensor&)>& edit);
// Puts back the tensor edit_state_tensor replaced.
void undo_state_edit(torch::optim::OptimizerParamState& entry, const std::pair<std::string, torch::Tensor>& edited);

// How many optimizers there are; a kind is a position in optim/optimizers.h.
inline constexpr int kKinds = static_cast<int>(std::tuple_size_v<adaptive::Optimizers>);

// The class name of `kind`.
std::string name_of_kind(int kind);

// Random options of every option `kind` has, the common ones included.
std::unique_ptr<torch::optim::OptimizerOptions> random_options(int kind, RandomCase& r);

// An optimizer of `kind` with one group per entry of `groups`, each with random options.
std::unique_ptr<torch::optim::Optimizer> random_optimizer(int kind, RandomCase& r,
                                                          const std::vector<std::vector<torch::Tensor>>& groups);

// Steps after which every branch of kind's rule has run (its entry's kStepsToEveryBranch).
int steps_to_every_branch(int kind);

// Whether kind's update is whole-tensor math (hooks::kTensorStep: Adafactor),
// whose reductions run in the memory order of its tensors, not elementwise.
bool reduces_whole_tensors(int kind);

// ---- What an optimizer takes (optim/core/hooks.h). Most take any strided
// parameter with a dense gradient; Muon takes only matrices
// (hooks::kMatricesOnly), SparseAdam only sparse gradients
// (hooks::kSparseOnly). A suite makes its parameters with shape_for and its
// gradients with gradient_for, so that every optimizer gets what it takes;
// where a suite cannot (a 4-D layout, a dense-only property), it leaves out
// the optimizers that do not take_any_parameter, and says so.

// Whether Opt takes any strided parameter with a dense gradient.
template <class Opt>
constexpr bool takes_any_parameter() {
  return !adaptive::hooks::takes_only_matrices<Opt>() && !adaptive::hooks::takes_only_sparse_gradients<Opt>();
}
bool takes_any_parameter(int kind);
// How many optimizers take any parameter.
int kinds_taking_any_parameter();

// `sizes` as Opt takes a parameter: a matrix where Opt takes only matrices
// ([n] → [1, n], [] → [1, 1], [a, b, c, ...] → [a, b·c·...]); else `sizes`.
template <class Opt>
std::vector<int64_t> shape_for(const std::vector<int64_t>& sizes) {
  if constexpr (!adaptive::hooks::takes_only_matrices<Opt>()) {
    return sizes;
  } else {
    if (sizes.empty()) return {1, 1};
    if (sizes.size() == 1) return {1, sizes[0]};
    int64_t rest = 1;
    for (size_t i = 1; i < sizes.size(); ++i) rest *= sizes[i];
    return {sizes[0], rest};
  }
}
std::vector<int64_t> shape_for(int kind, const std::vector<int64_t>& sizes);

// `grad` as Opt takes a gradient: sparse (every entry, coalesced) where Opt
// takes only sparse gradients; else `grad`.
template <class Opt>
torch::Tensor gradient_for(const torch::Tensor& grad) {
  if constexpr (adaptive::hooks::takes_only_sparse_gradients<Opt>()) {
    return grad.is_sparse() ? grad : grad.to_sparse().coalesce();
  } else {
    return grad;
  }
}
torch::Tensor gradient_for(int kind, const torch::Tensor& grad);

// The MLP problem's parameters (tests/test_support.h: W1, b1, W2, b2) in the
// two groups the suites step, {W1, b1} and {W2, b2}; only the weights,
// {W1} and {W2}, where Opt takes only matrices.
template <class Opt>
std::vector<std::vector<torch::Tensor>> mlp_groups(const std::vector<torch::Tensor>& params) {
  if constexpr (adaptive::hooks::takes_only_matrices<Opt>()) {
    return {{params[0]}, {params[2]}};
  } else {
    return {{params[0], params[1]}, {params[2], params[3]}};
  }
}

// Replaces every gradient of `params` by gradient_for<Opt> of it (sparse for SparseAdam).
template <class Opt>
void prepare_gradients(const std::vector<torch::Tensor>& params) {
  if constexpr (adaptive::hooks::takes_only_sparse_gradients<Opt>()) {
    for (torch::Tensor p : params) {  // a handle: its gradient is the parameter's
      if (p.grad().defined()) p.mutable_grad() = gradient_for<Opt>(p.grad());
    }
  }
}

// Whether any group of `optimizer` has options under which two correct
// evaluations of its rule may part without bound (entries' ill_conditioned).
bool ill_conditioned(torch::optim::Optimizer& optimizer);

}  // namespace adaptive_test
