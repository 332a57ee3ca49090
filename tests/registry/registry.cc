#include "tests/registry/registry.h"

#include "tests/parity_cases.h"

#include <stdexcept>

namespace adaptive_test {
namespace {

// The common options the randomized suites vary (clip_grad_norm is
// clipping_test's: its global norm is summed in another order by each driver).
template <class O>
O with_common(O o, RandomCase& r) {
  return o.clip_grad_value(r.coin() ? r.pick({0.01, 1.0, 1e30}) : 0.0).maximize(r.coin());
}

// f(Registered<Opt>) for the optimizer at position `kind`.
template <class F>
void visit_kind(int kind, F&& f) {
  bool found = false;
  for_each_optimizer([&](auto entry) {
    if (entry.kind == kind) f(entry), found = true;
  });
  if (!found) throw std::invalid_argument("no optimizer kind " + std::to_string(kind));
}

}  // namespace

std::string name_of_kind(int kind) {
  std::string name;
  visit_kind(kind, [&](auto entry) { name = entry.name; });
  return name;
}

std::unique_ptr<torch::optim::OptimizerOptions> random_options(int kind, RandomCase& r) {
  std::unique_ptr<torch::optim::OptimizerOptions> options;
  visit_kind(kind, [&](auto entry) {
    using Entry = decltype(entry);
    options = std::make_unique<typename Entry::Options>(with_common(Entry::Info::random(r), r));
  });
  return options;
}

std::unique_ptr<torch::optim::Optimizer> random_optimizer(int kind, RandomCase& r,
                                                          const std::vector<std::vector<torch::Tensor>>& groups) {
  std::vector<torch::optim::OptimizerParamGroup> pg;
  for (const auto& params : groups) pg.emplace_back(params, random_options(kind, r));
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  visit_kind(kind, [&](auto entry) { optimizer = std::make_unique<typename decltype(entry)::Optimizer>(pg); });
  return optimizer;
}

int steps_to_every_branch(int kind) {
  int steps = 0;
  visit_kind(kind, [&](auto entry) { steps = decltype(entry)::Info::kStepsToEveryBranch; });
  return steps;
}

bool reduces_whole_tensors(int kind) {
  bool whole = false;
  visit_kind(kind, [&](auto entry) {
    whole = adaptive::hooks::steps_whole_tensors<typename decltype(entry)::Optimizer>();
  });
  return whole;
}

bool takes_any_parameter(int kind) {
  bool any = false;
  visit_kind(kind, [&](auto entry) { any = takes_any_parameter<typename decltype(entry)::Optimizer>(); });
  return any;
}

int kinds_taking_any_parameter() {
  int n = 0;
  for_each_optimizer([&](auto entry) { n += takes_any_parameter<typename decltype(entry)::Optimizer>() ? 1 : 0; });
  return n;
}

std::vector<int64_t> shape_for(int kind, const std::vector<int64_t>& sizes) {
  std::vector<int64_t> shape;
  visit_kind(kind, [&](auto entry) { shape = shape_for<typename decltype(entry)::Optimizer>(sizes); });
  return shape;
}

torch::Tensor gradient_for(int kind, const torch::Tensor& grad) {
  torch::Tensor out;
  visit_kind(kind, [&](auto entry) { out = gradient_for<typename decltype(entry)::Optimizer>(grad); });
  return out;
}

bool ill_conditioned(torch::optim::Optimizer& optimizer) {
  bool ill = false;
  for (auto& group : optimizer.param_groups()) {
    for_each_optimizer([&](auto entry) {
      using Entry = decltype(entry);
      if (const auto* o = dynamic_cast<const typename Entry::Options*>(&group.options())) {
        ill = ill || Entry::Info::ill_conditioned(*o);
      }
    });
  }
  return ill;
}

namespace {
// f(value) for the tensor field of `entry` called `name`.
void with_tensor_field(torch::optim::OptimizerParamState& entry, const std::string& name,
                       const std::function<void(torch::Tensor&, const char*)>& f) {
  with_adaptive_state(entry, [&](auto& state) {
    adaptive::detail::for_each_field<std::decay_t<decltype(state)>>([&](const auto& fd) {
      auto& value = state.*(fd.member);
      if constexpr (std::is_same_v<std::decay_t<decltype(value)>, torch::Tensor>) {
        if (name.empty() ? value.defined() : name == fd.name) f(value, fd.name);
      }
    });
  });
}
}  // namespace

std::pair<std::string, torch::Tensor> edit_state_tensor(torch::optim::OptimizerParamState& entry,
                                                         const std::function<torch::Tensor(const torch::Tensor&)>& edit) {
  std::pair<std::string, torch::Tensor> edited;
  with_tensor_field(entry, "", [&](torch::Tensor& value, const char* name) {
    if (!edited.first.empty()) return;
    edited = {name, value};
    value = edit(value);
  });
  return edited;
}

void undo_state_edit(torch::optim::OptimizerParamState& entry, const std::pair<std::string, torch::Tensor>& edited) {
  if (edited.first.empty()) return;
  with_tensor_field(entry, edited.first, [&](torch::Tensor& value, const char*) { value = edited.second; });
}

std::vector<ParityCase> builtin_parity_cases() {
  std::vector<ParityCase> all;
  for_each_optimizer([&](auto entry) {
    using Entry = decltype(entry);
    if constexpr (!std::is_void_v<typename Entry::Optimizer::Builtin>) {
      for (auto& c : Entry::Info::builtin_parity()) all.push_back(std::move(c));
    }
  });
  return all;
}

}  // namespace adaptive_test
