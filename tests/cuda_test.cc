// The fused CUDA driver on a GPU (optim/kernels/fused_cuda.cu): against the
// reference driver on CUDA (randomized, every optimizer, every dtype), against
// the CPU, with clipping, skipping, checkpoints and mixed-device groups,
// SparseAdam's entries and complex parameters, and without waiting for the
// GPU. Without a GPU every case but the first two skips; builtin parity on
// CUDA is parity_builtin_test's CUDA grid.
//
// Tolerances, and why:
// - float32/float64 against the reference driver on CUDA: 0. The kernel
//   evaluates, per element, what ATen's CUDA kernels for the reference
//   driver's ops evaluate, fused multiply-adds included (rules/elementwise.h).
// - float16/bfloat16: the kernel computes in float and rounds once per value
//   stored; the reference driver (like the built-ins) rounds after every op
//   in the half type. After 3 steps they part by up to kHalfBound of the
//   tensor's largest magnitude: measured on an H100, bfloat16 4.3e-2, float16
//   beyond (its intermediates fall into the subnormal range, below 6e-5,
//   where the reference keeps few bits). Beyond the bound, the kernel must be
//   at least as close as the reference to the same trajectory in float64.
//   Where the reference's rounding makes NaN (ε = 1e-8 is 0 in float16, so
//   0/0), the kernel, which keeps ε in float, may stay finite: those elements
//   are not compared; the kernel must be finite wherever the reference is.
// - CUDA against the CPU (float64): the CPU's roots come from MKL (not always
//   correctly rounded), its addcdiv does not fuse and it divides where CUDA
//   multiplies by a reciprocal, so they part by an ulp or so per step; 20
//   steps stay within 1e-12 relative.

#include "tests/registry/registry.h"
#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/serialize.h>
#include <torch/types.h>
#include <torch/nn/utils/clip_grad.h>

#ifdef ADAPTIVE_EXPECT_CUDA_DRIVER
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace adaptive_test {
namespace {

#define REQUIRE_GPU() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU on this machine"

constexpr double kHalfBound = 0.15;  // relative to the tensor's largest magnitude

using Groups = std::vector<std::vector<torch::Tensor>>;

Groups copy_to(const Groups& groups, const torch::TensorOptions& options) {
  Groups out;
  for (const auto& g : groups) {
    out.emplace_back();
    for (const auto& p : g) out.back().push_back(p.detach().to(options, /*non_blocking=*/false, /*copy=*/true).requires_grad_(true));
  }
  return out;
}

void set_grads(Groups& params, const Groups& grads) {
  for (size_t gi = 0; gi < params.size(); ++gi) {
    for (size_t pi = 0; pi < params[gi].size(); ++pi) {
      params[gi][pi].mutable_grad() = grads[gi][pi].to(params[gi][pi].options());
    }
  }
}

// max |a − b| / max|b| over one tensor, in double on the CPU; 0 for equal
// tensors (NaN equal to NaN), inf where only one is NaN.
double relative(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.detach().to(torch::kCPU, torch::kDouble), y = b.detach().to(torch::kCPU, torch::kDouble);
  if (x.numel() == 0) return 0;
  if (!torch::equal(x.isnan(), y.isnan())) return INFINITY;
  const auto finite = ~y.isnan();
  if (!finite.any().item<bool>()) return 0;
  const auto diff = (x - y).masked_select(finite).abs();
  if (torch::equal(x.masked_select(finite), y.masked_select(finite))) return 0;
  const double scale = std::max(y.masked_select(finite).abs().max().item<double>(), 1e-30);
  return diff.max().item<double>() / scale;
}

// relative() over the elements where `reference` is finite; inf where
// `fused` is not finite there.
double relative_where_finite(const torch::Tensor& fused, const torch::Tensor& reference) {
  const auto x = fused.detach().to(torch::kCPU, torch::kDouble), y = reference.detach().to(torch::kCPU, torch::kDouble);
  const auto finite = y.isfinite();
  if (!finite.any().item<bool>()) return 0;
  if (!x.masked_select(finite).isfinite().all().item<bool>()) return INFINITY;
  return relative(x.masked_select(finite), y.masked_select(finite));
}

// How far `fused` and `reference` are from `truth`, relative(), over the
// elements where both the reference and the truth are finite: the elements
// where the reference's rounding made NaN or ∞ are left out, not counted as
// an infinite error (which any error of the fused driver would pass). The
// fused error is inf where `fused` is not finite there.
struct ErrorsAgainstTruth {
  double fused, reference;
};
ErrorsAgainstTruth errors_against_truth(const torch::Tensor& fused, const torch::Tensor& reference,
                                        const torch::Tensor& truth) {
  const auto to_double = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble); };
  const auto x = to_double(fused), y = to_double(reference), t = to_double(truth);
  const auto kept = y.isfinite() & t.isfinite();
  return {relative_where_finite(x.masked_select(kept), t.masked_select(kept)),
          relative(y.masked_select(kept), t.masked_select(kept))};
}

