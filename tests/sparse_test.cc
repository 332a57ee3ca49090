// Sparse gradients (torch::nn::Embedding with sparse(true)) in the two
// optimizers that take them.
//
// adaptive::Adagrad, the classic optimizer for embeddings:
//   - bit-identical to torch::optim::Adagrad on a sparse Embedding, lr_decay
//     and initial_accumulator_value included, float32 and float64 (tolerance
//     0: the same ATen ops in the same order, optim/rules/adagrad.h);
//   - weight_decay refused for a sparse gradient, as the built-in does, and
//     before anything changes;
//   - clipping and maximize defined on the values the gradient holds (once
//     coalesced: each entry once), so equal to the built-in fed gradients
//     clipped that way by hand;
//   - a dense and a sparse parameter in one step; skip_nonfinite.
//
// adaptive::SparseAdam, which takes only sparse gradients (its numbers
// against torch.optim.SparseAdam, 2.13 and 1.13, are python_golden_test's
// sparse_adam_* cases):
//   - the fused driver, on the entries a gradient holds, bit-identical to the
//     reference driver: random options, float32 and float64, gradients with
//     0, 1 and 2 sparse dimensions, uncoalesced, or without entries (with
//     clip_grad_norm within 1e-5 in float32 and 1e-13 in float64: the drivers
//     reduce the norm in another order, as for every optimizer);
//   - entries a gradient does not hold keep their values and moments, while
//     the step count (the bias corrections') runs on;
//   - refusals before anything changes: a dense gradient, bad options, a
//     sparse or complex parameter, another optimizer's checkpoint;
//   - skip_nonfinite, clipping on the values held, save and resume bit for bit.

#include "optim/core/sparse_entries.h"
#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <random>
#include <sstream>

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


// ---- adaptive::SparseAdam ----

// A sparse gradient of `shape` with `nnz` entries at random indices (repeats
// included, so uncoalesced) over its first `sparse_dim` dimensions.
torch::Tensor random_sparse(std::vector<int64_t> shape, int64_t sparse_dim, int64_t nnz, torch::Dtype dtype) {
  std::vector<torch::Tensor> indices;
  for (int64_t d = 0; d < sparse_dim; ++d) indices.push_back(torch::randint(0, shape[d], {nnz}, torch::kLong));
  std::vector<int64_t> values_shape{nnz};
  values_shape.insert(values_shape.end(), shape.begin() + sparse_dim, shape.end());
  const torch::Tensor index = sparse_dim > 0 ? torch::stack(indices) : torch::zeros({0, nnz}, torch::kLong);
  return torch::sparse_coo_tensor(index, torch::randn(values_shape, torch::TensorOptions().dtype(dtype)), shape);
}

const adaptive::SparseAdamParamState& sparse_adam_state(const adaptive::SparseAdam& opt, const torch::Tensor& p) {
  return static_cast<const adaptive::SparseAdamParamState&>(*opt.state().at(adaptive::state_key(p)));
}

// Parameters, then each one's m and v, then each step count (as a tensor).
std::vector<torch::Tensor> sparse_adam_everything(const adaptive::SparseAdam& opt,
                                                  const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out = copies(params);
  for (const auto& p : params) {
    if (!opt.state().count(adaptive::state_key(p))) continue;
    const auto& s = sparse_adam_state(opt, p);
    out.push_back(s.exp_avg().clone());
    out.push_back(s.exp_avg_sq().clone());
    out.push_back(torch::tensor(s.step()));
  }
  return out;
}

bool bitwise_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;  // NaN never appears here
  }
  return true;
}

