#pragma once
// The contract between an optimizer and the shell (OptimizerBase), checked at
// compile time: a missing or misspelled hook is an error that names the hook
// and its signature, not a silent default or a failure deep inside a driver.
//
// Required, every optimizer (adam.h is the model):
//   static constexpr const char* kName;          "adaptive::Adam"
//   using Rule = AdamRule;                       its update rule (optim/rules/), which says
//                                                whether it takes roots: static constexpr bool kTakesRoots
//   static void validate(const Options&);        its own option checks
//   static void init_state(State&, const torch::Tensor& param, const Options&);
//       create the state tensors the options need (idempotent)
//   static auto state_tensors(const State&);     std::tie of the rule's state tensors
//   template <class S> static Rule::Scalars<S> scalars(const Options&, const State&, GradientScalars<double>);
//       the rule's constants for the state's step
// (Rule, state_tensors and scalars: all but those listing kTensorStep, below.)
//
// Optional, each one used only where the optimizer lists it in
// `static constexpr unsigned kOptionalHooks = hooks::kKeepsState | ...;`.
// A hook defined but not listed, or listed but not defined (a misspelling),
// fails to compile; tests/compile_fail/ checks that it does.
//   kKeepsState       static bool keeps_state(const Options&): whether parameters
//                     keep state between steps (default: always; SGD: with momentum)
//   kBeginStep        static int64_t begin_step(State&, const torch::Tensor& param, const Options&):
//                     starts a parameter's step and returns what tells its scalars apart
//                     (default: advance and return state.step())
//   kSparseGradients  static void check_sparse(const Options&, const std::string& where)
//                     and Rule::apply_sparse: the optimizer takes sparse gradients
//                     (default: a clear error; Adagrad takes them)
//   kSparseOnly       no function: the optimizer takes only sparse gradients
//                     (a dense one is a clear error) and its Rule updates
//                     exactly the entries each one holds; the shell gathers
//                     those entries of the parameter and its state, runs the
//                     Rule on them on any driver and writes them back
//                     (core/sparse_entries.h; SparseAdam)
//   kRealOnly         no function: the optimizer refuses complex parameters,
//                     as its torch.optim namesake does (default: a complex
//                     parameter is updated as torch.optim does, through its
//                     real view, torch::view_as_real; SparseAdam refuses)
//   kMatricesOnly     no function: only 2-D parameters, as torch.optim.Muon
//                     (another is refused by name, at construction)
//   kTensorStep       static void tensor_step(State&, const torch::Tensor& param,
//                     const torch::Tensor& grad, const Options&): the update is
//                     not elementwise (Adafactor's row and column means), so it
//                     is written once on whole tensors and runs on every
//                     device as tensor ops; the shell hands it the gradient
//                     clipped and signed (maximize) and the state with its step
//                     begun. Such an optimizer defines no Rule, state_tensors or
//                     scalars, and `fused` changes nothing for it. Its state
//                     tensors may have other shapes than the parameter's: the
//                     checks take the shapes init_state makes.

