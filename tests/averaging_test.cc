// Weight averaging (optim/swa_utils.h) against PyTorch 2.13's
// torch.optim.swa_utils (tests/data/golden_swa.json, tools/golden_swa.py):
// AveragedModel's SWA and EMA averages after each update of a stored
// parameter sequence, in float32 and float64, with and without
// use_buffers, bit for bit (one ATen op per update, the same as Python's);
// update_bn's statistics; resuming an average from a checkpoint; and the
// errors, with nothing changed.

#include "optim/swa_utils.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace adaptive_test {
namespace {

using nlohmann::json;

const json& golden() {
  static const json doc = read_json("tests/data/golden_swa.json");
  return doc;
}

// The golden model: Linear(4, 3), then BatchNorm1d(3), its floating-point
// tensors in `dtype` (Python's .to(dtype); LibTorch's Module::to(dtype) would
// convert num_batches_tracked too).
torch::nn::Sequential make_model(torch::Dtype dtype) {
  torch::nn::Sequential m(torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3));
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.set_data(p.to(dtype));
  for (auto& b : m->buffers()) {
    if (b.is_floating_point()) b.set_data(b.to(dtype));
  }
  return m;
}

std::vector<torch::Tensor> all_tensors(const torch::nn::Module& m) {
  std::vector<torch::Tensor> out = m.parameters();
  for (const auto& b : m.buffers()) out.push_back(b);
  return out;
}

// Sets every parameter and buffer of `m` to `values` (flattened, as the golden file has them).
void set_all(const torch::nn::Module& m, const json& values) {
  torch::NoGradGuard no_grad;
  const auto tensors = all_tensors(m);
  ASSERT_EQ(tensors.size(), values.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto v = torch::tensor(values[i].get<std::vector<double>>(), torch::kFloat64);
    tensors[i].copy_(v.reshape(tensors[i].sizes()));
  }
}

// Every tensor of `m` equals `expected` bit for bit (compared as float64, which holds float32 and long exactly).
void expect_all(const torch::nn::Module& m, const json& expected, const std::string& label) {
  const auto tensors = all_tensors(m);
  ASSERT_EQ(tensors.size(), expected.size()) << label;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto got = tensors[i].to(torch::kFloat64).flatten();
    const auto want = expected[i].get<std::vector<double>>();
    ASSERT_EQ(got.numel(), static_cast<int64_t>(want.size())) << label;
    for (size_t k = 0; k < want.size(); ++k) {
      ASSERT_EQ(got[static_cast<int64_t>(k)].item<double>(), want[k]) << label << ": tensor " << i << " element " << k;
    }
  }
}

adaptive::AveragedModelOptions options_of(const json& c) {
  adaptive::AveragedModelOptions o;
  o.use_buffers(c.at("use_buffers").get<bool>());
  if (!c.at("decay").is_null()) o.multi_avg_fn(adaptive::ema_multi_avg_fn(c.at("decay").get<double>()));
  return o;
}

torch::Dtype dtype_of(const json& c) { return c.at("dtype") == "float64" ? torch::kFloat64 : torch::kFloat32; }

TEST(AveragedModelGolden, EveryUpdateIsBitIdenticalToPython) {
  for (const json& c : golden().at("cases")) {
    const std::string label = c.at("name");
    auto model = make_model(dtype_of(c));
    adaptive::AveragedModel averaged(*model, options_of(c));
    for (size_t u = 0; u < c.at("sequence").size(); ++u) {
      set_all(*model, c.at("sequence")[u]);
      averaged.update_parameters(*model);
      expect_all(*averaged.module(), c.at("averages")[u], label + " after update " + std::to_string(u + 1));
      if (HasFatalFailure()) return;
    }
    EXPECT_EQ(averaged.n_averaged(), c.at("n_averaged").get<int64_t>()) << label;
  }
}

// Saved after half the updates, loaded into a fresh average, the rest of the
// sequence gives Python's averages bit for bit.
TEST(AveragedModelCheckpoint, AnAverageResumesBitForBit) {
  for (const json& c : golden().at("cases")) {
    const std::string label = c.at("name");
    const size_t half = c.at("sequence").size() / 2;
    auto model = make_model(dtype_of(c));
    adaptive::AveragedModel first(*model, options_of(c));
    for (size_t u = 0; u < half; ++u) {
      set_all(*model, c.at("sequence")[u]);
      first.update_parameters(*model);
    }
    std::ostringstream saved;
    torch::save(first, saved);

    auto other = make_model(dtype_of(c));
    adaptive::AveragedModel resumed(*other, options_of(c));
    std::istringstream in(saved.str());
    torch::load(resumed, in);
    EXPECT_EQ(resumed.n_averaged(), static_cast<int64_t>(half));
    for (size_t u = half; u < c.at("sequence").size(); ++u) {
      set_all(*other, c.at("sequence")[u]);
      resumed.update_parameters(*other);
      expect_all(*resumed.module(), c.at("averages")[u], label + " resumed, after update " + std::to_string(u + 1));
      if (HasFatalFailure()) return;
    }
  }
}

TEST(AveragedModelCheckpoint, AnotherShapeIsRefusedAndNothingChanges) {
  auto small = make_model(torch::kFloat32);
  adaptive::AveragedModel a(*small);
  a.update_parameters(*small);
  std::ostringstream saved;
  torch::save(a, saved);

  torch::nn::Sequential wide(torch::nn::Linear(4, 5), torch::nn::BatchNorm1d(5));
  adaptive::AveragedModel b(*wide);
  b.update_parameters(*wide);
  const auto before = b.module()->parameters()[0].clone();
  std::istringstream in(saved.str());
  const std::string error = error_of([&] { torch::load(b, in); });
  EXPECT_NE(error.find("AveragedModel::load: 'module.0.weight' is Float[3, 4], the average's Float[5, 4]"),
            std::string::npos)
      << error;
  EXPECT_TRUE(torch::equal(b.module()->parameters()[0], before));
  EXPECT_EQ(b.n_averaged(), 1);
}

