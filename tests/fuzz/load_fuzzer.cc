// libFuzzer target: checkpoints that are damaged, hostile or of another
// optimizer, loaded into every adaptive optimizer under ASan.
//
// Each input is a recipe: FuzzedDataProvider either takes a real checkpoint
// (tests/data/checkpoints: both LibTorch versions, adaptive's and the
// built-ins') and keeps, drops, truncates, recasts or replaces each of its
// entries, or draws an archive in the optimizers' format from scratch
// (groups, parameter keys, options, state). Any entry may be missing, of the
// wrong type (a string for lr, a tensor for amsgrad), of the wrong shape or
// dtype, or an extreme value (NaN, ±inf, -1, 1e308). OutputArchive writes
// the result, so the bytes always parse and what is exercised is adaptive's
// load. (With ADAPTIVE_FUZZ_RAW set, inputs whose first byte is even go to
// LibTorch's reader as raw bytes instead; see kRaw.)
//
// What must hold for every input, else the target aborts (a finding):
//   - load throws (c10::Error or another std::exception) or succeeds; no
//     crash, no ASan report;
//   - a load that throws leaves the optimizer exactly as it was (its saved
//     bytes are unchanged: options, state, step counts);
//   - a load that succeeds holds no state value a step could not continue
//     from (a negative step count, one that cannot advance, a state past its
//     first step without its moments);
//   - after a load that succeeds, step() either works or throws cleanly,
//     and save() works.

#include "optim/optim.h"
#include "tests/registry/registry.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace {

// The parameters the seed checkpoints were written for (checkpoint_versions_test).
std::vector<torch::Tensor> make_params() {
  auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  return {torch::linspace(-1, 1, 12, opts).reshape({3, 4}).requires_grad_(true),
          torch::linspace(0.5, 2, 5, opts).requires_grad_(true)};
}

// Every optimizer of optim/optimizers.h, with the options that give it the
// most state (its test entry's stateful()), on the parameters it takes (Muon:
// the matrix), and what its gradients need before a step (SparseAdam: sparse).
struct Made {
  std::unique_ptr<torch::optim::Optimizer> opt;
  std::function<void(const std::vector<torch::Tensor>&)> prepare;
};
std::vector<Made> make_all(const std::vector<torch::Tensor>& params) {
  std::vector<Made> all;
  adaptive_test::for_each_optimizer([&](auto registered) {
    using R = decltype(registered);
    using Opt = typename R::Optimizer;
    std::vector<torch::Tensor> taken;
    for (const auto& p : params) {
      if (!adaptive::hooks::takes_only_matrices<Opt>() || p.dim() == 2) taken.push_back(p);
    }
    all.push_back({std::make_unique<Opt>(taken, R::Info::stateful(typename R::Options(0.05))),
                   adaptive_test::prepare_gradients<Opt>});
  });
  return all;
}

std::string saved(const torch::optim::Optimizer& opt) {
  std::ostringstream out;
  torch::save(opt, out);
  return out.str();
}

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "load_fuzzer: %s\n", what);
  std::abort();
}

// ---- recipes -------------------------------------------------------------

// Every option and state name of every optimizer (their fields() lists):
// drawn archives use the names loads read.
struct Names {
  std::vector<std::string> options, states;
};
const Names& names() {
  static const Names all = [] {
    Names n;
    const auto add = [](std::vector<std::string>& to, const char* name) {
      if (std::find(to.begin(), to.end(), name) == to.end()) to.emplace_back(name);
    };
    adaptive_test::for_each_optimizer([&](auto registered) {
      using R = decltype(registered);
      adaptive::detail::for_each_field<typename R::Options>([&](const auto& f) { add(n.options, f.name); });
      adaptive::detail::for_each_field<typename R::Optimizer::State>([&](const auto& f) { add(n.states, f.name); });
    });
    return n;
  }();
  return all;
}

const std::string& pick_name(FuzzedDataProvider& in, const std::vector<std::string>& from) {
  return from[in.ConsumeIntegralInRange<size_t>(0, from.size() - 1)];
}

