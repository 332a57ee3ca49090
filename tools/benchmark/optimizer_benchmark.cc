// Optimizer step time: torch::optim (built-in) vs ATen's own fused CPU kernels
// (at::_fused_adam_ / _fused_adamw_ / _fused_adagrad_, what PyTorch's
// fused=True runs; LibTorch 2.4+, for the optimizers that have one) vs
// adaptive (fused CPU driver) vs the memory-bandwidth floor, measured side by
// side in one run.
//
//   bazel run //tools/benchmark:optimizer_benchmark            # full table
//   bazel run //tools/benchmark:optimizer_benchmark -- --quick # smaller shapes
//   bazel run //tools/benchmark:optimizer_benchmark -- --tensor-op
//       the tensor-op (reference) driver against the built-ins instead: what
//       fused(false), bfloat16 and channels-last parameters run
//
// The floor of a configuration is the bytes its step must move (every state
// tensor read and written once, the gradient read once, plus one more read of
// the gradient for norm clipping) divided by the bandwidth of ATen's
// in-place add (a += s·b, ATen's threads) measured in the same run, between
// the configurations, in a loop over 128 MB. Each row steps its
// implementations in turn, each on its own copy of the same parameters, and
// times every step (best of 3 repetitions); the table at the end gives the
// ratios and the peak RSS.
//
// The "add in turn" is that same add over the bytes of the row (two float
// tensors of bytes / 12 elements), stepped as one more side of the row: it
// meets the caches the row's other sides leave, and the time that passes
// while they step, as adaptive's step does. The floor's loop runs hot, over
// 128 MB that this machine's cache can hold; between adaptive's steps on
// 2,000 x 500 the built-in's and ATen's take about 25 ms and move their own
// copies through the caches. The add in turn is no floor either (on the
// large rows, which stream from memory, adaptive's prefetching kernels beat
// it), but it moves the same bytes in the same conditions: what adaptive
// takes beyond it on many small tensors is the step's own per-tensor work.
//
// SparseAdam's row steps a table of 64-wide rows (the row's one tensor) whose
// sparse gradient holds every 100th row: its floor is the bytes of the rows
// held; its built-in column is its own reference driver on those rows. The
// gathering and writing back of the rows is part of its step, not of the floor.
//
// The "kernel only" side (default options) runs adaptive's fused kernels over
// its own copy of the row's tensors with the jobs made once (kernel_only.h):
// adaptive's step without the per-tensor work of step(), in the same
// conditions. "adaptive / kernel only" is what that work costs; "kernel only
// / floor" is the most any cut of it could bring a row to.

#include "optim/optim.h"

#include "optim/core/compat.h"
#include "optim/version.h"
#include "tools/benchmark/kernel_only.h"
#include "tools/benchmark/tensor_lists.h"
#include "tools/benchmark/tensor_op_rows.h"

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using adaptive_benchmark::grads_of;
using adaptive_benchmark::Storage;
using adaptive_benchmark::step_counts;
using adaptive_benchmark::zeros_like_all;

struct Shape {
  std::string name;
  int64_t tensors, numel;
};

// One step of ATen's fused kernel over `params`, with its state; made once.
using AtenStep = std::function<void()>;
using MakeAtenStep = std::function<AtenStep(const std::vector<torch::Tensor>&)>;

struct Config {
  std::string optimizer, options;
  int bytes_per_element;  // fp32 traffic of one step per parameter element
  std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)> builtin, adaptive;
  bool clip_norm = false;  // built-in and ATen sides call clip_grad_norm_ first
  MakeAtenStep aten;       // empty: ATen has no fused kernel for it (or this LibTorch predates them)
  Storage storage;         // how its parameters are stored (default: float32, contiguous, fused)
  bool add_in_turn = true;  // an add side in the row (see the top of this file)
  // The "kernel only" side's step over a stepped adaptive optimizer
  // (kernel_only.h); empty: no such side.
  std::function<AtenStep(const torch::optim::Optimizer&)> kernel_only;
  // Sparse gradients (SparseAdam): the parameter as a table of kRowWidth-wide
  // rows, its gradient holding every kSparseStride-th row (one tensor only).
  bool sparse_rows = false;
  // The share of the elements a step touches: what the floor and the add in turn move.
  double held() const { return sparse_rows ? 1.0 / kSparseStride : 1.0; }
  // Each parameter as a matrix (matrix_width): for Adafactor, whose
  // factored moments are what it is for (a flat tensor takes its
  // unfactored path).
  bool matrices = false;
  // Shapes whose tensors hold more elements are left out (Muon: its
  // bfloat16 Newton-Schulz products on a 1000 x 1000 matrix take seconds here).
  int64_t max_numel = std::numeric_limits<int64_t>::max();
  static constexpr int64_t kRowWidth = 64, kSparseStride = 100;
};

