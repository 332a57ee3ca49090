// Sparse gradients in adaptive::Adagrad, the classic optimizer for embeddings
// (torch::nn::Embedding with sparse(true)):
//   - bit-identical to torch::optim::Adagrad on a sparse Embedding, lr_decay
//     and initial_accumulator_value included, float32 and float64 (tolerance
//     0: the same ATen ops in the same order, optim/rules/adagrad.h);
//   - weight_decay refused for a sparse gradient, as the built-in does, and
//     before anything changes;
//   - clipping and maximize defined on the values the gradient holds (once
//     coalesced: each entry once), so equal to the built-in fed gradients
//     clipped that way by hand;
//   - a dense and a sparse parameter in one step; skip_nonfinite.

#include "tests/test_support.h"

#include <gtest/gtest.h>

namespace adaptive_test {
namespace {

// An embedding table and a linear head trained on fixed random token batches;
// returns the parameters after `steps` steps of `opt` built over them.
struct EmbeddingTask {
  torch::nn::Embedding embedding{nullptr};
  torch::nn::Linear head{nullptr};
  torch::Tensor tokens, targets;

  EmbeddingTask(torch::Dtype dtype, uint64_t seed) {
    torch::manual_seed(seed);
    embedding = torch::nn::Embedding(torch::nn::EmbeddingOptions(50, 8).sparse(true));
    head = torch::nn::Linear(8, 1);
    embedding->to(dtype);
    head->to(dtype);
    tokens = torch::randint(0, 50, {6, 5});  // repeated tokens: uncoalesced gradients
    targets = torch::randn({6, 5, 1}, torch::TensorOptions().dtype(dtype));
  }
  std::vector<torch::Tensor> params() { return {embedding->weight, head->weight, head->bias}; }
  void backward() { torch::mse_loss(head(embedding(tokens)), targets).backward(); }
};

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

// Clips and signs a gradient as adaptive defines it, by hand: the values of
// the coalesced gradient (dense: the elements) clamped, then scaled.
torch::Tensor clipped(const torch::Tensor& g, double max_value, double scale) {
  torch::Tensor c = g.is_sparse() ? g.coalesce() : g.clone();
  torch::Tensor values = g.is_sparse() ? c._values() : c;
  if (max_value > 0) values.clamp_(-max_value, max_value);
  values.mul_(scale);
  return c;
}

double norm_of_values(const std::vector<torch::Tensor>& grads, double max_value) {
  double sum = 0;
  for (const auto& g : grads) {
    torch::Tensor v = g.is_sparse() ? g.coalesce()._values() : g;
    if (max_value > 0) v = v.clamp(-max_value, max_value);
    sum += v.to(torch::kDouble).pow(2).sum().item<double>();
  }
  return std::sqrt(sum);
}

struct SparseCase {
  std::string name;
  torch::Dtype dtype;
  double lr_decay, initial_accumulator_value, clip_norm, clip_value;
  bool maximize;
};
void PrintTo(const SparseCase& c, std::ostream* os) { *os << c.name; }

class SparseAdagrad : public ::testing::TestWithParam<SparseCase> {};

TEST_P(SparseAdagrad, MatchesTheBuiltinOnASparseEmbedding) {
  const SparseCase& c = GetParam();
  EmbeddingTask ours(c.dtype, 5), builtin(c.dtype, 5);
  ASSERT_TRUE(torch::equal(ours.embedding->weight, builtin.embedding->weight));
  const auto init = copies(ours.params());
  adaptive::Adagrad opt(ours.params(), adaptive::AdagradOptions(0.1)
                                           .lr_decay(c.lr_decay)
                                           .initial_accumulator_value(c.initial_accumulator_value)
                                           .clip_grad_norm(c.clip_norm)
                                           .clip_grad_value(c.clip_value)
                                           .maximize(c.maximize));
  torch::optim::Adagrad reference(builtin.params(), torch::optim::AdagradOptions(0.1)
                                                        .lr_decay(c.lr_decay)
                                                        .initial_accumulator_value(c.initial_accumulator_value));
  int clipped_steps = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    reference.zero_grad();
    ours.backward();
    builtin.backward();
    ASSERT_TRUE(ours.embedding->weight.grad().is_sparse());
    // The built-in gets the gradients adaptive's options define, made by hand.
    std::vector<torch::Tensor> grads;
    for (const auto& p : builtin.params()) grads.push_back(p.grad());
    double scale = c.maximize ? -1.0 : 1.0;
    if (c.clip_norm > 0) {
      const double norm = norm_of_values(grads, c.clip_value);
      const double coefficient = std::min(1.0, c.clip_norm / (norm + 1e-6));
      clipped_steps += coefficient < 1;
      scale *= coefficient;
    }
    for (auto& p : builtin.params()) p.mutable_grad() = clipped(p.grad(), c.clip_value, scale);
    opt.step();
    reference.step();
  }
  if (c.clip_norm > 0) {
    EXPECT_GE(clipped_steps, 10) << "norm clipping barely engaged";
  }
  ASSERT_GT(max_relative_diff(ours.params(), init), 1e-3) << "nothing moved: the test would be vacuous";
  // Rows no token selected keep their values, in both.
  EXPECT_LE(max_relative_diff(ours.params(), builtin.params()), c.clip_norm > 0 ? 1e-6 : 0.0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SparseAdagrad,
    ::testing::Values(SparseCase{"plain_f32", torch::kFloat32, 0, 0, 0, 0, false},
                      SparseCase{"plain_f64", torch::kFloat64, 0, 0, 0, 0, false},
                      SparseCase{"lr_decay_init_f32", torch::kFloat32, 0.05, 0.1, 0, 0, false},
                      SparseCase{"lr_decay_init_f64", torch::kFloat64, 0.05, 0.1, 0, 0, false},
                      SparseCase{"maximize_f64", torch::kFloat64, 0.01, 0, 0, 0, true},
                      SparseCase{"clip_value_f64", torch::kFloat64, 0, 0, 0, 0.01, false},
                      SparseCase{"clip_value_f32", torch::kFloat32, 0, 0, 0, 0.01, false},
                      SparseCase{"clip_norm_value_f64", torch::kFloat64, 0, 0, 0.05, 0.02, false}),
    [](const auto& info) { return info.param.name; });

TEST(SparseAdagrad, UntouchedRowsStayExactly) {
  EmbeddingTask task(torch::kFloat64, 9);
  const auto before = task.embedding->weight.detach().clone();
  adaptive::Adagrad opt(task.params(), adaptive::AdagradOptions(0.5));
  task.backward();
  opt.step();
  const auto used = std::get<0>(at::_unique(task.tokens.flatten()));
  auto unused = torch::ones({50}, torch::kBool);
  unused.index_put_({used}, false);
  EXPECT_TRUE(torch::equal(task.embedding->weight.detach().index({unused}), before.index({unused})));
  EXPECT_FALSE(torch::equal(task.embedding->weight.detach().index({used}), before.index({used})));
}

TEST(SparseAdagrad, WeightDecayIsRefusedBeforeAnythingChanges) {
  EmbeddingTask task(torch::kFloat64, 3);
  const auto before = copies(task.params());
  adaptive::Adagrad opt(task.params(), adaptive::AdagradOptions(0.1).weight_decay(0.01));
  task.backward();
  EXPECT_NE(error_of([&] { opt.step(); })
                .find("adaptive::Adagrad: weight_decay = 0.01 cannot be used with the sparse gradient of parameter 0 "
                      "of group 0"),
            std::string::npos)
      << error_of([&] { opt.step(); });
  EXPECT_EQ(max_relative_diff(task.params(), before), 0.0) << "a parameter changed";
  for (const auto& [key, state] : opt.state()) {
    EXPECT_EQ(static_cast<const adaptive::AdagradParamState&>(*state).step(), 0) << "a step count advanced";
  }
}

TEST(SparseAdagrad, SkipNonfiniteSkipsASparseNaN) {
  EmbeddingTask task(torch::kFloat64, 4);
  adaptive::Adagrad opt(task.params(), adaptive::AdagradOptions(0.1).skip_nonfinite(true));
  task.backward();
  const auto before = copies(task.params());
  auto g = task.embedding->weight.grad().coalesce();
  g._values()[0][0] = std::numeric_limits<double>::quiet_NaN();
  task.embedding->weight.mutable_grad() = g;
  opt.step();
  EXPECT_EQ(opt.skipped_steps(), 1);
  EXPECT_EQ(max_relative_diff(task.params(), before), 0.0);
}

// Checkpoints with sparse-trained state move between adaptive and the built-in.
TEST(SparseAdagrad, CheckpointFromTheBuiltinResumesBitForBit) {
  EmbeddingTask a(torch::kFloat32, 6), b(torch::kFloat32, 6);
  torch::optim::Adagrad builtin(a.params(), torch::optim::AdagradOptions(0.1).lr_decay(0.01));
  torch::optim::Adagrad straight(b.params(), torch::optim::AdagradOptions(0.1).lr_decay(0.01));
  for (int i = 0; i < 5; ++i) {
    for (auto* t : {&a, &b}) t->backward();
    builtin.step(), straight.step();
    builtin.zero_grad(), straight.zero_grad();
  }
  const std::string path = temp_path("sparse_adagrad");
  torch::save(builtin, path);
  adaptive::Adagrad ours(a.params());
  torch::load(ours, path);
  for (int i = 0; i < 5; ++i) {
    for (auto* t : {&a, &b}) t->backward();
    ours.step(), straight.step();
    ours.zero_grad(), straight.zero_grad();
  }
  EXPECT_EQ(max_relative_diff(a.params(), b.params()), 0.0);
}

}  // namespace
}  // namespace adaptive_test
