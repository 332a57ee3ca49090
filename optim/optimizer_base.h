#pragma once
// The shell every adaptive optimizer shares; see OptimizerBase. An optimizer
// (adam.h is the model) supplies only what is its own:
//
//   static constexpr const char* kName;                 "adaptive::Adam"
//   using Rule = AdamRule;                              its update rule (optim/rules/)
//   static void validate(const Options&);               its own option checks
//   static void init_state(State&, const Tensor& p, const Options&);
//       create the state tensors the options need (idempotent)
//   optionally keeps_state and begin_step (see below), for an optimizer
//       whose state has no step count or exists only for some options (SGD)
//   static auto state_tensors(const State&);            std::tie of the rule's state tensors
//   template <class S> static Rule::Scalars<S> scalars(const Options&, const State&, GradientScalars<double>);
//       the rule's constants for the state's step
//
// and is listed once in optim/optimizers.h.

#include "optim/clip.h"
#include "optim/compat.h"
#include "optim/fields.h"
#include "optim/kernels/dispatch.h"
#include "optim/kernels/dtype_support.h"
#include "optim/kernels/fused_cpu.h"
#include "optim/options_cast.h"
#include "optim/rules/gradient.h"
#include "optim/validation.h"

#include <c10/util/Optional.h>
#include <c10/util/irange.h>
#include <torch/optim/optimizer.h>
#include <torch/optim/serialize.h>
#include <torch/serialize/archive.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <algorithm>
#include <atomic>
#include <tuple>
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
/// Runs a step's closure, if given, with grad enabled (a step runs under no_grad).
inline torch::Tensor run_closure(const torch::optim::Optimizer::LossClosure& closure) {
  if (!closure) return {};
  torch::AutoGradMode enable_grad(true);
  return closure();
}
}  // namespace detail

/// The shell every adaptive optimizer shares: checks, closure handling, state
/// lookup, gradient clipping, save and load. An optimizer derives from it
/// (CRTP) and supplies only what is its own: `kName`, `Rule`, `validate`,
/// `init_state`, `state_tensors` and `scalars` (see the top of this file).
template <class Derived, class OptionsT, class StateT>
class OptimizerBase : public torch::optim::Optimizer {
 public:
  using Options = OptionsT;                             ///< e.g. AdamOptions
  using State = StateT;                                 ///< e.g. AdamParamState
  using ParamGroup = torch::optim::OptimizerParamGroup;  ///< as in torch::optim

  /// Whether the optimizer takes sparse gradients (default: no, a clear
  /// error). One that does (Adagrad) defines check_sparse(options, where),
  /// which refuses options sparse gradients cannot have, and Rule::apply_sparse.
  static constexpr bool kSparseGradients = false;

  /// Runs `closure` (with grad enabled) if given, then updates every parameter
  /// that has a gradient. Everything is checked before anything is written: on
  /// an error no parameter or state has changed.
  torch::Tensor step(LossClosure closure = nullptr) override {
    torch::NoGradGuard no_grad;
    const torch::Tensor loss = detail::run_closure(closure);
    std::vector<std::vector<torch::Tensor>> grads = checked_gradients(param_groups_, &unique_params_);
    const std::vector<torch::Tensor> dropped = skip_nonfinite_groups(param_groups_, grads, skipped_steps_);
    std::vector<GroupGradient> gradient = gradient_scalars(grads, dropped);
    kernels::StepBatch<typename Derived::Rule> fused;
    for (const auto& [gi, pi] : set_up_fused_cpu(grads, gradient, fused.cpu)) {
      const Options& options = options_at(gi);
      const torch::Tensor& param = param_groups_[gi].params()[pi];
      if (Derived::keeps_state(options)) {
        update(param, grads[gi][pi], state_for(param, options), options, gradient[gi], fused);
      } else {
        State none;  // this step needs no state and leaves none, as the built-in
        update(param, grads[gi][pi], none, options, gradient[gi], fused);
      }
    }
    fused.run();  // every fused CPU tensor in one parallel pass, the CUDA ones in a few launches
    return loss;
  }

  /// Checks the group (options, parameters) and adds it with its own options
  /// (a copy), or a copy of the defaults when it has none. Hides
  /// Optimizer::add_param_group (not virtual), which from LibTorch 2.9 on
  /// replaces options of any type but the built-ins' own with the defaults: a
  /// group added through a torch::optim::Optimizer& gets the defaults there
  /// (its parameters are still checked at the start of step()).
  void add_param_group(const ParamGroup& group) {
    ParamGroup candidate(group.params(), group.has_options() ? group.options().clone() : defaults_->clone());
    check_options(detail::options_as<Options>(candidate.options(), Derived::kName, param_groups_.size()));
    check_params(param_groups_, &candidate);
    for (const auto pi : c10::irange(candidate.params().size())) {
      TORCH_CHECK(candidate.params()[pi].is_leaf(), Derived::kName, ": parameter ", pi, " of group ",
                  param_groups_.size(), " is not a leaf tensor (computed from others); only leaves can be optimized");
    }
    param_groups_.push_back(std::move(candidate));
  }

