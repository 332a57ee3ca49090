// save/load: a run interrupted by torch::save / torch::load continues bit for
// bit as if it had not stopped; checkpoints move between torch::optim and
// adaptive both ways; a checkpoint that does not fit is refused before any
// change.

#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include "optim/optim.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <typeinfo>

namespace adaptive_test {
namespace {

using adaptive_test::temp_path;

using Make = std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>;

std::vector<torch::Tensor> clone_params(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}

// What each step does to the gradients first (sparse ones for SparseAdam).
using Prepare = std::function<void(const std::vector<torch::Tensor>&)>;

// Trains `total` steps straight through, and `k` + (total − k) steps with a
// save to disk, fresh parameters and a fresh optimizer (made by `resume`) in
// between. Returns the largest relative difference of the final parameters.
double interrupted_vs_straight(const Make& first, const Make& resume, int k, int total, const Prepare& prepare = nullptr) {
  const Problem problem = make_problem(torch::kFloat64, torch::kCPU, 11);
  const auto before_step = [&](const std::vector<torch::Tensor>& params) {
    return prepare ? std::function<void()>([&prepare, params] { prepare(params); }) : nullptr;
  };
  auto straight = fresh_params(problem);
  auto opt = first(straight);
  train(*opt, straight, problem, total, before_step(straight));

  auto before = fresh_params(problem);
  auto opt1 = first(before);
  train(*opt1, before, problem, k, before_step(before));
  const std::string path = temp_path("resume");
  torch::save(*opt1, path);
  auto after = clone_params(before);  // new tensors: state must follow by position
  auto opt2 = resume(after);
  torch::load(*opt2, path);
  train(*opt2, after, problem, total - k, before_step(after));
  return max_relative_diff(after, straight);
}

template <class Opt, class Options>
Make maker(Options options) {
  return [options](std::vector<torch::Tensor> params) {
    // Two groups: the state is matched group by group, parameter by parameter.
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<torch::Tensor>{params[0], params[1]});
    groups.emplace_back(std::vector<torch::Tensor>{params[2], params[3]}, std::make_unique<Options>(options));
    return std::make_unique<Opt>(groups, options);
  };
}

// A registry entry's optimizer on the two groups it takes (mlp_groups).
template <class Opt>
Make entry_maker(typename Opt::Options options) {
  return [options](std::vector<torch::Tensor> params) {
    std::vector<torch::optim::OptimizerParamGroup> groups;
    const auto taken = mlp_groups<Opt>(params);
    groups.emplace_back(taken[0]);
    groups.emplace_back(taken[1], std::make_unique<typename Opt::Options>(options));
    return std::make_unique<Opt>(groups, options);
  };
}

struct ResumeRun {
  std::string name;
  Make make;
  Make resume_into;  // the same optimizer with other options: load must restore them
  Prepare prepare;   // prepare_gradients<Opt>
};

class Resume : public ::testing::TestWithParam<ResumeRun> {};

TEST_P(Resume, IsBitIdenticalToAnUninterruptedRun) {
  const ResumeRun& c = GetParam();
  EXPECT_EQ(interrupted_vs_straight(c.make, c.resume_into, 37, 120, c.prepare), 0.0);
}

// Every registry entry's resume cases: options that add state or change what
// is saved.
std::vector<ResumeRun> resume_cases() {
  std::vector<ResumeRun> cases;
  for_each_optimizer([&](auto entry) {
    using Entry = decltype(entry);
    using Opt = typename Entry::Optimizer;
    for (const auto& c : Entry::Info::resume()) {
      cases.push_back({std::string(entry.name) + "_" + c.label, entry_maker<Opt>(c.options),
                       entry_maker<Opt>(c.resume_into), prepare_gradients<Opt>});
    }
  });
  return cases;
}

INSTANTIATE_TEST_SUITE_P(StatefulOptions, Resume, ::testing::ValuesIn(resume_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(ResumeCases, EveryOptimizerHasOne) {
  for_each_optimizer([](auto entry) {
    EXPECT_FALSE(decltype(entry)::Info::resume().empty()) << entry.name << "'s entry (tests/registry/) has no resume case";
  });
}


// Switching a running job from torch::optim to adaptive (and back) keeps its state.
TEST(Interop, BuiltinCheckpointLoadsIntoAdaptive) {
  const auto builtin = maker<torch::optim::Adam>(torch::optim::AdamOptions(5e-3).amsgrad(true));
  const auto ours = maker<adaptive::Adam>(adaptive::AdamOptions(5e-3).amsgrad(true));
  EXPECT_EQ(interrupted_vs_straight(builtin, ours, 40, 100), 0.0);
}

TEST(Interop, AdaptiveCheckpointLoadsIntoBuiltin) {
  const auto builtin = maker<torch::optim::RMSprop>(torch::optim::RMSpropOptions(2e-3).centered(true).momentum(0.5));
  const auto ours = maker<adaptive::RMSprop>(adaptive::RMSpropOptions(2e-3).centered(true).momentum(0.5));
  EXPECT_EQ(interrupted_vs_straight(ours, builtin, 40, 100), 0.0);
}

TEST(Interop, AdamWCheckpointsMoveBothWays) {
  const auto builtin = maker<torch::optim::AdamW>(torch::optim::AdamWOptions(5e-3).amsgrad(true).weight_decay(0.1));
  const auto ours = maker<adaptive::AdamW>(adaptive::AdamWOptions(5e-3).amsgrad(true).weight_decay(0.1));
  EXPECT_EQ(interrupted_vs_straight(builtin, ours, 40, 100), 0.0);
  EXPECT_EQ(interrupted_vs_straight(ours, builtin, 40, 100), 0.0);
}

TEST(Interop, SGDCheckpointsMoveBothWays) {
  const auto builtin = maker<torch::optim::SGD>(torch::optim::SGDOptions(2e-2).momentum(0.9).dampening(0.1));
  const auto ours = maker<adaptive::SGD>(adaptive::SGDOptions(2e-2).momentum(0.9).dampening(0.1));
  EXPECT_EQ(interrupted_vs_straight(builtin, ours, 40, 100), 0.0);
  EXPECT_EQ(interrupted_vs_straight(ours, builtin, 40, 100), 0.0);
}

TEST(Interop, BuiltinAdagradCheckpointLoadsIntoAdaptive) {
  const auto builtin = maker<torch::optim::Adagrad>(torch::optim::AdagradOptions(5e-2).lr_decay(0.01));
  const auto ours = maker<adaptive::Adagrad>(adaptive::AdagradOptions(5e-2).lr_decay(0.01));
  EXPECT_EQ(interrupted_vs_straight(builtin, ours, 40, 100), 0.0);
}

TEST(Load, RestoresEveryOptionIncludingAdaptivesOwn) {
  auto p = std::vector<torch::Tensor>{torch::ones({2}, torch::requires_grad())};
  adaptive::Adam saved(p, adaptive::AdamOptions(0.123)
                              .betas(std::make_tuple(0.5, 0.6))
                              .amsgrad(true)
                              .bias_correction(false)
                              .clip_grad_norm(2.5)
                              .clip_grad_value(0.75)
                              .maximize(true)
                              .decoupled_weight_decay(true)
                              .weight_decay(0.01));
  const std::string path = temp_path("options");
  torch::save(saved, path);
  adaptive::Adam loaded(p);
  torch::load(loaded, path);
  EXPECT_TRUE(static_cast<const adaptive::AdamOptions&>(loaded.param_groups()[0].options()) ==
              static_cast<const adaptive::AdamOptions&>(saved.param_groups()[0].options()));
}

// ---- refusals: a checkpoint that does not fit changes nothing -------------

struct Snapshot {
  size_t state_entries;
  double lr;
};

Snapshot snapshot(const adaptive::Adam& opt) {
  return {opt.state().size(), opt.param_groups()[0].options().get_lr()};
}

void expect_refused(adaptive::Adam& opt, const std::string& path, const std::string& message) {
  const Snapshot before = snapshot(opt);
  try {
    torch::load(opt, path);
    ADD_FAILURE() << "load did not throw";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
  const Snapshot after = snapshot(opt);
  EXPECT_EQ(after.state_entries, before.state_entries);
  EXPECT_EQ(after.lr, before.lr);
}

class Mismatch : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = torch::ones({2, 3}, torch::requires_grad()), b = torch::ones({4}, torch::requires_grad());
    adaptive::Adam saved({a, b}, adaptive::AdamOptions(0.5));
    (a.sum() + b.sum()).backward();
    saved.step();
    path_ = temp_path("mismatch");
    torch::save(saved, path_);
  }
  // A target optimizer that has taken one step itself (so it has state to lose).
  adaptive::Adam target(std::vector<torch::optim::OptimizerParamGroup> groups) {
    adaptive::Adam opt(std::move(groups), adaptive::AdamOptions(0.01));
    for (auto& g : opt.param_groups())
      for (auto& p : g.params()) p.mutable_grad() = torch::ones_like(p);
    opt.step();
    return opt;
  }
  std::string path_;
};

TEST_F(Mismatch, GroupCount) {
  auto opt = target({torch::optim::OptimizerParamGroup({torch::ones({2, 3}, torch::requires_grad())}),
                     torch::optim::OptimizerParamGroup({torch::ones({4}, torch::requires_grad())})});
  expect_refused(opt, path_, "checkpoint has 1 parameter groups, this optimizer has 2");
}

TEST_F(Mismatch, ParameterCount) {
  auto opt = target({torch::optim::OptimizerParamGroup({torch::ones({2, 3}, torch::requires_grad())})});
  expect_refused(opt, path_, "group 0 of the checkpoint has 2 parameters, this optimizer's has 1");
}

TEST_F(Mismatch, Shape) {
  auto opt = target({torch::optim::OptimizerParamGroup(
      {torch::ones({3, 2}, torch::requires_grad()), torch::ones({4}, torch::requires_grad())})});
  expect_refused(opt, path_, "state 'exp_avg' of parameter 0 in group 0 has shape [2, 3] but the parameter has shape [3, 2]");
}

// Bad files of every kind: empty, truncated at many lengths, random bytes,
// a valid archive that holds no optimizer, and a valid checkpoint with bytes
// flipped. Each is a c10::Error (or, for a flip inside tensor data the archive
// cannot detect, a successful load), never a crash, and the optimizer keeps
// its state exactly.
class BadFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    params_ = {torch::linspace(0, 1, 6, torch::requires_grad()), torch::ones({3, 2}, torch::requires_grad())};
    opt_ = std::make_unique<adaptive::Adam>(params_, adaptive::AdamOptions(0.1).amsgrad(true));
    for (auto& p : params_) p.mutable_grad() = torch::ones_like(p);
    opt_->step();
    good_ = temp_path("good");
    torch::save(*opt_, good_);
    std::ifstream in(good_, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), {});
    ASSERT_GT(bytes_.size(), 1000u);
    before_ = state_tensors();
  }
  std::vector<torch::Tensor> state_tensors() const {
    std::vector<torch::Tensor> out;
    for (const auto& p : params_) {
      const auto& s = static_cast<adaptive::AdamParamState&>(*opt_->state().at(adaptive::state_key(p)));
      out.insert(out.end(), {s.exp_avg().flatten().clone(), s.exp_avg_sq().flatten().clone(),
                              s.max_exp_avg_sq().flatten().clone()});
    }
    return out;
  }
  // Loads `bytes` from a file; true if it loaded, false on an error (only
  // c10::Error unless `any_exception`).
  bool load_bytes(const std::string& bytes, bool any_exception = false) {
    const std::string path = temp_path("bad");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    try {
      torch::load(*opt_, path);
      return true;
    } catch (const c10::Error& e) {
      EXPECT_FALSE(std::string(e.what()).empty());
      EXPECT_TRUE(torch::equal(torch::cat(state_tensors()), torch::cat(before_))) << "state changed by a failed load";
      return false;
    } catch (const std::exception& e) {
      if (!any_exception) throw;
      EXPECT_TRUE(torch::equal(torch::cat(state_tensors()), torch::cat(before_))) << "state changed by a failed load";
      return false;
    }
  }
  std::vector<torch::Tensor> params_, before_;
  std::unique_ptr<adaptive::Adam> opt_;
  std::string good_, bytes_;
};

