// Checkpoints across LibTorch versions. tests/data/checkpoints/<version>/ holds
// what LibTorch 1.13 and 2.13 wrote for the same short run (tools/make_checkpoints
// runs this binary with --write under each): torch::save of every optimizer of
// optim/optimizers.h, and of its built-in where it has one, after 3 float64
// steps, each with the parameters and gradients it takes (tests/registry/registry.h:
// shape_for); and of Adam with complex state (amsgrad on: every state tensor). Each is
// loaded under the LibTorch this test is built against, and the next step
// must equal the step of an optimizer that never stopped.
//
// What holds (docs/libtorch_versions.md says the same):
//   adaptive loads every file, its own and the built-ins', of either version:
//     it matches parameters by the key strings the file itself holds.
//   adaptive writes decimal keys on every version, so the built-ins of 1.13
//     (string match) and of 2.x (decimal parse) both read it.
//   a 1.13 built-in's file holds "0x…" keys, which 2.x's built-in parses as 0:
//     it misassigns state, so that combination is not loaded here; adaptive
//     reads such files (see above).
//   2.4+ built-ins restore each group's options from the file; 1.13's keep
//     their own (pinned below: lr).
//
// Tolerance: 1e-12 relative (float64). A file written by the other version
// carries that version's rounding of three steps (e.g. MKL's sqrt in 2.13).

#include "optim/core/compat.h"
#include "optim/optim.h"
#include "tests/registry/registry.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kSteps = 3;
constexpr double kLr = 0.05;  // not any optimizer's default: shows whether load restores options
const std::vector<std::string> kVersions = {"1.13", "2.13"};
const std::vector<std::string> kImpls = {"adaptive", "builtin"};

// Deterministic parameters and gradients (no random numbers: those may differ
// between versions): two tensors, the gradient of step t a function of t.
std::vector<torch::Tensor> make_params() {
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  return {torch::linspace(-1, 1, 12, opts).reshape({3, 4}).requires_grad_(true),
          torch::linspace(0.5, 2, 5, opts).requires_grad_(true)};
}
torch::Tensor grad_of(const torch::Tensor& param, size_t i, int step) {
  auto index = torch::arange(param.numel(), torch::kFloat64).reshape(param.sizes());
  return torch::sin(index * 0.7 + 1.3 * step + static_cast<double>(i));
}
void set_grads(const std::vector<torch::Tensor>& params, int step) {
  for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grad_of(params[i], i, step);
}

using Make = std::function<std::unique_ptr<torch::optim::Optimizer>(const std::vector<torch::Tensor>&)>;
struct Optimizer {
  std::string name;  // its --optimizer flag; the files' names
  Make adaptive, builtin;  // builtin: empty where LibTorch has none
  std::function<std::vector<torch::Tensor>()> params = make_params;
  std::function<void(const std::vector<torch::Tensor>&, int)> grads = set_grads;
  bool same_algorithm_as_another = false;  // a variant of another entry's optimizer: no cross-algorithm cases
};

// Sparse gradients (SparseAdam) holding two of the 3 x 4 matrix's rows and
// three of the vector's five entries, which ones following the step.
void set_sparse_grads(const std::vector<torch::Tensor>& params, int step) {
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t rows = params[i].size(0);
    auto kept = (torch::arange(rows, torch::kInt64) + step) % rows < rows / 2 + 1;
    auto dense = grad_of(params[i], i, step);
    auto mask = params[i].dim() == 2 ? kept.unsqueeze(1).to(torch::kFloat64) : kept.to(torch::kFloat64);
    params[i].mutable_grad() = (dense * mask).to_sparse(1);
  }
}

// Complex state, beside the registry's optimizers: Adam on complex parameters.
std::vector<Optimizer> complex_state() {
  std::vector<Optimizer> v;
  // Complex state: Adam on complex parameters (exp_avg complex, exp_avg_sq
  // real after view_as_real, as torch.optim keeps it).
  Optimizer complex{"adam_complex", [](const auto& params) -> std::unique_ptr<torch::optim::Optimizer> {
                      return std::make_unique<adaptive::Adam>(params, adaptive::AdamOptions(kLr).amsgrad(true));
                    }};
  complex.params = [] {
    std::vector<torch::Tensor> out;
    for (const auto& p : make_params()) {
      out.push_back(torch::complex(p.detach(), p.detach().flip(0) * 0.5).requires_grad_(true));
    }
    return out;
  };
  complex.grads = [](const std::vector<torch::Tensor>& params, int step) {
    for (size_t i = 0; i < params.size(); ++i) {
      const auto real = grad_of(params[i], i, step);
      params[i].mutable_grad() = torch::complex(real, torch::cos(real * 3.0));
    }
  };
  complex.same_algorithm_as_another = true;
  v.push_back(std::move(complex));
  return v;
}

