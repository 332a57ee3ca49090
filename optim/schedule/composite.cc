#include "optim/schedule/composite.h"

#include <c10/util/irange.h>

#include <algorithm>
#include <string>

namespace adaptive {
namespace {

// The children: at least one, none null, all of `optimizer`.
void check_children(const char* composite, const torch::optim::Optimizer& optimizer,
                    const std::vector<std::shared_ptr<LRScheduler>>& children) {
  TORCH_CHECK(!children.empty(), composite, ": schedulers is empty; it needs at least one scheduler");
  for (const auto i : c10::irange(children.size())) {
    TORCH_CHECK(children[i] != nullptr, composite, ": scheduler ", i, " is null");
    TORCH_CHECK(children[i]->belongs_to(optimizer), composite, ": scheduler ", i, " (", children[i]->name(),
                ") belongs to another optimizer than this one");
  }
}

const SequentialLROptions& checked(const SequentialLROptions& o) {
  TORCH_CHECK(o.milestones().size() + 1 == o.schedulers().size(), "SequentialLR: ", o.schedulers().size(),
              " schedulers need ", o.schedulers().size() - 1, " milestones, got ", o.milestones().size());
  const auto& m = o.milestones();
  for (const auto i : c10::irange(m.size())) {
    TORCH_CHECK(m[i] >= 1, "SequentialLR: milestone ", i, " is ", m[i], "; milestones must be at least 1");
    TORCH_CHECK(i == 0 || m[i] > m[i - 1], "SequentialLR: milestones must be increasing; milestone ", i, " is ", m[i],
                " after ", m[i - 1]);
  }
  return o;
}

// Children's states in a nested archive "_schedulers", keyed "0", "1", ...
void save_children(torch::serialize::OutputArchive& archive, const std::vector<std::shared_ptr<LRScheduler>>& children) {
  torch::serialize::OutputArchive nested;
  for (const auto i : c10::irange(children.size())) {
    torch::serialize::OutputArchive child;
    children[i]->save(child);
    nested.write(std::to_string(i), child);
  }
  archive.write("_schedulers", nested);
}

// Stages every child's state from the nested archive (LRScheduler::stage_load).
void stage_children(const char* composite, torch::serialize::InputArchive& archive,
                    const std::vector<std::shared_ptr<LRScheduler>>& children) {
  torch::serialize::InputArchive nested;
  TORCH_CHECK(archive.try_read("_schedulers", nested), composite, "::load: the archive has no '_schedulers'");
  for (const auto i : c10::irange(children.size())) {
    torch::serialize::InputArchive child;
    TORCH_CHECK(nested.try_read(std::to_string(i), child), composite, "::load: the archive holds no state of scheduler ",
                i, " (of ", children.size(), ")");
    children[i]->stage_load(child);
  }
}

}  // namespace

// ---- CompositeScheduler

CompositeScheduler::CompositeScheduler(torch::optim::Optimizer& optimizer,
                                       std::vector<std::shared_ptr<LRScheduler>> children, const char* composite)
    : LRScheduler(optimizer), children_(std::move(children)) {
  check_children(composite, optimizer, children_);
}

void CompositeScheduler::undo_epoch() {
  for (const auto& child : children_) child->undo_epoch();
}

void CompositeScheduler::save_own(torch::serialize::OutputArchive& archive) const {
  save_children(archive, children_);
}

void CompositeScheduler::read_own(torch::serialize::InputArchive& archive) {
  stage_children(name(), archive, children_);
}

void CompositeScheduler::commit_own() {
  for (const auto& child : children_) child->commit_load();
}

// ---- SequentialLR

SequentialLR::SequentialLR(torch::optim::Optimizer& optimizer, SequentialLROptions options)
    : CompositeScheduler(optimizer, options.schedulers(), "SequentialLR"), options_(checked(options)) {
  // Python: every group back to its initial rate, every child's initial step
  // undone, then the initial step of the child of step 0 only.
  detail::set_group_lrs(optimizer, base_lrs());
  undo_epoch();
  const auto& m = options_.milestones();
  const auto first = static_cast<size_t>(std::upper_bound(m.begin(), m.end(), 0) - m.begin());
  options_.schedulers()[first]->initial_step();
  set_progress(0, options_.schedulers()[first]->get_last_lr());
}

std::vector<double> SequentialLR::get_lr() {
  const auto& m = options_.milestones();
  const auto idx = static_cast<size_t>(std::upper_bound(m.begin(), m.end(), last_epoch()) - m.begin());
  LRScheduler& child = *options_.schedulers()[idx];
  if (idx > 0 && m[idx - 1] == last_epoch()) {
    child.update_lr(0);
  } else {
    child.step();
  }
  return child.get_last_lr();
}

void SequentialLR::save_own(torch::serialize::OutputArchive& archive) const {
  archive.write("_milestones", c10::IValue(options_.milestones()));
  CompositeScheduler::save_own(archive);
}

void SequentialLR::read_own(torch::serialize::InputArchive& archive) {
  c10::IValue milestones;
  TORCH_CHECK(archive.try_read("_milestones", milestones) && milestones.isIntList(), name(),
              "::load: the archive has no '_milestones' list");
  TORCH_CHECK(milestones.toIntVector() == options_.milestones(), name(),
              "::load: the state's milestones differ from this scheduler's");
  CompositeScheduler::read_own(archive);
}

// ---- ChainedScheduler

ChainedScheduler::ChainedScheduler(torch::optim::Optimizer& optimizer, ChainedSchedulerOptions options)
    : CompositeScheduler(optimizer, options.schedulers(), "ChainedScheduler"), options_(std::move(options)) {
  set_progress(0, group_lrs());
}

std::vector<double> ChainedScheduler::get_lr() {
  for (const auto& child : options_.schedulers()) child->step();
  return group_lrs();
}

}  // namespace adaptive