TEST_F(BadFiles, EmptyTruncatedAndRandomFilesAreRefused) {
  int refused = 0, tried = 0;
  for (size_t len : {size_t{0}, size_t{1}, size_t{4}, size_t{22}, size_t{100}, bytes_.size() / 4,
                     bytes_.size() / 2, bytes_.size() - 100, bytes_.size() - 22, bytes_.size() - 1}) {
    ++tried;
    refused += !load_bytes(bytes_.substr(0, len));
  }
  std::mt19937 rng(7);
  for (size_t len : {1, 10, 100, 1000, 10000}) {
    std::string random(len, '\0');
    for (auto& c : random) c = static_cast<char>(rng());
    ++tried;
    refused += !load_bytes(random);
  }
  EXPECT_EQ(refused, tried);
}

TEST_F(BadFiles, AnArchiveWithoutAnOptimizerIsNamedAsSuch) {
  const std::string path = temp_path("tensor_only");
  torch::save(torch::ones({3}), path);
  try {
    torch::load(*opt_, path);
    ADD_FAILURE() << "load did not throw";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an optimizer checkpoint"), std::string::npos) << e.what();
  }
}

TEST_F(BadFiles, FlippedBytesNeverCrash) {
  std::mt19937 rng(11);
  int refused = 0;
  const int trials = 200;
  for (int i = 0; i < trials; ++i) {
    std::string corrupt = bytes_;
    const size_t at = rng() % corrupt.size();
    corrupt[at] = static_cast<char>(corrupt[at] ^ (1 + rng() % 255));
    if (load_bytes(corrupt, /*any_exception=*/true)) {
      torch::load(*opt_, good_);  // undo the corrupted-but-loadable values before the next trial
    } else {
      ++refused;
    }
  }
  // Zip headers and the pickled structure are checked; a flip inside raw
  // tensor bytes can load (the format has no checksum LibTorch verifies).
  // A flip inside the pickled type names makes LibTorch's TorchScript
  // importer throw its own std::exception (not c10::Error); either way the
  // optimizer is untouched.
  EXPECT_GT(refused, 0);
  std::printf("flipped-byte checkpoints refused: %d of %d\n", refused, trials);
}

TEST(Load, SkippedStepCountSurvivesSaveAndLoad) {
  auto p = torch::ones({2}, torch::requires_grad());
  adaptive::RMSprop opt({p}, adaptive::RMSpropOptions(0.1).skip_nonfinite(true));
  p.mutable_grad() = torch::full({2}, std::numeric_limits<float>::infinity());
  opt.step();
  opt.step();
  const std::string path = temp_path("skipped");
  torch::save(opt, path);
  adaptive::RMSprop resumed({p}, adaptive::RMSpropOptions(0.1).skip_nonfinite(true));
  torch::load(resumed, path);
  EXPECT_EQ(resumed.skipped_steps(), 2);
  torch::optim::RMSprop builtin({p});
  torch::load(builtin, path);  // the extra entry does not bother the built-in
}

}  // namespace
}  // namespace adaptive_test
