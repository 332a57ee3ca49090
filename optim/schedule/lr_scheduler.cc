#include "optim/schedule/lr_scheduler.h"

#include <c10/util/irange.h>

#include <algorithm>
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

std::vector<double> LRScheduler::group_lrs() const { return detail::group_lrs(optimizer_); }

std::vector<double> LRScheduler::get_lrs() {
  TORCH_CHECK(optimizer_.param_groups().size() == base_lrs_.size(), name(), ": the optimizer has ",
              optimizer_.param_groups().size(), " parameter groups, the scheduler was made for ", base_lrs_.size(),
              " (a group added after the scheduler has no base learning rate)");
  // Python's order: _step_count, then last_epoch, then get_lr().
  const int64_t epoch = last_epoch_, count = step_count_python_;
  if (counts_steps()) ++step_count_python_;
  ++last_epoch_;
  std::vector<double> values;
  try {
    advance();
    values = get_lr();
  } catch (...) {
    last_epoch_ = epoch;  // get_lr() checks before it changes anything
    step_count_python_ = count;
    throw;
  }
  last_lr_ = values;
  return values;
}

void LRScheduler::update_lr(int64_t epoch) {
  const int64_t before = last_epoch_;
  last_epoch_ = epoch;
  std::vector<double> values;
  try {
    auto closed = closed_form_lr();
    values = closed ? std::move(*closed) : get_lr();
  } catch (...) {
    last_epoch_ = before;
    throw;
  }
  detail::set_group_lrs(optimizer_, values);
  last_lr_ = std::move(values);
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
  stage_load(archive);
  commit_load();
}

void LRScheduler::stage_load(torch::serialize::InputArchive& archive) {
  detail::check_scheduler_kind(archive, name());
  Staged staged;
  staged.base_lrs = detail::read_doubles(archive, name(), "base_lrs");
  staged.last_lr = detail::read_doubles(archive, name(), "_last_lr");
  staged.last_epoch = detail::read_int(archive, name(), "last_epoch");
  staged.step_count = detail::read_int(archive, name(), "_step_count");
  const size_t groups = optimizer_.param_groups().size();
  TORCH_CHECK(staged.base_lrs.size() == groups && staged.last_lr.size() == groups, name(), "::load: the state is for ",
              staged.base_lrs.size(), " parameter groups, this optimizer has ", groups);
  TORCH_CHECK(staged.last_epoch >= -1 && staged.step_count >= 0, name(), "::load: last_epoch ", staged.last_epoch,
              " and _step_count ", staged.step_count,
              " are no state a scheduler reaches (last_epoch ≥ -1, _step_count ≥ 0)");
  read_own(archive);  // staged and checked; throws before anything changed
  staged_ = std::move(staged);
}

void LRScheduler::commit_load() {
  TORCH_INTERNAL_ASSERT(staged_.has_value(), name(), "::commit_load without stage_load");
  base_lrs_ = std::move(staged_->base_lrs);
  last_lr_ = std::move(staged_->last_lr);
  last_epoch_ = staged_->last_epoch;
  step_count_python_ = staged_->step_count;
  staged_.reset();
  commit_own();
  // The groups continue from the saved rates: LibTorch's built-in optimizers
  // do not restore their options on load (Python's do), and every chainable
  // step reads the current rates.
  detail::set_group_lrs(optimizer_, last_lr_);
}

namespace detail {

torch::optim::Optimizer& overwrite_initial_lrs(torch::optim::Optimizer& optimizer, const std::vector<double>& lrs) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[&optimizer].lrs = lrs;  // a new entry counts no scheduler until the constructor's
  return optimizer;
}

torch::optim::Optimizer& set_group_lrs(torch::optim::Optimizer& optimizer, const std::vector<double>& lrs) {
  auto& groups = optimizer.param_groups();
  for (const auto gi : c10::irange(std::min(groups.size(), lrs.size()))) groups[gi].options().set_lr(lrs[gi]);
  return optimizer;
}

std::vector<double> group_lrs(const torch::optim::Optimizer& optimizer) {
  std::vector<double> lrs;
  for (const auto& group : optimizer.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

std::vector<double> per_group(const char* scheduler, const char* name, const std::vector<double>& values, size_t groups) {
  TORCH_CHECK(values.size() == 1 || values.size() == groups, scheduler, ": ", name, " has ", values.size(),
              " values; give one, or one per parameter group (", groups, ")");
  return values.size() == groups ? values : std::vector<double>(groups, values.front());
}

void check_scheduler_kind(torch::serialize::InputArchive& archive, const char* scheduler) {
  c10::IValue kind;
  TORCH_CHECK(archive.try_read("scheduler", kind) && kind.isString(), scheduler,
              "::load: the archive holds no scheduler's state (no 'scheduler' key)");
  TORCH_CHECK(kind.toStringRef() == scheduler, scheduler, "::load: the archive holds a ", kind.toStringRef(),
              "'s state, not a ", scheduler, "'s");
}

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
