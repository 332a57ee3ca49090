// SparseAdam on what it is for: a large embedding table with sparse
// gradients, beside a small dense head under Adam (two optimizers, as with
// torch.optim: SparseAdam refuses dense gradients).
//
//   bazel run //examples:embedding
//   bazel run //examples:embedding -- --dense   (the same model under Adam alone, dense gradients)
//
// The task: 5,000 tokens, each with a hidden score s ~ N(0, 1); a sequence
// of 8 random tokens has the target mean(s). The model averages the tokens'
// 16-dimensional embeddings and maps that to one number (a linear head).
// A batch of 32 sequences touches about 250 of the 5,000 rows: SparseAdam's
// step updates those rows only (and their moments), while Adam with a dense
// gradient steps every row, whether the batch used it or not. A sparse step
// has a fixed cost (coalescing the gradient, gathering the rows and writing
// them back): on this small table the dense step is as fast, and SparseAdam
// pays off as the table grows (try --vocabulary 500000, and --dense).
// SparseAdam's moments also differ from dense Adam's: a row's decay only on
// the steps that touch it.

#include "examples/flag_checks.h"
#include "examples/optimizer_flags.h"
#include "examples/paths.h"
#include "examples/report.h"
#include "optim/optim.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

namespace {

constexpr int64_t kDim = 16, kLength = 8, kBatch = 32, kHeldOut = 2048;

struct Batch {
  torch::Tensor tokens, targets;
};

Batch draw(const torch::Tensor& scores, int64_t n, at::Generator& gen) {
  Batch b;
  b.tokens = at::randint(scores.size(0), {n, kLength}, gen, torch::kLong);
  b.targets = scores.index({b.tokens}).mean(1, /*keepdim=*/true);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train an embedding table with adaptive::SparseAdam (sparse gradients) and its head with adaptive::Adam."};
  int64_t steps = 3000, vocabulary = 5000;
  double lr = 1e-2;
  bool dense = false;
  std::string summary;
  app.add_option("--steps", steps, "optimizer steps")->check(examples::whole_in(1, 1000000000))->capture_default_str();
  app.add_option("--lr", lr, "learning rate of both optimizers")->check(examples::finite_at_least(0))->capture_default_str();
  app.add_option("--vocabulary", vocabulary, "rows of the table (tokens)")
      ->check(examples::whole_in(1, 100000000))
      ->capture_default_str();
  app.add_flag("--dense", dense, "dense gradients and adaptive::Adam for everything instead (for comparison)");
  app.add_option("--summary", summary, "write a JSON summary here")->check(examples::writable_file());
  if (const auto exit_code = examples::parse_command_line(app, argc, argv)) return *exit_code;

  try {
    torch::manual_seed(7);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    const torch::Tensor scores = at::randn({vocabulary}, gen);
    const Batch held_out = draw(scores, kHeldOut, gen);
    torch::nn::Embedding table(torch::nn::EmbeddingOptions(vocabulary, kDim).sparse(!dense));
    torch::nn::Linear head(kDim, 1);
    const auto predict = [&](const torch::Tensor& tokens) { return head(table(tokens).mean(1)); };
    const auto held_out_loss = [&] {
      torch::NoGradGuard no_grad;
      return torch::mse_loss(predict(held_out.tokens), held_out.targets).item<double>();
    };

    // The usual recipe: the table under SparseAdam, the rest under Adam.
    std::vector<std::unique_ptr<torch::optim::Optimizer>> optimizers;
    if (dense) {
      optimizers.push_back(std::make_unique<adaptive::Adam>(
          std::vector<torch::Tensor>{table->weight, head->weight, head->bias}, adaptive::AdamOptions(lr)));
    } else {
      optimizers.push_back(std::make_unique<adaptive::SparseAdam>(std::vector<torch::Tensor>{table->weight},
                                                                  adaptive::SparseAdamOptions(lr)));
      optimizers.push_back(std::make_unique<adaptive::Adam>(head->parameters(), adaptive::AdamOptions(lr)));
    }

    const double start_loss = held_out_loss();
    double step_seconds = 0;
    for (int64_t step = 1; step <= steps; ++step) {
      const Batch batch = draw(scores, kBatch, gen);
      for (auto& o : optimizers) o->zero_grad();
      torch::mse_loss(predict(batch.tokens), batch.targets).backward();
      const auto start = std::chrono::steady_clock::now();
      for (auto& o : optimizers) o->step();
      step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    const double final_loss = held_out_loss();
    // The targets' variance is 1/8: a model that ignores the tokens scores 0.125.
    std::printf("embedding: %s, lr %g, %lld steps of %lld sequences (%lld tokens, %lld-dim table)\n",
                dense ? "adaptive::Adam, dense gradients" : "adaptive::SparseAdam (table) + adaptive::Adam (head)", lr,
                static_cast<long long>(steps), static_cast<long long>(kBatch), static_cast<long long>(vocabulary),
                static_cast<long long>(kDim));
    std::printf("  held-out loss %.4f -> %.6f (0.125: predicting the mean)\n", start_loss, final_loss);
    std::printf("  optimizer steps: %.1f us each\n", 1e6 * step_seconds / static_cast<double>(steps));
    if (!summary.empty()) {
      examples::write_json(examples::user_path(summary), {{"example", "embedding"},
                                                          {"optimizer", dense ? "adam" : "sparse_adam"},
                                                          {"lr", lr},
                                                          {"steps", steps},
                                                          {"start_loss", start_loss},
                                                          {"final_loss", final_loss},
                                                          {"step_seconds", step_seconds}});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embedding: %s\n", examples::message_of(e).c_str());
    return 1;
  }
  return 0;
}
