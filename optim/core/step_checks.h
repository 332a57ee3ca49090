#pragma once
// The checks a step runs before it writes anything, over any parameter
// groups: options, parameters (defined, floating-point, each listed once, no
// element reachable through two indices), gradients (shape, dtype, device,
// sparse only where the optimizer takes them, a dtype this LibTorch can
// update) and the state a step will read (this optimizer's type, each tensor
// of the parameter's shape, a step count that can advance).
// Every error names the group, the index and what is wrong, and is thrown
// before anything changed.
// OptimizerBase runs them on its own groups; ShardedOptimizer on the whole
// model's, so that it checks exactly as the unsharded optimizer does.

#include "optim/core/dtype_support.h"
#include "optim/core/hooks.h"
#include "optim/core/options_cast.h"
#include "optim/core/parallel_for.h"
#include "optim/core/param_state.h"
#include "optim/core/validation.h"
#include "optim/kernels/fused_cuda.h"

#include <ATen/MemoryOverlap.h>
#include <c10/util/Optional.h>
#include <c10/util/Type.h>
#include <c10/util/irange.h>
#include <torch/optim/optimizer.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace adaptive {
namespace detail {

/// The step's checks of optimizer `Derived` (its kName, validate and
/// optional hooks) with options `Options`; OptimizerBase derives from it.
template <class Derived, class Options>
struct StepChecks {
  using ParamGroup = torch::optim::OptimizerParamGroup;  ///< as in torch::optim

  /// Parameters per task of the checks and of the fused set-up: fewer run on
  /// the calling thread.
  static constexpr int64_t kSetupGrain = 64;

  /// Checks every option of `o` (common and the optimizer's own); throws
  /// c10::Error naming the option and value.
  static void check_options(const Options& o) {
    detail::check_non_negative(Derived::kName, "clip_grad_norm", o.clip_grad_norm());
    detail::check_non_negative(Derived::kName, "clip_grad_value", o.clip_grad_value());
    Derived::validate(o);
  }

  /// check_options on group `gi`'s options: the error names the group too.
  static void check_group_options(const Options& o, size_t gi) {
    try {
      check_options(o);
    } catch (const c10::Error& e) {
      TORCH_CHECK(false, e.msg(), " (group ", gi, ")");
    }
  }

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

  /// Group `gi`'s options with their concrete type, or a c10::Error naming
  /// the group and both types (options_cast.h).
  static const Options& options_of(const std::vector<ParamGroup>& groups, size_t gi) {
    return detail::options_as<Options>(groups[gi].options(), Derived::kName, gi);
  }