double unit_roundoff(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kHalf: return std::ldexp(1.0, -10);
    case torch::kBFloat16: return std::ldexp(1.0, -7);
    case torch::kFloat: return std::ldexp(1.0, -23);
    default: return std::ldexp(1.0, -52);
  }
}

std::map<std::string, double>& worst() {
  static std::map<std::string, double> w;
  return w;
}
void record(const std::string& key, double value) {
  auto& w = worst()[key];
  w = std::max(w, value);
}

// The half-type comparison's yardstick (runs without a GPU): an element the
// reference rounded to NaN is left out, so it cannot excuse the fused
// driver's error elsewhere, and a fused NaN where the reference is finite
// fails.
TEST(CudaHalfComparison, LeavesOutTheReferencesNaNAndCatchesTheFusedOnes) {
  const auto nan = std::numeric_limits<double>::quiet_NaN();
  const auto truth = torch::tensor({1.0, 2.0, 4.0}, torch::kFloat64);
  const auto reference = torch::tensor({nan, 2.0, 4.0}, torch::kFloat64);
  const auto errors = errors_against_truth(torch::tensor({1.0, 3.0, 4.0}, torch::kFloat64), reference, truth);
  EXPECT_EQ(errors.reference, 0.0);  // was inf: any fused error passed
  EXPECT_EQ(errors.fused, 0.25);     // |3 - 2| / max(2, 4), over the two kept elements
  EXPECT_GT(errors.fused, errors.reference + unit_roundoff(torch::kHalf));
  EXPECT_EQ(errors_against_truth(torch::tensor({1.0, nan, 4.0}, torch::kFloat64), reference, truth).fused, INFINITY);
  // Where the truth itself is not finite, nothing is compared.
  const auto inf_truth = torch::tensor({INFINITY, INFINITY, INFINITY}, torch::kFloat64);
  const auto none = errors_against_truth(reference, reference, inf_truth);
  EXPECT_EQ(none.fused, 0.0);
  EXPECT_EQ(none.reference, 0.0);
}

TEST(CudaDriver, IsBuiltExactlyWhereTheBuildSaysSo) {
#ifdef ADAPTIVE_EXPECT_CUDA_DRIVER
  EXPECT_TRUE(adaptive::kernels::cuda_driver_built());
#else
  EXPECT_FALSE(adaptive::kernels::cuda_driver_built());
  // Nothing is eligible then: CUDA tensors take the reference driver.
  const auto meta = torch::zeros({4}, torch::TensorOptions().device(torch::kMeta));
  EXPECT_FALSE(adaptive::kernels::cuda_fused_eligible(meta, meta, {}));
#endif
}

