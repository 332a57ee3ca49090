#pragma once
// Checkpoints of an adaptive optimizer: torch::optim's archive layout, state
// fields and option names (so torch::optim::X reads what adaptive::X writes,
// and the other way round, on LibTorch 1.13 and 2.x alike), plus two entries
// the built-ins ignore: the skipped-step count, and the writer's name, by
// which another adaptive algorithm refuses the file. Loading is
// all-or-nothing: everything is read and checked into temporaries first.

#include "optim/core/fields.h"
#include "optim/core/param_state.h"
#include "optim/core/step_checks.h"

#include <c10/util/Optional.h>
#include <c10/util/Type.h>
#include <c10/util/irange.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

namespace adaptive {
namespace detail {

/// Save and load of optimizer `Derived` (its kName), with options `Options`
/// and per-parameter state `State`, over the groups and state it holds.
template <class Derived, class Options, class State>
struct CheckpointIO {
  using ParamGroup = torch::optim::OptimizerParamGroup;  ///< as in torch::optim
  using Checks = StepChecks<Derived, Options>;

  static constexpr const char* kSkippedStepsKey = "adaptive/skipped_steps";
  static constexpr const char* kWriterKey = "adaptive/optimizer";  // the kName of who wrote it
  static constexpr const char* kSameAlgorithm =
      " (an optimizer loads checkpoints of its own algorithm: its own or the torch::optim built-in's)";

  /// torch::optim's format (layout, state fields and option names), plus the
  /// extra options: torch::optim::X can read what this writes, and this reads
  /// what torch::optim::X wrote, on LibTorch 1.13 and 2.x alike. Parameters
  /// are keyed by their address in decimal, as 2.x's built-ins write it: 1.13's
  /// built-ins match keys as strings and 2.x's parse them as decimal numbers,
  /// so both read it (1.13's own "0x…" keys parse as 0 in 2.x's loader).
  static void save(torch::serialize::OutputArchive& archive, const std::vector<ParamGroup>& groups,
                   const torch_state_map& states, int64_t skipped_steps) {
    using torch::serialize::OutputArchive;
    const auto key = [](const torch::Tensor& p) {
      return std::to_string(reinterpret_cast<uintptr_t>(p.unsafeGetTensorImpl()));
    };
    archive.write("pytorch_version", c10::IValue("1.5.0"));  // the format's version, as the built-ins write it
    OutputArchive state_archive(archive.compilation_unit()), groups_archive(archive.compilation_unit());
    groups_archive.write("param_groups/size", torch::tensor(static_cast<int64_t>(groups.size())));
    for (const auto gi : c10::irange(groups.size())) {
      const auto& params = groups[gi].params();
      OutputArchive group_archive(archive.compilation_unit()), options_archive(archive.compilation_unit());
      group_archive.write("params/size", torch::tensor(static_cast<int64_t>(params.size())));
      for (const auto pi : c10::irange(params.size())) {
        group_archive.write("params/" + std::to_string(pi), c10::IValue(key(params[pi])));
        const auto found = states.find(state_key(params[pi]));
        if (found == states.end()) continue;  // no step yet
        const auto* state = dynamic_cast<const State*>(found->second.get());
        TORCH_CHECK(state != nullptr, Derived::kName, "::save: the state of parameter ", pi, " of group ", gi,
                    " is not a ", c10::demangle(typeid(State).name()),
                    " (state() holds another optimizer's state for it); nothing was written");
        OutputArchive param_archive(archive.compilation_unit());
        state->serialize(param_archive);
        state_archive.write(key(params[pi]), param_archive);
      }
      Checks::options_of(groups, gi).serialize(options_archive);
      group_archive.write("options", options_archive);
      groups_archive.write("param_groups/" + std::to_string(gi), group_archive);
    }
    archive.write("state", state_archive);
    archive.write("param_groups", groups_archive);
    // Extra entries the built-ins ignore: resuming keeps the count, and
    // another adaptive optimizer refuses the file by name, also where the
    // options cannot tell (AdamW's are a subset of Adam's).
    archive.write(kSkippedStepsKey, torch::tensor(skipped_steps));
    archive.write(kWriterKey, c10::IValue(std::string(Derived::kName)));
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
    Checks::check_options(*options);
    return options;
  }
  /// Refuses a loaded state whose values a step could not continue from
  /// (stricter than torch.optim and the built-ins, which load both and then
  /// compute NaN, or restart the moments under a late step's corrections): a
  /// negative step count, or one at its largest value (the next step would
  /// overflow it); a state past its first step that lacks a tensor every step
  /// of these options has made. Optional tensors (AMSGrad's maximum,
  /// RMSprop's momentum buffer...) are those the default options do not make:
  /// an option switched on since the last step legitimately lacks its tensor.
  static void check_loaded_state(const State& state, const torch::Tensor& p, const Options& options, size_t gi,
                                 size_t pi) {
    const std::string where = std::string(Derived::kName) + "::load: the state of parameter " + std::to_string(pi) +
                              " of group " + std::to_string(gi);
    c10::optional<int64_t> step;
    for_each_field<State>([&](const auto& fd) {
      if constexpr (std::is_same_v<std::decay_t<decltype(state.*(fd.member))>, int64_t>) {
        if (std::string(fd.name) == "step") step = state.*(fd.member);
      }
    });
    if (!step) return;  // no step count (SGD): its tensors say whether it stepped
    TORCH_CHECK(*step >= 0, where, " has step ", *step, " (a step count cannot be negative)");
    TORCH_CHECK(*step < std::numeric_limits<int64_t>::max(), where, " has step ", *step,
                " (the next step would overflow it)");
    if (*step == 0) return;
    // What init_state makes on a meta tensor of p's shape: nothing is allocated.
    const torch::Tensor meta = torch::empty(p.sizes(), p.options().device(torch::kMeta));
    State with_options = state, with_defaults = state;
    Derived::init_state(with_options, meta, options);
    Derived::init_state(with_defaults, meta, Options());
    for_each_field<State>([&](const auto& fd) {
      if constexpr (std::is_same_v<std::decay_t<decltype(state.*(fd.member))>, torch::Tensor>) {
        const bool required = (with_options.*(fd.member)).defined() && (with_defaults.*(fd.member)).defined();
        TORCH_CHECK(!required || (state.*(fd.member)).defined(), where, " is at step ", *step, " but lacks '",
                    fd.name, "', which every step makes; the checkpoint is incomplete");
      }
    });
  }

