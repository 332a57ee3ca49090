// What a careless or hostile program does between steps, and what a step or
// a load must then do: refuse with a c10::Error that names the parameter and
// what is wrong, and change nothing (parameters, state, step counts), where
// the built-ins crash, corrupt the heap or step on stale state.
//
// Every optimizer of the registry, with its entry's stateful options, after
// two steps: a parameter resized (torch::load(module) uses Tensor::set_,
// set_data; both keep the state key) or given memory that overlaps itself; its state edited to another shape, replaced by
// another optimizer's state type, given a step count that is negative or
// cannot advance; a parameter cast to another dtype, whose state follows it.
// Plus: checkpoints whose state values no step could
// continue from, SGD's momentum after a refused first step, and the group in
// an option error found by step().

#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/nn/modules/embedding.h>

#include <limits>
#include <sstream>
#include <string>

namespace adaptive_test {
namespace {

std::string saved(const torch::optim::Optimizer& opt) {
  std::ostringstream out;
  torch::save(opt, out);
  return out.str();
}

// f(state) with `entry`'s concrete State type.
template <class F>
void with_state(torch::optim::OptimizerParamState& entry, F&& f) {
  ASSERT_TRUE(with_adaptive_state(entry, std::forward<F>(f))) << "not an adaptive state";
}

// An optimizer of every kind, its first parameter's state made by two steps.
struct Stepped {
  std::string name;
  torch::Tensor p, q;  // two float32 parameters: [8] and [3, 2]
  std::unique_ptr<torch::optim::Optimizer> opt;
};

// (Every optimizer that takes any parameter: the cases below give vectors
// and dense gradients, and name their shapes. Muon's and SparseAdam's own
// refusals are muon_test's and sparse_test's.)
std::vector<Stepped> every_optimizer_stepped() {
  std::vector<Stepped> all;
  for_each_optimizer([&](auto entry) {
    using Entry = decltype(entry);
    if (!takes_any_parameter<typename Entry::Optimizer>()) return;
    Stepped s{entry.name, torch::linspace(-1, 1, 8).requires_grad_(), torch::ones({3, 2}).requires_grad_(), nullptr};
    s.opt = std::make_unique<typename Entry::Optimizer>(std::vector<torch::Tensor>{s.p, s.q},
                                                        Entry::Info::stateful(typename Entry::Options(0.01)));
    for (int t = 0; t < 2; ++t) {
      s.p.mutable_grad() = torch::sin(s.p.detach() + t);
      s.q.mutable_grad() = torch::cos(s.q.detach() + t);
      s.opt->step();
    }
    all.push_back(std::move(s));
  });
  return all;
}

// step() must throw a message holding `expected` and leave the optimizer and
// the parameters as they were.
void expect_refused_unchanged(Stepped& s, const std::string& expected) {
  const std::string before = saved(*s.opt);
  const auto p = s.p.detach().clone(), q = s.q.detach().clone();
  const std::string message = error_of([&] { s.opt->step(); });
  EXPECT_NE(message.find(expected), std::string::npos) << s.name << ": " << message;
  EXPECT_EQ(saved(*s.opt), before) << s.name << ": the refused step changed the optimizer";
  EXPECT_TRUE(torch::equal(s.p.detach(), p) && torch::equal(s.q.detach(), q)) << s.name << ": a parameter moved";
}

TEST(ParameterResized, GrownByTorchLoadOfAModuleIsRefused) {
  // The realistic trigger: a larger vocabulary's weights loaded into the
  // module after the optimizer stepped it. torch::load(module) gives the
  // weight the loaded tensor with Tensor::set_: the same tensor, a new shape.
  for_each_optimizer([&](auto entry) {
    using Entry = decltype(entry);
    using Opt = typename Entry::Optimizer;
    torch::nn::Embedding module(10, 4);
    Opt opt(module->parameters(), Entry::Info::stateful(typename Entry::Options(0.01)));
    module->weight.mutable_grad() = gradient_for<Opt>(torch::ones({10, 4}));
    opt.step();
    torch::nn::Embedding larger(200, 4);
    std::stringstream file;
    torch::save(larger, file);
    torch::load(module, file);
    ASSERT_EQ(module->weight.sizes(), torch::IntArrayRef({200, 4}));
    module->weight.mutable_grad() = gradient_for<Opt>(torch::ones({200, 4}));
    const std::string before = saved(opt);
    const auto weight = module->weight.detach().clone();
    const std::string message = error_of([&] { opt.step(); });
    // (Adafactor's first state tensor is its row means: [10, 1], which [200, 4] takes as [200, 1].)
    const bool factored = std::is_same_v<Opt, adaptive::Adafactor>;
    EXPECT_NE(message.find(factored ? "of parameter 0 of group 0 has shape [10, 1] but the parameter has shape "
                                      "[200, 4], which takes state of shape [200, 1]"
                                    : "of parameter 0 of group 0 has shape [10, 4] but the parameter has shape [200, 4]"),
              std::string::npos)
        << entry.name << ": " << message;
    EXPECT_EQ(saved(opt), before) << entry.name;
    EXPECT_TRUE(torch::equal(module->weight.detach(), weight)) << entry.name;
  });
}

TEST(ParameterResized, GrownAndShrunkBySetDataAreRefused) {
  for (const int64_t n : {16, 4}) {  // a shrunk one used to step silently on its stale [8] state
    for (auto& s : every_optimizer_stepped()) {
      s.p.set_data(torch::randn({n}));
      s.p.mutable_grad() = torch::ones({n});
      s.q.mutable_grad() = torch::ones({3, 2});
      expect_refused_unchanged(s, "has shape [8] but the parameter has shape [" + std::to_string(n) + "]");
    }
  }
}

TEST(ParameterCast, StateFollowsTheParameterAsACheckpointLoadedIntoItWould) {
  // model->to(kFloat64) after the first steps: the state was float32. It is
  // cast as load casts it (1.13's tensor ops used to throw part-way).
  for (auto& s : every_optimizer_stepped()) {
    std::stringstream file;
    torch::save(*s.opt, file);
    {
      torch::NoGradGuard no_grad;
      s.p.set_data(s.p.detach().to(torch::kFloat64));
    }
    auto p = s.p.detach().clone().requires_grad_(), q = s.q.detach().clone().requires_grad_();
    for_each_optimizer([&](auto entry) {  // the same optimizer, loaded from the checkpoint
      if (entry.name != s.name) return;
      typename decltype(entry)::Optimizer loaded({p, q});
      torch::load(loaded, file);
      for (auto* opt : std::vector<torch::optim::Optimizer*>{s.opt.get(), &loaded}) {
        const auto& params = opt->param_groups()[0].params();
        params[0].mutable_grad() = torch::ones({8}, torch::kFloat64);
        params[1].mutable_grad() = torch::ones({3, 2});
        opt->step();
      }
    });
    EXPECT_EQ(s.p.scalar_type(), torch::kFloat64);
    EXPECT_TRUE(torch::equal(s.p.detach(), p.detach())) << s.name;
    EXPECT_TRUE(torch::equal(s.q.detach(), q.detach())) << s.name;
  }
}

TEST(OverlappingMemory, ParameterIsRefusedAtConstructionAndAtStep) {
  for_each_optimizer([&](auto entry) {
    using Opt = typename decltype(entry)::Optimizer;
    const std::vector<int64_t> shape = shape_for<Opt>({5});
    auto expanded = torch::zeros({1}).expand(shape).requires_grad_();
    ASSERT_TRUE(expanded.is_leaf());
    const std::string message = error_of([&] { Opt opt({expanded}); });
    EXPECT_NE(message.find(std::string("adaptive::") + entry.name +
                           ": parameter 0 of group 0 has memory that overlaps itself (strides [" +
                           (shape.size() == 2 ? "0, 0" : "0") + "]"),
              std::string::npos)
        << message;
  });
  for (auto& s : every_optimizer_stepped()) {
    s.q.set_data(torch::zeros({1}).expand({3, 2}));  // after construction
    s.p.mutable_grad() = torch::ones({8});
    s.q.mutable_grad() = torch::ones({3, 2});
    expect_refused_unchanged(s, "parameter 1 of group 0 has memory that overlaps itself");
  }
}

TEST(StateEdited, AnotherShapeIsRefused) {
  for (auto& s : every_optimizer_stepped()) {
    ASSERT_FALSE(s.opt->state().empty()) << s.name;
    auto& entry = *s.opt->state().at(adaptive::state_key(s.p));
    const auto edited = edit_state_tensor(entry, [](const torch::Tensor&) { return torch::zeros({9}); });
    ASSERT_FALSE(edited.first.empty()) << s.name;
    s.p.mutable_grad() = torch::ones({8});
    s.q.mutable_grad() = torch::ones({3, 2});
    expect_refused_unchanged(s, "state '" + edited.first + "' of parameter 0 of group 0 has shape [9]");
    undo_state_edit(entry, edited);
    EXPECT_NO_THROW(s.opt->step()) << s.name;
  }
}

TEST(StateEdited, AnotherOptimizersStateTypeIsRefusedByStepAndSave) {
  for (auto& s : every_optimizer_stepped()) {
    auto& slot = s.opt->state().at(adaptive::state_key(s.p));
    auto original = std::move(slot);
    slot = std::make_unique<torch::optim::SGDParamState>();  // the built-in's own type
    s.p.mutable_grad() = torch::ones({8});
    s.q.mutable_grad() = torch::ones({3, 2});
    const auto p = s.p.detach().clone();
    const std::string step_error = error_of([&] { s.opt->step(); });
    EXPECT_NE(step_error.find("the state of parameter 0 of group 0 is a torch::optim::SGDParamState, not a adaptive::"),
              std::string::npos)
        << s.name << ": " << step_error;
    EXPECT_TRUE(torch::equal(s.p.detach(), p)) << s.name;
    const std::string save_error = error_of([&] { saved(*s.opt); });
    EXPECT_NE(save_error.find("::save: the state of parameter 0 of group 0 is not a adaptive::"), std::string::npos)
        << s.name << ": " << save_error;
    slot = std::move(original);
    EXPECT_NO_THROW(s.opt->step()) << s.name;
  }
}

TEST(StateEdited, AStepCountThatIsNegativeOrCannotAdvanceIsRefused) {
  int checked = 0;
  for (const int64_t bad : {int64_t{-1}, std::numeric_limits<int64_t>::max()}) {
    for (auto& s : every_optimizer_stepped()) {
      bool has_step = false;
      with_state(*s.opt->state().at(adaptive::state_key(s.p)), [&](auto& state) {
        adaptive::detail::for_each_field<std::decay_t<decltype(state)>>([&](const auto& fd) {
          auto& value = state.*(fd.member);
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, int64_t>) {
            if (std::string(fd.name) == "step") value = bad, has_step = true;
          }
        });
      });
      if (!has_step) continue;  // SGD counts no steps
      s.p.mutable_grad() = torch::ones({8});
      s.q.mutable_grad() = torch::ones({3, 2});
      expect_refused_unchanged(s, "the state of parameter 0 of group 0 has step " + std::to_string(bad));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2 * (kinds_taking_any_parameter() - 1));  // SGD counts no steps
}

// ---- checkpoints ------------------------------------------------------------

// A checkpoint of `opt` after `edit` changed its first parameter's state,
// loaded into a fresh optimizer of the same kind: refused with `expected`,
// the fresh optimizer unchanged.
void expect_load_refused(const std::function<void(adaptive::AdamParamState&)>& edit, const std::string& expected) {
  auto p = torch::linspace(-1, 1, 8).requires_grad_();
  adaptive::Adam opt({p}, adaptive::AdamOptions(0.01));
  for (int t = 0; t < 5; ++t) {
    p.mutable_grad() = torch::sin(p.detach() + t);
    opt.step();
  }
  edit(static_cast<adaptive::AdamParamState&>(*opt.state().at(adaptive::state_key(p))));
  std::stringstream file;
  torch::save(opt, file);
  adaptive::Adam fresh({p}, adaptive::AdamOptions(0.01));
  p.mutable_grad() = torch::ones({8});
  fresh.step();
  const std::string before = saved(fresh);
  const std::string message = error_of([&] { torch::load(fresh, file); });
  EXPECT_NE(message.find(expected), std::string::npos) << message;
  EXPECT_EQ(saved(fresh), before);
}

TEST(CheckpointStateValues, ANegativeStepIsRefused) {
  expect_load_refused([](auto& s) { s.step(-1); },
                      "adaptive::Adam::load: the state of parameter 0 of group 0 has step -1");
}

TEST(CheckpointStateValues, AStepThatWouldOverflowIsRefused) {
  expect_load_refused([](auto& s) { s.step(std::numeric_limits<int64_t>::max()); },
                      "has step 9223372036854775807 (the next step would overflow it)");
}

TEST(CheckpointStateValues, AStepPastTheFirstWithoutItsMomentsIsRefused) {
  expect_load_refused([](auto& s) { s.exp_avg(torch::Tensor()).exp_avg_sq(torch::Tensor()); },
                      "is at step 5 but lacks 'exp_avg'");
}

TEST(CheckpointStateValues, AnOptionSwitchedOnSinceTheLastStepStillLoads) {
  // amsgrad on after the last step, saved before the next: its maximum does
  // not exist yet, legitimately.
  auto p = torch::linspace(-1, 1, 8).requires_grad_();
  adaptive::Adam opt({p}, adaptive::AdamOptions(0.01));
  p.mutable_grad() = torch::ones({8});
  opt.step();
  static_cast<adaptive::AdamOptions&>(opt.param_groups()[0].options()).amsgrad(true);
  std::stringstream file;
  torch::save(opt, file);
  adaptive::Adam fresh({p}, adaptive::AdamOptions(0.01));
  EXPECT_NO_THROW(torch::load(fresh, file));
  EXPECT_NO_THROW(fresh.step());
}

// ---- a step refused part-way ---------------------------------------------------

TEST(SGDMomentum, ARefusedFirstStepLeavesNoBufferToReadAsHistory) {
  // The bad parameter used to be found inside the update, after the good
  // one's buffer was made (empty_like) and its first step marked done.
  auto good = torch::ones({4}).requires_grad_(), bad = torch::ones({5}).requires_grad_();
  adaptive::SGD opt({good, bad}, adaptive::SGDOptions(0.1).momentum(0.9));
  bad.set_data(torch::zeros({1}).expand({5}));
  good.mutable_grad() = torch::ones({4});
  bad.mutable_grad() = torch::ones({5});
  EXPECT_THROW(opt.step(), c10::Error);
  EXPECT_TRUE(opt.state().empty());
  opt.param_groups()[0].params().pop_back();  // the user drops the bad parameter
  opt.step();
  EXPECT_TRUE(torch::allclose(good.detach(), torch::full({4}, 0.9), 0, 1e-7)) << good;
}

TEST(OptionErrorsAtStep, NameTheGroup) {
  auto a = torch::ones({2}).requires_grad_(), b = torch::ones({2}).requires_grad_();
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a});
  groups.emplace_back(std::vector<torch::Tensor>{b});
  adaptive::Adam opt(groups);
  static_cast<adaptive::AdamOptions&>(opt.param_groups()[1].options()).betas(std::make_tuple(0.9, 1.5));
  a.mutable_grad() = torch::ones({2});
  b.mutable_grad() = torch::ones({2});
  const std::string message = error_of([&] { opt.step(); });
  EXPECT_NE(message.find("adaptive::Adam: invalid betas[1] = 1.5 (expected a number in [0, 1)) (group 1)"),
            std::string::npos)
      << message;
}