// Randomized: kind, options, dtype, group layout, sizes (empty, odd, not a
// multiple of the 4-element packs, across the 65,536-element chunks,
// misaligned starts), gradient scales.
TEST(CudaFusedVsReference, RandomizedCasesAgree) {
  REQUIRE_GPU();
  const torch::Dtype dtypes[] = {torch::kFloat32, torch::kFloat64, torch::kHalf, torch::kBFloat16};
  int compared = 0;
  // Vectors with dense gradients: the optimizers that take any parameter
  // (SparseAdam's CUDA cases are CudaSparseAdam's).
  std::vector<int> kinds;
  for (int kind = 0; kind < kKinds; ++kind) {
    if (takes_any_parameter(kind)) kinds.push_back(kind);
  }
  for (int c = 0; c < 400; ++c) {
    RandomCase r(7000 + c);
    const int kind = kinds[r.rng() % kinds.size()];
    const torch::Dtype dtype = dtypes[r.rng() % 4];
    const bool half = dtype == torch::kHalf || dtype == torch::kBFloat16;
    Groups init(1 + r.rng() % 3);
    std::vector<int64_t> offsets;
    for (auto& g : init) {
      for (int i = 0, n = 1 + static_cast<int>(r.rng() % 3); i < n; ++i) {
        const int64_t size = r.pick<int64_t>({0, 1, 3, 4, 5, 1023, 65536 + 3, 200001});
        g.push_back((torch::randn({size}, torch::kFloat64) * r.uniform(0.1, 2)).to(dtype));
        offsets.push_back(r.pick<int64_t>({0, 0, 1}));
      }
    }
    // On the GPU, some parameters start one element into their storage: not
    // aligned to the kernel's 4-element packs.
    const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(dtype);
    const auto on_gpu = [&] {
      Groups out;
      size_t k = 0;
      for (const auto& g : init) {
        out.emplace_back();
        for (const auto& p : g) {
          auto storage = torch::empty({p.numel() + offsets[k++]}, cuda);
          out.back().push_back(storage.narrow(0, offsets[k - 1], p.numel()).copy_(p).requires_grad_(true));
        }
      }
      return out;
    };
    auto fused_params = on_gpu(), reference_params = on_gpu();
    // For the half types, the same trajectory in float64: the truth both approximate.
    auto truth_params = copy_to(init, torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat64));
    RandomCase r1 = r, r2 = r, r3 = r;
    auto fused = random_optimizer(kind, r1, fused_params);
    auto reference = random_optimizer(kind, r2, reference_params);
    auto truth = random_optimizer(kind, r3, truth_params);
    set_fused(*reference, false);
    const int steps = steps_to_every_branch(kind);
    for (int step = 0; step < steps; ++step) {
      Groups grads;
      for (const auto& g : init) {
        grads.emplace_back();
        for (const auto& p : g) {
          const double scale = half ? r.pick({1.0, 1e-3, 0.0}) : r.pick({1.0, 1e-30, 1e30, 0.0, 1e-3});
          grads.back().push_back((torch::randn(p.sizes(), torch::kFloat64) * scale).to(dtype));
        }
      }
      set_grads(fused_params, grads);
      set_grads(reference_params, grads);
      set_grads(truth_params, grads);
      fused->step();
      reference->step();
      if (half) truth->step();
    }
    // Half types round differently (see the top); where that decides NaN, skip.
    if (half && ill_conditioned(*fused)) continue;
    const double bound = half ? kHalfBound : 0.0;
    for (size_t gi = 0; gi < init.size(); ++gi) {
      for (size_t pi = 0; pi < init[gi].size(); ++pi) {
        const double d = half ? relative_where_finite(fused_params[gi][pi], reference_params[gi][pi])
                              : relative(fused_params[gi][pi], reference_params[gi][pi]);
        record(std::string("fused vs reference ") + c10::toString(dtype), d);
        if (half && d > bound) {
          // Beyond the bound only where the reference itself is further from
          // the float64 truth (its rounding in the subnormal range).
          const auto errors = errors_against_truth(fused_params[gi][pi], reference_params[gi][pi], truth_params[gi][pi]);
          record(std::string("beyond the bound, error fused ") + c10::toString(dtype), errors.fused);
          record(std::string("beyond the bound, error reference ") + c10::toString(dtype), errors.reference);
          EXPECT_LE(errors.fused, errors.reference + unit_roundoff(dtype)) << "case " << c << " kind " << kind;
          continue;
        }
        EXPECT_LE(d, bound) << "case " << c << " kind " << kind << " dtype " << dtype << " group " << gi << " param "
                            << pi << " size " << init[gi][pi].numel();
        compared += static_cast<int>(init[gi][pi].numel());
      }
    }
  }
  EXPECT_GT(compared, 1000000);
}