  /// Checks every option of `o` (common and the optimizer's own); throws
  /// c10::Error naming the option and value.
  static void check_options(const Options& o) {
    detail::check_non_negative(Derived::kName, "clip_grad_norm", o.clip_grad_norm());
    detail::check_non_negative(Derived::kName, "clip_grad_value", o.clip_grad_value());
    Derived::validate(o);
  }

  /// Whether the fused CPU driver takes a step of `param` with `grad` and
  /// `state` as they stand: fused options, a dense gradient, and every tensor
  /// one kernels::fused_eligible takes (CPU, float32 or float64, contiguous).
  /// Public for tools that build fused jobs themselves (the benchmark's
  /// kernel-only side): they take exactly the parameters step() would.
  static bool fused_cpu_takes(const Options& options, const torch::Tensor& param, const torch::Tensor& grad,
                              const State& state) {
    if (!options.fused() || !grad.defined() || grad.layout() != torch::kStrided) return false;
    return std::apply([&](const auto&... tensors) { return kernels::fused_eligible(param, grad, {tensors...}); },
                      Derived::state_tensors(state));
  }

  /// Points parameter `pi` of group `gi` at `param` (same shape) instead, its
  /// state following it, cast to `param`'s dtype and device. For wrappers
  /// whose parameters are views that must be re-made (ShardedOptimizer).
  void replace_param(size_t gi, size_t pi, const torch::Tensor& param) {
    TORCH_CHECK(gi < param_groups_.size() && pi < param_groups_[gi].params().size(), Derived::kName,
                ": replace_param: no parameter ", pi, " in group ", gi);
    torch::Tensor& old = param_groups_[gi].params()[pi];
    TORCH_CHECK(param.sizes() == old.sizes(), Derived::kName, ": replace_param: parameter ", pi, " of group ", gi,
                " has shape ", old.sizes(), ", the replacement ", param.sizes());
    const auto found = state_.find(state_key(old));
    if (found != state_.end()) {
      auto state = std::move(found->second);
      state_.erase(found);
      detail::cast_state_like(static_cast<State&>(*state), param);
      state_[state_key(param)] = std::move(state);
    }
    old = param;
  }

  /// How many group steps skip_nonfinite has skipped so far (all groups).
  int64_t skipped_steps() const { return skipped_steps_; }

  /// Computes the gradient norms step() clips with (see set_grad_norm_source).
  using GradNormSource = std::function<GradNorms()>;
  /// Where step() takes the gradient norms for clipping from, instead of this
  /// optimizer's own gradients: for an optimizer that steps one part of a
  /// larger model (ShardedOptimizer), whose clipping norm is the whole
  /// model's. Called once per step() that clips by norm; empty: the default.
  void set_grad_norm_source(GradNormSource source) { norm_source_ = std::move(source); }

  /// The global L2 norm of the gradients as step() received them (before any
  /// clipping), over all groups, those of groups skip_nonfinite skipped
  /// included (so NaN or inf when it skipped); set by step() when any group
  /// clips by norm.
  /// When the norm stayed on the GPU (see README: synchronization), reading
  /// it here is what waits for the GPU.
  c10::optional<double> last_grad_norm() const {
    if (last_grad_norm_on_device_.defined()) return last_grad_norm_on_device_.item<double>();
    return last_grad_norm_;
  }

  /// torch::optim's format (layout, state fields and option names), plus the
  /// extra options: torch::optim::X can read what this writes, and this reads
  /// what torch::optim::X wrote, on LibTorch 1.13 and 2.x alike. Parameters
  /// are keyed by their address in decimal, as 2.x's built-ins write it: 1.13's
  /// built-ins match keys as strings and 2.x's parse them as decimal numbers,
  /// so both read it (1.13's own "0x…" keys parse as 0 in 2.x's loader).
  void save(torch::serialize::OutputArchive& archive) const override {
    using torch::serialize::OutputArchive;
    const auto key = [](const torch::Tensor& p) {
      return std::to_string(reinterpret_cast<uintptr_t>(p.unsafeGetTensorImpl()));
    };
    archive.write("pytorch_version", c10::IValue("1.5.0"));  // the format's version, as the built-ins write it
    OutputArchive state_archive(archive.compilation_unit()), groups_archive(archive.compilation_unit());
    groups_archive.write("param_groups/size", torch::tensor(static_cast<int64_t>(param_groups_.size())));
    for (const auto gi : c10::irange(param_groups_.size())) {
      const auto& params = param_groups_[gi].params();
      OutputArchive group_archive(archive.compilation_unit()), options_archive(archive.compilation_unit());
      group_archive.write("params/size", torch::tensor(static_cast<int64_t>(params.size())));
      for (const auto pi : c10::irange(params.size())) {
        group_archive.write("params/" + std::to_string(pi), c10::IValue(key(params[pi])));
        const auto found = state_.find(state_key(params[pi]));
        if (found == state_.end()) continue;  // no step yet
        OutputArchive param_archive(archive.compilation_unit());
        static_cast<const State&>(*found->second).serialize(param_archive);
        state_archive.write(key(params[pi]), param_archive);
      }
      options_at(gi).serialize(options_archive);
      group_archive.write("options", options_archive);
      groups_archive.write("param_groups/" + std::to_string(gi), group_archive);
    }
    archive.write("state", state_archive);
    archive.write("param_groups", groups_archive);
    // Extra entries the built-ins ignore: resuming keeps the count, and
    // another adaptive optimizer refuses the file by name, also where the
    // options cannot tell (AdamW's are a subset of Adam's).
    archive.write(kSkippedStepsKey, torch::tensor(skipped_steps_));
    archive.write(kWriterKey, c10::IValue(std::string(Derived::kName)));
  }

