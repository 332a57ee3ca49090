#pragma once
// What every adaptive options and state struct has, written once: saving,
// loading and equality from its fields() list (fields.h), and, for options,
// get_lr/set_lr (schedulers) from its lr option.

#include "optim/core/fields.h"

#include <torch/optim/optimizer.h>

namespace adaptive {

/// Save, load and == of `Derived` (which has a static fields() list), on top
/// of LibTorch's `Base` (OptimizerCloneableOptions or ...ParamState).
template <class Derived, class Base>
struct FieldsBase : public Base {
  /// Reads every field in fields() from `archive` (keys as torch::optim's).
  void serialize(torch::serialize::InputArchive& archive) override {
    detail::read_fields(static_cast<Derived&>(*this), archive);
  }
  /// Writes every field in fields().
  void serialize(torch::serialize::OutputArchive& archive) const override {
    detail::write_fields(static_cast<const Derived&>(*this), archive);
  }
  /// Every field equal (tensors by value).
  friend bool operator==(const Derived& lhs, const Derived& rhs) { return detail::fields_equal(lhs, rhs); }
};

/// Base of every adaptive *Options struct (CRTP: `Derived` has TORCH_ARG lr).
template <class Derived>
struct OptionsBase : public FieldsBase<Derived, torch::optim::OptimizerCloneableOptions<Derived>> {
  /// The learning rate (for torch::optim's schedulers).
  double get_lr() const override { return static_cast<const Derived&>(*this).lr(); }
  /// Sets the learning rate (for torch::optim's schedulers).
  void set_lr(const double lr) override { static_cast<Derived&>(*this).lr(lr); }
};

/// Base of every adaptive *ParamState struct.
template <class Derived>
using ParamStateBase = FieldsBase<Derived, torch::optim::OptimizerCloneableParamState<Derived>>;

}  // namespace adaptive