// A width that divides `numel` (1024, 1000 or 500: every shape here): each
// parameter of a Config::matrices row is a (numel / width) x width matrix.
int64_t matrix_width(int64_t numel) {
  for (int64_t width : {1024, 1000, 500}) {
    if (numel % width == 0) return width;
  }
  return numel;
}
void make_matrices(std::vector<torch::Tensor>& params) {
  for (auto& p : params) {
    const int64_t width = matrix_width(p.numel());
    const torch::Tensor grad = p.grad().view({-1, width});
    p = p.detach().view({-1, width}).requires_grad_(true);
    p.mutable_grad() = grad;
  }
}

// The row's parameter as a table (Config::sparse_rows), with a sparse
// gradient holding every kSparseStride-th row of its dense one.
void make_sparse_rows(std::vector<torch::Tensor>& params) {
  for (auto& p : params) {
    const torch::Tensor dense = p.grad().view({-1, Config::kRowWidth});
    const torch::Tensor rows = torch::arange(0, dense.size(0), Config::kSparseStride, torch::kLong);
    p = p.detach().view({-1, Config::kRowWidth}).requires_grad_(true);
    p.mutable_grad() = torch::sparse_coo_tensor(rows.unsqueeze(0), dense.index_select(0, rows), dense.sizes());
  }
}

#if ADAPTIVE_TORCH_AT_LEAST(2, 4)

// PyTorch's fused=True step: step counts (float tensors) += 1, then one
// kernel call over all tensors, as torch.optim's _fused_adam does.
MakeAtenStep fused_adam(bool amsgrad, bool decoupled, double weight_decay) {
  return [=](const std::vector<torch::Tensor>& params) -> AtenStep {
    auto m = zeros_like_all(params), v = zeros_like_all(params), vmax = amsgrad ? zeros_like_all(params) : std::vector<torch::Tensor>{};
    std::vector<torch::Tensor> steps = step_counts(params.size()), p = params, g = grads_of(params);
    return [=]() mutable {
      torch::NoGradGuard no_grad;
      at::_foreach_add_(steps, 1);
      if (decoupled) {
        at::_fused_adamw_(p, g, m, v, vmax, steps, 1e-3, 0.9, 0.999, weight_decay, 1e-8, amsgrad, false);
      } else {
        at::_fused_adam_(p, g, m, v, vmax, steps, 1e-3, 0.9, 0.999, weight_decay, 1e-8, amsgrad, false);
      }
    };
  };
}
MakeAtenStep fused_adagrad() {
  return [](const std::vector<torch::Tensor>& params) -> AtenStep {
    auto sums = zeros_like_all(params);
    std::vector<torch::Tensor> steps = step_counts(params.size()), p = params, g = grads_of(params);
    return [=]() mutable {
      torch::NoGradGuard no_grad;
      at::_foreach_add_(steps, 1);
      at::_fused_adagrad_(p, g, sums, steps, 1e-2, 0.0, 0.0, 1e-10, false);
    };
  };
}
#else
MakeAtenStep fused_adam(bool, bool, double) { return nullptr; }
MakeAtenStep fused_adagrad() { return nullptr; }
#endif

// fp32 bytes one default step of Opt moves per parameter element: read the
// gradient, read and write the parameter and each state tensor the default
// options create.
template <class Opt>
int default_traffic() {
  // Whole-tensor math (Adafactor): read θ (its norm) and g, write θ; its
  // factored moments are O(rows + cols), nothing per element.
  if constexpr (adaptive::hooks::steps_whole_tensors<Opt>()) {
    // Read θ and g, write θ, and read and write each state tensor of θ's
    // size (Muon's momentum buffer; Adafactor's factored moments are
    // O(rows + cols): nothing per element).
    typename Opt::State state;
    const torch::Tensor p = torch::zeros({64, 64});
    Opt::init_state(state, p, typename Opt::Options());
    int full = 0;
    adaptive::detail::for_each_field<typename Opt::State>([&](const auto& field) {
      if constexpr (std::is_same_v<std::decay_t<decltype(state.*(field.member))>, torch::Tensor>) {
        const torch::Tensor& t = state.*(field.member);
        full += t.defined() && t.numel() == p.numel() ? 1 : 0;
      }
    });
    return 12 + 8 * full;
  } else {
    typename Opt::State state;
    const torch::Tensor p = torch::zeros({1});
    Opt::init_state(state, p, typename Opt::Options());
    int tensors = 0;
    std::apply([&](const auto&... t) { ((tensors += t.defined() ? 1 : 0), ...); }, Opt::state_tensors(state));
    return 4 * (1 + 2 * (1 + tensors));
  }
}