  /// Restores state and, as PyTorch's load_state_dict does, the options of
  /// each group. All-or-nothing: the checkpoint is checked against this
  /// optimizer (group count, parameter counts, state shapes, option values)
  /// before anything changes.
  void load(torch::serialize::InputArchive& archive) override;

  /// Optimizes `param_groups`; groups without options use `defaults`. Checks
  /// `defaults` and adds each group (add_param_group). Optimizers inherit
  /// both constructors (using OptimizerBase::OptimizerBase).
  explicit OptimizerBase(std::vector<ParamGroup> param_groups, const Options& defaults = {})
      : Optimizer(std::vector<ParamGroup>{}, std::make_unique<Options>(defaults)) {
    size_t param_count = 0;
    for (const auto& group : param_groups) param_count += group.params().size();
    TORCH_CHECK(param_count > 0, Derived::kName, " got an empty parameter list (", param_groups.size(),
                " groups, 0 parameters): there is nothing to optimize");
    check_options(defaults);
    for (const auto& group : param_groups) add_param_group(group);
  }
  /// Optimizes `params` as one group with `defaults`.
  explicit OptimizerBase(std::vector<torch::Tensor> params, const Options& defaults = {})
      : OptimizerBase(std::vector<ParamGroup>{ParamGroup(std::move(params))}, defaults) {}

 protected:

  /// Group `gi`'s options with their concrete type; a c10::Error naming the
  /// group and both types when they are of another (options_cast.h).
  Options& options_at(size_t gi) { return detail::options_as<Options>(param_groups_[gi].options(), Derived::kName, gi); }
  /// \copydoc options_at(size_t)
  const Options& options_at(size_t gi) const { return options_of(param_groups_, gi); }

  /// One step of one parameter: the step count advances, then the rule runs
  /// now on the reference driver or is queued on `fused` (kernels/dispatch.h).
  /// (A template only because Derived is incomplete where this class is.)
  template <class Batch>
  static void update(const torch::Tensor& param, const torch::Tensor& grad, State& state, const Options& options,
                     GroupGradient& gradient, Batch& fused) {
    const int64_t key = Derived::begin_step(state, param, options);
    if constexpr (Derived::kSparseGradients) {
      if (grad.is_sparse()) {  // coalesced by checked_gradients; tensor ops only
        const auto scalars = Derived::template scalars<double>(options, state, gradient.host());
        std::apply([&](const auto&... tensors) { Derived::Rule::apply_sparse(scalars, param, grad, tensors...); },
                   Derived::state_tensors(state));
        return;
      }
    }
    std::apply(
        [&](const auto&... tensors) {
          kernels::run_step<typename Derived::Rule>(
              options.fused(), param, grad, fused, {&options, key}, gradient.coefficient,
              [&](auto e, bool on_device) {
                return Derived::template scalars<decltype(e)>(options, state,
                                                              on_device ? gradient.scalars : gradient.host());
              },
              tensors...);
        },
        Derived::state_tensors(state));
  }

  /// Whether parameters under `options` keep state between steps. Always,
  /// unless an optimizer says otherwise (SGD: only with momentum).
  static bool keeps_state(const Options&) { return true; }

  /// Starts one step of a parameter: advances the step count. Returns what
  /// tells this step's scalars apart among a group's parameters (the step).
  /// An optimizer without a step count (SGD) defines its own.
  static int64_t begin_step(State& state, const torch::Tensor&, const Options&) {
    state.step(state.step() + 1);
    return state.step();
  }

  /// The state of `param`, created on first use (as the built-ins do).
  State& state_for(const torch::Tensor& param, const Options& options) {
    auto& slot = state_[state_key(param)];
    if (!slot) slot = std::make_unique<State>();
    State& state = static_cast<State&>(*slot);
    Derived::init_state(state, param, options);
    return state;
  }

 private:
  static constexpr const char* kSkippedStepsKey = "adaptive/skipped_steps";
  static constexpr const char* kWriterKey = "adaptive/optimizer";  // the kName of who wrote it
  static constexpr const char* kSameAlgorithm =
      " (an optimizer loads checkpoints of its own algorithm: its own or the torch::optim built-in's)";

 public:
  /// The parameters of some groups, as their TensorImpl addresses in order.
  using ParamList = std::vector<const void*>;

  /// Checks that every parameter of `groups` (plus `extra`, a group about to
  /// be added, when given) is a defined floating-point tensor that appears
  /// once; throws c10::Error naming the group and index. `known_unique`, when
  /// given, is the list last found free of duplicates: an unchanged list skips
  /// the search for them (a sort, as costly as updating thousands of small
  /// tensors), and a new list that passes replaces it.
  static void check_params(const std::vector<ParamGroup>& groups, const ParamGroup* extra = nullptr,
                           ParamList* known_unique = nullptr) {
    ParamList order;
    for (const auto gi : c10::irange(groups.size() + (extra ? 1 : 0))) {
      const auto& params = listed(groups, extra, gi);
      for (const auto pi : c10::irange(params.size())) {
        check_param(params[pi], gi, pi);
        order.push_back(params[pi].unsafeGetTensorImpl());
      }
    }
    check_unique(groups, std::move(order), known_unique, extra);
  }