// The same trajectories on the GPU (fused CUDA) and the CPU (fused CPU),
// float64. They round differently (see the top): ill-conditioned options
// (the registry's ill_conditioned) are skipped.
TEST(CudaVsCpu, EveryOptimizerAgreesInFloat64) {
  REQUIRE_GPU();
  int compared = 0;
  for (int kind = 0; kind < kKinds; ++kind) {
    if (!takes_any_parameter(kind)) continue;  // vectors, dense gradients: not Muon's or SparseAdam's
    for (int seed = 0; seed < 6; ++seed) {
      RandomCase r(9100 + 10 * kind + seed);
      Groups init{{torch::randn({1000}, torch::kFloat64), torch::randn({70000}, torch::kFloat64)}};
      auto gpu = copy_to(init, torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat64));
      auto cpu = copy_to(init, torch::TensorOptions().dtype(torch::kFloat64));
      RandomCase r1 = r, r2 = r;
      auto on_gpu = random_optimizer(kind, r1, gpu);
      auto on_cpu = random_optimizer(kind, r2, cpu);
      if (ill_conditioned(*on_cpu)) continue;
      ++compared;
      for (int step = 0; step < 20; ++step) {
        Groups grads{{torch::randn({1000}, torch::kFloat64), torch::randn({70000}, torch::kFloat64)}};
        set_grads(gpu, grads);
        set_grads(cpu, grads);
        on_gpu->step();
        on_cpu->step();
      }
      for (size_t i = 0; i < 2; ++i) {
        const double d = relative(gpu[0][i], cpu[0][i]);
        record("cuda vs cpu float64", d);
        EXPECT_LE(d, 1e-12) << "kind " << kind << " seed " << seed;
      }
    }
  }
  EXPECT_GE(compared, 40);
}

// Norm and value clipping with the coefficient on the device: as the
// reference driver on CUDA, and as the built-in Adam after
// torch::nn::utils::clip_grad_norm_ (bit for bit); last_grad_norm() is
// clip_grad_norm_'s norm.
TEST(CudaClipping, MatchesTheReferenceDriverAndClipGradNorm) {
  REQUIRE_GPU();
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    for (int kind = 0; kind < kKinds; ++kind) {
      if (!takes_any_parameter(kind)) continue;  // vectors, dense gradients: not Muon's or SparseAdam's
      RandomCase r(9300 + kind);
      Groups init{{torch::randn({300}, dtype), torch::randn({7, 9}, dtype)}, {torch::randn({66000}, dtype)}};
      const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(dtype);
      auto a = copy_to(init, cuda), b = copy_to(init, cuda);
      RandomCase r1 = r, r2 = r;
      auto fused = random_optimizer(kind, r1, a), reference = random_optimizer(kind, r2, b);
      for (auto* opt : {fused.get(), reference.get()}) {
        for (auto& group : opt->param_groups()) {
          with_adaptive_options(group.options(), [&](auto& o) { o.clip_grad_norm(0.5).clip_grad_value(kind % 2 ? 0.05 : 0.0); });
        }
      }
      set_fused(*reference, false);
      for (int step = 0; step < 5; ++step) {
        Groups grads{{torch::randn({300}, dtype), torch::randn({7, 9}, dtype)}, {torch::randn({66000}, dtype)}};
        set_grads(a, grads);
        set_grads(b, grads);
        fused->step();
        reference->step();
      }
      for (size_t gi = 0; gi < a.size(); ++gi) {
        for (size_t pi = 0; pi < a[gi].size(); ++pi) {
          EXPECT_EQ(relative(a[gi][pi], b[gi][pi]), 0.0) << "kind " << kind << " dtype " << dtype;
        }
      }
    }
    // Against the built-in: clip_grad_norm_ then torch::optim::Adam.
    const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(dtype);
    Groups init{{torch::randn({300}, dtype), torch::randn({5000}, dtype)}};
    auto ours = copy_to(init, cuda), theirs = copy_to(init, cuda);
    adaptive::Adam adam(ours[0], adaptive::AdamOptions(1e-2).clip_grad_norm(0.5));
    torch::optim::Adam builtin(theirs[0], torch::optim::AdamOptions(1e-2));
    for (int step = 0; step < 10; ++step) {
      Groups grads{{torch::randn({300}, dtype), torch::randn({5000}, dtype)}};
      set_grads(ours, grads);
      set_grads(theirs, grads);
      adam.step();
      const double norm = torch::nn::utils::clip_grad_norm_(theirs[0], 0.5);
      builtin.step();
      EXPECT_EQ(adam.last_grad_norm().value(), norm);
    }
    for (size_t i = 0; i < 2; ++i) EXPECT_EQ(relative(ours[0][i], theirs[0][i]), 0.0) << dtype;
  }
}