  /// Every group's options and every (param, grad) pair, checked up front.
  /// The result holds, per group and parameter, the gradient (a sparse one
  /// coalesced) or an undefined tensor for parameters to skip.
  /// `known_unique`: as for check_params.
  /// `states`: where given, the state each step will read is checked too (check_state).
  static std::vector<std::vector<torch::Tensor>> checked_gradients(const std::vector<ParamGroup>& groups,
                                                                   ParamList* known_unique = nullptr,
                                                                   const torch_state_map* states = nullptr) {
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
          if (states != nullptr) check_state(*states, p, options_of(groups, gi), gi, pi);
        }
      } catch (const c10::Error&) {
        again = true;
      }
    };
    if (checks_in_parallel(groups)) {
      parallel_for(static_cast<int64_t>(order.size()), kSetupGrain, check);
    } else {
      check(0, static_cast<int64_t>(order.size()));
    }
    if (again) return checked_gradients_in_order(groups, known_unique, states);
    check_unique(groups, std::move(order), known_unique);
    for (const auto gi : c10::irange(groups.size())) check_group_options(options_of(groups, gi), gi);
    return grads;
  }

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

  /// Checks parameter `pi` of group `gi`: a defined, dense (strided),
  /// floating-point tensor, real or (where the optimizer takes them) complex,
  /// that owns each of its elements once.
  static void check_param(const torch::Tensor& p, size_t gi, size_t pi) {
    TORCH_CHECK(p.defined(), Derived::kName, ": parameter ", pi, " of group ", gi, " is an undefined tensor");
    TORCH_CHECK(!p.is_complex() || hooks::takes_complex_parameters<Derived>(), Derived::kName, ": parameter ", pi,
                " of group ", gi, " has dtype ", p.scalar_type(), "; ", Derived::kName,
                " does not support complex parameters (neither does its torch.optim namesake)");
    TORCH_CHECK(p.is_floating_point() || p.is_complex(), Derived::kName, ": parameter ", pi, " of group ", gi,
                " has dtype ", p.scalar_type(), "; only floating-point parameters (real or complex) can be optimized");
    TORCH_CHECK(!hooks::takes_only_matrices<Derived>() || p.dim() == 2, Derived::kName, ": parameter ", pi,
                " of group ", gi, " has shape ", p.sizes(), "; ", Derived::kName,
                " takes only 2-D parameters (matrices), as its torch.optim namesake: optimize the others (biases, "
                "norms, embeddings) with another optimizer, such as adaptive::AdamW");
    TORCH_CHECK(p.layout() == torch::kStrided, Derived::kName, ": parameter ", pi, " of group ", gi, " has layout ",
                p.layout(), "; only dense (strided) parameters can be optimized");
    TORCH_CHECK(at::has_internal_overlap(p) != at::MemOverlap::Yes, Derived::kName, ": parameter ", pi, " of group ",
                gi, " has memory that overlaps itself (strides ", p.strides(),
                ", e.g. an expanded tensor): an in-place update would write some of its elements through several "
                "indices; optimize a tensor that owns each element (.contiguous() or .clone())");
  }

  /// Checks the state a step of parameter `pi` of group `gi`, `p`, under
  /// `options` will read, if it has any in `states`: this optimizer's State
  /// (state() takes any torch::optim::OptimizerParamState), each tensor of
  /// p's shape and without overlapping memory, and a step count from 0 that
  /// can advance. (A state of another dtype or device follows the parameter:
  /// param_state.h.) A parameter resized since its last step
  /// (Tensor::set_ by torch::load(module), set_data) keeps its state key:
  /// this is what finds that its state no longer fits.
  static void check_state(const torch_state_map& states, const torch::Tensor& p, const Options& options, size_t gi,
                          size_t pi) {
    using State = typename Derived::State;
    if (!hooks::keeps_state<Derived>(options)) return;  // this step reads none
    const auto found = states.find(state_key(p));
    if (found == states.end()) return;
    const torch::optim::OptimizerParamState* entry = found->second.get();
    TORCH_CHECK(entry != nullptr, Derived::kName, ": the state of parameter ", pi, " of group ", gi, " is null");
    const auto* state = dynamic_cast<const State*>(entry);
    TORCH_CHECK(state != nullptr, Derived::kName, ": the state of parameter ", pi, " of group ", gi, " is a ",
                c10::demangle(typeid(*entry).name()), ", not a ", c10::demangle(typeid(State).name()),
                " (state() holds another optimizer's state for it)");
    for_each_field<State>([&](const auto& fd) {
      const auto& value = state->*(fd.member);
      using T = std::decay_t<decltype(value)>;
      if constexpr (std::is_same_v<T, torch::Tensor>) {
        if (!value.defined()) return;
        const std::string misfit = state_shape_misfit<Derived>(value, p, fd.member, options);
        TORCH_CHECK(misfit.empty(), Derived::kName, ": state '", fd.name, "' of parameter ", pi, " of group ", gi, " ",
                    misfit, " (was the parameter resized since its last step? its state no longer fits it)");
        TORCH_CHECK(at::has_internal_overlap(value) != at::MemOverlap::Yes, Derived::kName, ": state '", fd.name,
                    "' of parameter ", pi, " of group ", gi, " has memory that overlaps itself (strides ",
                    value.strides(), ")");
      } else if constexpr (std::is_same_v<T, int64_t>) {
        if (std::string(fd.name) != "step") return;
        TORCH_CHECK(value >= 0 && value < std::numeric_limits<int64_t>::max(), Derived::kName,
                    ": the state of parameter ", pi, " of group ", gi, " has step ", value,
                    value < 0 ? " (a step count cannot be negative)" : " (the next step would overflow it)");
      }
    });
  }

  /// Checks the (defined) gradient `g` of parameter `pi` of group `gi`, `p`:
  /// dense unless the optimizer takes sparse ones, of p's shape, dtype and
  /// device, in a dtype this LibTorch can update there. `supported`: the
  /// dtype and device type last found supported, which skips that lookup
  /// (models hold one or two: it runs a few times per step, not per tensor).
  static void check_gradient(const torch::Tensor& p, const torch::Tensor& g, size_t gi, size_t pi,
                             c10::optional<std::pair<at::ScalarType, at::DeviceType>>& supported) {
    TORCH_CHECK(!g.is_sparse() || hooks::takes_sparse_gradients<Derived>(), Derived::kName,
                " does not support sparse gradients (parameter ", pi, " of group ", gi, ")");
    TORCH_CHECK(g.is_sparse() || !hooks::takes_only_sparse_gradients<Derived>(), Derived::kName,
                " does not support dense gradients (parameter ", pi, " of group ", gi,
                " has one): it is for sparse ones, such as torch::nn::Embedding's with sparse(true); "
                "optimize dense parameters with adaptive::Adam (a second optimizer or group)");
    TORCH_CHECK(g.sizes() == p.sizes(), Derived::kName, ": gradient of parameter ", pi, " of group ", gi,
                " has shape ", g.sizes(), " but the parameter has shape ", p.sizes());
    TORCH_CHECK(g.scalar_type() == p.scalar_type() && g.device() == p.device(), Derived::kName,
                ": gradient of parameter ", pi, " of group ", gi, " is ", g.scalar_type(), " on ", g.device(),
                " but the parameter is ", p.scalar_type(), " on ", p.device());
    TORCH_CHECK(!(g.is_sparse() && p.is_complex()), Derived::kName, ": parameter ", pi, " of group ", gi,
                " is complex and its gradient sparse: adaptive updates complex parameters through their real view "
                "(as torch.optim), which a sparse tensor has not");
    // A complex parameter is updated through its real view: its real dtype must be one this LibTorch updates.
    const at::ScalarType real_type = c10::toRealValueType(p.scalar_type());
    const auto kind = std::make_pair(real_type, p.device().type());
    if (kind == supported) return;
    const std::string unsupported = kernels::unsupported_reason(real_type, p.device());
    TORCH_CHECK(unsupported.empty(), Derived::kName, ": parameter ", pi, " of group ", gi, " has dtype ",
                p.scalar_type(), ", which this LibTorch cannot update on ", p.device().type(), " (", unsupported,
                "); nothing was updated: use float32 or float64 parameters there");
    supported = kind;
  }

  /// checked_gradients, one parameter after another: each check in the order
  /// of the parameters, each error (the first) with its own message.
  static std::vector<std::vector<torch::Tensor>> checked_gradients_in_order(const std::vector<ParamGroup>& groups,
                                                                            ParamList* known_unique,
                                                                            const torch_state_map* states) {
    check_params(groups, nullptr, known_unique);
    std::vector<std::vector<torch::Tensor>> grads(groups.size());
    c10::optional<std::pair<at::ScalarType, at::DeviceType>> supported;  // see check_gradient
    for (const auto gi : c10::irange(groups.size())) {
      check_group_options(options_of(groups, gi), gi);
      grads[gi].reserve(groups[gi].params().size());
      for (const auto pi : c10::irange(groups[gi].params().size())) {
        const torch::Tensor& p = groups[gi].params()[pi];
        const torch::Tensor& g = p.grad();
        grads[gi].push_back(g);
        if (!g.defined()) continue;
        check_gradient(p, g, gi, pi, supported);
        if (states != nullptr) check_state(*states, p, options_of(groups, gi), gi, pi);
        if constexpr (hooks::takes_sparse_gradients<Derived>()) {
          if (g.is_sparse()) {
            if constexpr (hooks::lists<Derived>(hooks::kSparseGradients)) {
              Derived::check_sparse(options_of(groups, gi),
                                    "parameter " + std::to_string(pi) + " of group " + std::to_string(gi));
            }
            grads[gi].back() = g.coalesce();  // the update reads each entry once
          }
        }
      }
    }
    return grads;
  }
};

}  // namespace detail
}  // namespace adaptive
