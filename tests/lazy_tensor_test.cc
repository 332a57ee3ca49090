// ew::LazyTensor (optim/rules/lazy_tensor.h), the tensor type the reference
// driver runs rules on: `x = f(x, …)` writes x in place with the ATen op
// itself; everything else computes a new tensor; nothing it must not write is
// written; and a value read before its tensor was written is not used stale.

#include "optim/rules/elementwise.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

using adaptive::ew::LazyTensor;
namespace ew = adaptive::ew;

torch::Tensor values() { return torch::arange(1.0, 7.0, torch::kFloat64); }

TEST(LazyTensor, AssignmentToItselfRunsInPlaceWithTheSameOps) {
  const torch::Tensor storage = values(), grad = values() * 0.5;
  const void* data = storage.data_ptr();
  LazyTensor x = LazyTensor::target(storage);
  const LazyTensor g = LazyTensor::read_only(grad);
  x = ew::axpy(x * 0.9, 0.1, g);  // Adam's first moment
  EXPECT_EQ(storage.data_ptr(), data);
  EXPECT_TRUE(torch::equal(storage, at::add(values() * 0.9, grad, 0.1)));  // the out-of-place ops' bits
  EXPECT_TRUE(torch::equal(grad, values() * 0.5)) << "the gradient was written";
}

TEST(LazyTensor, OtherUsesComputeANewTensorAndLeaveTheirInputs) {
  const torch::Tensor storage = values();
  LazyTensor x = LazyTensor::target(storage);
  const LazyTensor denom = ew::sqrt(x) + 1e-8;  // pending until used
  EXPECT_TRUE(torch::equal(denom.tensor(), at::sqrt(values()) + 1e-8));
  EXPECT_FALSE(denom.tensor().is_same(storage));
  EXPECT_TRUE(torch::equal(storage, values()));
  // A read-only value assigned an expression of itself is replaced, not written.
  const torch::Tensor grad = values();
  LazyTensor g = LazyTensor::read_only(grad);
  g = g * 2.0;
  EXPECT_TRUE(torch::equal(grad, values()));
  EXPECT_TRUE(torch::equal(g.tensor(), values() * 2.0));
  // A target assigned another value keeps its storage and copies it in.
  const void* data = storage.data_ptr();
  x = g;
  EXPECT_EQ(storage.data_ptr(), data);
  EXPECT_TRUE(torch::equal(storage, values() * 2.0));
}

TEST(LazyTensor, ACopySharesAndNeitherWritesTheOther) {
  const torch::Tensor storage = values();
  LazyTensor owned = ew::sqrt(LazyTensor::read_only(storage));  // a result of this step: owned
  const torch::Tensor before = owned.tensor().clone();
  const LazyTensor copy = owned;
  owned = owned * 3.0;  // shared now: replaced, the copy keeps its value
  EXPECT_TRUE(torch::equal(copy.tensor(), before));
  EXPECT_TRUE(torch::equal(owned.tensor(), before * 3.0));
}

TEST(LazyTensor, AValueReadBeforeItsTargetWasWrittenIsNotUsedStale) {
  const torch::Tensor storage = values();
  LazyTensor x = LazyTensor::target(storage);
  const LazyTensor old = x * 1.0;  // pending: reads x later
  x = x * 2.0;                     // x written in place
  EXPECT_THROW(old.tensor(), c10::Error);
}

}  // namespace