  /// Restores `states`, `skipped_steps_out` and, as PyTorch's
  /// load_state_dict does, the options of each group. All-or-nothing: the
  /// checkpoint is checked against the groups (group count, parameter counts,
  /// state shapes, option values) before anything changes.
  static void load(torch::serialize::InputArchive& archive, std::vector<ParamGroup>& groups, torch_state_map& states,
                   int64_t& skipped_steps_out) {
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
    TORCH_CHECK(group_count.item<int64_t>() == static_cast<int64_t>(groups.size()), name,
                "::load: checkpoint has ", group_count.item<int64_t>(), " parameter groups, this optimizer has ",
                groups.size());

    std::vector<std::unique_ptr<Options>> new_options;
    torch_state_map new_state;
    for (const auto gi : c10::irange(groups.size())) {
      InputArchive group_archive, options_archive;
      TORCH_CHECK(groups_archive.try_read("param_groups/" + std::to_string(gi), group_archive), name,
                  "::load: checkpoint lacks parameter group ", gi);
      torch::Tensor size;
      group_archive.read("params/size", size);
      const auto& params = groups[gi].params();
      TORCH_CHECK(size.item<int64_t>() == static_cast<int64_t>(params.size()), name, "::load: group ", gi,
                  " of the checkpoint has ", size.item<int64_t>(), " parameters, this optimizer's has ",
                  params.size());

      group_archive.read("options", options_archive);
      new_options.push_back(read_options(options_archive, Checks::options_of(groups, gi), gi, std::string(name) + "::load"));

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
            const std::string misfit = detail::state_shape_misfit<Derived>(value, p, fd.member, *new_options[gi]);
            TORCH_CHECK(misfit.empty(), name, "::load: state '", fd.name, "' of parameter ", pi, " in group ", gi, " ",
                        misfit);
          }
        });
        check_loaded_state(*state, p, *new_options[gi], gi, pi);
        detail::cast_state_like(*state, p);  // as load_state_dict: the parameter's dtype and device
        new_state[state_key(p)] = std::move(state);
      }
    }

    torch::Tensor skipped;  // absent from checkpoints written by torch::optim
    const int64_t skipped_steps = archive.try_read(kSkippedStepsKey, skipped) ? skipped.item<int64_t>() : 0;

    // 2. Commit: nothing above touched the optimizer.
    for (const auto gi : c10::irange(groups.size())) groups[gi].set_options(std::move(new_options[gi]));
    states = std::move(new_state);
    skipped_steps_out = skipped_steps;
  }
};

}  // namespace detail
}  // namespace adaptive