TEST(SparseAdam, FusedEqualsReferenceBitForBitOnRandomCases) {
  std::mt19937 rng(33);
  const auto pick = [&](std::vector<double> v) { return v[rng() % v.size()]; };
  struct Shape {
    std::vector<int64_t> sizes;
    int64_t sparse_dim;
  };
  // Rows of a table (Embedding's layout), elements of a matrix, a vector,
  // two of three dimensions, and the whole tensor as one entry.
  const std::vector<Shape> shapes = {{{50, 8}, 1}, {{12, 9}, 2}, {{40}, 1}, {{6, 4, 3}, 2}, {{5, 3}, 0}};
  int cases = 0, exact = 0;
  for (int c = 0; c < 60; ++c) {
    const torch::Dtype dtype = c % 2 ? torch::kFloat64 : torch::kFloat32;
    const Shape& shape = shapes[c % shapes.size()];
    const auto o = adaptive::SparseAdamOptions(pick({1e-3, 0.1}))
                       .betas(std::make_tuple(pick({0.0, 0.9}), pick({0.0, 0.5, 0.999})))
                       .eps(pick({1e-8, 1e-3}))
                       .maximize(rng() % 2)
                       .clip_grad_value(pick({0.0, 0.5}))
                       .clip_grad_norm(pick({0.0, 1.0}));
    torch::manual_seed(c);
    std::vector<torch::Tensor> a{torch::randn(shape.sizes, dtype), torch::randn({20, 3}, dtype)};
    std::vector<torch::Tensor> b = copies(a);
    adaptive::SparseAdam fused(a, o), reference(b, adaptive::SparseAdamOptions(o).fused(false));
    for (int step = 0; step < 5; ++step) {
      const int64_t nnz = step == 2 ? 0 : 1 + static_cast<int64_t>(rng() % 30);  // one step without entries
      const auto g0 = random_sparse(shape.sizes, shape.sparse_dim, nnz, dtype);
      const auto g1 = random_sparse({20, 3}, 1, 7, dtype);
      a[0].mutable_grad() = g0, b[0].mutable_grad() = g0.clone();
      a[1].mutable_grad() = g1, b[1].mutable_grad() = g1.clone();
      // The entries are what the fused driver takes (else this compared the reference with itself).
      const auto held = g0.coalesce();
      ASSERT_TRUE(adaptive::kernels::fused_eligible(
          adaptive::detail::gather_entries(a[0], adaptive::detail::entry_indices(held)), held._values(), {}));
      fused.step();
      reference.step();
    }
    const auto fused_result = sparse_adam_everything(fused, a), reference_result = sparse_adam_everything(reference, b);
    const std::string where = "case " + std::to_string(c) + ": " + c10::str(shape.sizes) + " with " +
                              std::to_string(shape.sparse_dim) + " sparse dims, " + c10::toString(dtype);
    if (o.clip_grad_norm() == 0) {
      ASSERT_TRUE(bitwise_equal(fused_result, reference_result)) << where;
      ++exact;
    } else {
      // The fused driver takes the clipping norm in one pass in double, the
      // reference as clip_grad_norm_ does (in the gradients' dtype): the
      // coefficients part in the last bit (as for every optimizer, fused_test).
      for (size_t i = 0; i < fused_result.size(); ++i) {
        ASSERT_LE(max_relative_diff({fused_result[i]}, {reference_result[i]}), dtype == torch::kFloat32 ? 1e-5 : 1e-13)
            << where << ", tensor " << i;
      }
    }
    ASSERT_EQ(sparse_adam_state(fused, a[0]).step(), 5);
    ++cases;
  }
  EXPECT_EQ(cases, 60);
  EXPECT_GE(exact, 20) << "too few cases without clip_grad_norm, compared bit for bit";
}

// Adam's update on the rows a gradient holds, with t = every step so far;
// rows it does not hold keep their values and moments.
TEST(SparseAdam, StepsTheRowsHeldAndKeepsTheOthers) {
  const auto p = torch::randn({4, 3}, torch::kFloat64);
  const auto start = p.clone();
  const double lr = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  adaptive::SparseAdam opt({p}, adaptive::SparseAdamOptions(lr));
  const auto rows = [&](std::vector<int64_t> r) {
    const auto index = torch::tensor(r, torch::kLong);
    return torch::sparse_coo_tensor(index.unsqueeze(0), torch::full({(int64_t)r.size(), 3}, 0.5, torch::kFloat64),
                                    {4, 3});
  };
  p.mutable_grad() = rows({1, 3});
  opt.step();
  const auto after_one = p.clone();
  const auto m_after_one = sparse_adam_state(opt, p).exp_avg().clone();
  p.mutable_grad() = rows({3});
  opt.step();
  const auto& s = sparse_adam_state(opt, p);
  EXPECT_EQ(s.step(), 2);
  EXPECT_TRUE(torch::equal(p[0], start[0]) && torch::equal(p[2], start[2]));  // never held
  EXPECT_TRUE(torch::equal(p[1], after_one[1]));                            // held at step 1 only
  EXPECT_TRUE(torch::equal(s.exp_avg()[1], m_after_one[1]));
  // Row 3 by hand, at t = 2: m = 0.05 then 0.095, v = 0.00025 then 0.00049975.
  const double m = (1 - beta1) * 0.5 * beta1 + (1 - beta1) * 0.5;
  const double v = (1 - beta2) * 0.25 * beta2 + (1 - beta2) * 0.25;
  const double step1 = lr * std::sqrt(1 - beta2) / (1 - beta1);  // t = 1: m/(√v+ε) = 0.05/(√0.00025+ε)
  const double step2 = lr * std::sqrt(1 - beta2 * beta2) / (1 - beta1 * beta1);
  const double expected = start[3][0].item<double>() - step1 * 0.05 / (std::sqrt(0.00025) + eps) -
                          step2 * m / (std::sqrt(v) + eps);
  EXPECT_NEAR(p[3][0].item<double>(), expected, 1e-15);
}