// The ATen fused step of an optimizer's default options, where ATen has one.
template <class Opt>
MakeAtenStep aten_default() {
  if constexpr (std::is_same_v<Opt, adaptive::Adam>) return fused_adam(false, false, 0);
  if constexpr (std::is_same_v<Opt, adaptive::Adagrad>) return fused_adagrad();
  return nullptr;
}

// Opt with its default options, beside its built-in; where LibTorch has none,
// beside adaptive's reference driver (one ATen op per line of the rule, what
// Python's single-tensor path runs), in the built-in's column.
template <class Opt>
Config default_config() {
  Config c;
  c.optimizer = std::string(Opt::kName).substr(std::string("adaptive::").size());
  c.options = "default";
  c.bytes_per_element = default_traffic<Opt>();
  if constexpr (!std::is_void_v<typename Opt::Builtin>) {
    c.builtin = adaptive_benchmark::make_builtin<Opt>;
  } else {
    c.options = "default; built-in column: reference driver";
    c.builtin = [](std::vector<torch::Tensor> p) { return adaptive_benchmark::make_adaptive<Opt>(p, false); };
  }
  c.adaptive = [](std::vector<torch::Tensor> p) -> std::unique_ptr<torch::optim::Optimizer> {
    return std::make_unique<Opt>(p);
  };
  c.aten = aten_default<Opt>();
  if constexpr (adaptive::hooks::takes_only_sparse_gradients<Opt>()) {
    // SparseAdam: read p g m v, write p m v = 28 bytes per element held.
    c.options = "1% of 64-wide rows; built-in column: reference driver";
    c.sparse_rows = true;
  } else if constexpr (adaptive::hooks::steps_whole_tensors<Opt>()) {
    // Tensor ops on every driver: the reference column is the same code (no kernel-only side).
    c.options = "matrices; built-in column: fused(false), the same tensor ops";
    c.matrices = true;
    // Muon's cost is its matrix products: only the shapes of small matrices.
    if constexpr (adaptive::hooks::takes_only_matrices<Opt>()) c.max_numel = 20000;
  } else {
    c.kernel_only = [](const torch::optim::Optimizer& o) {
      return adaptive_benchmark::kernel_only_step(static_cast<const Opt&>(o));
    };
  }
  return c;
}

std::vector<Config> configs() {
  using namespace torch::optim;
  std::vector<Config> c;
  const auto add = [&](std::string opt, std::string options, int bytes, auto builtin, auto ours, bool clip = false,
                       MakeAtenStep aten = nullptr) { c.push_back({opt, options, bytes, builtin, ours, clip, aten}); };
  // A "default" row for every optimizer in optim/optimizers.h.
#define ADAPTIVE_DEFAULT_ROW(Class, ...) c.push_back(default_config<adaptive::Class>());
  ADAPTIVE_OPTIMIZERS(ADAPTIVE_DEFAULT_ROW)
#undef ADAPTIVE_DEFAULT_ROW
  // Options that change the traffic or the work. Adam: read p g m v, write p m v
  // = 28 bytes; amsgrad + v_max read and write; clipping reads g once more.
  add("Adam", "amsgrad", 36, [](auto p) { return std::make_unique<Adam>(p, AdamOptions(1e-3).amsgrad(true)); },
      [](auto p) { return std::make_unique<adaptive::Adam>(p, adaptive::AdamOptions(1e-3).amsgrad(true)); }, false,
      fused_adam(true, false, 0));
  add("Adam", "clip_grad_norm", 32, [](auto p) { return std::make_unique<Adam>(p, AdamOptions(1e-3)); },
      [](auto p) { return std::make_unique<adaptive::Adam>(p, adaptive::AdamOptions(1e-3).clip_grad_norm(1.0)); },
      true, fused_adam(false, false, 0));
  // AdamW: the same traffic as Adam; adaptive's is Adam with decoupled decay.
  add("AdamW", "weight_decay=0.01", 28,
      [](auto p) { return std::make_unique<AdamW>(p, AdamWOptions(1e-3).weight_decay(1e-2)); },
      [](auto p) {
        return std::make_unique<adaptive::Adam>(
            p, adaptive::AdamOptions(1e-3).weight_decay(1e-2).decoupled_weight_decay(true));
      },
      false, fused_adam(false, true, 1e-2));
  // RMSprop: read p g s, write p s = 20; centered and momentum add a tensor each (+8).
  add("RMSprop", "centered+momentum", 36,
      [](auto p) { return std::make_unique<RMSprop>(p, RMSpropOptions(1e-3).centered(true).momentum(0.9)); },
      [](auto p) {
        return std::make_unique<adaptive::RMSprop>(p, adaptive::RMSpropOptions(1e-3).centered(true).momentum(0.9));
      });
  // Adagrad: read p g Σ, write p Σ = 20, and g once more for the norm.
  add("Adagrad", "clip_grad_norm", 24, [](auto p) { return std::make_unique<Adagrad>(p, AdagradOptions(1e-2)); },
      [](auto p) {
        return std::make_unique<adaptive::Adagrad>(p, adaptive::AdagradOptions(1e-2).clip_grad_norm(1.0));
      },
      true, fused_adagrad());
  return c;
}

