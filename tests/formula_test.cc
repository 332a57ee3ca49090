// adaptive's additions (no built-in to compare with) against references
// written here from the formulas in plain double arithmetic, one element at a
// time. The gradients are a fixed random sequence, independent of θ, so the
// comparison is not a chaotic trajectory: differences stay at rounding level,
// and 1e-12 relative (float64) leaves room only for reordered roundings.

#include "optim/optim.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <cmath>
#include <functional>
#include <vector>

namespace {

constexpr int kSteps = 100;
constexpr int kSize = 9;
constexpr double kTolerance = 1e-12;

using Vec = std::vector<double>;

struct Sequence {
  Vec theta0;
  std::vector<Vec> grads;  // one per step
};

Sequence make_sequence(uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto randn = [&] {
    auto t = at::randn({kSize}, gen, torch::kFloat64);
    return Vec(t.data_ptr<double>(), t.data_ptr<double>() + kSize);
  };
  Sequence s;
  s.theta0 = randn();
  for (int t = 0; t < kSteps; ++t) {
    Vec g = randn();
    g[0] = 0.0;                 // an element whose gradient is always 0
    for (auto& x : g) x *= 0.3;
    s.grads.push_back(g);
  }
  return s;
}

// Runs `opt` over the sequence; returns θ after every step.
std::vector<Vec> run(torch::optim::Optimizer& opt, torch::Tensor& p, const Sequence& seq) {
  std::vector<Vec> out;
  for (const auto& g : seq.grads) {
    p.mutable_grad() = torch::tensor(g, torch::kFloat64);
    opt.step();
    out.emplace_back(p.data_ptr<double>(), p.data_ptr<double>() + kSize);
  }
  return out;
}

void expect_close(const std::vector<Vec>& got, const std::vector<Vec>& want) {
  double worst = 0, scale = 1e-300;
  for (size_t t = 0; t < want.size(); ++t)
    for (int i = 0; i < kSize; ++i) {
      worst = std::max(worst, std::abs(got[t][i] - want[t][i]));
      scale = std::max(scale, std::abs(want[t][i]));
    }
  EXPECT_LE(worst / scale, kTolerance);
  // Guard against a vacuous pass: θ must have moved.
  EXPECT_GT(std::abs(want.back()[1] - got.front()[1]) + std::abs(want.back()[2] - got.front()[2]), 1e-4);
}

torch::Tensor leaf(const Sequence& seq) { return torch::tensor(seq.theta0, torch::kFloat64).requires_grad_(true); }

// ---- Adam -----------------------------------------------------------------

struct AdamRef {
  double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0;
  bool bias_correction = true, maximize = false, decoupled = false;

  std::vector<Vec> run(const Sequence& seq) const {
    Vec th = seq.theta0, m(kSize, 0), v(kSize, 0);
    std::vector<Vec> out;
    for (int t = 1; t <= kSteps; ++t) {
      for (int i = 0; i < kSize; ++i) {
        double g = seq.grads[t - 1][i];
        if (maximize) g = -g;
        if (decoupled) th[i] *= 1 - lr * wd; else g += wd * th[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const double mh = bias_correction ? m[i] / (1 - std::pow(b1, t)) : m[i];
        const double vh = bias_correction ? v[i] / (1 - std::pow(b2, t)) : v[i];
        th[i] -= lr * mh / (std::sqrt(vh) + eps);
      }
      out.push_back(th);
    }
    return out;
  }
};

adaptive::AdamOptions adam_options(const AdamRef& r) {
  return adaptive::AdamOptions(r.lr)
      .betas(std::make_tuple(r.b1, r.b2))
      .eps(r.eps)
      .weight_decay(r.wd)
      .bias_correction(r.bias_correction)
      .maximize(r.maximize)
      .decoupled_weight_decay(r.decoupled);
}

void check_adam(const AdamRef& r, uint64_t seed) {
  const Sequence seq = make_sequence(seed);
  auto p = leaf(seq);
  adaptive::Adam opt({p}, adam_options(r));
  expect_close(run(opt, p, seq), r.run(seq));
}

TEST(AdamFormula, BiasCorrectionOn) { check_adam(AdamRef{}, 1); }
TEST(AdamFormula, BiasCorrectionOff) {
  AdamRef r;
  r.bias_correction = false, r.lr = 1e-3;
  check_adam(r, 2);
}
TEST(AdamFormula, BiasCorrectionOffDiffersFromOn) {
  const Sequence seq = make_sequence(2);
  AdamRef on, off;
  off.bias_correction = false;
  EXPECT_GT(std::abs(on.run(seq)[0][1] - off.run(seq)[0][1]), 1e-4);
}
TEST(AdamFormula, Maximize) {
  AdamRef r;
  r.maximize = true, r.wd = 0.1;
  check_adam(r, 3);
}
TEST(AdamFormula, MaximizeDecoupledNoBiasCorrection) {
  AdamRef r;
  r.maximize = true, r.decoupled = true, r.wd = 0.2, r.bias_correction = false, r.lr = 1e-3;
  check_adam(r, 4);
}

// ---- RMSprop --------------------------------------------------------------

struct RMSpropRef {
  double lr = 1e-2, alpha = 0.9, eps = 1e-8, wd = 0, momentum = 0;
  bool centered = false, bias_correction = false, maximize = false;