TEST(SparseAdam, DenseGradientIsRefusedBeforeAnythingChanges) {
  EmbeddingTask task(torch::kFloat64, 7);
  const auto before = copies(task.params());
  adaptive::SparseAdam opt(task.params());  // the embedding's gradient is sparse, the head's dense
  task.backward();
  const std::string error = error_of([&] { opt.step(); });
  EXPECT_NE(error.find("adaptive::SparseAdam does not support dense gradients (parameter 1 of group 0 has one)"),
            std::string::npos)
      << error;
  EXPECT_EQ(max_relative_diff(task.params(), before), 0.0) << "a parameter changed";
  EXPECT_TRUE(opt.state().empty()) << "state was created";
  // The recipe: SparseAdam for the table, Adam for the rest.
  adaptive::SparseAdam table({task.embedding->weight});
  adaptive::Adam head({task.head->weight, task.head->bias});
  table.step(), head.step();
  EXPECT_GT(max_relative_diff(task.params(), before), 0.0);
}

TEST(SparseAdam, GradientWithoutEntriesCountsAStepAndMovesNothing) {
  const auto p = torch::randn({5, 2});
  const auto start = p.clone();
  adaptive::SparseAdam opt({p});
  p.mutable_grad() = torch::sparse_coo_tensor(torch::zeros({1, 0}, torch::kLong), torch::zeros({0, 2}), {5, 2});
  opt.step();
  EXPECT_TRUE(torch::equal(p, start));
  EXPECT_EQ(sparse_adam_state(opt, p).step(), 1);  // as torch.optim counts it
  EXPECT_TRUE(torch::equal(sparse_adam_state(opt, p).exp_avg(), torch::zeros({5, 2})));
}

// (Invalid options: validation_test, from the registry entry
// tests/registry/sparse_adam.h.) A group's options: the error names the group.
TEST(SparseAdam, AGroupsInvalidOptionNamesTheGroup) {
  const auto p = torch::randn({3}, torch::kFloat64);
  using O = adaptive::SparseAdamOptions;
  // A group's options: the error names the group too.
  adaptive::SparseAdam opt({p});
  const std::string error = error_of([&] {
    opt.add_param_group(torch::optim::OptimizerParamGroup({torch::randn({2})}, std::make_unique<O>(O().eps(-1))));
  });
  EXPECT_NE(error.find("invalid eps = -1 (expected a finite number > 0) (group 1)"), std::string::npos) << error;
}

TEST(SparseAdam, SparseAndComplexParametersAreRefused) {
  // As torch.optim.SparseAdam refuses both: it updates dense real tensors.
  const std::string sparse = error_of([] { adaptive::SparseAdam opt({torch::randn({4, 2}).to_sparse()}); });
  EXPECT_NE(sparse.find("adaptive::SparseAdam: parameter 0 of group 0 has layout Sparse; only dense (strided) "
                        "parameters can be optimized"),
            std::string::npos)
      << sparse;
  const std::string complex = error_of([] { adaptive::SparseAdam opt({torch::randn({4}, torch::kComplexFloat)}); });
  EXPECT_NE(complex.find("adaptive::SparseAdam: parameter 0 of group 0 has dtype ComplexFloat"), std::string::npos)
      << complex;
}

TEST(SparseAdam, SkipNonfiniteLeavesEverythingAsItWas) {
  const auto p = torch::randn({6, 2}, torch::kFloat64);
  adaptive::SparseAdam opt({p}, adaptive::SparseAdamOptions(0.1).skip_nonfinite(true));
  p.mutable_grad() = random_sparse({6, 2}, 1, 3, torch::kFloat64);
  opt.step();
  const auto before = sparse_adam_everything(opt, {p});
  auto g = random_sparse({6, 2}, 1, 3, torch::kFloat64).coalesce();
  g._values()[0][1] = std::numeric_limits<double>::infinity();
  p.mutable_grad() = g;
  opt.step();
  EXPECT_EQ(opt.skipped_steps(), 1);
  EXPECT_TRUE(bitwise_equal(sparse_adam_everything(opt, {p}), before)) << "the skipped step changed something";
}