// Opt's default options with its built-in, on `storage`.
template <class Opt>
void add_tensor_op_config(std::vector<Config>& c, const Storage& storage) {
  if constexpr (!std::is_void_v<typename Opt::Builtin>) {
    Config config = default_config<Opt>();
    config.options = storage.name;
    config.storage = storage;
    config.aten = nullptr;
    config.add_in_turn = false;  // the tensor-op table compares with the built-in only
    config.kernel_only = nullptr;
    const bool fused = storage.fused;
    config.adaptive = [fused](std::vector<torch::Tensor> p) { return adaptive_benchmark::make_adaptive<Opt>(p, fused); };
    c.push_back(config);
  }
}
std::vector<Config> tensor_op_configs() {
  std::vector<Config> c;
  for (const Storage& storage : adaptive_benchmark::tensor_op_storages()) {
#define ADAPTIVE_TENSOR_OP_ROW(Class, ...) add_tensor_op_config<adaptive::Class>(c, storage);
    ADAPTIVE_OPTIMIZERS(ADAPTIVE_TENSOR_OP_ROW)
#undef ADAPTIVE_TENSOR_OP_ROW
  }
  return c;
}
// The sides of a row: the implementations, adaptive's kernels alone, then
// the add in turn.
enum class Impl { kBuiltin, kAtenFused, kAdaptive, kKernelOnly, kAddInTurn };
// Every side, in the order a row steps them.
constexpr Impl kImpls[] = {Impl::kBuiltin, Impl::kAtenFused, Impl::kAdaptive, Impl::kKernelOnly, Impl::kAddInTurn};
const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::kBuiltin: return "builtin";
    case Impl::kAtenFused: return "aten_fused";
    case Impl::kAdaptive: return "adaptive";
    case Impl::kKernelOnly: return "kernel_only";
    case Impl::kAddInTurn: break;
  }
  return "add_in_turn";
}

// a ← a + 3·b over two float tensors of `bytes` / 12 elements each: the
// floor's add (floor_benchmark), moving `bytes`.
AtenStep floor_add(int64_t bytes) {
  const int64_t n = bytes / (3 * static_cast<int64_t>(sizeof(float)));
  torch::Tensor a = torch::ones({n}), b = torch::ones({n});
  return [a, b]() mutable { a.add_(b, 3.0); };
}