  /// The parameters of group `gi` of `groups`, then of `extra`.
  static const std::vector<torch::Tensor>& listed(const std::vector<ParamGroup>& groups, const ParamGroup* extra,
                                                  size_t gi) {
    if (gi < groups.size()) return groups[gi].params();
    // Callers stop at groups.size() without `extra`; said here, GCC 12 no
    // longer warns (-Wnonnull) that extra may be null where it is inlined.
    TORCH_INTERNAL_ASSERT(extra != nullptr && gi == groups.size());
    return extra->params();
  }

  /// Checks that `order` (the parameters of `groups`, then of `extra`, as
  /// TensorImpl addresses) lists each once; as check_params.
  static void check_unique(const std::vector<ParamGroup>& groups, ParamList order, ParamList* known_unique,
                           const ParamGroup* extra = nullptr) {
    if (known_unique != nullptr && *known_unique == order) return;
    // (address, group, index) of every parameter; sorted, duplicates are neighbours.
    std::vector<std::tuple<const void*, size_t, size_t>> seen;
    seen.reserve(order.size());
    for (const auto gi : c10::irange(groups.size() + (extra ? 1 : 0))) {
      for (const auto pi : c10::irange(listed(groups, extra, gi).size())) seen.emplace_back(order[seen.size()], gi, pi);
    }
    std::sort(seen.begin(), seen.end());
    for (size_t i = 1; i < seen.size(); ++i) {
      TORCH_CHECK(std::get<0>(seen[i]) != std::get<0>(seen[i - 1]), Derived::kName, ": parameter ",
                  std::get<2>(seen[i]), " of group ", std::get<1>(seen[i]), " appears more than once in this optimizer");
    }
    if (known_unique != nullptr) *known_unique = std::move(order);
  }

  /// \name The step's checks and whole-model decisions, over any groups
  /// step() runs these on its own groups; a wrapper that steps a part of a
  /// model (ShardedOptimizer) runs them on the whole model's, so that it
  /// checks, skips and clips exactly as the unsharded optimizer does.
  ///@{

  /// Group `gi`'s options with their concrete type, or a c10::Error naming
  /// the group and both types (options_cast.h).
  static const Options& options_of(const std::vector<ParamGroup>& groups, size_t gi) {
    return detail::options_as<Options>(groups[gi].options(), Derived::kName, gi);
  }

  /// Every group's options and every (param, grad) pair, checked up front.
  /// The result holds, per group and parameter, the gradient (a sparse one
  /// coalesced) or an undefined tensor for parameters to skip.
  /// `known_unique`: as for check_params.
  static std::vector<std::vector<torch::Tensor>> checked_gradients(const std::vector<ParamGroup>& groups,
                                                                   ParamList* known_unique = nullptr) {
    // The checks run on ATen's threads: on one thread, those of 2,000
    // tensors of 500 elements took 0.13 ms of a 0.73 ms step, 0.24 of 1.3
    // after another pass through the caches. Any error, or a sparse gradient
    // (coalesced in order), and they run again one after another, which
    // throw the first error in order.
    std::vector<size_t> offsets{0};
    for (const auto& group : groups) offsets.push_back(offsets.back() + group.params().size());
    ParamList order(offsets.back());
    std::vector<std::vector<torch::Tensor>> grads(groups.size());
    for (const auto gi : c10::irange(groups.size())) grads[gi].resize(groups[gi].params().size());
    std::atomic<bool> again{false};
    const auto check = [&](int64_t begin, int64_t end) {
      size_t gi = std::upper_bound(offsets.begin(), offsets.end(), static_cast<size_t>(begin)) - offsets.begin() - 1;
      c10::optional<std::pair<at::ScalarType, at::DeviceType>> supported;
      try {
        for (auto k = static_cast<size_t>(begin); k < static_cast<size_t>(end); ++k) {
          while (k >= offsets[gi + 1]) ++gi;
          const size_t pi = k - offsets[gi];
          const torch::Tensor& p = groups[gi].params()[pi];
          check_param(p, gi, pi);
          order[k] = p.unsafeGetTensorImpl();
          torch::Tensor& g = grads[gi][pi];
          g = p.grad();
          if (!g.defined()) continue;
          if (g.is_sparse()) {
            again = true;
            return;
          }
          check_gradient(p, g, gi, pi, supported);
        }
      } catch (const c10::Error&) {
        again = true;
      }
    };
    if (checks_in_parallel(groups)) {
      kernels::parallel_for(static_cast<int64_t>(order.size()), kSetupGrain, check);
    } else {
      check(0, static_cast<int64_t>(order.size()));
    }
    if (again) return checked_gradients_in_order(groups, known_unique);
    check_unique(groups, std::move(order), known_unique);
    for (const auto gi : c10::irange(groups.size())) check_options(options_of(groups, gi));
    return grads;
  }