TEST(AveragedModelErrors, EachNamesTheArgumentAndChangesNothing) {
  EXPECT_NE(error_of([] { adaptive::ema_multi_avg_fn(1.5); }).find("ema_multi_avg_fn: decay is 1.5; it must be in [0, 1]"),
            std::string::npos);
  auto model = make_model(torch::kFloat32);
  const std::string both = error_of([&] {
    adaptive::AveragedModel a(*model, adaptive::AveragedModelOptions()
                                          .multi_avg_fn(adaptive::ema_multi_avg_fn(0.9))
                                          .avg_fn([](const torch::Tensor& a, const torch::Tensor&, int64_t) { return a; }));
  });
  EXPECT_NE(both.find("AveragedModel: give avg_fn or multi_avg_fn, not both"), std::string::npos) << both;

  adaptive::AveragedModel averaged(*model);
  averaged.update_parameters(*model);
  const auto before = averaged.module()->parameters()[0].clone();
  torch::nn::Sequential other(torch::nn::Linear(4, 3));
  const std::string mismatch = error_of([&] { averaged.update_parameters(*other); });
  EXPECT_NE(mismatch.find("AveragedModel::update_parameters: the model has 2 parameters, the average 4"),
            std::string::npos)
      << mismatch;
  EXPECT_EQ(averaged.n_averaged(), 1);
  EXPECT_TRUE(torch::equal(averaged.module()->parameters()[0], before));

  // A module that is not Cloneable: the message says what to do.
  struct Plain : torch::nn::Module {
    Plain() { register_parameter("w", torch::zeros({2})); }
  };
  Plain plain;
  const std::string clone = error_of([&] { adaptive::AveragedModel a(plain); });
  EXPECT_NE(clone.find("AveragedModel: the model cannot be cloned"), std::string::npos) << clone;
  EXPECT_NE(clone.find("pass a copy: AveragedModel(copy, options)"), std::string::npos) << clone;
  // ... and the copy constructor serves it.
  adaptive::AveragedModel from_copy(std::make_shared<Plain>());
  {
    torch::NoGradGuard no_grad;
    plain.parameters()[0].fill_(2);
  }
  from_copy.update_parameters(plain);
  EXPECT_TRUE(torch::equal(from_copy.module()->parameters()[0], torch::full({2}, 2.0)));
}

// A custom avg_fn (per tensor) replaces the running mean.
TEST(AveragedModel, ACustomAverageIsApplied) {
  torch::nn::Linear model(2, 1);
  adaptive::AveragedModel running_max(
      *model, adaptive::AveragedModelOptions().avg_fn(
                  [](const torch::Tensor& a, const torch::Tensor& c, int64_t) { return torch::maximum(a, c); }));
  torch::NoGradGuard no_grad;
  for (const double v : {1.0, 3.0, 2.0}) {
    model->weight.fill_(v);
    running_max.update_parameters(*model);
  }
  EXPECT_TRUE(torch::equal(running_max.module()->parameters()[0], torch::full({1, 2}, 3.0)));
}

// Python's update_bn on the same weights and batches: the running statistics
// of a cumulative pass, the momentum and the mode restored.
TEST(UpdateBn, RecomputesTheStatisticsAsPython) {
  const json& g = golden().at("update_bn");
  auto model = make_model(torch::kFloat32);
  {
    torch::NoGradGuard no_grad;
    auto linear = model[0]->as<torch::nn::Linear>();
    linear->weight.copy_(torch::tensor(g.at("linear_weight").get<std::vector<double>>()).reshape({3, 4}));
    linear->bias.copy_(torch::tensor(g.at("linear_bias").get<std::vector<double>>()));
  }
  auto bn = model[1]->as<torch::nn::BatchNorm1d>();
  bn->options.momentum(0.3);
  std::vector<torch::Tensor> batches;
  for (const json& b : g.at("batches")) batches.push_back(torch::tensor(b.get<std::vector<double>>()).to(torch::kFloat32).reshape({5, 4}));
  model->eval();
  adaptive::update_bn(batches, model);
  const auto mean = bn->running_mean.to(torch::kFloat64), var = bn->running_var.to(torch::kFloat64);
  const auto want_mean = g.at("running_mean").get<std::vector<double>>(), want_var = g.at("running_var").get<std::vector<double>>();
  // The statistics come from ATen's batch-norm kernel: the same bits on
  // LibTorch 2.13 as Python 2.13's; LibTorch 1.13's kernel reduces in another
  // order and lands a few float32 ulps away (Python 1.13: up to 1.4e-7 relative).
  // A relative 1e-6 (about 8 ulps) holds both and still catches a wrong
  // momentum or a missing reset, which move them by percents.
  for (int64_t k = 0; k < 3; ++k) {
    const double m = want_mean[static_cast<size_t>(k)], v = want_var[static_cast<size_t>(k)];
    EXPECT_NEAR(mean[k].item<double>(), m, 1e-6 * std::abs(m)) << "running_mean " << k;
    EXPECT_NEAR(var[k].item<double>(), v, 1e-6 * std::abs(v)) << "running_var " << k;
  }
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), g.at("num_batches_tracked").get<int64_t>());
  EXPECT_EQ(bn->options.momentum(), c10::optional<double>(0.3));
  EXPECT_FALSE(model->is_training());
}

}  // namespace
}  // namespace adaptive_test