// One row of a table: each implementation of `c` on its own copy of the same
// parameters, stepped in turn, one step each per iteration, each step timed
// by itself. Taking turns puts every side in the same conditions: the same
// heap (a process that ran one side's benchmark before the other's gave the
// later side other pages: the 1 x 4M float64 RMSprop and Adagrad rows of the
// tensor-op table measured 0.67-0.85x that way and 1.00-1.20x in turns) and
// the same cold caches (the other sides' steps evict this side's state, as a
// training step's forward and backward pass do). Reports each side's seconds
// per step as a counter.
void row_benchmark(benchmark::State& state, const Config& c, const Shape& s) {
  struct Side {
    Impl impl;
    std::vector<torch::Tensor> params;
    std::unique_ptr<torch::optim::Optimizer> opt;
    AtenStep aten_step;
    double seconds = 0;
  };
  std::vector<Side> sides;
  for (Impl impl : kImpls) {
    if ((impl == Impl::kAtenFused && !c.aten) || (impl == Impl::kBuiltin && !c.builtin)) continue;
    if (impl == Impl::kAddInTurn && !c.add_in_turn) continue;
    if (impl == Impl::kKernelOnly && !c.kernel_only) continue;
    Side side{impl};
    if (impl == Impl::kAddInTurn) {
      side.aten_step = floor_add(static_cast<int64_t>(c.bytes_per_element * c.held() * s.tensors * s.numel));
      sides.push_back(std::move(side));
      continue;
    }
    torch::manual_seed(0);
    side.params = adaptive_benchmark::make_params(s.tensors, s.numel, c.storage);
    if (c.sparse_rows) make_sparse_rows(side.params);
    if (c.matrices) make_matrices(side.params);
    if (impl == Impl::kAtenFused) {
      side.aten_step = c.aten(side.params);
    } else {
      side.opt = impl == Impl::kBuiltin ? c.builtin(side.params) : c.adaptive(side.params);  // kernel only: adaptive
    }
    sides.push_back(std::move(side));
  }
  const auto step = [&](Side& side) {
    if ((side.impl == Impl::kBuiltin || side.impl == Impl::kAtenFused) && c.clip_norm) {
      // What a user of the built-in writes before step() (it rescales the
      // gradients in place: after the first iteration by a factor near 1).
      torch::NoGradGuard no_grad;
      torch::nn::utils::clip_grad_norm_(side.params, 1.0);
    }
    side.aten_step ? side.aten_step() : static_cast<void>(side.opt->step());
  };
  for (Side& side : sides) step(side);  // create the state outside the timed loop
  for (Side& side : sides) {
    // From here on the kernels alone, over the state that first step made.
    if (side.impl == Impl::kKernelOnly) side.aten_step = c.kernel_only(*side.opt);
  }
  const auto gone = std::remove_if(sides.begin(), sides.end(), [](const Side& side) {
    return side.impl == Impl::kKernelOnly && !side.aten_step;  // a parameter the fused kernels do not take
  });
  sides.erase(gone, sides.end());
  for (auto _ : state) {
    for (Side& side : sides) {
      const auto start = std::chrono::steady_clock::now();
      step(side);
      side.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
  for (const Side& side : sides) {
    state.counters[impl_name(side.impl)] = side.seconds / static_cast<double>(state.iterations());
  }
  state.SetItemsProcessed(state.iterations() * s.tensors * s.numel);
}

// a ← a + 3·b, ATen's own in-place add (vectorized at the capability ATen
// dispatches to, on ATen's threads) over two float tensors of 64 MB: the
// bandwidth a memory-bound loop with a step's access pattern (read, update
// in place, write back what was read) reaches on this machine. It moves 12
// bytes per element, all of them counted: unlike STREAM's triad (a = b + s·c,
// which the earlier tables used, as a scalar loop on one thread) there is no
// write-allocate read of a destination that was not read.
constexpr int64_t kFloorElements = 16 << 20;
constexpr double kFloorBytes = kFloorElements * 3.0 * sizeof(float);  // per add_: read a and b, write a
void floor_benchmark(benchmark::State& state) {
  AtenStep add = floor_add(static_cast<int64_t>(kFloorBytes));
  for (auto _ : state) add();
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kFloorBytes));
}

// Collects seconds per step of every side of every row, by name ("row/side"),
// and of the floor: the best of the repetitions (for the floor, of all its
// interleaved runs), the most robust estimate on a machine whose timings are
// noisy.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.iterations == 0) continue;
      const std::string& name = r.run_name.function_name;
      bool row = false;
      for (Impl impl : kImpls) {
        const auto side = r.counters.find(impl_name(impl));
        if (side == r.counters.end()) continue;
        keep_best(name + "/" + impl_name(impl), side->second.value);
        row = true;
      }
      if (!row) keep_best(name, r.real_accumulated_time / static_cast<double>(r.iterations));
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;

 private:
  void keep_best(const std::string& name, double s) {
    auto it = seconds.find(name);
    if (it == seconds.end() || s < it->second) seconds[name] = s;
  }
};