 private:
  /// Whether the step's checks run on ATen's threads, judged by the first
  /// parameter: yes on the CPU, and for CUDA tensors the fused CUDA driver
  /// takes (a step of a few launches, where the checks of thousands of
  /// tensors are much of the host's work). No where the tensor-op driver
  /// runs on a GPU (fused(false), channels-last): that step is bound by its
  /// kernel launches, about 5 µs each, the checks take about 0.05 µs a
  /// tensor, and waking ATen's threads every step slowed the launches. On an
  /// H200 (16 threads), its steps ran at 0.72-0.96x the built-in's speed on
  /// 400 x 20k float32 that way, and at 0.96-1.19x on one thread.
  static bool checks_in_parallel(const std::vector<ParamGroup>& groups) {
    for (const auto& group : groups) {
      if (group.params().empty()) continue;
      const torch::Tensor& p = group.params().front();
      if (!p.defined() || p.is_cpu() || !group.has_options()) return true;  // (undefined: the checks throw)
      const auto* options = dynamic_cast<const Options*>(&group.options());
      return options == nullptr || (options->fused() && kernels::cuda_fused_eligible(p, p, {}));
    }
    return true;
  }

  /// Checks parameter `pi` of group `gi`: a defined floating-point tensor.
  static void check_param(const torch::Tensor& p, size_t gi, size_t pi) {
    TORCH_CHECK(p.defined(), Derived::kName, ": parameter ", pi, " of group ", gi, " is an undefined tensor");
    TORCH_CHECK(p.is_floating_point(), Derived::kName, ": parameter ", pi, " of group ", gi, " has dtype ",
                p.scalar_type(), "; only floating-point parameters can be optimized");
  }

  /// Checks the (defined) gradient `g` of parameter `pi` of group `gi`, `p`:
  /// dense unless the optimizer takes sparse ones, of p's shape, dtype and
  /// device, in a dtype this LibTorch can update there. `supported`: the
  /// dtype and device type last found supported, which skips that lookup
  /// (models hold one or two: it runs a few times per step, not per tensor).
  static void check_gradient(const torch::Tensor& p, const torch::Tensor& g, size_t gi, size_t pi,
                             c10::optional<std::pair<at::ScalarType, at::DeviceType>>& supported) {
    TORCH_CHECK(!g.is_sparse() || Derived::kSparseGradients, Derived::kName,
                " does not support sparse gradients (parameter ", pi, " of group ", gi, ")");
    TORCH_CHECK(g.sizes() == p.sizes(), Derived::kName, ": gradient of parameter ", pi, " of group ", gi,
                " has shape ", g.sizes(), " but the parameter has shape ", p.sizes());
    TORCH_CHECK(g.scalar_type() == p.scalar_type() && g.device() == p.device(), Derived::kName,
                ": gradient of parameter ", pi, " of group ", gi, " is ", g.scalar_type(), " on ", g.device(),
                " but the parameter is ", p.scalar_type(), " on ", p.device());
    const auto kind = std::make_pair(p.scalar_type(), p.device().type());
    if (kind == supported) return;
    const std::string unsupported = kernels::unsupported_reason(p.scalar_type(), p.device());
    TORCH_CHECK(unsupported.empty(), Derived::kName, ": parameter ", pi, " of group ", gi, " has dtype ",
                p.scalar_type(), ", which this LibTorch cannot update on ", p.device().type(), " (", unsupported,
                "); nothing was updated: use float32 or float64 parameters there");
    supported = kind;
  }

  /// checked_gradients, one parameter after another: each check in the order
  /// of the parameters, each error (the first) with its own message.
  static std::vector<std::vector<torch::Tensor>> checked_gradients_in_order(const std::vector<ParamGroup>& groups,
                                                                            ParamList* known_unique) {
    check_params(groups, nullptr, known_unique);
    std::vector<std::vector<torch::Tensor>> grads(groups.size());
    c10::optional<std::pair<at::ScalarType, at::DeviceType>> supported;  // see check_gradient
    for (const auto gi : c10::irange(groups.size())) {
      check_options(options_of(groups, gi));
      grads[gi].reserve(groups[gi].params().size());
      for (const auto pi : c10::irange(groups[gi].params().size())) {
        const torch::Tensor& p = groups[gi].params()[pi];
        const torch::Tensor& g = p.grad();
        grads[gi].push_back(g);
        if (!g.defined()) continue;
        check_gradient(p, g, gi, pi, supported);
        if constexpr (Derived::kSparseGradients) {
          if (g.is_sparse()) {
            Derived::check_sparse(options_of(groups, gi),
                                  "parameter " + std::to_string(pi) + " of group " + std::to_string(gi));
            grads[gi].back() = g.coalesce();  // the update reads each entry once
          }
        }
      }
    }
    return grads;
  }

 public:
  /// The values a gradient holds: a dense one itself, a sparse (coalesced)
  /// one its values, each entry once; finiteness and norms read these.
  static torch::Tensor stored_values(const torch::Tensor& g) { return g.is_sparse() ? g._values() : g; }

