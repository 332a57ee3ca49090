// ew::LazyTensor (optim/kernels/lazy_tensor.h), the tensor type the reference
// driver runs rules on: `x = f(x, …)` writes x in place with the ATen op
// itself; everything else computes a new tensor; nothing it must not write is
// written; and a value read before its tensor was written is not used stale.

#include "optim/core/dtype_support.h"
#include "optim/rules/elementwise.h"

#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <cmath>

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

// The ops with a number operand hand it to ATen as a 0-dim tensor of x's dtype
// where that is cheaper (CPU float and double): the bits must be those of
// ATen's number overloads, which the built-ins call, in every dtype, for
// values of every magnitude, in place and not.
TEST(LazyTensor, NumberOperandsGiveTheNumberOverloadsBits) {
  torch::manual_seed(0);
  std::vector<torch::Dtype> types = {torch::kFloat32, torch::kFloat64, torch::kBFloat16};
  if (adaptive::kernels::unsupported_reason(torch::kFloat16, torch::kCPU).empty()) types.push_back(torch::kFloat16);
  const auto same = [](const torch::Tensor& a, const torch::Tensor& b) {
    return a.scalar_type() == b.scalar_type() && torch::equal(a.isnan(), b.isnan()) &&
           torch::equal(a.nan_to_num(0, 0, 0), b.nan_to_num(0, 0, 0));
  };
  for (const torch::Dtype type : types) {
    for (int trial = 0; trial < 60; ++trial) {
      const torch::Tensor x = (torch::randn({1031}, torch::kFloat64) * std::pow(10.0, trial % 9 - 4)).to(type);
      // β-like numbers near 1 and random ones over many magnitudes.
      const double a = trial % 3 == 0 ? 1.0 - std::pow(10.0, -(trial % 7) - 1)
                                      : torch::randn({}, torch::kFloat64).item<double>() * std::pow(10.0, trial % 7 - 3);
      SCOPED_TRACE(testing::Message() << type << ", a = " << a);
      const auto div = adaptive::ew::Divisor<double>::of(a);
      // Out of place: the value is a read-only tensor, so each op computes a new one.
      const LazyTensor in = LazyTensor::read_only(x);
      EXPECT_TRUE(same((in * a).tensor(), at::mul(x, a)));
      EXPECT_TRUE(same((in + a).tensor(), at::add(x, a)));
      EXPECT_TRUE(same(ew::div(in, div).tensor(), at::div(x, a)));
      // In place: x = x ∘ a on a target.
      const torch::Tensor m = x.clone(), s = x.clone(), d = x.clone();
      LazyTensor tm = LazyTensor::target(m), ts = LazyTensor::target(s), td = LazyTensor::target(d);
      tm = tm * a;
      ts = ts + a;
      td = ew::div(td, div);
      EXPECT_TRUE(same(m, x.clone().mul_(a)));
      EXPECT_TRUE(same(s, x.clone().add_(a)));
      EXPECT_TRUE(same(d, x.clone().div_(a)));
    }
  }
}

