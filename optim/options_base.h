#pragma once
// What every adaptive options and state struct has, written once: saving,
// loading and equality from its fields() list (fields.h), and, for options,
// get_lr/set_lr (schedulers) from its lr option.

#include "optim/fields.h"

#include <torch/optim/optimizer.h>

namespace adaptive {

/// Base of every adaptive *Options struct (CRTP: `Derived` has TORCH_ARG lr
/// and a static fields() list).
template <class Derived>
struct OptionsBase : public torch::optim::OptimizerCloneableOptions<Derived> {
  /// Reads every field in fields() from `archive` (keys as torch::optim's).
  void serialize(torch::serialize::InputArchive& archive) override {
    detail::read_fields(static_cast<Derived&>(*this), archive);
  }
  /// Writes every field in fields().
  void serialize(torch::serialize::OutputArchive& archive) const override {
    detail::write_fields(static_cast<const Derived&>(*this), archive);
  }
  /// The learning rate (for torch::optim's schedulers).
  double get_lr() const override { return static_cast<const Derived&>(*this).lr(); }
  /// Sets the learning rate (for torch::optim's schedulers).
  void set_lr(const double lr) override { static_cast<Derived&>(*this).lr(lr); }
  /// Every option equal.
  friend bool operator==(const Derived& lhs, const Derived& rhs) { return detail::fields_equal(lhs, rhs); }
};

/// Base of every adaptive *ParamState struct (CRTP: `Derived` has a static
/// fields() list).
template <class Derived>
struct ParamStateBase : public torch::optim::OptimizerCloneableParamState<Derived> {
  /// Reads every field in fields() from `archive`.
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

}  // namespace adaptive
