#pragma once
// One parameter's preparation for a step, the one path every driver takes:
// its state found (or made, on its first step), completed for the options as
// they stand, and its step begun. OptimizerBase::update (the reference and
// CUDA drivers, and first steps) and the fused CPU set-up (fused_setup.h)
// both call these, so that a hook is honoured the same way on every path.

#include "optim/core/fields.h"
#include "optim/core/hooks.h"

#include <torch/optim/optimizer.h>

#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace adaptive {

/// The type of torch::optim::Optimizer::state().
using torch_state_map = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
/// The key type of Optimizer::state(): std::string up to LibTorch 2.1, the
/// TensorImpl pointer (void*) from 2.2 on.
using state_key_t = torch_state_map::key_type;

/// The key of `param`'s entry in state(), for any adaptive or torch::optim
/// optimizer, on every supported LibTorch: its TensorImpl address, printed
/// ("0x7f…") up to 2.1 and as the pointer itself from 2.2 on.
template <class Key = state_key_t>
Key state_key(const torch::Tensor& param) {
  if constexpr (std::is_same_v<Key, std::string>) {
    return detail::pointer_key(param.unsafeGetTensorImpl());
  } else {
    return param.unsafeGetTensorImpl();
  }
}

namespace detail {

/// A state tensor like `param` with every element `value`; for a complex
/// parameter, value + value·i: every element of its real view is `value`, as
/// torch.optim starts Adagrad's sums and Rprop's step sizes (complex(v, v)).
inline torch::Tensor filled_like(const torch::Tensor& param, double value) {
  torch::Tensor t = torch::empty_like(param, torch::MemoryFormat::Preserve);
  (t.is_complex() ? torch::view_as_real(t) : t).fill_(value);
  return t;
}

/// The shape init_state gives state field `member` of a parameter shaped
/// like `param` under `options`: the parameter's own for an elementwise
/// rule's state, another for Adafactor's factored moments. Made on a meta
/// tensor (nothing is allocated); called only where a state tensor's shape
/// is not the parameter's, so elementwise optimizers never pay for it.
template <class Derived, class Member>
std::vector<int64_t> state_shape(const torch::Tensor& param, Member member, const typename Derived::Options& options) {
  typename Derived::State made;
  Derived::init_state(made, torch::empty(param.sizes(), param.options().device(torch::kMeta)), options);
  const torch::Tensor& t = made.*member;
  return t.defined() ? t.sizes().vec() : param.sizes().vec();
}

/// "" where state tensor `value` (field `member`) fits a parameter shaped
/// like `param` under `options`, else what is wrong with it: "has shape [..]
/// but the parameter has shape [..]", and ", which takes state of shape [..]"
/// where that is not the parameter's (state_shape). The one shape check of a
/// state, for steps (StepChecks::check_state) and loads (CheckpointIO::load).
template <class Derived, class Member>
std::string state_shape_misfit(const torch::Tensor& value, const torch::Tensor& param, Member member,
                               const typename Derived::Options& options) {
  if (value.sizes() == param.sizes()) return "";
  const std::vector<int64_t> expected = state_shape<Derived>(param, member, options);
  if (value.sizes() == c10::IntArrayRef(expected)) return "";
  std::ostringstream text;
  text << "has shape " << value.sizes() << " but the parameter has shape " << param.sizes();
  if (param.sizes() != c10::IntArrayRef(expected)) text << ", which takes state of shape " << c10::IntArrayRef(expected);
  return text.str();
}

/// The state a step of `param` under `options` reads, for optimizer
/// `Derived`: `none` where the options keep no state (hooks::keeps_state);
/// else its entry in `states`, completed by init_state (which makes what
/// options switched on since its last step create); null where it has none
/// yet (its first step: made_state, on the step's own thread, since it
/// changes `states`).
template <class Derived>
typename Derived::State* existing_state(torch_state_map& states, const torch::Tensor& param,
                                        const typename Derived::Options& options, typename Derived::State& none) {
  using State = typename Derived::State;
  if (!hooks::keeps_state<Derived>(options)) return &none;
  const auto found = states.find(state_key(param));
  if (found == states.end()) return nullptr;
  State& state = static_cast<State&>(*found->second);  // its type: StepChecks::check_state
  // A model cast or moved after its first steps keeps its history, as a
  // checkpoint loaded into it would (CheckpointIO::load) and as
  // ShardedOptimizer does.
  detail::cast_state_like(state, param);
  Derived::init_state(state, param, options);
  return &state;
}

/// existing_state, or where there is none yet the new state of `param` in
/// `states` (as the built-ins make it: at its first step).
template <class Derived>
typename Derived::State& step_state(torch_state_map& states, const torch::Tensor& param,
                                    const typename Derived::Options& options, typename Derived::State& none) {
  using State = typename Derived::State;
  if (State* state = existing_state<Derived>(states, param, options, none)) return *state;
  auto& slot = states[state_key(param)];
  slot = std::make_unique<State>();
  State& state = static_cast<State&>(*slot);
  Derived::init_state(state, param, options);
  return state;
}

/// Begins the step of a parameter with `state` (hooks::begin_step: the step
/// count advances) and returns what tells its scalars apart among a step's
/// parameters: its group's options and its step.
template <class Derived>
std::pair<const void*, int64_t> begin_step(typename Derived::State& state, const torch::Tensor& param,
                                           const typename Derived::Options& options) {
  return {&options, hooks::begin_step<Derived>(state, param, options)};
}

}  // namespace detail
}  // namespace adaptive
