// adaptive::GradScaler (optim/grad_scaler.h):
//   - against Python's torch.amp.GradScaler("cpu") with torch.optim's Adam and
//     SGD (tests/data/golden_grad_scaler.json, tools/golden_grad_scaler.py):
//     the parameters, the scale and the growth tracker after every step, bit
//     for bit, in float32 and float64, on four paths: LibTorch's built-in
//     optimizer (ATen's unscale, then its step), adaptive's fused step
//     (ScaledStep), the same on the reference driver, and adaptive's
//     optimizer on the generic path (unscale_, then step). The scale, the
//     growth tracker and which steps are skipped: exact. SGD's parameters:
//     bit for bit. Adam's: within 1e-6 (float32) and 1e-14 (float64) of the
//     largest, measured 4.3e-8 and 1.7e-16 after 40 steps, the same on all
//     four paths: torch.optim.Adam moves its first moment with lerp_,
//     LibTorch's C++ Adam (and so adaptive's, bit-identical to it) with
//     mul_ then add_, which round differently; a hand-written Python Adam
//     with mul_/add_ parts from torch.optim's by the same amount, one with
//     lerp_ not at all. The file is
//     Python 2.13's; LibTorch 1.13 replays it too: its Python has no CPU
//     scaler, and the file holds its gradients, so the arithmetic under test
//     (elementwise, correctly rounded) is version-independent;
//   - the fused path against the generic path on every optimizer of the
//     registry, random options, bit for bit;
//   - torch.amp's rules (unscale_ once, step once, update after a step, no
//     float16 gradients), save and resume, and the reference kernels against
//     ATen's where this LibTorch has them.

#include "optim/core/amp_kernels.h"
#include "optim/core/compat.h"
#include "optim/optim.h"
#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <nlohmann/json.hpp>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>

#include <algorithm>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace adaptive_test {
namespace {

using nlohmann::json;

const json& golden() {
  static const json doc = read_json("tests/data/golden_grad_scaler.json");
  return doc;
}

// Exact equality, NaN equal to NaN.
bool identical(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
         (a.numel() == 0 || torch::allclose(a, b, 0.0, 0.0, /*equal_nan=*/true));
}

// One iteration on both paths: `g` scaled into a's and b's gradients, then
// `fused` stepped through the scaler's fused path and `generic` through
// unscale_ and step (the path any optimizer takes).
void step_both_paths(const torch::Tensor& g, torch::Tensor& a, adaptive::GradScaler& sa, torch::optim::Optimizer& fused,
                     torch::Tensor& b, adaptive::GradScaler& sb, torch::optim::Optimizer& generic) {
  a.mutable_grad() = sa.scale(g);
  b.mutable_grad() = sb.scale(g);
  sa.step(fused);
  sa.update();
  sb.unscale_(generic);
  sb.step(generic);
  sb.update();
}

// How a golden case is replayed.
enum class Path {
  kBuiltin,           // torch::optim's optimizer: ATen's unscale, then its step
  kFused,             // adaptive's optimizer, the scale undone in its fused step
  kReferenceDriver,   // the same, on adaptive's tensor-op driver (fused(false))
  kGeneric,           // adaptive's optimizer, unscale_ then step(), as for any optimizer
};
const char* name_of(Path p) {
  switch (p) {
    case Path::kBuiltin: return "builtin";
    case Path::kFused: return "fused";
    case Path::kReferenceDriver: return "reference_driver";
    case Path::kGeneric: return "generic";
  }
  return "?";
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const json& spec, std::vector<torch::Tensor> params,
                                                        Path path, double clip_value) {
  const std::string kind = spec.at("kind");
  const json& o = spec.at("options");
  const double lr = o.at("lr");
  const double weight_decay = o.value("weight_decay", 0.0);
  // Clipping inside step() where the scale is undone inside it: it must see the unscaled gradients.
  const double in_step_clip = (path == Path::kFused || path == Path::kReferenceDriver) ? clip_value : 0.0;
  const bool fused = path != Path::kReferenceDriver;
  if (kind == "adam") {
    const bool amsgrad = o.value("amsgrad", false);
    if (path == Path::kBuiltin) {
      return std::make_unique<torch::optim::Adam>(
          params, torch::optim::AdamOptions(lr).weight_decay(weight_decay).amsgrad(amsgrad));
    }
    return std::make_unique<adaptive::Adam>(
        params,
        adaptive::AdamOptions(lr).weight_decay(weight_decay).amsgrad(amsgrad).clip_grad_value(in_step_clip).fused(fused));
  }
  const double momentum = o.value("momentum", 0.0);
  const bool nesterov = o.value("nesterov", false);
  if (path == Path::kBuiltin) {
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(lr).momentum(momentum).nesterov(nesterov).weight_decay(weight_decay));
  }
  return std::make_unique<adaptive::SGD>(params, adaptive::SGDOptions(lr)
                                                     .momentum(momentum)
                                                     .nesterov(nesterov)
                                                     .weight_decay(weight_decay)
                                                     .clip_grad_value(in_step_clip)
                                                     .fused(fused));
}