// `value` in `format`, or "-" where there is none (0: ATen has no fused
// kernel for the configuration, or this LibTorch predates them).
std::string cell(double value, const char* format) {
  if (value <= 0) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, tensor_op = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("optimizer_benchmark (adaptive %s, LibTorch %d.%d.%d)\n", ADAPTIVE_VERSION, TORCH_VERSION_MAJOR,
                  TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
      return 0;
    }
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--tensor-op") == 0) {
      tensor_op = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n_args = static_cast<int>(args.size());
  std::vector<Shape> shapes =
      quick ? std::vector<Shape>{{"1 x 1M", 1, 1 << 20}, {"200 x 500", 200, 500}}
            : std::vector<Shape>{{"1 x 8M", 1, 8 << 20}, {"400 x 20k", 400, 20000}, {"2000 x 500", 2000, 500}};
  if (tensor_op) shapes.front() = quick ? Shape{"1 x 1M", 1, 1000000} : Shape{"1 x 4M", 1, 4000000};  // W = 5 divides
  // The bytes of 2,000 x 500 in one tensor, in the row above it: the pair
  // shows what the bookkeeping of many small tensors costs, apart from the
  // memory traffic.
  if (!quick && !tensor_op) shapes.insert(shapes.end() - 1, Shape{"1 x 1M", 1, 1000000});
  const auto all = tensor_op ? tensor_op_configs() : configs();
  const int repetitions = quick ? 1 : 3;
  for (const auto& c : all) {
    // The floor's bandwidth, measured again before every configuration.
    benchmark::RegisterBenchmark("floor", floor_benchmark)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.2)
        ->Repetitions(repetitions);
    for (const auto& s : shapes) {
      if (c.sparse_rows && s.tensors != 1) continue;  // a table is one tensor
      if (s.numel > c.max_numel) continue;
      const std::string name = c.optimizer + "/" + c.options + "/" + s.name;
      benchmark::RegisterBenchmark(name.c_str(), [c, s](benchmark::State& st) { row_benchmark(st, c, s); })
          ->Unit(benchmark::kMillisecond)
          ->MinTime(quick ? 0.2 : 0.6)
          ->Repetitions(repetitions);
    }
  }
  benchmark::Initialize(&n_args, args.data());
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  const double bandwidth = kFloorBytes / collector.seconds["floor"];  // bytes / s
  std::printf("\nFloor bandwidth (in-place add): %.1f GB/s (%d threads)\n\n", bandwidth / 1e9, at::get_num_threads());
  if (tensor_op) {
    std::printf("| optimizer | parameters | shape | built-in ms | adaptive ms | adaptive vs built-in |\n");
    std::printf("|---|---|---|---|---|---|\n");
    for (const auto& c : all) {
      for (const auto& s : shapes) {
        const std::string base = c.optimizer + "/" + c.options + "/" + s.name;
        const double b = collector.seconds[base + "/builtin"], a = collector.seconds[base + "/adaptive"];
        if (a == 0 || b == 0) continue;  // filtered out
        std::printf("| %s | %s | %s | %.2f | %.2f | %.2fx |\n", c.optimizer.c_str(), c.options.c_str(),
                    s.name.c_str(), b * 1e3, a * 1e3, b / a);
      }
    }
    return 0;
  }
  std::printf("| optimizer | options | shape | built-in ms | ATen fused ms | adaptive ms | floor ms | "
              "adaptive vs built-in | adaptive vs ATen fused | adaptive / floor | ATen fused / floor | "
              "add in turn ms | adaptive / add in turn | kernel only ms | kernel only / floor | "
              "adaptive / kernel only |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& c : all) {
    for (const auto& s : shapes) {
      const std::string base = c.optimizer + "/" + c.options + "/" + s.name;
      const double b = collector.seconds[base + "/builtin"], a = collector.seconds[base + "/adaptive"];
      const double f = collector.seconds[base + "/aten_fused"], t = collector.seconds[base + "/add_in_turn"];
      const double k = collector.seconds[base + "/kernel_only"];
      if (a == 0 || b == 0) continue;  // filtered out
      const double floor = c.bytes_per_element * c.held() * s.tensors * s.numel / bandwidth;
      std::printf("| %s | %s | %s | %s | %s | %.2f | %.2f | %s | %s | %.2f | %s | %.2f | %.2f | %s | %s | %s |\n",
                  c.optimizer.c_str(), c.options.c_str(), s.name.c_str(), cell(b * 1e3, "%.2f").c_str(),
                  cell(f * 1e3, "%.2f").c_str(), a * 1e3, floor * 1e3, cell(b / a, "%.2fx").c_str(),
                  cell(f / a, "%.2fx").c_str(), a / floor, cell(f / floor, "%.2f").c_str(), t * 1e3, a / t,
                  cell(k * 1e3, "%.2f").c_str(), cell(k / floor, "%.2f").c_str(), cell(k > 0 ? a / k : 0, "%.2f").c_str());
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("\nPeak RSS: %.0f MB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