// Every optimizer of the registry, with its entry's stateful options: not the
// defaults where an option adds state or changes what is saved.
const std::vector<Optimizer>& optimizers() {
  static const std::vector<Optimizer> all = [] {
    std::vector<Optimizer> v;
    adaptive_test::for_each_optimizer([&](auto entry) {
      using Entry = decltype(entry);
      using Opt = typename Entry::Optimizer;
      Optimizer o{entry.flag, [](const auto& params) -> std::unique_ptr<torch::optim::Optimizer> {
                    return std::make_unique<Opt>(params, Entry::Info::stateful(typename Opt::Options(kLr)));
                  }};
      // The two parameters as Opt takes them (matrices for Muon), and its gradients.
      o.params = [] {
        auto opts = torch::TensorOptions().dtype(torch::kFloat64);
        return std::vector<torch::Tensor>{
            torch::linspace(-1, 1, 12, opts).reshape(adaptive_test::shape_for<Opt>({3, 4})).requires_grad_(true),
            torch::linspace(0.5, 2, 5, opts).reshape(adaptive_test::shape_for<Opt>({5})).requires_grad_(true)};
      };
      if constexpr (adaptive::hooks::takes_only_sparse_gradients<Opt>()) o.grads = set_sparse_grads;
      if constexpr (!std::is_void_v<typename Opt::Builtin>) {
        o.builtin = [](const auto& params) -> std::unique_ptr<torch::optim::Optimizer> {
          return std::make_unique<typename Opt::Builtin>(params,
                                                         Entry::Info::stateful(typename Opt::BuiltinOptions(kLr)));
        };
      }
      v.push_back(std::move(o));
    });
    for (auto& o : complex_state()) v.push_back(std::move(o));
    return v;
  }();
  return all;
}
const Optimizer& optimizer_named(const std::string& name) {
  for (const auto& o : optimizers()) {
    if (o.name == name) return o;
  }
  throw std::invalid_argument("no optimizer " + name);
}
bool has_builtin(const std::string& name) { return static_cast<bool>(optimizer_named(name).builtin); }

std::unique_ptr<torch::optim::Optimizer> make(const std::string& impl, const std::string& name,
                                              const std::vector<torch::Tensor>& params) {
  const Optimizer& o = optimizer_named(name);
  return impl == "adaptive" ? o.adaptive(params) : o.builtin(params);
}

// The run every file records: kSteps steps of `impl`'s optimizer.
std::unique_ptr<torch::optim::Optimizer> run(const std::string& impl, const std::string& name,
                                             const std::vector<torch::Tensor>& params) {
  auto opt = make(impl, name, params);
  for (int t = 1; t <= kSteps; ++t) {
    optimizer_named(name).grads(params, t);
    opt->step();
  }
  return opt;
}

std::string file_of(const std::string& dir, const std::string& impl, const std::string& name) {
  return dir + "/" + impl + "_" + name + ".pt";
}

bool has_hex_keys(const std::string& path) {
  torch::serialize::InputArchive archive, groups, group;
  archive.load_from(path);
  archive.read("param_groups", groups);
  groups.read("param_groups/0", group);
  c10::IValue key;
  group.read("params/0", key);
  return key.toStringRef().rfind("0x", 0) == 0;
}

struct Case {
  std::string version, source, name, target;  // file's version, who wrote it, optimizer, who loads it
};

class CheckpointVersions : public ::testing::TestWithParam<Case> {};