// A group with a non-finite gradient is skipped, whole; the other steps.
TEST(CudaSkip, ANonFiniteGroupIsSkippedAndTheOtherSteps) {
  REQUIRE_GPU();
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  auto a = torch::ones({1000}, cuda).requires_grad_(true), b = torch::ones({1000}, cuda).requires_grad_(true);
  adaptive::Adam adam({torch::optim::OptimizerParamGroup({a}), torch::optim::OptimizerParamGroup({b})},
                      adaptive::AdamOptions(0.1).skip_nonfinite(true));
  a.mutable_grad() = torch::ones_like(a);
  b.mutable_grad() = torch::ones_like(b);
  b.mutable_grad()[17] = NAN;
  adam.step();
  EXPECT_EQ(adam.skipped_steps(), 1);
  EXPECT_TRUE(torch::equal(b, torch::ones_like(b)));
  EXPECT_TRUE(torch::allclose(a, torch::full_like(a, 0.9)));
  EXPECT_EQ(adam.state().size(), 1u) << "the skipped parameter got state";
}

// A CUDA checkpoint resumes on CUDA (exactly) and on the CPU.
TEST(CudaCheckpoint, ResumesOnCudaAndOnCpu) {
  REQUIRE_GPU();
  for (int kind = 0; kind < kKinds; ++kind) {
    if (!takes_any_parameter(kind)) continue;  // vectors, dense gradients: not Muon's or SparseAdam's
    RandomCase r(9500 + kind);
    Groups init{{torch::randn({500}, torch::kFloat64), torch::randn({70000}, torch::kFloat64)}};
    std::vector<Groups> grads;
    for (int step = 0; step < 10; ++step) {
      grads.push_back({{torch::randn({500}, torch::kFloat64), torch::randn({70000}, torch::kFloat64)}});
    }
    const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat64);
    auto params = copy_to(init, cuda);
    RandomCase r0 = r;
    auto opt = random_optimizer(kind, r0, params);
    for (int step = 0; step < 5; ++step) set_grads(params, grads[step]), opt->step();
    const std::string path = temp_path("cuda_checkpoint_" + std::to_string(kind) + ".pt");
    torch::save(*opt, path);
    auto on_cuda = copy_to(params, cuda);
    auto on_cpu = copy_to(params, torch::TensorOptions().device(torch::kCPU).dtype(torch::kFloat64));
    for (int step = 5; step < 10; ++step) set_grads(params, grads[step]), opt->step();

    RandomCase r1 = r, r2 = r;
    auto resumed_cuda = random_optimizer(kind, r1, on_cuda);
    auto resumed_cpu = random_optimizer(kind, r2, on_cpu);
    torch::load(*resumed_cuda, path);
    torch::load(*resumed_cpu, path);
    for (int step = 5; step < 10; ++step) {
      set_grads(on_cuda, grads[step]), resumed_cuda->step();
      set_grads(on_cpu, grads[step]), resumed_cpu->step();
    }
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(relative(on_cuda[0][i], params[0][i]), 0.0) << "kind " << kind;
      EXPECT_LE(relative(on_cpu[0][i], params[0][i]), 1e-12) << "kind " << kind;
      EXPECT_TRUE(on_cpu[0][i].device().is_cpu());
    }
  }
}