// With a step's scratch, a value computed out of place takes a free scratch
// tensor of its layout instead of a new one: the same bits as without it, on
// every layout; storage reused once the value is gone, never while it lives.
TEST(LazyTensor, ScratchTemporariesAreReusedWithTheSameBits) {
  torch::manual_seed(1);
  const std::vector<torch::Tensor> layouts = {
      torch::rand({6, 10}, torch::kFloat32),                                                      // contiguous
      torch::rand({2, 3, 4, 5}, torch::kFloat32).contiguous(torch::MemoryFormat::ChannelsLast),  // channels-last
      torch::rand({10, 6}, torch::kFloat64).t(),                                                  // transposed
      torch::rand({6, 20}, torch::kFloat32).slice(1, 0, 20, 2),                                   // gaps: no scratch
      torch::rand({6, 10}, torch::kBFloat16)};
  adaptive::ew::lazy::Scratch scratch;
  for (const torch::Tensor& x : layouts) {
    SCOPED_TRACE(testing::Message() << x.scalar_type() << " " << x.sizes() << " strides " << x.strides());
    const torch::Tensor g = torch::rand_like(x);
    const auto compute = [&](adaptive::ew::lazy::Scratch* s) {
      const LazyTensor v = LazyTensor::target(x, s), grad = LazyTensor::read_only(g, s);
      return std::vector<torch::Tensor>{(ew::sqrt(v) + 1e-3).tensor(), ew::addcmul(v, 0.5, grad, grad).tensor(),
                                        ew::axpy(v, 0.1, grad).tensor(), (v * 0.9).tensor(),
                                        ew::div(v, adaptive::ew::Divisor<double>::of(3.0)).tensor()};
    };
    const auto plain = compute(nullptr), reused = compute(&scratch);
    for (size_t i = 0; i < plain.size(); ++i) {
      EXPECT_TRUE(torch::equal(plain[i], reused[i])) << "op " << i;
      EXPECT_EQ(plain[i].strides(), reused[i].strides()) << "op " << i;
    }
  }
  // Reuse: a dead value's storage is taken again; a live value's is not.
  const torch::Tensor x = torch::rand({100});
  const LazyTensor v = LazyTensor::target(x, &scratch);
  const void* first = nullptr;
  const void* second = nullptr;
  {
    const LazyTensor a = ew::sqrt(v);
    const LazyTensor b = ew::sqrt(v);
    first = a.tensor().data_ptr();
    second = b.tensor().data_ptr();
    EXPECT_NE(second, first) << "a live value's storage was handed out again";
  }
  const LazyTensor c = ew::sqrt(v);  // a and b are gone: their storage is free
  EXPECT_TRUE(c.tensor().data_ptr() == first || c.tensor().data_ptr() == second);
  const LazyTensor d = ew::sqrt(v);
  EXPECT_NE(c.tensor().data_ptr(), d.tensor().data_ptr());
  EXPECT_TRUE(torch::equal(c.tensor(), at::sqrt(x)));
  EXPECT_TRUE(torch::equal(d.tensor(), at::sqrt(x)));
}

// A step's scratch makes each number operand once per value and dtype (the
// parameters of a group share them): the same tensor again for the same bits,
// another for another dtype or other bits (-0.0 is not 0.0), the number's value
// in every case, also past the cache's size; and none where ATen must take the
// number itself (bfloat16).
TEST(LazyTensor, ScratchNumbersAreMadeOncePerValueAndDtype) {
  adaptive::ew::lazy::Scratch scratch;
  const torch::Tensor f = torch::zeros({3}, torch::kFloat32), d = torch::zeros({3}, torch::kFloat64);
  const torch::Tensor beta = scratch.number(f, 0.9);
  ASSERT_TRUE(beta.defined());
  EXPECT_TRUE(scratch.number(f, 0.9).is_same(beta));
  EXPECT_TRUE(torch::equal(beta, ew::lazy::number_operand(f, 0.9)));
  const torch::Tensor beta64 = scratch.number(d, 0.9);
  EXPECT_FALSE(beta64.is_same(beta));
  EXPECT_EQ(beta64.scalar_type(), torch::kFloat64);
  EXPECT_EQ(beta64.item<double>(), 0.9);
  EXPECT_FALSE(scratch.number(d, std::nextafter(0.9, 1.0)).is_same(beta64));
  const torch::Tensor zero = scratch.number(d, 0.0), minus_zero = scratch.number(d, -0.0);
  EXPECT_FALSE(zero.is_same(minus_zero));
  EXPECT_TRUE(std::signbit(minus_zero.item<double>()));
  for (int i = 0; i < 40; ++i) EXPECT_EQ(scratch.number(d, i + 0.5).item<double>(), i + 0.5) << i;
  EXPECT_TRUE(scratch.number(d, 0.9).is_same(beta64)) << "a cached number was replaced";
  EXPECT_FALSE(scratch.number(torch::zeros({3}, torch::kBFloat16), 0.9).defined());
}

}  // namespace