adaptive::GradScalerOptions scaler_options(const json& s) {
  adaptive::GradScalerOptions o;
  if (s.contains("init_scale")) o.init_scale(s.at("init_scale"));
  if (s.contains("growth_factor")) o.growth_factor(s.at("growth_factor"));
  if (s.contains("backoff_factor")) o.backoff_factor(s.at("backoff_factor"));
  if (s.contains("growth_interval")) o.growth_interval(s.at("growth_interval"));
  return o;
}

// Replays golden case `c` on `path`; checks every step: the scale and the
// growth tracker exactly, the parameters within `bound` (relative to the
// largest), and sets `worst` to their largest deviation.
void replay(const json& c, Path path, double bound, double& worst, torch::Device device = torch::kCPU) {
  worst = 0;
  torch::Tensor previous, previous_actual;
  const json& doc = golden();
  const auto dtype = c.at("dtype") == "float32" ? torch::kFloat32 : torch::kFloat64;
  const double clip_value = c.at("clip_grad_value");
  std::vector<torch::Tensor> params;
  for (size_t i = 0; i < doc.at("shapes").size(); ++i) {
    params.push_back(torch::tensor(doc.at("init")[i].get<std::vector<double>>(), torch::kFloat64)
                         .reshape(doc.at("shapes")[i].get<std::vector<int64_t>>())
                         .to(device, dtype)
                         .requires_grad_(true));
  }
  std::vector<std::unique_ptr<torch::optim::Optimizer>> optimizers;
  for (const json& spec : c.at("optimizers")) {
    std::vector<torch::Tensor> own;
    for (int i : spec.at("params")) own.push_back(params[i]);
    optimizers.push_back(make_optimizer(spec, own, path, clip_value));
  }
  adaptive::GradScaler scaler(scaler_options(c.at("scaler")));
  const json& trajectory = c.at("trajectory");
  const std::string label = std::string(c.at("name")) + " " + std::string(c.at("dtype")) + " on " + name_of(path) +
                            (device.is_cuda() ? " (CUDA)" : "");
  for (int t = 0; t < doc.at("steps").get<int>(); ++t) {
    for (size_t i = 0; i < params.size(); ++i) {
      const torch::Tensor g = torch::tensor(doc.at("gradients")[t][i].get<std::vector<double>>(), torch::kFloat64)
                                  .reshape(params[i].sizes())
                                  .to(device, dtype);
      params[i].mutable_grad() = scaler.scale(g);
    }
    for (const json& inj : c.at("injections")) {
      if (inj.at("step") != t) continue;
      const std::string v = inj.at("value");
      const double value = v == "nan" ? std::numeric_limits<double>::quiet_NaN()
                           : v == "-inf" ? -std::numeric_limits<double>::infinity()
                                         : std::numeric_limits<double>::infinity();
      params[inj.at("param").get<int>()].mutable_grad().view({-1})[inj.at("index").get<int64_t>()] = value;
    }
    if (clip_value > 0 && (path == Path::kBuiltin || path == Path::kGeneric)) {
      for (auto& opt : optimizers) scaler.unscale_(*opt);
      torch::nn::utils::clip_grad_value_(params, clip_value);
    } else if (path == Path::kGeneric) {
      for (auto& opt : optimizers) scaler.unscale_(*opt);
    }
    for (auto& opt : optimizers) scaler.step(*opt);
    scaler.update();
    std::vector<torch::Tensor> flat;
    for (const auto& p : params) flat.push_back(p.detach().to(torch::kCPU, torch::kFloat64).reshape({-1}));
    const torch::Tensor actual = torch::cat(flat);
    const torch::Tensor expected = torch::tensor(trajectory.at("params")[t].get<std::vector<double>>(), torch::kFloat64);
    // A skipped step leaves the parameters exactly as they were, in both.
    const bool python_moved = t == 0 || !torch::equal(expected, previous);
    ASSERT_EQ(python_moved, t == 0 || !torch::equal(actual, previous_actual)) << label << ": step " << t + 1
                                                                                << " skipped in one only";
    previous = expected, previous_actual = actual;
    const double deviation = (actual - expected).abs().max().item<double>() / expected.abs().max().item<double>();
    worst = std::max(worst, deviation);
    ASSERT_LE(deviation, bound) << label << ": parameters after step " << t + 1;
    ASSERT_EQ(scaler.get_scale(), trajectory.at("scale")[t].get<double>()) << label << ": scale after step " << t + 1;
    ASSERT_EQ(scaler.get_growth_tracker(), trajectory.at("growth_tracker")[t].get<int64_t>())
        << label << ": growth tracker after step " << t + 1;
  }
}

