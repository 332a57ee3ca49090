// What loss scaling adds to a step (docs/benchmark.md, "GradScaler"):
//
//   plain     optimizer.step(), no scaler: the fused step alone;
//   fused     scaler.step(optimizer) + update() on an adaptive optimizer: one
//             read of the gradients for the inf check, the unscale inside
//             the step (optim/core/scaled_step.h);
//   generic   scaler.unscale_(optimizer) + step + update(): ATen's unscale
//             kernel reads and writes every gradient first, as Python's
//             GradScaler does for any optimizer (and for adaptive's after an
//             explicit unscale_).
//
//   inf check alone   kernels::fused_all_finite over the gradients: the one
//                     read of them the fused path adds (none where the step
//                     clips by norm: the norm's pass finds a non-finite value);
//   step with unscale ScaledStep::step_unscaling without the scaler: the
//                     check, then the step with the unscale multiplied in;
//                     less the check, against the plain step: what the
//                     unscale itself costs inside the step.
//
// The sides take turns, each on its own copy of the same parameters; each
// side's time per step is the best of several rounds. The generic side runs
// at scale 1 (its kernel reads and writes every element whatever the scale:
// a real scale would shrink the gradients it rewrites every step).
//
//   bazel run -c opt //tools/benchmark:grad_scaler_benchmark [-- --quick]

#include "optim/optim.h"
#include "optim/version.h"
#include "optim/kernels/fused_cpu.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Shape {
  const char* name;
  int64_t tensors, numel;
};

struct Config {
  const char* optimizer;
  std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)> make;
};

std::vector<Config> configs() {
  return {
      {"Adam", [](std::vector<torch::Tensor> p) { return std::make_unique<adaptive::Adam>(p); }},
      {"AdamW", [](std::vector<torch::Tensor> p) { return std::make_unique<adaptive::AdamW>(p); }},
      // Clipping by norm inside the step: the norm's pass is the inf check.
      {"Adam, clip_grad_norm 1",
       [](std::vector<torch::Tensor> p) {
         return std::make_unique<adaptive::Adam>(p, adaptive::AdamOptions(1e-3).clip_grad_norm(1.0));
       }},
      {"SGD (momentum 0.9)",
       [](std::vector<torch::Tensor> p) {
         return std::make_unique<adaptive::SGD>(p, adaptive::SGDOptions(0.01).momentum(0.9));
       }},
      {"Adagrad", [](std::vector<torch::Tensor> p) { return std::make_unique<adaptive::Adagrad>(p); }},
      {"RMSprop", [](std::vector<torch::Tensor> p) { return std::make_unique<adaptive::RMSprop>(p); }},
  };
}

std::vector<torch::Tensor> adaptive_grads(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> g;
  for (const auto& p : ps) g.push_back(p.grad());
  return g;
}

enum class Side { kPlain, kFused, kGeneric, kCheck, kScaledStep };

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
  }
  const std::vector<Shape> shapes = quick ? std::vector<Shape>{{"1 x 1M", 1, 1 << 20}, {"200 x 500", 200, 500}}
                                          : std::vector<Shape>{{"1 x 8M", 1, 8 << 20},
                                                               {"400 x 20k", 400, 20000},
                                                               {"1 x 1M", 1, 1000000},
                                                               {"2000 x 500", 2000, 500}};
  const int rounds = quick ? 3 : 7;
  std::printf("GradScaler overhead, adaptive %s, LibTorch %d.%d.%d, ATen on %d threads, float32\n\n",
              ADAPTIVE_VERSION, TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH, at::get_num_threads());
  std::printf("| optimizer | shape | step ms | fused scaler ms | generic scaler ms | fused adds | generic adds | "
              "inf check alone ms | inf check / step | step with unscale, less the check, vs step |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Config& c : configs()) {
    for (const Shape& s : shapes) {
      struct Run {
        Side side;
        std::vector<torch::Tensor> params;
        std::unique_ptr<torch::optim::Optimizer> opt;
        std::unique_ptr<adaptive::GradScaler> scaler;
        double best = std::numeric_limits<double>::infinity();
      };
      std::vector<Run> runs;
      for (Side side : {Side::kPlain, Side::kFused, Side::kGeneric, Side::kCheck, Side::kScaledStep}) {
        Run r{side};
        torch::manual_seed(0);
        for (int64_t t = 0; t < s.tensors; ++t) {
          r.params.push_back(torch::randn({s.numel}).requires_grad_(true));
        }
        r.opt = c.make(r.params);
        r.scaler = std::make_unique<adaptive::GradScaler>(
            adaptive::GradScalerOptions().init_scale(side == Side::kGeneric ? 1.0 : 65536.0).growth_interval(1 << 30));
        const torch::Tensor seed = r.scaler->scale(torch::ones({}));  // creates the scale
        (void)seed;
        for (auto& p : r.params) p.mutable_grad() = torch::randn({s.numel}) * r.scaler->get_scale();
        runs.push_back(std::move(r));
      }
      const auto step = [](Run& r) {
        switch (r.side) {
          case Side::kPlain:
            r.opt->step();
            break;
          case Side::kFused:
            r.scaler->step(*r.opt);
            r.scaler->update();
            break;
          case Side::kGeneric:
            r.scaler->unscale_(*r.opt);
            r.scaler->step(*r.opt);
            r.scaler->update();
            break;
          case Side::kCheck:
            adaptive::kernels::fused_all_finite(adaptive_grads(r.params));
            break;
          case Side::kScaledStep:
            dynamic_cast<adaptive::ScaledStep&>(*r.opt).step_unscaling(1.0 / 65536);
            break;
        }
      };
      for (Run& r : runs) step(r);  // state created outside the timing
      const int steps = s.tensors * s.numel >= (4 << 20) ? 3 : 10;
      for (int round = 0; round < rounds; ++round) {
        for (Run& r : runs) {
          const auto start = std::chrono::steady_clock::now();
          for (int i = 0; i < steps; ++i) step(r);
          const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          r.best = std::min(r.best, seconds / steps);
        }
      }
      const double plain = runs[0].best, fused = runs[1].best, generic = runs[2].best;
      const double check = runs[3].best, scaled_step = runs[4].best;
      std::printf("| %s | %s | %.3f | %.3f | %.3f | %+.0f%% | %+.0f%% | %.3f | %+.0f%% | %+.0f%% |\n", c.optimizer,
                  s.name, plain * 1e3, fused * 1e3, generic * 1e3, (fused / plain - 1) * 100,
                  (generic / plain - 1) * 100, check * 1e3, (check / plain) * 100,
                  ((scaled_step - check) / plain - 1) * 100);
      std::fflush(stdout);
    }
  }
  return 0;
}