  /// A group with skip_nonfinite and a NaN or ±inf gradient takes no step:
  /// its gradients (in `grads`, from checked_gradients) are dropped here,
  /// before clipping, so that it is left exactly as it was and does not
  /// poison the global norm of the others. Adds the groups skipped to
  /// `skipped_steps`; returns the dropped gradients' values.
  static std::vector<torch::Tensor> skip_nonfinite_groups(const std::vector<ParamGroup>& groups,
                                                          std::vector<std::vector<torch::Tensor>>& grads,
                                                          int64_t& skipped_steps) {
    std::vector<torch::Tensor> dropped;
    for (const auto gi : c10::irange(groups.size())) {
      if (!options_of(groups, gi).skip_nonfinite()) continue;
      bool finite = true;
      for (const auto& g : grads[gi]) {
        if (g.defined() && !at::isfinite(stored_values(g)).all().item().toBool()) finite = false;
      }
      if (finite) continue;
      for (auto& g : grads[gi]) {
        if (g.defined()) dropped.push_back(stored_values(g));
        g = torch::Tensor();
      }
      ++skipped_steps;
    }
    return dropped;
  }

  /// What norm clipping reads: the values of the gradients a step updates
  /// (`grads` after skip_nonfinite_groups), each with its group's
  /// clip_grad_value (value clipping comes first), whether any group clips
  /// by norm, and whether every group is fused (then the norm may be
  /// reduced in one fused pass). The lists are empty when no group clips by
  /// norm: nothing reads them then.
  struct NormInputs {
    std::vector<torch::Tensor> values;  ///< per gradient: what it holds
    std::vector<double> clip_values;    ///< per gradient: its group's clip_grad_value
    bool clip_norm = false;             ///< some group clips by norm
    bool all_fused = true;              ///< every group is fused
  };
  /// \copydoc NormInputs
  static NormInputs norm_inputs(const std::vector<ParamGroup>& groups,
                                const std::vector<std::vector<torch::Tensor>>& grads) {
    NormInputs in;
    for (const auto gi : c10::irange(groups.size())) {
      const Options& o = options_of(groups, gi);
      in.clip_norm = in.clip_norm || o.clip_grad_norm() > 0;
      in.all_fused = in.all_fused && o.fused();
    }
    if (!in.clip_norm) return in;  // no norm to take: skip collecting the gradients
    for (const auto gi : c10::irange(groups.size())) {
      const Options& o = options_of(groups, gi);
      for (const auto& g : grads[gi]) {
        if (!g.defined()) continue;
        in.values.push_back(stored_values(g));
        in.clip_values.push_back(o.clip_grad_value());
      }
    }
    return in;
  }

  /// Reads group `gi`'s options from `archive` into a copy of `current`,
  /// checked; refuses (c10::Error, `context` first) options of another
  /// algorithm. Options the archive lacks (one written by torch::optim lacks
  /// adaptive's) keep their current values.
  static std::unique_ptr<Options> read_options(torch::serialize::InputArchive& archive, const Options& current,
                                               size_t gi, const std::string& context) {
    const std::string foreign = detail::mismatched_keys<Options>(archive, /*complete=*/true);
    TORCH_CHECK(foreign.empty(), context, ": the checkpoint is not this algorithm's: group ", gi,
                "'s options in it are ", foreign, kSameAlgorithm);
    auto options = std::make_unique<Options>(current);
    detail::read_fields(*options, archive);
    check_options(*options);
    return options;
  }
  ///@}

 private:

  // Clipping and maximize, per group: the value-clip limit and the factor
  // that norm clipping and the sign of maximize fold into one multiply.
  // `dropped`: the gradients skip_nonfinite dropped (in last_grad_norm(), not in clipping).
  std::vector<GroupGradient> gradient_scalars(const std::vector<std::vector<torch::Tensor>>& grads,
                                              const std::vector<torch::Tensor>& dropped) {
    const NormInputs in = norm_inputs(param_groups_, grads);
    // The clipping coefficient of a max_norm, once the global norm is known:
    // on the host, or (device_norm) as a tensor on the GPU.
    std::function<double(double)> coefficient;
    torch::Tensor device_norm;
    last_grad_norm_ = c10::nullopt;
    last_grad_norm_on_device_ = torch::Tensor();
    if (in.clip_norm && !norm_source_ && dropped.empty() && in.all_fused && on_one_cuda_device(in.values)) {
      // Every gradient goes to the fused CUDA driver: the norms stay on the
      // GPU, computed as torch::nn::utils::clip_grad_norm_ computes them.
      const GradNormTensors norms = grad_norm_tensors(in.values, in.clip_values);
      device_norm = norms.clipped;
      last_grad_norm_on_device_ = norms.unclipped;
    } else if (in.clip_norm) {
      // Value clipping comes first, so norm clipping sees clamped gradients.
      // From the source, or over all gradients here: in one fused pass in
      // double, or as torch::nn::utils::clip_grad_norm_ computes it, to the bit.
      const GradNorms norms = norm_source_ ? norm_source_() : grad_norms(in.values, in.clip_values, in.all_fused);
      last_grad_norm_ = norm_with(norms.unclipped, dropped);
      coefficient = [norms](double max_norm) {
        return norms.clipped_tensor.defined() ? clip_coefficient(max_norm, norms.clipped_tensor)
                                              : clip_coefficient(max_norm, norms.clipped);
      };
    }
    std::vector<GroupGradient> result;
    for (const auto gi : c10::irange(param_groups_.size())) {
      const Options& o = options_at(gi);
      GroupGradient s;
      s.scalars.clip_value = o.clip_grad_value();
      if (o.clip_grad_norm() > 0 && device_norm.defined()) {
        s.coefficient = clip_coefficient_on_device(o.clip_grad_norm(), device_norm);
      } else if (o.clip_grad_norm() > 0) {
        s.scalars.scale = coefficient(o.clip_grad_norm());
      }
      if (o.maximize()) s.scalars.scale = -s.scalars.scale;
      result.push_back(std::move(s));
    }
    return result;
  }