TEST(GradScalerGolden, EveryCaseOnEveryPathFollowsPython) {
  int replayed = 0;
  for (const json& c : golden().at("cases")) {
    bool adam = false;
    for (const json& spec : c.at("optimizers")) adam = adam || spec.at("kind") == "adam";
    // See the top of this file for the bounds and their cause.
    const double bound = !adam ? 0.0 : c.at("dtype") == "float32" ? 1e-6 : 1e-14;
    for (Path path : {Path::kBuiltin, Path::kFused, Path::kReferenceDriver, Path::kGeneric}) {
      double worst = 0;
      replay(c, path, bound, worst);
      if (HasFatalFailure()) return;
      std::cout << c.at("name").get<std::string>() << " " << c.at("dtype").get<std::string>() << " on "
                << name_of(path) << ": parameters within " << worst << " of Python's (bound " << bound << ")\n";
      ++replayed;
    }
  }
  EXPECT_EQ(replayed, 32);  // 4 cases × 2 dtypes × 4 paths
}

// On a GPU (tools/check_gpu): the same cases on CUDA, the scale on the GPU.
// Every path within the Adam bounds above (ATen's CUDA kernels may contract
// a multiply and an add into one fma, where the CPU's round twice); the
// scale, the tracker and the skipped steps exactly.
TEST(GradScalerCuda, EveryCaseOnEveryPathFollowsPython) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU on this machine";
  for (const json& c : golden().at("cases")) {
    const double bound = c.at("dtype") == "float32" ? 1e-6 : 1e-14;
    for (Path path : {Path::kBuiltin, Path::kFused, Path::kReferenceDriver, Path::kGeneric}) {
      double worst = 0;
      replay(c, path, bound, worst, torch::kCUDA);
      if (HasFatalFailure()) return;
      std::cout << c.at("name").get<std::string>() << " " << c.at("dtype").get<std::string>() << " on "
                << name_of(path) << " (CUDA): parameters within " << worst << " of Python's\n";
    }
  }
}

// On a GPU: the fused path equals the generic one bit for bit there too.
TEST(GradScalerCuda, FusedPathEqualsGenericPath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU on this machine";
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    auto a = torch::randn({3000}, torch::TensorOptions().dtype(dtype).device(torch::kCUDA)).requires_grad_(true);
    auto b = a.detach().clone().requires_grad_(true);
    adaptive::Adam fused({a}, adaptive::AdamOptions(1e-2).clip_grad_norm(0.5)),
        generic({b}, adaptive::AdamOptions(1e-2).clip_grad_norm(0.5));
    adaptive::GradScaler sa, sb;
    for (int step = 0; step < 6; ++step) {
      torch::Tensor g = torch::randn({3000}, a.options());
      if (step == 2) g[7] = kInf;
      step_both_paths(g, a, sa, fused, b, sb, generic);
      ASSERT_TRUE(identical(a.cpu(), b.cpu())) << dtype << " step " << step;
      ASSERT_EQ(sa.get_scale(), sb.get_scale());
    }
  }
}

// ---- The fused path against the generic path, every optimizer of the registry.