// ---- what held before this file's fixes: kept as guards ---------------------

TEST(HeldUp, AGradientOfAnotherShapeOrDtypeIsRefusedUnchanged) {
  for (auto& s : every_optimizer_stepped()) {
    s.q.mutable_grad() = torch::ones({3, 2});
    s.p.mutable_grad() = torch::ones({9});
    expect_refused_unchanged(s, "gradient of parameter 0 of group 0 has shape [9] but the parameter has shape [8]");
    s.p.mutable_grad() = torch::ones({8}, torch::kFloat64);
    expect_refused_unchanged(s, "gradient of parameter 0 of group 0 is Double on cpu but the parameter is Float");
  }
}

TEST(HeldUp, AClosureThatThrowsChangesNothing) {
  for (auto& s : every_optimizer_stepped()) {
    const std::string before = saved(*s.opt);
    const auto p = s.p.detach().clone();
    EXPECT_THROW(s.opt->step([&]() -> torch::Tensor {
      s.p.mutable_grad() = torch::ones({8});
      throw std::runtime_error("the loss could not be computed");
    }),
                 std::runtime_error)
        << s.name;
    EXPECT_EQ(saved(*s.opt), before) << s.name;
    EXPECT_TRUE(torch::equal(s.p.detach(), p)) << s.name;
  }
}