  std::vector<Vec> run(const Sequence& seq) const {
    Vec th = seq.theta0, s(kSize, 0), gbar(kSize, 0), buf(kSize, 0);
    std::vector<Vec> out;
    for (int t = 1; t <= kSteps; ++t) {
      const double c = bias_correction ? 1 - std::pow(alpha, t) : 1.0;
      for (int i = 0; i < kSize; ++i) {
        double g = seq.grads[t - 1][i];
        if (maximize) g = -g;
        g += wd * th[i];
        s[i] = alpha * s[i] + (1 - alpha) * g * g;
        gbar[i] = alpha * gbar[i] + (1 - alpha) * g;
        const double sh = s[i] / c;  // only the mean of g² is corrected
        const double d = std::sqrt(centered ? sh - gbar[i] * gbar[i] : sh) + eps;
        if (momentum > 0) {
          buf[i] = momentum * buf[i] + g / d;
          th[i] -= lr * buf[i];
        } else {
          th[i] -= lr * g / d;
        }
      }
      out.push_back(th);
    }
    return out;
  }
};

void check_rmsprop(const RMSpropRef& r, uint64_t seed) {
  const Sequence seq = make_sequence(seed);
  auto p = leaf(seq);
  adaptive::RMSprop opt({p}, adaptive::RMSpropOptions(r.lr)
                                 .alpha(r.alpha)
                                 .eps(r.eps)
                                 .weight_decay(r.wd)
                                 .momentum(r.momentum)
                                 .centered(r.centered)
                                 .bias_correction(r.bias_correction)
                                 .maximize(r.maximize));
  expect_close(run(opt, p, seq), r.run(seq));
}

TEST(RMSpropFormula, BiasCorrectionOn) {
  RMSpropRef r;
  r.bias_correction = true;
  check_rmsprop(r, 5);
}
TEST(RMSpropFormula, BiasCorrectionOnCenteredMomentum) {
  RMSpropRef r;
  r.bias_correction = true, r.centered = true, r.momentum = 0.8, r.lr = 1e-3;
  check_rmsprop(r, 6);
}
TEST(RMSpropFormula, BiasCorrectionOnChangesTheFirstSteps) {
  const Sequence seq = make_sequence(5);
  RMSpropRef on, off;
  on.bias_correction = true;
  EXPECT_GT(std::abs(on.run(seq)[0][1] - off.run(seq)[0][1]), 1e-4);
}
TEST(RMSpropFormula, Maximize) {
  RMSpropRef r;
  r.maximize = true, r.wd = 0.05, r.momentum = 0.5;
  check_rmsprop(r, 7);
}

// ---- Adagrad --------------------------------------------------------------

struct AdagradRef {
  double lr = 5e-2, lr_decay = 0.01, wd = 0.02, init = 0.1, eps = 1e-10;
  bool maximize = false;

  std::vector<Vec> run(const Sequence& seq) const {
    Vec th = seq.theta0, sum(kSize, init);
    std::vector<Vec> out;
    for (int t = 1; t <= kSteps; ++t) {
      const double lr_t = lr / (1 + (t - 1) * lr_decay);
      for (int i = 0; i < kSize; ++i) {
        double g = seq.grads[t - 1][i];
        if (maximize) g = -g;
        g += wd * th[i];
        sum[i] += g * g;
        th[i] -= lr_t * g / (std::sqrt(sum[i]) + eps);
      }
      out.push_back(th);
    }
    return out;
  }
};

void check_adagrad(const AdagradRef& r, uint64_t seed) {
  const Sequence seq = make_sequence(seed);
  auto p = leaf(seq);
  adaptive::Adagrad opt({p}, adaptive::AdagradOptions(r.lr)
                                 .lr_decay(r.lr_decay)
                                 .weight_decay(r.wd)
                                 .initial_accumulator_value(r.init)
                                 .eps(r.eps)
                                 .maximize(r.maximize));
  expect_close(run(opt, p, seq), r.run(seq));
}

TEST(AdagradFormula, Plain) { check_adagrad(AdagradRef{}, 8); }
TEST(AdagradFormula, Maximize) {
  AdagradRef r;
  r.maximize = true;
  check_adagrad(r, 9);
}

// Maximize on a concave function climbs it: f(θ) = −‖θ − 1‖², maximum at 1.
TEST(Maximize, ClimbsAConcaveFunctionWithEveryOptimizer) {
  const auto climb = [](torch::optim::Optimizer& opt, torch::Tensor& p) {
    for (int i = 0; i < 500; ++i) {
      opt.zero_grad();
      (-(p - 1).pow(2).sum()).backward();
      opt.step();
    }
    return (p - 1).abs().max().item<double>();
  };
  auto a = torch::zeros({3}, torch::requires_grad()), r = torch::zeros({3}, torch::requires_grad()),
       g = torch::zeros({3}, torch::requires_grad());
  adaptive::Adam adam({a}, adaptive::AdamOptions(0.05).maximize(true));
  adaptive::RMSprop rms({r}, adaptive::RMSpropOptions(0.01).maximize(true));
  adaptive::Adagrad ada({g}, adaptive::AdagradOptions(0.5).maximize(true));
  EXPECT_LT(climb(adam, a), 0.05);
  EXPECT_LT(climb(rms, r), 0.05);
  EXPECT_LT(climb(ada, g), 0.05);
}

}  // namespace