TEST(GradScalerFused, EveryOptimizerMatchesTheGenericPathBitForBit) {
  int compared = 0;
  for (int kind = 0; kind < kKinds; ++kind) {
    for (int c = 0; c < 6; ++c) {
      RandomCase r(7000 + 10 * kind + c);
      const auto dtype = c % 2 == 0 ? torch::kFloat32 : torch::kFloat64;
      std::vector<std::vector<torch::Tensor>> init(1 + c % 2);
      for (auto& g : init) {
        for (int i = 0; i < 2; ++i) {
          const int64_t size = r.pick<int64_t>({1, 7, 33, 300, 5000});
          g.push_back(torch::randn(shape_for(kind, {size}), torch::TensorOptions().dtype(dtype)));
        }
      }
      auto fused_params = leaf_copies(init), generic_params = leaf_copies(init);
      RandomCase r1 = r, r2 = r;
      auto fused = random_optimizer(kind, r1, fused_params);
      auto generic = random_optimizer(kind, r2, generic_params);
      const double init_scale = r.pick({65536.0, 1024.0, 0.125, 3.0});
      adaptive::GradScaler fused_scaler(adaptive::GradScalerOptions().init_scale(init_scale).growth_interval(2));
      adaptive::GradScaler generic_scaler(adaptive::GradScalerOptions().init_scale(init_scale).growth_interval(2));
      const int steps = steps_to_every_branch(kind) + 3;
      const int inf_step = static_cast<int>(r.rng() % steps);
      for (int step = 0; step < steps; ++step) {
        for (size_t gi = 0; gi < init.size(); ++gi) {
          for (size_t pi = 0; pi < init[gi].size(); ++pi) {
            torch::Tensor g = torch::randn_like(init[gi][pi]) * r.pick({1.0, 1e-3, 30.0});
            if (step == inf_step && gi == 0 && pi == 0) g.view({-1})[0] = r.coin() ? kInf : kNaN;
            fused_params[gi][pi].mutable_grad() = gradient_for(kind, fused_scaler.scale(g));
            generic_params[gi][pi].mutable_grad() = gradient_for(kind, generic_scaler.scale(g));
          }
        }
        fused_scaler.step(*fused);
        fused_scaler.update();
        generic_scaler.unscale_(*generic);
        generic_scaler.step(*generic);
        generic_scaler.update();
        ASSERT_EQ(fused_scaler.get_scale(), generic_scaler.get_scale()) << name_of_kind(kind) << " case " << c;
      }
      for (size_t gi = 0; gi < init.size(); ++gi) {
        for (size_t pi = 0; pi < init[gi].size(); ++pi) {
          ASSERT_TRUE(identical(fused_params[gi][pi], generic_params[gi][pi]))
              << name_of_kind(kind) << " case " << c << " group " << gi << " param " << pi;
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, kKinds * (3 * 2 + 3 * 4));
}

// A step the fused path skips changes nothing: parameters, state, step counts.
TEST(GradScalerFused, ASkippedStepChangesNothing) {
  auto p = torch::randn({100}).requires_grad_(true);
  adaptive::Adam opt({p}, adaptive::AdamOptions(1e-2));
  adaptive::GradScaler scaler;
  p.mutable_grad() = scaler.scale(torch::randn({100}));
  scaler.step(opt);
  scaler.update();
  const torch::Tensor before = p.detach().clone();
  std::ostringstream saved_before;
  torch::save(opt, saved_before);
  torch::Tensor g = torch::randn({100});
  g[57] = kInf;
  p.mutable_grad() = scaler.scale(g);
  const torch::Tensor scaled = p.grad().clone();
  scaler.step(opt);
  scaler.update();
  EXPECT_TRUE(torch::equal(p.detach(), before));
  std::ostringstream saved_after;
  torch::save(opt, saved_after);
  EXPECT_EQ(saved_before.str(), saved_after.str());  // the same state, step counts included
  EXPECT_EQ(scaler.get_scale(), 32768.0);
  EXPECT_TRUE(identical(p.grad(), scaled));  // gradients are read, never written
}

// Clipping inside step() sees unscaled gradients: the fused path equals
// unscale_ then step, the norm (last_grad_norm) included.
TEST(GradScalerFused, ClippingInsideTheStepSeesUnscaledGradients) {
  for (const bool by_norm : {true, false}) {
    auto a = torch::randn({2000}).requires_grad_(true);
    auto b = a.detach().clone().requires_grad_(true);
    const auto options = adaptive::AdamOptions(1e-2).clip_grad_norm(by_norm ? 0.5 : 0.0).clip_grad_value(by_norm ? 0.0 : 1e-3);
    adaptive::Adam fused({a}, options), generic({b}, options);
    adaptive::GradScaler sa, sb;
    for (int step = 0; step < 6; ++step) {
      torch::Tensor g = torch::randn({2000});
      // Steps 2 and 3 overflow: where the step clips by norm, the norm's own
      // pass finds them (no pass of the inf check's).
      if (step == 2) g[5] = kInf;
      if (step == 3) g[1999] = kNaN;
      const torch::Tensor before = a.detach().clone();
      step_both_paths(g, a, sa, fused, b, sb, generic);
      ASSERT_TRUE(identical(a, b)) << (by_norm ? "norm" : "value") << " clipping, step " << step;
      ASSERT_EQ(sa.get_scale(), sb.get_scale());
      if (step == 2 || step == 3) {
        ASSERT_TRUE(identical(a, before)) << "step " << step << " was not skipped";
      } else if (by_norm) {
        ASSERT_EQ(*fused.last_grad_norm(), *generic.last_grad_norm());
      }
    }
    EXPECT_EQ(sa.get_scale(), 16384.0);  // backed off twice
  }
}

// Gradients that unscale to subnormal float32 values: the norm inside the
// fused path rounds each unscaled element as ATen's unscale does, so the
// clipping norm (and so every parameter) equals the generic path's.
TEST(GradScalerFused, TheNormOfTinyGradientsRoundsAsTheUnscaleDoes) {
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    auto a = torch::randn({1000}, dtype).requires_grad_(true);
    auto b = a.detach().clone().requires_grad_(true);
    const auto options = adaptive::AdamOptions(1e-2).clip_grad_norm(1e-40);
    adaptive::Adam fused({a}, options), generic({b}, options);
    adaptive::GradScaler sa(adaptive::GradScalerOptions().init_scale(3.0)), sb(adaptive::GradScalerOptions().init_scale(3.0));
    const torch::Tensor g = torch::randn({1000}, dtype) * (dtype == torch::kFloat32 ? 1e-39 : 1e-310);
    a.mutable_grad() = sa.scale(g);
    b.mutable_grad() = sb.scale(g);
    sa.step(fused);
    sb.unscale_(generic);
    sb.step(generic);
    EXPECT_EQ(*fused.last_grad_norm(), *generic.last_grad_norm()) << dtype;
    EXPECT_TRUE(identical(a, b)) << dtype;
  }
}

// step(optimizer, closure): the closure computes the scaled gradients; the
// same numbers as without a closure.
TEST(GradScalerClosure, StepWithAClosureEqualsTheLoop) {
  const Problem problem = make_problem(torch::kFloat32, torch::kCPU);
  auto pa = fresh_params(problem), pb = fresh_params(problem);
  adaptive::Adam a(pa, adaptive::AdamOptions(1e-2)), b(pb, adaptive::AdamOptions(1e-2));
  adaptive::GradScaler sa, sb;
  for (int step = 0; step < 10; ++step) {
    const torch::Tensor loss = sa.step(a, [&] {
      a.zero_grad();
      torch::Tensor l = mlp_loss(pa, problem);
      sa.scale(l).backward();
      return l;
    });
    sa.update();
    b.zero_grad();
    torch::Tensor l = mlp_loss(pb, problem);
    sb.scale(l).backward();
    sb.step(b);
    sb.update();
    ASSERT_EQ(loss.item<float>(), l.item<float>());
  }
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(identical(pa[i], pb[i]));
}

// Complex parameters (stepped through their real view): the generic path
// unscales the real view, the fused path multiplies it in; the same numbers.
TEST(GradScalerFused, ComplexParametersTakeBothPaths) {
  auto a = torch::randn({50}, torch::kComplexFloat).requires_grad_(true);
  auto b = a.detach().clone().requires_grad_(true);
  adaptive::Adam fused({a}, adaptive::AdamOptions(1e-2)), generic({b}, adaptive::AdamOptions(1e-2));
  adaptive::GradScaler sa, sb;
  for (int step = 0; step < 4; ++step) {
    torch::Tensor g = torch::randn({50}, torch::kComplexFloat);
    if (step == 1) g[3] = c10::complex<float>(0, kInf);
    step_both_paths(g, a, sa, fused, b, sb, generic);
    ASSERT_TRUE(torch::equal(torch::view_as_real(a.detach()), torch::view_as_real(b.detach()))) << step;
  }
  EXPECT_EQ(sa.get_scale(), 32768.0);
}

// ---- torch.amp's rules, with its messages.

struct Fixture {
  torch::Tensor p = torch::randn({10}).requires_grad_(true);
  torch::optim::SGD builtin{std::vector<torch::Tensor>{p}, torch::optim::SGDOptions(0.1)};
  adaptive::GradScaler scaler;
  void backward() { p.mutable_grad() = scaler.scale(torch::ones({10})); }
};

TEST(GradScalerRules, UnscaleTwiceStepTwiceAndUnscaleAfterStepAreErrors) {
  Fixture f;
  f.backward();
  f.scaler.unscale_(f.builtin);
  EXPECT_NE(error_of([&] { f.scaler.unscale_(f.builtin); }).find("unscale_() has already been called on this optimizer"),
            std::string::npos);
  f.scaler.step(f.builtin);
  EXPECT_NE(error_of([&] { f.scaler.step(f.builtin); }).find("step() has already been called"), std::string::npos);
  EXPECT_NE(error_of([&] { f.scaler.unscale_(f.builtin); }).find("unscale_() is being called after step()"),
            std::string::npos);
  f.scaler.update();
  f.backward();
  f.scaler.unscale_(f.builtin);  // ready again after update()
}

TEST(GradScalerRules, MethodsBeforeTheFirstScaleAreErrors) {
  Fixture f;
  f.p.mutable_grad() = torch::ones({10});
  for (const auto& call : std::vector<std::function<void()>>{[&] { f.scaler.unscale_(f.builtin); },
                                                             [&] { f.scaler.step(f.builtin); },
                                                             [&] { f.scaler.update(); }}) {
    EXPECT_NE(error_of(call).find("there is no scale yet"), std::string::npos) << error_of(call);
  }
  EXPECT_EQ(f.scaler.get_scale(), 65536.0);  // init_scale, as Python's before the first scale()
}

TEST(GradScalerRules, UpdateNeedsAStepAndStepNeedsGradients) {
  Fixture f;
  f.scaler.scale(torch::ones({}));
  EXPECT_NE(error_of([&] { f.scaler.update(); }).find("no inf checks were recorded since the last update()"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f.scaler.step(f.builtin); }).find("none of its parameters has a gradient"), std::string::npos);
  adaptive::Adam adam({torch::randn({3}).requires_grad_(true)});
  EXPECT_NE(error_of([&] { f.scaler.step(adam); }).find("none of its parameters has a gradient"), std::string::npos);
}

TEST(GradScalerRules, Float16GradientsAreRefusedBeforeAnythingChanges) {
  auto a = torch::randn({4}).requires_grad_(true);
  auto h = torch::randn({4}, torch::kHalf).requires_grad_(true);
  torch::optim::SGD opt(std::vector<torch::Tensor>{a, h}, torch::optim::SGDOptions(0.1));
  adaptive::GradScaler scaler;
  a.mutable_grad() = scaler.scale(torch::ones({4}));
  h.mutable_grad() = torch::ones({4}, torch::kHalf);
  const std::string error = error_of([&] { scaler.unscale_(opt); });
  EXPECT_NE(error.find("parameter 1 of group 0 has a float16 gradient"), std::string::npos) << error;
  EXPECT_TRUE(torch::equal(a.grad(), torch::full({4}, 65536.0)));  // not unscaled
}

TEST(GradScalerRules, OptionsAreCheckedWithTheirValues) {
  using O = adaptive::GradScalerOptions;
  const std::vector<std::pair<O, std::string>> bad = {
      {O().growth_factor(1.0), "growth_factor is 1; it must be > 1.0"},
      {O().backoff_factor(1.0), "backoff_factor is 1; it must be < 1.0"},
      {O().backoff_factor(0.0), "backoff_factor is 0; it must be > 0"},
      {O().init_scale(-1.0), "init_scale is -1; a loss scale must be positive and finite"},
      {O().init_scale(kInf), "init_scale is inf"},
      {O().growth_interval(0), "growth_interval is 0; it must be in [1, 2^31 - 1]"},
  };
  for (const auto& [options, message] : bad) {
    const std::string error = error_of([&] { adaptive::GradScaler s(options); });
    EXPECT_NE(error.find(message), std::string::npos) << error;
  }
  adaptive::GradScaler s;
  EXPECT_NE(error_of([&] { s.set_growth_factor(0.5); }).find("growth_factor is 0.5"), std::string::npos);
  s.scale(torch::ones({}));
  EXPECT_NE(error_of([&] { s.update(0.0); }).find("new_scale is 0"), std::string::npos);
  EXPECT_NE(error_of([&] { s.update(torch::ones({2})); }).find("1-element tensor"), std::string::npos);
  EXPECT_EQ(s.get_scale(), 65536.0);  // unchanged by the refused updates
}

TEST(GradScalerRules, UpdateWithANewScale) {
  Fixture f;
  f.backward();
  f.scaler.step(f.builtin);
  f.scaler.update(128.0);
  EXPECT_EQ(f.scaler.get_scale(), 128.0);
  f.backward();
  EXPECT_TRUE(torch::equal(f.p.grad(), torch::full({10}, 128.0)));
  f.scaler.step(f.builtin);
  f.scaler.update(torch::full({}, 4.0));
  EXPECT_EQ(f.scaler.get_scale(), 4.0);
}

TEST(GradScalerRules, ADisabledScalerPassesThrough) {
  auto p = torch::zeros({3}).requires_grad_(true);
  torch::optim::SGD opt(std::vector<torch::Tensor>{p}, torch::optim::SGDOptions(1.0));
  adaptive::GradScaler scaler(adaptive::GradScalerOptions().enabled(false));
  const torch::Tensor loss = torch::ones({});
  EXPECT_TRUE(scaler.scale(loss).is_same(loss));
  p.mutable_grad() = torch::full({3}, kInf);
  scaler.unscale_(opt);
  scaler.step(opt);  // steps, inf and all: nothing is checked when disabled
  scaler.update();
  EXPECT_TRUE(torch::isinf(p).all().item<bool>());
  EXPECT_EQ(scaler.get_scale(), 1.0);
  torch::serialize::OutputArchive archive;
  scaler.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  adaptive::GradScaler enabled;
  std::istringstream in(out.str());
  torch::serialize::InputArchive read;
  read.load_from(in);
  const std::string error = error_of([&] { enabled.load(read); });
  EXPECT_NE(error.find("has no 'scale': it holds no GradScaler state"), std::string::npos) << error;
}

// ---- Save and load.

TEST(GradScalerCheckpoint, ResumingMidRunIsExact) {
  const Problem problem = make_problem(torch::kFloat32, torch::kCPU);
  const auto run = [&](int steps, std::vector<torch::Tensor>& params, torch::optim::Optimizer& opt,
                       adaptive::GradScaler& scaler, int first) {
    for (int step = first; step < first + steps; ++step) {
      opt.zero_grad();
      torch::Tensor loss = mlp_loss(params, problem);
      scaler.scale(loss).backward();
      if (step % 5 == 3) params[0].mutable_grad()[0][0] = kInf;  // back-offs
      scaler.step(opt);
      scaler.update();
    }
  };
  const auto options = adaptive::GradScalerOptions().init_scale(256.0).growth_interval(3);
  auto straight = fresh_params(problem);
  adaptive::Adam a(straight, adaptive::AdamOptions(1e-2));
  adaptive::GradScaler sa(options);
  run(20, straight, a, sa, 0);

  auto first = fresh_params(problem);
  adaptive::Adam b(first, adaptive::AdamOptions(1e-2));
  adaptive::GradScaler sb(options);
  run(11, first, b, sb, 0);
  const std::string opt_path = temp_path("scaler_resume_opt.pt"), scaler_path = temp_path("scaler_resume.pt");
  torch::save(b, opt_path);
  torch::save(sb, scaler_path);
  EXPECT_NE(sb.get_growth_tracker(), 0);  // saved mid-way towards a growth

  std::vector<torch::Tensor> resumed;
  for (const auto& p : first) resumed.push_back(p.detach().clone().requires_grad_(true));
  adaptive::Adam c(resumed, adaptive::AdamOptions(1e-2));
  adaptive::GradScaler sc(adaptive::GradScalerOptions().growth_interval(1000));  // load restores the options
  torch::load(c, opt_path);
  torch::load(sc, scaler_path);
  EXPECT_EQ(sc.get_growth_interval(), 3);
  run(9, resumed, c, sc, 11);
  for (size_t i = 0; i < straight.size(); ++i) EXPECT_TRUE(identical(straight[i], resumed[i])) << i;
  EXPECT_EQ(sa.get_scale(), sc.get_scale());
  EXPECT_EQ(sa.get_growth_tracker(), sc.get_growth_tracker());
}

TEST(GradScalerCheckpoint, PythonsKeysAndAllOrNothingLoads) {
  adaptive::GradScaler scaler(adaptive::GradScalerOptions().init_scale(8.0).growth_interval(7));
  torch::serialize::OutputArchive archive;
  scaler.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  const auto read = [&](const std::string& bytes) {
    std::istringstream in(bytes);
    auto a = std::make_unique<torch::serialize::InputArchive>();
    a->load_from(in);
    return a;
  };
  auto in = read(out.str());
  for (const char* key : {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}) {
    c10::IValue v;
    EXPECT_TRUE(in->try_read(key, v)) << key;
  }
  // A bad value: refused, and nothing of the rest taken.
  torch::serialize::OutputArchive bad;
  bad.write("scale", c10::IValue(2.0));
  bad.write("growth_factor", c10::IValue(0.5));
  bad.write("backoff_factor", c10::IValue(0.5));
  bad.write("growth_interval", c10::IValue(int64_t{10}));
  bad.write("_growth_tracker", c10::IValue(int64_t{0}));
  std::ostringstream bad_out;
  bad.save_to(bad_out);
  adaptive::GradScaler target;
  auto bad_in = read(bad_out.str());
  EXPECT_NE(error_of([&] { target.load(*bad_in); }).find("growth_factor is 0.5"), std::string::npos);
  EXPECT_EQ(target.get_scale(), 65536.0);
  EXPECT_EQ(target.get_growth_interval(), 2000);
  // Another object's archive: an optimizer's.
  auto p = torch::randn({2}).requires_grad_(true);
  adaptive::Adam adam({p});
  std::ostringstream adam_out;
  torch::save(adam, adam_out);
  auto adam_in = read(adam_out.str());
  EXPECT_NE(error_of([&] { target.load(*adam_in); }).find("it holds no GradScaler state"), std::string::npos);
  auto good = read(out.str());
  target.load(*good);
  EXPECT_EQ(target.get_scale(), 8.0);
  EXPECT_EQ(target.get_growth_interval(), 7);
}

// ---- The reference kernels (LibTorch before 2.3 runs them on the CPU) against ATen's.

#if ADAPTIVE_ATEN_HAS_CPU_AMP_KERNELS
TEST(GradScalerKernels, TheReferencesEqualATensKernels) {
  RandomCase r(99);
  for (const auto dtype : {torch::kFloat32, torch::kFloat64, torch::kBFloat16}) {
    for (const double inv : {1.0, 1.0 / 65536, 1.0 / 3}) {
      for (const bool poison : {false, true}) {
        std::vector<torch::Tensor> a, b;
        for (int64_t n : {1, 17, 1000}) {
          torch::Tensor t = (torch::randn({n}) * 1e4).to(dtype);
          if (poison && n == 17) t[3] = r.coin() ? kInf : kNaN;
          a.push_back(t.clone());
          b.push_back(t.clone());
        }
        const torch::Tensor inv_scale = torch::full({}, inv, torch::kFloat);
        torch::Tensor fa = torch::zeros({}), fb = torch::zeros({});
        at::_amp_foreach_non_finite_check_and_unscale_(a, fa, inv_scale);
        adaptive::detail::amp_unscale_reference(b, fb, inv_scale);
        EXPECT_EQ(fa.item<float>(), fb.item<float>());
        for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(identical(a[i], b[i])) << dtype << " " << inv;
      }
    }
  }
  for (const float found : {0.f, 1.f, 2.f}) {
    for (const int tracker : {0, 1, 2}) {
      for (const float scale : {65536.f, 3.f, 1.7e38f}) {
        torch::Tensor sa = torch::full({}, scale), sb = sa.clone();
        torch::Tensor ta = torch::full({}, tracker, torch::kInt), tb = ta.clone();
        const torch::Tensor f = torch::full({}, found);
        at::_amp_update_scale_(sa, ta, f, 2.0, 0.5, 3);
        adaptive::detail::amp_update_scale_reference(sb, tb, f, 2.0, 0.5, 3);
        EXPECT_EQ(sa.item<float>(), sb.item<float>()) << found << " " << tracker << " " << scale;
        EXPECT_EQ(ta.item<int>(), tb.item<int>());
      }
    }
  }
}
#endif

}  // namespace
}  // namespace adaptive_test