TEST_P(CheckpointVersions, NextStepEqualsAnUninterruptedRun) {
  const Case& c = GetParam();
  const std::string path = file_of("tests/data/checkpoints/" + c.version, c.source, c.name);
  ASSERT_TRUE(std::ifstream(path).good()) << path << " missing: run tools/make_checkpoints";
  EXPECT_EQ(has_hex_keys(path), c.version == "1.13" && c.source == "builtin") << path;

  // The reference: never stopped, one more step.
  const Optimizer& o = optimizer_named(c.name);
  auto reference = o.params();
  auto straight = run(c.target, c.name, reference);
  const auto resumed = [&] {
    std::vector<torch::Tensor> out;
    for (const auto& p : reference) out.push_back(p.detach().clone().requires_grad_(true));
    return out;
  }();
  o.grads(reference, kSteps + 1);
  straight->step();

  auto loaded = make(c.target, c.name, resumed);
  loaded->param_groups()[0].options().set_lr(1.0);  // whether load restores kLr
  torch::load(*loaded, path);
  const double lr = loaded->param_groups()[0].options().get_lr();
  const bool restores_options = c.target == "adaptive" || ADAPTIVE_TORCH_AT_LEAST(2, 4);
  EXPECT_EQ(lr, restores_options ? kLr : 1.0);
  loaded->param_groups()[0].options().set_lr(kLr);
  o.grads(resumed, kSteps + 1);
  loaded->step();
  for (size_t i = 0; i < resumed.size(); ++i) {
    const double diff = (resumed[i] - reference[i]).abs().max().item<double>();
    EXPECT_LE(diff / reference[i].abs().max().item<double>(), 1e-12) << "parameter " << i;
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  const std::string here = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR);
  for (const auto& version : kVersions) {
    for (const auto& source : kImpls) {
      for (const auto& o : optimizers()) {
        const std::string& name = o.name;
        for (const auto& target : kImpls) {
          if ((source == "builtin" || target == "builtin") && !has_builtin(name)) continue;
          // 2.x's built-in misreads 1.13's "0x…" keys (see the top of this file).
          if (target == "builtin" && source == "builtin" && version == "1.13" && here != "1.13") continue;
          out.push_back({version, source, name, target});
        }
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, CheckpointVersions, ::testing::ValuesIn(cases()), [](const auto& info) {
  const Case& c = info.param;
  return "v" + c.version.substr(0, 1) + "_" + c.version.substr(2) + "_" + c.source + "_" + c.name + "_into_" + c.target;
});

// Another algorithm's checkpoint (adaptive's or the built-in's, either
// version) is refused, naming the keys the file holds, and the optimizer is
// left as it was: options and state. It used to load silently, taking the
// other algorithm's lr, eps and step count with zero moments. adaptive's own
// files (written after 0.1.0) name the optimizer that wrote them; the error
// says it.
// One pair cannot be told apart: the built-ins' Adam and AdamW save the same
// option names and state, so a built-in AdamW file loads into adaptive::Adam
// (with L2 decay) and a built-in Adam file into adaptive::AdamW (docs/options.md
// says so). adaptive's own Adam and AdamW files differ and are refused.
struct Cross {
  std::string version, source, name, target;  // target: the adaptive optimizer loading another's file
};

class CrossAlgorithm : public ::testing::TestWithParam<Cross> {};

TEST_P(CrossAlgorithm, IsRefusedAndLeavesTheOptimizerUnchanged) {
  const Cross& c = GetParam();
  const std::string path = file_of("tests/data/checkpoints/" + c.version, c.source, c.name);
  const Optimizer& target = optimizer_named(c.target);
  auto params = target.params();
  auto opt = make("adaptive", c.target, params);
  opt->param_groups()[0].options().set_lr(0.25);
  target.grads(params, 1);
  opt->step();
  std::ostringstream before;
  torch::save(*opt, before);
  try {
    torch::load(*opt, path);
    ADD_FAILURE() << c.target << " loaded " << path;
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    EXPECT_NE(what.find("the checkpoint is not this algorithm's"), std::string::npos) << what;
    // Named: by the optimizer that wrote it (adaptive's files), else by the keys it holds.
    const bool names_writer = what.find("it was written by adaptive::") != std::string::npos;
    EXPECT_TRUE(names_writer || what.find("options in it are {") != std::string::npos) << what;
  }
  std::ostringstream after;
  torch::save(*opt, after);
  EXPECT_EQ(opt->param_groups()[0].options().get_lr(), 0.25);
  EXPECT_TRUE(before.str() == after.str()) << "the failed load changed the optimizer";
}

std::vector<Cross> cross_cases() {
  std::vector<Cross> out;
  for (const auto& version : kVersions) {
    for (const auto& source : kImpls) {
      for (const auto& o : optimizers()) {
        const std::string& name = o.name;
        if ((source == "builtin" && !has_builtin(name)) || o.same_algorithm_as_another) continue;
        for (const auto& t : optimizers()) {
          const std::string& target = t.name;
          if (t.same_algorithm_as_another) continue;
          const bool adam_pair = (name == "adam" && target == "adamw") || (name == "adamw" && target == "adam");
          if (target != name && !(source == "builtin" && adam_pair)) out.push_back({version, source, name, target});
        }
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, CrossAlgorithm, ::testing::ValuesIn(cross_cases()), [](const auto& info) {
  const Cross& c = info.param;
  return "v" + c.version.substr(0, 1) + "_" + c.version.substr(2) + "_" + c.source + "_" + c.name + "_into_" + c.target;
});

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--write") {
    int written = 0;
    for (const auto& impl : kImpls) {
      for (const auto& o : optimizers()) {
        if (impl == "builtin" && !o.builtin) continue;
        auto params = o.params();
        auto opt = run(impl, o.name, params);
        torch::save(*opt, file_of(argv[2], impl, o.name));
        ++written;
      }
    }
    std::cout << "wrote " << written << " checkpoints to " << argv[2] << "\n";
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