// One group holding CPU and CUDA parameters: each part ends where it ends
// alone (fused CPU and fused CUDA drivers in one step), with norm clipping
// over both devices.
TEST(CudaMixedDevices, OneGroupOnBothDevicesStepsEachPartAsAlone) {
  REQUIRE_GPU();
  for (double max_norm : {0.0, 0.5}) {
    auto cpu_init = torch::randn({3000}, torch::kFloat32), gpu_init = torch::randn({5000}, torch::kFloat32);
    auto cpu_p = cpu_init.clone().requires_grad_(true), gpu_p = gpu_init.cuda().requires_grad_(true);
    adaptive::Adam mixed(std::vector<torch::Tensor>{cpu_p, gpu_p}, adaptive::AdamOptions(1e-2).clip_grad_norm(max_norm));
    auto cpu_alone = cpu_init.clone().requires_grad_(true), gpu_alone = gpu_init.cuda().requires_grad_(true);
    adaptive::Adam only_cpu(std::vector<torch::Tensor>{cpu_alone}, adaptive::AdamOptions(1e-2));
    adaptive::Adam only_gpu(std::vector<torch::Tensor>{gpu_alone}, adaptive::AdamOptions(1e-2));
    for (int step = 0; step < 5; ++step) {
      auto gc = torch::randn({3000}), gg = torch::randn({5000});
      cpu_p.mutable_grad() = gc.clone();
      gpu_p.mutable_grad() = gg.cuda();
      mixed.step();
      // The same clipping, by hand, for the single-device optimizers.
      double scale = 1;
      if (max_norm > 0) {
        const double norm = std::sqrt(gc.to(torch::kDouble).square().sum().item<double>() +
                                      gg.to(torch::kDouble).square().sum().item<double>());
        scale = std::min(1.0, max_norm / (norm + 1e-6));
        EXPECT_NEAR(mixed.last_grad_norm().value(), norm, 1e-4 * norm);
      }
      cpu_alone.mutable_grad() = gc * scale;
      gpu_alone.mutable_grad() = (gg * scale).cuda();
      only_cpu.step();
      only_gpu.step();
    }
    // Unclipped: exact. Clipped: the hand-made scale rounds differently
    // (1 ulp of the gradients), so within float32 resolution.
    const double bound = max_norm > 0 ? 1e-5 : 0.0;
    EXPECT_LE(relative(cpu_p, cpu_alone), bound);
    EXPECT_LE(relative(gpu_p, gpu_alone), bound);
    EXPECT_TRUE(cpu_p.device().is_cpu() && gpu_p.is_cuda());
  }
}

#ifdef ADAPTIVE_EXPECT_CUDA_DRIVER
// A fused CUDA step, norm clipping included, never waits for the GPU;
// skip_nonfinite does (docs/cuda.md: which options synchronize). c10's sync debug
// mode turns every synchronizing call into an error.
TEST(CudaSynchronization, AFusedStepDoesNotWaitForTheGpu) {
  REQUIRE_GPU();
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  for (int kind = 0; kind < kKinds; ++kind) {
    if (!takes_any_parameter(kind)) continue;  // vectors, dense gradients: not Muon's or SparseAdam's
    RandomCase r(9700 + kind);
    Groups params{{torch::randn({4000}, cuda).requires_grad_(true), torch::randn({100, 30}, cuda).requires_grad_(true)}};
    auto opt = random_optimizer(kind, r, params);
    for (auto& group : opt->param_groups()) {
      with_adaptive_options(group.options(), [](auto& o) { o.clip_grad_norm(1.0); });
    }
    for (auto& p : params[0]) p.mutable_grad() = torch::randn_like(p);
    opt->step();  // first step: state is created
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
    const std::string error = error_of([&] {
      for (int step = 0; step < 3; ++step) opt->step();
    });
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
    EXPECT_EQ(error, "<no error>") << "kind " << kind;
  }
  auto p = torch::randn({100}, cuda).requires_grad_(true);
  adaptive::Adam skipping(std::vector<torch::Tensor>{p}, adaptive::AdamOptions().skip_nonfinite(true));
  p.mutable_grad() = torch::randn_like(p);
  skipping.step();
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
  const std::string error = error_of([&] { skipping.step(); });
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
  EXPECT_NE(error, "<no error>") << "skip_nonfinite reads the finiteness on the host: docs/cuda.md says it synchronizes";
}
#endif

