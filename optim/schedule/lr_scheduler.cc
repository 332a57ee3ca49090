#include "optim/schedule/lr_scheduler.h"

#include <c10/util/irange.h>

#include <mutex>
#include <unordered_map>

namespace adaptive {
namespace {

// Python keeps each group's first lr as group["initial_lr"], set by the
// first scheduler made on the optimizer (setdefault) and read by every later
// one as its base_lrs (SequentialLR's children rely on it). LibTorch's
// options have no such slot: this registry holds it per optimizer while any
// scheduler of that optimizer lives (a scheduler must not outlive its
// optimizer, so an entry never outlives it either).
struct InitialLrs {
  std::vector<double> lrs;
  int schedulers = 0;
};
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_map<const torch::optim::Optimizer*, InitialLrs>& registry() {
  static std::unordered_map<const torch::optim::Optimizer*, InitialLrs> r;
  return r;
}

}  // namespace

LRScheduler::LRScheduler(torch::optim::Optimizer& optimizer)
    : torch::optim::LRScheduler(optimizer), optimizer_(optimizer) {
  TORCH_CHECK(!optimizer.param_groups().empty(), "LRScheduler: the optimizer has no parameter groups");
  std::lock_guard<std::mutex> lock(registry_mutex());
  InitialLrs& entry = registry()[&optimizer];
  ++entry.schedulers;
  const auto& groups = optimizer.param_groups();
  for (size_t gi = entry.lrs.size(); gi < groups.size(); ++gi) entry.lrs.push_back(groups[gi].options().get_lr());
  base_lrs_.assign(entry.lrs.begin(), entry.lrs.begin() + static_cast<std::ptrdiff_t>(groups.size()));
}

LRScheduler::~LRScheduler() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  const auto it = registry().find(&optimizer_);
  if (it != registry().end() && --it->second.schedulers == 0) registry().erase(it);
}

void LRScheduler::initial_step() {
  step_count_python_ = 0;
  initial_ = true;
  try {
    step();
  } catch (...) {
    initial_ = false;
    throw;
  }
  initial_ = false;
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> lrs;
  for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

std::vector<double> LRScheduler::get_lrs() {
  TORCH_CHECK(optimizer_.param_groups().size() == base_lrs_.size(), name(), ": the optimizer has ",
              optimizer_.param_groups().size(), " parameter groups, the scheduler was made for ", base_lrs_.size(),
              " (a group added after the scheduler has no base learning rate)");
  ++last_epoch_;
  std::vector<double> values;
  try {
    values = get_lr();
  } catch (...) {
    --last_epoch_;  // nothing changed
    throw;
  }
  ++step_count_python_;
  last_lr_ = values;
  return values;
}

void LRScheduler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("scheduler", c10::IValue(std::string(name())));
  archive.write("base_lrs", c10::IValue(base_lrs_));
  archive.write("last_epoch", c10::IValue(last_epoch_));
  archive.write("_step_count", c10::IValue(step_count_python_));
  archive.write("_last_lr", c10::IValue(last_lr_));
  save_own(archive);
}

void LRScheduler::load(torch::serialize::InputArchive& archive) {
  c10::IValue kind;
  TORCH_CHECK(archive.try_read("scheduler", kind) && kind.isString(), name(),
              "::load: the archive holds no scheduler's state (no 'scheduler' key)");
  TORCH_CHECK(kind.toStringRef() == name(), name(), "::load: the archive holds a ", kind.toStringRef(),
              "'s state, not a ", name(), "'s");
  const std::vector<double> base = detail::read_doubles(archive, name(), "base_lrs");
  const std::vector<double> last = detail::read_doubles(archive, name(), "_last_lr");
  const int64_t epoch = detail::read_int(archive, name(), "last_epoch");
  const int64_t count = detail::read_int(archive, name(), "_step_count");
  const size_t groups = optimizer_.param_groups().size();
  TORCH_CHECK(base.size() == groups && last.size() == groups, name(), "::load: the state is for ", base.size(),
              " parameter groups, this optimizer has ", groups);
  TORCH_CHECK(epoch >= 0 && count >= 1, name(), "::load: last_epoch ", epoch, " and _step_count ", count,
              " are no state a scheduler reaches (last_epoch ≥ 0, _step_count ≥ 1 after construction)");
  read_own(archive);  // staged and checked; throws before anything changed
  base_lrs_ = base;
  last_lr_ = last;
  last_epoch_ = epoch;
  step_count_python_ = count;
  commit_own();
  // The groups continue from the saved rates: LibTorch's built-in optimizers
  // do not restore their options on load (Python's do), and every chainable
  // step reads the current rates.
  for (const auto gi : c10::irange(groups)) optimizer_.param_groups()[gi].options().set_lr(last_lr_[gi]);
}

namespace detail {

namespace {
c10::IValue read_key(torch::serialize::InputArchive& archive, const char* scheduler, const char* key) {
  c10::IValue value;
  TORCH_CHECK(archive.try_read(key, value), scheduler, "::load: the archive has no '", key, "'");
  return value;
}
}  // namespace

double read_double(torch::serialize::InputArchive& archive, const char* scheduler, const char* key) {
  const c10::IValue v = read_key(archive, scheduler, key);
  TORCH_CHECK(v.isDouble() || v.isInt(), scheduler, "::load: '", key, "' is a ", v.tagKind(), ", not a number");
  return v.isDouble() ? v.toDouble() : static_cast<double>(v.toInt());
}

int64_t read_int(torch::serialize::InputArchive& archive, const char* scheduler, const char* key) {
  const c10::IValue v = read_key(archive, scheduler, key);
  TORCH_CHECK(v.isInt(), scheduler, "::load: '", key, "' is a ", v.tagKind(), ", not an int");
  return v.toInt();
}

std::vector<double> read_doubles(torch::serialize::InputArchive& archive, const char* scheduler, const char* key) {
  const c10::IValue v = read_key(archive, scheduler, key);
  TORCH_CHECK(v.isDoubleList(), scheduler, "::load: '", key, "' is a ", v.tagKind(), ", not a list of floats");
  return v.toDoubleVector();
}

}  // namespace detail

torch::serialize::OutputArchive& operator<<(torch::serialize::OutputArchive& archive, const LRScheduler& scheduler) {
  scheduler.save(archive);
  return archive;
}

torch::serialize::InputArchive& operator>>(torch::serialize::InputArchive& archive, LRScheduler& scheduler) {
  scheduler.load(archive);
  return archive;
}

}  // namespace adaptive