  // Parameters per task of checked_gradients and set_up_fused_cpu: fewer run
  // on the calling thread.
  static constexpr int64_t kSetupGrain = 64;

  /// Starts the step of every parameter that is a fused CPU job and already
  /// has its state (or keeps none) on ATen's threads: the step count, the
  /// checks of fused_eligible and the job's pointers, into `cpu`, in order.
  /// That setup takes about as long as updating 500 elements, so on many small
  /// tensors, done on one thread, it would take as long as the update itself.
  /// Returns the other parameters that have a gradient, (group, index) in
  /// order, for update(): first steps (their state is made in state_()),
  /// sparse gradients, and the CUDA and reference drivers. (A template only
  /// because Derived is incomplete where this class is.)
  template <class Batch>
  std::vector<std::pair<size_t, size_t>> set_up_fused_cpu(const std::vector<std::vector<torch::Tensor>>& grads,
                                                          std::vector<GroupGradient>& gradient, Batch& cpu) {
    struct Entry {
      size_t gi, pi;
      bool candidate;  // fused options, a CPU parameter in float32 or float64, a dense gradient
      bool is_double;
      size_t slot;     // a candidate's place among `cpu`'s new jobs of its dtype
      bool done;       // set up here (each entry is written by one thread)
    };
    std::vector<Entry> entries;
    entries.reserve(unique_params_.size());
    std::vector<const Options*> options_of_group;
    std::vector<GradientScalars<double>> host(param_groups_.size());
    size_t count[2] = {0, 0};  // candidates in float32, in float64
    for (const auto gi : c10::irange(param_groups_.size())) {
      const Options& options = options_at(gi);
      options_of_group.push_back(&options);
      const auto& params = param_groups_[gi].params();
      bool any = false;
      for (const auto pi : c10::irange(params.size())) {
        const torch::Tensor& g = grads[gi][pi];
        if (!g.defined()) continue;
        const auto dtype = params[pi].scalar_type();
        const bool candidate = options.fused() && params[pi].device().is_cpu() && !g.is_sparse() &&
                               (dtype == at::kFloat || dtype == at::kDouble);
        const bool is_double = dtype == at::kDouble;
        entries.push_back({gi, pi, candidate, is_double, candidate ? count[is_double]++ : 0, /*done=*/false});
        any = any || candidate;
      }
      // host() may read (once) a coefficient on the GPU: here, not from several threads.
      if (any) host[gi] = gradient[gi].host();
    }
    const size_t first[2] = {cpu.template reserve<float>(count[0]), cpu.template reserve<double>(count[1])};
    const auto set_up = [&](int64_t begin, int64_t end) {
      typename Batch::template ScalarsCache<float> f32;
      typename Batch::template ScalarsCache<double> f64;
      for (int64_t k = begin; k < end; ++k) {
        Entry& e = entries[k];
        if (!e.candidate) continue;
        const Options& options = *options_of_group[e.gi];
        const torch::Tensor& param = param_groups_[e.gi].params()[e.pi];
        const torch::Tensor& grad = grads[e.gi][e.pi];
        State none;  // when the options keep no state
        State* state = &none;
        if (Derived::keeps_state(options)) {
          const auto found = state_.find(state_key(param));
          if (found == state_.end()) continue;  // its first step: state_ changes, on this thread
          state = &static_cast<State&>(*found->second);
          Derived::init_state(*state, param, options);  // (makes what options switched on since)
        }
        if (!fused_cpu_takes(options, param, grad, *state)) continue;
        // What begin_step may make (SGD's momentum buffer) is made like the parameter: eligible too.
        const std::pair<const void*, int64_t> key{&options, Derived::begin_step(*state, param, options)};
        const auto make_scalars = [&](auto zero) {
          return Derived::template scalars<decltype(zero)>(options, *state, host[e.gi]);
        };
        std::apply(
            [&](const auto&... tensors) {
              const size_t slot = first[e.is_double] + e.slot;
              if (e.is_double) {
                cpu.template set<double>(slot, param, grad, {&tensors...}, f64.get(key, make_scalars));
              } else {
                cpu.template set<float>(slot, param, grad, {&tensors...}, f32.get(key, make_scalars));
              }
            },
            Derived::state_tensors(*state));
        e.done = true;
      }
    };
    // Nothing to set up (CUDA, fused(false), bfloat16...): wake no thread.
    if (count[0] + count[1] > 0) kernels::parallel_for(static_cast<int64_t>(entries.size()), kSetupGrain, set_up);
    std::vector<std::pair<size_t, size_t>> rest;
    for (const Entry& e : entries) {
      if (!e.done) rest.emplace_back(e.gi, e.pi);
    }
    return rest;
  }