// Prints the largest deviations seen (for docs/cuda.md).
class ReportWorst : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [key, value] : worst()) std::printf("[cuda] %-32s max relative deviation %.3e\n", key.c_str(), value);
  }
};
const auto* const kReport = ::testing::AddGlobalTestEnvironment(new ReportWorst);

// SparseAdam (not in the registry: it takes only sparse gradients) on the
// GPU: the fused CUDA driver on the gathered entries against the reference
// driver there (0, as above), and against the CPU in float64 (1e-12, as
// above), with uncoalesced gradients of 1 and 2 sparse dimensions.
TEST(CudaSparseAdam, FusedEqualsReferenceOnTheEntriesHeld) {
  REQUIRE_GPU();
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    for (const int64_t sparse_dim : {1, 2}) {
      torch::manual_seed(sparse_dim);
      const auto init = torch::randn({3000, 16}, dtype);
      const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(dtype);
      auto fused_p = init.to(cuda), reference_p = init.to(cuda), cpu_p = init.clone();
      const auto options = adaptive::SparseAdamOptions(0.01).betas(std::make_tuple(0.8, 0.99)).maximize(true);
      adaptive::SparseAdam fused({fused_p}, options), reference({reference_p}, adaptive::SparseAdamOptions(options).fused(false)),
          cpu({cpu_p}, options);
      for (int step = 0; step < 20; ++step) {
        const auto rows = torch::randint(0, 3000, {1, 700}, torch::kLong);  // repeats: uncoalesced
        const auto g = sparse_dim == 1
                           ? torch::sparse_coo_tensor(rows, torch::randn({700, 16}, dtype), {3000, 16})
                           : torch::sparse_coo_tensor(torch::cat({rows, torch::randint(0, 16, {1, 700}, torch::kLong)}),
                                                      torch::randn({700}, dtype), {3000, 16});
        fused_p.mutable_grad() = g.to(torch::kCUDA);
        reference_p.mutable_grad() = g.to(torch::kCUDA);
        cpu_p.mutable_grad() = g;
        fused.step(), reference.step(), cpu.step();
      }
      EXPECT_TRUE(torch::equal(fused_p, reference_p)) << dtype << ", " << sparse_dim << " sparse dims";
      if (dtype == torch::kFloat64) {
        EXPECT_LE(relative(fused_p.cpu(), cpu_p), 1e-12) << sparse_dim << " sparse dims";
      }
    }
  }
}

// Complex parameters on the GPU: every optimizer steps a complex CUDA
// parameter bit for bit as its real view given as a real one (the fused CUDA
// driver runs both: misuse_test holds the same on the CPU).
TEST(CudaComplex, EveryOptimizerStepsTheRealView) {
  REQUIRE_GPU();
  int compared = 0;
  int takes_complex = 0;
  for_each_optimizer([&](auto entry) {
    using Opt = typename decltype(entry)::Optimizer;
    // (Those that refuse complex parameters, as torch.optim's: misuse_test.)
    if (!adaptive::hooks::takes_complex_parameters<Opt>()) return;
    ++takes_complex;
    const auto options = OptimizerInfo<Opt>::stateful(typename Opt::Options(1e-2));
    torch::manual_seed(entry.kind);
    const auto z = torch::randn({300, 7}, torch::TensorOptions().dtype(torch::kComplexFloat).device(torch::kCUDA));
    const auto r = torch::view_as_real(z).clone();
    Opt complex_opt({z}, options), real_opt({r}, options);
    for (int step = 0; step < 4; ++step) {
      const auto g = torch::randn_like(z);
      z.mutable_grad() = g;
      r.mutable_grad() = torch::view_as_real(g).clone();
      complex_opt.step(), real_opt.step();
    }
    EXPECT_TRUE(torch::equal(torch::view_as_real(z), r)) << entry.name;
    ++compared;
  });
  EXPECT_EQ(compared, takes_complex);
}

}  // namespace
}  // namespace adaptive_test