TEST(HeldUp, StateMadeNonContiguousStepsAsTheContiguousStateDoes) {
  // A transposed copy has the right shape and values but not the fused
  // driver's layout: the step must still read and write it correctly.
  auto edited = every_optimizer_stepped(), plain = every_optimizer_stepped();
  int checked = 0;
  for (size_t k = 0; k < edited.size(); ++k) {
    auto& entry = *edited[k].opt->state().at(adaptive::state_key(edited[k].q));
    bool contiguous = true;
    const auto field = edit_state_tensor(entry, [&](const torch::Tensor& t) {
      // Every other element of a wider tensor: strided for any shape (a
      // transpose would leave Adafactor's [3, 1] row means contiguous).
      std::vector<int64_t> wide = t.sizes().vec();
      wide.push_back(2);
      auto strided = torch::zeros(wide, t.options()).select(-1, 0);
      strided.copy_(t);
      contiguous = strided.is_contiguous();
      return strided;
    });
    ASSERT_FALSE(field.first.empty()) << edited[k].name;
    ASSERT_FALSE(contiguous) << edited[k].name;
    for (auto* s : {&edited[k], &plain[k]}) {
      s->p.mutable_grad() = torch::cos(s->p.detach());
      s->q.mutable_grad() = torch::sin(s->q.detach());
      s->opt->step();
    }
    EXPECT_TRUE(torch::equal(edited[k].q.detach(), plain[k].q.detach()))
        << edited[k].name << ": " << (edited[k].q - plain[k].q).abs().max().item<double>();
    ++checked;
  }
  EXPECT_EQ(checked, kinds_taking_any_parameter());
}

}  // namespace
}  // namespace adaptive_test