  // Whether every gradient is one the fused CUDA driver takes, all on one
  // device: then (every group fused) the clipping norm stays on the GPU.
  static bool on_one_cuda_device(const std::vector<torch::Tensor>& grads) {
    if (grads.empty()) return false;
    for (const auto& g : grads) {
      if (!kernels::cuda_fused_eligible(g, g, {}) || g.device() != grads.front().device()) return false;
    }
    return true;
  }

  ParamList unique_params_;  // the parameters a step last found each listed once (check_params)
  GradNormSource norm_source_;
  c10::optional<double> last_grad_norm_;
  torch::Tensor last_grad_norm_on_device_;  // instead, when the norm stayed on the GPU
  int64_t skipped_steps_ = 0;
};

template <class Derived, class OptionsT, class StateT>
void OptimizerBase<Derived, OptionsT, StateT>::load(torch::serialize::InputArchive& archive) {
  using torch::serialize::InputArchive;
  const char* name = Derived::kName;
  c10::IValue version;
  TORCH_CHECK(archive.try_read("pytorch_version", version), name,
              "::load: not an optimizer checkpoint (no 'pytorch_version' entry)");
  c10::IValue writer;  // absent from the built-ins' checkpoints and from adaptive 0.1.0's
  if (archive.try_read(kWriterKey, writer)) {
    TORCH_CHECK(writer.isString() && writer.toStringRef() == name, name,
                "::load: the checkpoint is not this algorithm's: it was written by ",
                writer.isString() ? writer.toStringRef() : std::string("?"), kSameAlgorithm);
  }

  // 1. Read everything into temporaries.
  InputArchive state_archive, groups_archive;
  TORCH_CHECK(archive.try_read("state", state_archive) && archive.try_read("param_groups", groups_archive), name,
              "::load: checkpoint lacks 'state' or 'param_groups'");
  torch::Tensor group_count;
  TORCH_CHECK(groups_archive.try_read("param_groups/size", group_count), name,
              "::load: checkpoint lacks 'param_groups/size'");
  TORCH_CHECK(group_count.item<int64_t>() == static_cast<int64_t>(param_groups_.size()), name,
              "::load: checkpoint has ", group_count.item<int64_t>(), " parameter groups, this optimizer has ",
              param_groups_.size());

  std::vector<std::unique_ptr<Options>> new_options;
  torch_state_map new_state;
  for (const auto gi : c10::irange(param_groups_.size())) {
    InputArchive group_archive, options_archive;
    TORCH_CHECK(groups_archive.try_read("param_groups/" + std::to_string(gi), group_archive), name,
                "::load: checkpoint lacks parameter group ", gi);
    torch::Tensor size;
    group_archive.read("params/size", size);
    const auto& params = param_groups_[gi].params();
    TORCH_CHECK(size.item<int64_t>() == static_cast<int64_t>(params.size()), name, "::load: group ", gi,
                " of the checkpoint has ", size.item<int64_t>(), " parameters, this optimizer's has ",
                params.size());

    group_archive.read("options", options_archive);
    new_options.push_back(read_options(options_archive, options_at(gi), gi, std::string(name) + "::load"));

    for (const auto pi : c10::irange(params.size())) {
      c10::IValue saved_key;
      group_archive.read("params/" + std::to_string(pi), saved_key);
      InputArchive param_archive;
      if (!state_archive.try_read(saved_key.toStringRef(), param_archive)) continue;  // no state yet
      const std::string foreign_state = detail::mismatched_keys<State>(param_archive, /*complete=*/false);
      TORCH_CHECK(foreign_state.empty(), name, "::load: the checkpoint is not this algorithm's: the state of parameter ",
                  pi, " of group ", gi, " in it is ", foreign_state, kSameAlgorithm);
      auto state = std::make_unique<State>();
      detail::read_fields(*state, param_archive);
      const torch::Tensor& p = params[pi];
      detail::for_each_field<State>([&](const auto& fd) {
        auto& value = (*state).*(fd.member);
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, torch::Tensor>) {
          if (!value.defined()) return;
          TORCH_CHECK(value.sizes() == p.sizes(), name, "::load: state '", fd.name, "' of parameter ", pi,
                      " in group ", gi, " has shape ", value.sizes(), " but the parameter has shape ", p.sizes());
        }
      });
      detail::cast_state_like(*state, p);  // as load_state_dict: the parameter's dtype and device
      new_state[state_key(p)] = std::move(state);
    }
  }

  torch::Tensor skipped;  // absent from checkpoints written by torch::optim
  const int64_t skipped_steps = archive.try_read(kSkippedStepsKey, skipped) ? skipped.item<int64_t>() : 0;

  // 2. Commit: nothing above touched this optimizer.
  for (const auto gi : c10::irange(param_groups_.size())) param_groups_[gi].set_options(std::move(new_options[gi]));
  state_ = std::move(new_state);
  skipped_steps_ = skipped_steps;
}

}  // namespace adaptive