#include <torch/types.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace adaptive {
namespace hooks {

/// The optional hooks, as the flags of an optimizer's kOptionalHooks.
enum Optional : unsigned {
  kKeepsState = 1u << 0,       ///< static bool keeps_state(const Options&)
  kBeginStep = 1u << 1,        ///< static int64_t begin_step(State&, const torch::Tensor&, const Options&)
  kSparseGradients = 1u << 2,  ///< static void check_sparse(const Options&, const std::string&), Rule::apply_sparse
  kSparseOnly = 1u << 3,       ///< only sparse gradients; the Rule runs on the entries they hold
  kRealOnly = 1u << 4,         ///< complex parameters refused (else updated through their real view)
  kTensorStep = 1u << 5,       ///< static void tensor_step(State&, const torch::Tensor&, const torch::Tensor&, const Options&)
  kMatricesOnly = 1u << 6,     ///< only 2-D parameters (Muon)
};

namespace detail {
template <class T>
using Options = typename T::Options;
template <class T>
using State = typename T::State;

// Each trait: whether D defines that hook with its signature.
template <class D, class = void>
struct HasName : std::false_type {};
template <class D>
struct HasName<D, std::enable_if_t<std::is_convertible_v<decltype(D::kName), const char*>>> : std::true_type {};

template <class D, class = void>
struct HasRule : std::false_type {};
template <class D>
struct HasRule<D, std::void_t<typename D::Rule>> : std::true_type {};

template <class D, class = void>
struct HasValidate : std::false_type {};
template <class D>
struct HasValidate<D, std::void_t<decltype(D::validate(std::declval<const Options<D>&>()))>> : std::true_type {};

template <class D, class = void>
struct HasInitState : std::false_type {};
template <class D>
struct HasInitState<D, std::void_t<decltype(D::init_state(std::declval<State<D>&>(), std::declval<const torch::Tensor&>(),
                                                          std::declval<const Options<D>&>()))>> : std::true_type {};

template <class D, class = void>
struct HasStateTensors : std::false_type {};
template <class D>
struct HasStateTensors<D, std::void_t<decltype(std::tuple_size<std::decay_t<decltype(D::state_tensors(
                                                   std::declval<const State<D>&>()))>>::value)>> : std::true_type {};

template <class D, class S, class Gradient, class = void>
struct HasScalars : std::false_type {};
template <class D, class S, class Gradient>
struct HasScalars<D, S, Gradient,
                  std::void_t<decltype(D::template scalars<S>(std::declval<const Options<D>&>(),
                                                              std::declval<const State<D>&>(), std::declval<Gradient>()))>>
    : std::true_type {};

template <class R, class = void>
struct RuleSaysWhetherItTakesRoots : std::false_type {};
template <class R>
struct RuleSaysWhetherItTakesRoots<R, std::enable_if_t<std::is_same_v<decltype(R::kTakesRoots), const bool>>>
    : std::true_type {};

template <class D, class = void>
struct ListedHooks : std::integral_constant<unsigned, 0> {};
template <class D>
struct ListedHooks<D, std::void_t<decltype(D::kOptionalHooks)>> : std::integral_constant<unsigned, D::kOptionalHooks> {};

template <class D, class = void>
struct HasKeepsState : std::false_type {};
template <class D>
struct HasKeepsState<D, std::enable_if_t<std::is_same_v<
                            decltype(D::keeps_state(std::declval<const Options<D>&>())), bool>>> : std::true_type {};

template <class D, class = void>
struct HasBeginStep : std::false_type {};
template <class D>
struct HasBeginStep<D, std::enable_if_t<std::is_same_v<decltype(D::begin_step(std::declval<State<D>&>(),
                                                                             std::declval<const torch::Tensor&>(),
                                                                             std::declval<const Options<D>&>())),
                                                       int64_t>>> : std::true_type {};

template <class D, class = void>
struct HasCheckSparse : std::false_type {};
template <class D>
struct HasCheckSparse<D, std::void_t<decltype(D::check_sparse(std::declval<const Options<D>&>(),
                                                              std::declval<const std::string&>()))>> : std::true_type {};

template <class D, class = void>
struct RuleHasApplySparse : std::false_type {};
template <class D>
struct RuleHasApplySparse<D, std::void_t<decltype(&D::Rule::apply_sparse)>> : std::true_type {};

template <class D, class = void>
struct HasTensorStep : std::false_type {};
template <class D>
struct HasTensorStep<D, std::void_t<decltype(D::tensor_step(std::declval<State<D>&>(), std::declval<const torch::Tensor&>(),
                                                            std::declval<const torch::Tensor&>(),
                                                            std::declval<const Options<D>&>()))>> : std::true_type {};

// A definition of a hook under its name, whatever its signature: tells a
// wrong signature from a missing hook.
template <class D, class = void>
struct NamesKeepsState : std::false_type {};
template <class D>
struct NamesKeepsState<D, std::void_t<decltype(&D::keeps_state)>> : std::true_type {};
template <class D, class = void>
struct NamesBeginStep : std::false_type {};
template <class D>
struct NamesBeginStep<D, std::void_t<decltype(&D::begin_step)>> : std::true_type {};
template <class D, class = void>
struct NamesTensorStep : std::false_type {};
template <class D>
struct NamesTensorStep<D, std::void_t<decltype(&D::tensor_step)>> : std::true_type {};
template <class D, class = void>
struct NamesCheckSparse : std::false_type {};
template <class D>
struct NamesCheckSparse<D, std::void_t<decltype(&D::check_sparse)>> : std::true_type {};
}  // namespace detail

/// The optional hooks `D` lists (0 when it has no kOptionalHooks).
template <class D>
constexpr unsigned listed = detail::ListedHooks<D>::value;

/// Whether `D` lists optional hook `hook`.
template <class D>
constexpr bool lists(Optional hook) {
  return (listed<D> & hook) != 0;
}

/// Checks `D` against the contract at the top of this file; OptimizerBase
/// calls it where D is complete (its constructor). Each failure says which
/// hook and how it must be written.
template <class D, class GradientScalarsDouble>
constexpr bool check_contract() {
  static_assert(detail::HasName<D>::value,
                "adaptive optimizer contract: define static constexpr const char* kName (e.g. \"adaptive::Adam\")");
  static_assert(detail::HasValidate<D>::value,
                "adaptive optimizer contract: define static void validate(const Options&)");
  static_assert(detail::HasInitState<D>::value,
                "adaptive optimizer contract: define static void init_state(State&, const torch::Tensor&, const "
                "Options&)");
  static_assert((listed<D> & ~unsigned{kKeepsState | kBeginStep | kSparseGradients | kSparseOnly | kRealOnly |
                                       kTensorStep | kMatricesOnly}) == 0,
                "adaptive optimizer contract: kOptionalHooks lists a flag that is no optional hook (hooks.h)");
  if constexpr (lists<D>(kTensorStep)) {
    // Whole-tensor math: no elementwise rule, so none of its hooks.
    static_assert(detail::HasTensorStep<D>::value,
                  "adaptive optimizer contract: kOptionalHooks lists hooks::kTensorStep, but the optimizer defines no "
                  "static void tensor_step(State&, const torch::Tensor& param, const torch::Tensor& grad, const "
                  "Options&) (misspelled?)");
    static_assert(!lists<D>(kSparseGradients) && !lists<D>(kSparseOnly),
                  "adaptive optimizer contract: hooks::kTensorStep takes dense gradients only; it cannot be listed "
                  "with hooks::kSparseGradients or hooks::kSparseOnly");
  } else {
    static_assert(!detail::NamesTensorStep<D>::value,
                  "adaptive optimizer contract: tensor_step is defined but not listed in kOptionalHooks "
                  "(add hooks::kTensorStep), so the shell would not call it");
    static_assert(detail::HasRule<D>::value, "adaptive optimizer contract: define using Rule = ...; (optim/rules/)");
    static_assert(detail::RuleSaysWhetherItTakesRoots<typename D::Rule>::value,
                  "adaptive rule contract: the Rule defines static constexpr bool kTakesRoots (whether apply() takes "
                  "ew::sqrt)");
    static_assert(detail::HasStateTensors<D>::value,
                  "adaptive optimizer contract: define static auto state_tensors(const State&) returning std::tie of "
                  "the rule's state tensors");
    static_assert(detail::HasScalars<D, double, GradientScalarsDouble>::value &&
                      detail::HasScalars<D, float, GradientScalarsDouble>::value,
                  "adaptive optimizer contract: define template <class S> static Rule::Scalars<S> scalars(const "
                  "Options&, const State&, GradientScalars<double>)");
  }

  static_assert(!lists<D>(kKeepsState) || detail::HasKeepsState<D>::value,
                "adaptive optimizer contract: kOptionalHooks lists hooks::kKeepsState, but the optimizer defines no "
                "static bool keeps_state(const Options&) (misspelled?)");
  static_assert(lists<D>(kKeepsState) || !detail::NamesKeepsState<D>::value,
                "adaptive optimizer contract: keeps_state is defined but not listed in kOptionalHooks "
                "(add hooks::kKeepsState), so the shell would not call it");
  static_assert(!lists<D>(kBeginStep) || detail::HasBeginStep<D>::value,
                "adaptive optimizer contract: kOptionalHooks lists hooks::kBeginStep, but the optimizer defines no "
                "static int64_t begin_step(State&, const torch::Tensor&, const Options&) (misspelled?)");
  static_assert(lists<D>(kBeginStep) || !detail::NamesBeginStep<D>::value,
                "adaptive optimizer contract: begin_step is defined but not listed in kOptionalHooks "
                "(add hooks::kBeginStep), so the shell would not call it");
  static_assert(!lists<D>(kSparseGradients) ||
                    (detail::HasCheckSparse<D>::value && detail::RuleHasApplySparse<D>::value),
                "adaptive optimizer contract: kOptionalHooks lists hooks::kSparseGradients, but the optimizer "
                "defines no static void check_sparse(const Options&, const std::string&) or its Rule no "
                "apply_sparse (misspelled?)");
  static_assert(lists<D>(kSparseGradients) || !detail::NamesCheckSparse<D>::value,
                "adaptive optimizer contract: check_sparse is defined but not listed in kOptionalHooks "
                "(add hooks::kSparseGradients), so the shell would not call it");
  static_assert(!(lists<D>(kSparseOnly) && lists<D>(kSparseGradients)),
                "adaptive optimizer contract: kOptionalHooks lists both hooks::kSparseOnly (the shell runs the Rule "
                "on a sparse gradient's entries) and hooks::kSparseGradients (Rule::apply_sparse does): list one");
  return true;
}

/// Whether `D` takes sparse gradients (hooks::kSparseGradients or hooks::kSparseOnly).
template <class D>
constexpr bool takes_sparse_gradients() {
  return lists<D>(kSparseGradients) || lists<D>(kSparseOnly);
}

/// Whether `D` takes complex parameters (all but those listing hooks::kRealOnly).
template <class D>
constexpr bool takes_complex_parameters() {
  return !lists<D>(kRealOnly);
}

/// Whether `D` takes only 2-D parameters (hooks::kMatricesOnly).
template <class D>
constexpr bool takes_only_matrices() {
  return lists<D>(kMatricesOnly);
}

/// Whether `D`'s update is whole-tensor math (hooks::kTensorStep) rather than an elementwise Rule.
template <class D>
constexpr bool steps_whole_tensors() {
  return lists<D>(kTensorStep);
}

/// Whether `D` takes only sparse gradients (hooks::kSparseOnly).
template <class D>
constexpr bool takes_only_sparse_gradients() {
  return lists<D>(kSparseOnly);
}

/// keeps_state of `D` where it lists it; else every parameter keeps state.
template <class D>
bool keeps_state(const typename D::Options& options) {
  if constexpr (lists<D>(kKeepsState)) {
    return D::keeps_state(options);
  } else {
    return true;
  }
}

/// What a begin_step hook returns when its step's scalars depend on two
/// doubles of the state (NAdam: Πₜ and t; ASGD: ηₜ and μₜ): their bits mixed,
/// so that parameters of a group share scalars exactly when they agree.
inline int64_t scalars_key(double a, double b) {
  uint64_t a_bits, b_bits;
  std::memcpy(&a_bits, &a, sizeof a_bits);
  std::memcpy(&b_bits, &b, sizeof b_bits);
  return static_cast<int64_t>(a_bits ^ (b_bits * 0x9E3779B97F4A7C15ull));
}

/// begin_step of `D` where it lists it; else the step count advances, and
/// this step's scalars are told apart by it.
template <class D>
int64_t begin_step(typename D::State& state, const torch::Tensor& param, const typename D::Options& options) {
  if constexpr (lists<D>(kBeginStep)) {
    return D::begin_step(state, param, options);
  } else {
    state.step(state.step() + 1);
    return state.step();
  }
}

}  // namespace hooks
}  // namespace adaptive