double pick_double(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 7)) {
    case 0: return std::numeric_limits<double>::quiet_NaN();
    case 1: return std::numeric_limits<double>::infinity();
    case 2: return -1;
    case 3: return 1e308;
    case 4: return 0;
    case 5: return 1;
    default: return in.ConsumeFloatingPointInRange(-2.0, 2.0);
  }
}

torch::Tensor pick_tensor(FuzzedDataProvider& in) {
  const auto dtypes = {torch::kFloat64, torch::kFloat32, torch::kInt64, torch::kBool, torch::kHalf};
  const auto dtype = *(dtypes.begin() + in.ConsumeIntegralInRange<size_t>(0, dtypes.size() - 1));
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: return torch::full({3, 4}, pick_double(in), torch::kFloat64).to(dtype);  // a parameter's shape
    case 1: return torch::full({5}, pick_double(in), torch::kFloat64).to(dtype);
    case 2: return torch::tensor(in.ConsumeIntegralInRange<int64_t>(-3, 1000)).to(dtype);  // a scalar
    default: {
      std::vector<int64_t> shape(in.ConsumeIntegralInRange(0, 3));
      for (auto& d : shape) d = in.ConsumeIntegralInRange(0, 6);
      return torch::zeros(shape, torch::TensorOptions().dtype(dtype));
    }
  }
}

c10::IValue pick_value(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 6)) {
    case 0: return c10::IValue(pick_double(in));
    case 1: return c10::IValue(in.ConsumeIntegralInRange<int64_t>(-5, 1 << 20));
    case 2: return c10::IValue(in.ConsumeBool());
    case 3: return c10::IValue(in.ConsumeRandomLengthString(12));
    case 4: return c10::IValue(std::make_tuple(pick_double(in), pick_double(in)));
    case 5: return c10::IValue(std::make_tuple(pick_double(in), pick_double(in), pick_double(in)));
    default: return c10::IValue(pick_tensor(in));
  }
}

void write_value(torch::serialize::OutputArchive& archive, const std::string& key, const c10::IValue& value) {
  if (value.isTensor()) archive.write(key, value.toTensor());
  else archive.write(key, value);
}

// A count entry: usually the right kind (an int64 scalar tensor), sometimes not.
void write_count(FuzzedDataProvider& in, torch::serialize::OutputArchive& archive, const std::string& key,
                 int64_t count) {
  if (in.ConsumeIntegralInRange(0, 9) < 9) archive.write(key, torch::tensor(count));
  else write_value(archive, key, pick_value(in));
}

// A real checkpoint, copied entry by entry into `out`, each entry kept,
// dropped, or replaced by a drawn value (sub-archives recursively).
void copy_mutated(FuzzedDataProvider& in, torch::serialize::InputArchive& from, torch::serialize::OutputArchive& out) {
  for (const auto& key : from.keys()) {
    // 0 (also when the input is used up): kept as it is.
    const int choice = in.ConsumeIntegralInRange(0, 15);
    if (choice == 15) continue;  // dropped
    if (choice == 14) {
      write_value(out, in.ConsumeBool() ? key : in.ConsumeRandomLengthString(10), pick_value(in));
      continue;
    }
    torch::serialize::InputArchive sub;
    torch::Tensor tensor;
    c10::IValue value;
    if (from.try_read(key, sub)) {
      torch::serialize::OutputArchive copy(out.compilation_unit());
      copy_mutated(in, sub, copy);
      out.write(key, copy);
    } else if (from.try_read(key, tensor)) {
      if (choice == 13) tensor = tensor.reshape({-1}).slice(0, 0, std::max<int64_t>(0, tensor.numel() - 1));
      if (choice == 12) tensor = tensor.to(torch::kFloat32);
      if (choice == 11 && tensor.numel() > 0) tensor = tensor.clone().fill_(pick_double(in));
      out.write(key, tensor);
    } else if (from.try_read(key, value)) {
      write_value(out, key, value);
    }
  }
}