// Clipping inside step() acts on the values the (coalesced) gradient holds:
// equal to clipping those by hand and stepping without it.
TEST(SparseAdam, ClippingActsOnTheValuesHeld) {
  torch::manual_seed(8);
  const auto p = torch::randn({30, 4});
  const auto q = p.clone();
  adaptive::SparseAdam clipping({p}, adaptive::SparseAdamOptions(0.05).clip_grad_value(0.3).clip_grad_norm(0.5));
  adaptive::SparseAdam by_hand({q}, adaptive::SparseAdamOptions(0.05));
  for (int step = 0; step < 4; ++step) {
    const auto g = random_sparse({30, 4}, 1, 12, torch::kFloat32);
    p.mutable_grad() = g;
    const double norm = norm_of_values({g}, 0.3);
    q.mutable_grad() = clipped(g, 0.3, std::min(1.0, 0.5 / (norm + 1e-6)));
    clipping.step();
    by_hand.step();
    ASSERT_TRUE(clipping.last_grad_norm().has_value());
    EXPECT_NEAR(*clipping.last_grad_norm(), norm_of_values({g}, 0.0), 1e-5 * norm_of_values({g}, 0.0));
  }
  // The coefficient is computed in double on both sides, rounded to float once.
  EXPECT_LE(max_relative_diff({p}, {q}), 1e-6);
  EXPECT_GT(max_relative_diff({p}, {p.detach().clone().normal_()}), 0.0);
}

TEST(SparseAdam, SaveAndLoadResumeBitForBit) {
  torch::manual_seed(11);
  const auto a = torch::randn({10, 3}, torch::kFloat64), b = a.clone();
  adaptive::SparseAdam straight({a}, adaptive::SparseAdamOptions(0.02).betas(std::make_tuple(0.8, 0.99)));
  std::vector<torch::Tensor> grads;
  for (int i = 0; i < 6; ++i) grads.push_back(random_sparse({10, 3}, 1, 4, torch::kFloat64));
  for (int i = 0; i < 3; ++i) a.mutable_grad() = grads[i], straight.step();
  const std::string path = temp_path("sparse_adam");
  torch::save(straight, path);
  b.copy_(a);
  adaptive::SparseAdam resumed({b});  // default options: the checkpoint's replace them
  torch::load(resumed, path);
  EXPECT_EQ(std::get<0>(static_cast<const adaptive::SparseAdamOptions&>(resumed.param_groups()[0].options()).betas()),
            0.8);
  for (int i = 3; i < 6; ++i) {
    a.mutable_grad() = grads[i], b.mutable_grad() = grads[i].clone();
    straight.step(), resumed.step();
  }
  EXPECT_TRUE(bitwise_equal(sparse_adam_everything(straight, {a}), sparse_adam_everything(resumed, {b})));
}

// Every other optimizer's checkpoint is refused by SparseAdam, and
// SparseAdam's by every other, leaving the loader as it was.
TEST(SparseAdam, OtherOptimizersCheckpointsAreRefusedBothWays) {
  const auto p = torch::randn({4, 2}, torch::kFloat64);
  adaptive::SparseAdam sparse({p}, adaptive::SparseAdamOptions(0.3));
  p.mutable_grad() = random_sparse({4, 2}, 1, 2, torch::kFloat64);
  sparse.step();
  std::ostringstream sparse_file;
  torch::save(sparse, sparse_file);
  int refused = 0;
  for_each_optimizer([&](auto entry) {
    using Opt = typename decltype(entry)::Optimizer;
    if constexpr (std::is_same_v<Opt, adaptive::SparseAdam>) return;
    const auto q = torch::randn({4, 2}, torch::kFloat64);
    Opt other({q}, OptimizerInfo<Opt>::stateful(typename Opt::Options(0.25)));
    q.mutable_grad() = torch::ones({4, 2}, torch::kFloat64);
    other.step();
    std::ostringstream other_file, other_before, sparse_before, other_after, sparse_after;
    torch::save(other, other_file);
    torch::save(other, other_before);
    torch::save(sparse, sparse_before);
    std::istringstream into_sparse(other_file.str()), into_other(sparse_file.str());
    const std::string e1 = error_of([&] { torch::load(sparse, into_sparse); });
    const std::string e2 = error_of([&] { torch::load(other, into_other); });
    EXPECT_NE(e1.find("the checkpoint is not this algorithm's"), std::string::npos) << entry.name << ": " << e1;
    EXPECT_NE(e2.find("it was written by adaptive::SparseAdam"), std::string::npos) << entry.name << ": " << e2;
    torch::save(other, other_after);
    torch::save(sparse, sparse_after);
    EXPECT_TRUE(other_before.str() == other_after.str() && sparse_before.str() == sparse_after.str()) << entry.name;
    ++refused;
  });
  EXPECT_EQ(refused, kKinds - 1);
}

}  // namespace
}  // namespace adaptive_test