std::string recipe_archive(FuzzedDataProvider& in, const std::vector<torch::Tensor>& params,
                           const std::vector<std::string>& seeds) {
  if (!seeds.empty() && !in.ConsumeBool()) {  // a real checkpoint, mutated
    torch::serialize::InputArchive seed;
    const std::string& bytes = seeds[in.ConsumeIntegralInRange<size_t>(0, seeds.size() - 1)];
    seed.load_from(bytes.data(), bytes.size());
    torch::serialize::OutputArchive archive;
    copy_mutated(in, seed, archive);
    std::ostringstream out;
    archive.save_to(out);
    return out.str();
  }
  using torch::serialize::OutputArchive;
  OutputArchive archive;
  if (in.ConsumeIntegralInRange(0, 15) < 15) archive.write("pytorch_version", c10::IValue("1.5.0"));
  const int64_t groups = in.ConsumeIntegralInRange(0, 2);
  OutputArchive state(archive.compilation_unit()), all_groups(archive.compilation_unit());
  write_count(in, all_groups, "param_groups/size", groups);
  for (int64_t gi = 0; gi < groups; ++gi) {
    OutputArchive group(archive.compilation_unit()), options(archive.compilation_unit());
    const int64_t count = in.ConsumeIntegralInRange(0, 3);
    write_count(in, group, "params/size", count);
    for (int64_t pi = 0; pi < count; ++pi) {
      // The key: this process's parameter address (matches state), or anything.
      const std::string key =
          in.ConsumeBool() && pi < static_cast<int64_t>(params.size())
              ? std::to_string(reinterpret_cast<uintptr_t>(params[pi].unsafeGetTensorImpl()))
              : in.ConsumeRandomLengthString(8);
      if (in.ConsumeIntegralInRange(0, 9) < 9) group.write("params/" + std::to_string(pi), c10::IValue(key));
      else write_value(group, "params/" + std::to_string(pi), pick_value(in));
      if (in.ConsumeBool()) {
        OutputArchive entry(archive.compilation_unit());
        const int fields = in.ConsumeIntegralInRange(0, 5);
        for (int f = 0; f < fields; ++f) {
          const std::string& name = pick_name(in, names().states);
          write_value(entry, name, name == "step" && in.ConsumeBool() ? c10::IValue(in.ConsumeIntegral<int64_t>())
                                                                      : pick_value(in));
        }
        state.write(key, entry);
      }
    }
    const int option_count = in.ConsumeIntegralInRange(0, 10);
    for (int o = 0; o < option_count; ++o) write_value(options, pick_name(in, names().options), pick_value(in));
    if (in.ConsumeIntegralInRange(0, 15) < 15) group.write("options", options);
    all_groups.write("param_groups/" + std::to_string(gi), group);
  }
  if (in.ConsumeIntegralInRange(0, 15) < 15) archive.write("state", state);
  if (in.ConsumeIntegralInRange(0, 15) < 15) archive.write("param_groups", all_groups);
  if (in.ConsumeBool()) write_value(archive, "adaptive/skipped_steps", pick_value(in));
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

// The real checkpoints recipes start from: every file in $ADAPTIVE_FUZZ_SEEDS
// (tools/fuzz points it at tests/data/checkpoints/*/).
std::vector<std::string> read_seeds() {
  std::vector<std::string> seeds;
  const char* list = std::getenv("ADAPTIVE_FUZZ_SEEDS");  // files separated by ':'
  std::string paths = list ? list : "";
  for (size_t start = 0; start < paths.size();) {
    const size_t end = std::min(paths.find(':', start), paths.size());
    std::ifstream file(paths.substr(start, end - start), std::ios::binary);
    if (file) seeds.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    start = end + 1;
  }
  std::fprintf(stderr, "load_fuzzer: %zu seed checkpoints\n", seeds.size());
  return seeds;
}

// Raw bytes reach LibTorch's zip and pickle readers, which are not
// adaptive's code: a mutated length there makes LibTorch reserve gigabytes
// (out of memory within a minute, found by this target). Opt-in.
const bool kRaw = std::getenv("ADAPTIVE_FUZZ_RAW") != nullptr;

// What a load must not accept (CheckpointIO::check_loaded_state): a step
// count that is negative or cannot advance, or a state past its first step
// without the moments every step makes (a restart from zero under a late
// step's bias corrections).
void check_accepted_state(torch::optim::Optimizer& opt) {
  for (auto& group : opt.param_groups()) {
    for (const auto& param : group.params()) {
      const auto found = opt.state().find(adaptive::state_key(param));
      if (found == opt.state().end()) continue;
      adaptive_test::for_each_optimizer([&](auto registered) {
        using Opt = typename decltype(registered)::Optimizer;
        const auto* state = dynamic_cast<const typename Opt::State*>(found->second.get());
        const auto* options = dynamic_cast<const typename Opt::Options*>(&group.options());
        if (state == nullptr || options == nullptr) return;
        int64_t step = 1;  // a state without a count (SGD's) is checked as past its first step
        if constexpr (requires { state->step(); }) step = state->step();
        if (step < 0 || step == std::numeric_limits<int64_t>::max()) {
          finding("a load accepted a step count that is negative or cannot advance");
        }
        // Complete: every state tensor its options make at the first step is there.
        // (Every tensor field: whole-tensor optimizers, Adafactor's, have no state_tensors.)
        typename Opt::State made = *state;
        Opt::init_state(made, param, *options);
        bool complete = true;
        adaptive::detail::for_each_field<typename Opt::State>([&](const auto& field) {
          if constexpr (std::is_same_v<std::decay_t<decltype(made.*(field.member))>, torch::Tensor>) {
            complete = complete && ((state->*(field.member)).defined() || !(made.*(field.member)).defined());
          }
        });
        if (step > 0 && !complete) finding("a load accepted a state past its first step without its moments");
      });
    }
  }
}

// How the loads ended, printed at exit (tools/fuzz reports it).
struct Tally {
  long refused = 0, accepted = 0, step_refused = 0;
  ~Tally() {
    std::fprintf(stderr, "load_fuzzer: %ld loads refused (optimizer unchanged), %ld accepted (%ld next steps refused)\n",
                 refused, accepted, step_refused);
  }
} tally;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> seeds = read_seeds();
  if (size == 0) return 0;
  auto params = make_params();
  std::string bytes;
  if (kRaw && data[0] % 2 == 0) {
    bytes.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    FuzzedDataProvider in(data + 1, size - 1);
    try {
      bytes = recipe_archive(in, params, seeds);
    } catch (const std::exception&) {
      return 0;  // a recipe the harness cannot write (e.g. 1e308 into an int64 tensor): not a test
    }
  }
  auto all = make_all(params);
  for (size_t which = 0; which < all.size(); ++which) {
    auto& opt = all[which].opt;
    for (auto& p : params) p.mutable_grad() = torch::sin(p.detach() * 3 + static_cast<double>(which));
    all[which].prepare(params);
    opt->step();  // state to keep (or lose)
    const std::string before = saved(*opt);
    bool loaded = false;
    try {
      torch::serialize::InputArchive archive;
      archive.load_from(bytes.data(), bytes.size());
      opt->load(archive);
      loaded = true;
    } catch (const std::exception& e) {
      if (std::getenv("ADAPTIVE_FUZZ_VERBOSE")) std::fprintf(stderr, "refused: %.200s\n", e.what());
    }
    if (!loaded) {
      ++tally.refused;
      if (saved(*opt) != before) finding("a load that threw changed the optimizer");
      continue;
    }
    ++tally.accepted;
    check_accepted_state(*opt);
    try {
      opt->step();
    } catch (const std::exception&) {
      ++tally.step_refused;
    }
    (void)saved(*opt);
  }
  return 0;
}
