#pragma once
// The tensor type the reference driver runs a rule on: it makes the rule's
// assignments `x = f(x, …)` run in place, with the same ATen ops, so that the
// tensor-op path allocates and copies what the built-ins do, not more.
//
// A rule written for values, e.g. Adam's
//   exp_avg = ew::axpy(exp_avg * s.beta1, s.one_minus_beta1, g);
// would, on plain at::Tensor, allocate `exp_avg * β1`, allocate the sum and
// copy it back into the state. Here an op whose first operand is a named
// tensor is not run at once: it returns a pending value, "x followed by these
// ops", and each further op on that temporary is appended. Assigned back to x
// itself, the ops run in place on x (exp_avg.mul_(β1).add_(g, 1 − β1), what
// torch::optim::Adam runs); used any other way, the pending value is
// materialized: its first op out of place, the rest in place on that result.
// In-place and out-of-place ATen ops share their kernels, so the numbers do
// not change (tests/parity_builtin_test.cc holds this path to the built-ins
// bit for bit). An op on an unnamed result the rule owns runs in place at once.
//
// Roles: a target (a parameter or state tensor: updated in place), read-only
// (the gradient, a copy of another value: never written), owned (a result of
// this step: may be overwritten), pending (above). A pending value that lives
// in a named local (Adam's `denom`) is materialized when first used; every
// target it read is checked not to have changed in between (versions), so a
// rule that reorders its lines fails loudly instead of computing stale values.

#include "optim/rules/elementwise.h"

#include <ATen/ATen.h>
#include <ATen/ScalarOps.h>
#include <c10/util/SmallVector.h>

#include <cstring>
#include <utility>

namespace adaptive {
namespace ew {
namespace lazy {

/// The number `a` as the second operand of an op on x, or undefined where the
/// op must take the number itself. ATen's number overloads (x.mul_(0.9)) wrap
/// it in a double tensor that TensorIterator, on CPU, converts to x's dtype
/// with a dispatched .to(): four more ops, about 0.9 µs here, more than
/// multiplying 500 floats. For CPU float and double tensors we hand the kernel
/// that converted number ourselves, a 0-dim tensor of x's dtype: the kernel
/// reads the same value, so the bits are the same (lazy_tensor_test checks
/// every op on both LibTorch versions). bfloat16 and float16 keep the number:
/// LibTorch 2.x's kernels read the unconverted double for them. So does CUDA,
/// which passes it to the kernel as an argument.
inline at::Tensor number_operand(const at::Tensor& x, double a) {
  const at::ScalarType type = x.scalar_type();
  if (!x.is_cpu() || (type != at::kFloat && type != at::kDouble)) return {};
  return at::detail::scalar_tensor_static(a, type, at::kCPU);
}

/// One element-wise ATen op with its other operands: x ∘ (a, b, c).
struct Op {
  enum Code { kMulScalar, kAddScalar, kDivScalar, kMul, kDiv, kAxpy, kAddcmul, kAddcdiv, kLerp, kSqrt, kReciprocal,
              kAbs, kMaximum, kClampAbs };
  Code code;
  double a = 0;
  at::Tensor b, c;  ///< tensor operands; for kMulScalar, kAddScalar, kDivScalar: b is `a` as a tensor, if defined

  /// The op's result as a new tensor (or x itself where the op is the identity).
  at::Tensor fresh(const at::Tensor& x) const {
    switch (code) {
      case kMulScalar: return b.defined() ? at::mul(x, b) : at::mul(x, a);
      case kAddScalar: return b.defined() ? at::add(x, b) : at::add(x, a);
      case kDivScalar: return b.defined() ? at::div(x, b) : at::div(x, a);
      case kMul: return at::mul(x, b);
      case kDiv: return at::div(x, b);
      case kAxpy: return at::add(x, b, a);
      case kAddcmul: return at::addcmul(x, b, c, a);
      case kAddcdiv: return at::addcdiv(x, b, c, a);
      case kLerp: return at::lerp(x, b, a);
      case kSqrt: return at::sqrt(x);
      case kReciprocal: return at::reciprocal(x);
      case kAbs: return at::abs(x);
      case kMaximum: return at::maximum(x, b);
      case kClampAbs: return ew::clamp_abs(x, a);
    }
    TORCH_INTERNAL_ASSERT(false, "unknown op");
  }
  /// Whether into() can compute the op for x: the op has an out= form, and
  /// its tensor operands are laid out as x, so that its result takes x's
  /// layout, as the out-of-place op's would (the same loop, the same bits).
  bool has_out_form(const at::Tensor& x) const {
    if (code == kClampAbs || ((code == kMulScalar || code == kAddScalar || code == kDivScalar) && !b.defined())) {
      return false;  // x itself at times; a number ATen must take as a number
    }
    const auto laid_out_as_x = [&](const at::Tensor& t) {
      return !t.defined() || t.dim() == 0 || (t.sizes() == x.sizes() && t.strides() == x.strides());
    };
    return laid_out_as_x(b) && laid_out_as_x(c);
  }
  /// The op's result written into `out`, a tensor laid out as x (has_out_form).
  void into(const at::Tensor& x, at::Tensor& out) const {
    switch (code) {
      case kMulScalar: case kMul: at::mul_out(out, x, b); return;
      case kAddScalar: at::add_out(out, x, b); return;
      case kDivScalar: case kDiv: at::div_out(out, x, b); return;
      case kAxpy: at::add_out(out, x, b, a); return;
      case kAddcmul: at::addcmul_out(out, x, b, c, a); return;
      case kAddcdiv: at::addcdiv_out(out, x, b, c, a); return;
      case kLerp: at::lerp_out(out, x, b, a); return;
      case kSqrt: at::sqrt_out(out, x); return;
      case kReciprocal: at::reciprocal_out(out, x); return;
      case kAbs: at::abs_out(out, x); return;
      case kMaximum: at::maximum_out(out, x, b); return;
      case kClampAbs: break;
    }
    TORCH_INTERNAL_ASSERT(false, "no out= form");
  }
  /// The same op, writing x.
  void in_place(at::Tensor& x) const {
    switch (code) {
      case kMulScalar: b.defined() ? x.mul_(b) : x.mul_(a); return;
      case kAddScalar: b.defined() ? x.add_(b) : x.add_(a); return;
      case kDivScalar: b.defined() ? x.div_(b) : x.div_(a); return;
      case kMul: x.mul_(b); return;
      case kDiv: x.div_(b); return;
      case kAxpy: x.add_(b, a); return;
      case kAddcmul: x.addcmul_(b, c, a); return;
      case kAddcdiv: x.addcdiv_(b, c, a); return;
      case kLerp: x.lerp_(b, a); return;
      case kSqrt: x.sqrt_(); return;
      case kReciprocal: x.reciprocal_(); return;
      case kAbs: x.abs_(); return;
      case kMaximum: at::maximum_out(x, x, b); return;
      case kClampAbs: {
        const at::Tensor r = ew::clamp_abs(x, a);  // x itself where the limit is beyond the dtype's range
        if (!r.is_same(x)) x.copy_(r);
        return;
      }
    }
    TORCH_INTERNAL_ASSERT(false, "unknown op");
  }
};

/// The temporaries of one step, reused from parameter to parameter. A rule's
/// temporary (Adam's denominator) is dead once its parameter is updated, so
/// the next parameter laid out the same way computes into its storage instead
/// of allocating: on many small tensors the allocation costs as much as the
/// op. It holds no more tensors than are alive at once (a free one of another
/// layout is replaced), and lives for one step().
class Scratch {
 public:
  /// number_operand(x, a), made once per step: a group's parameters share
  /// their numbers (β₁, the bias corrections, ε), and making the 0-dim tensor
  /// is an allocation, about as costly as an op on 500 elements. Never
  /// written (ops only read it), so sharing it changes no bits.
  at::Tensor number(const at::Tensor& x, double a) {
    const at::ScalarType type = x.scalar_type();
    for (const Number& n : numbers_) {
      if (n.type == type && n.device == x.device() && std::memcmp(&n.value, &a, sizeof a) == 0) return n.tensor;
    }
    at::Tensor t = number_operand(x, a);
    if (t.defined() && numbers_.size() < kMaxNumbers) numbers_.push_back({type, x.device(), a, t});
    return t;
  }

  /// A tensor no value uses, with x's sizes, strides and options; undefined
  /// where x is overlapping or has gaps (an op's result would not keep them).
  at::Tensor like(const at::Tensor& x) {
    if (!x.is_non_overlapping_and_dense()) return {};
    at::Tensor* free = nullptr;
    for (at::Tensor& t : tensors_) {
      if (t.use_count() != 1) continue;  // held by a value of this parameter's rule
      if (t.sizes() == x.sizes() && t.strides() == x.strides() && t.scalar_type() == x.scalar_type() &&
          t.device() == x.device()) {
        return t;
      }
      free = &t;
    }
    at::Tensor t = at::empty_strided(x.sizes(), x.strides(), x.options());
    if (free != nullptr) {
      *free = t;
    } else {
      tensors_.push_back(t);
    }
    return t;
  }

 private:
  struct Number {
    at::ScalarType type;
    at::Device device;
    double value;  ///< compared bit for bit (-0.0 is not 0.0)
    at::Tensor tensor;
  };
  static constexpr size_t kMaxNumbers = 16;  ///< more than any rule's numbers of two dtypes
  c10::SmallVector<at::Tensor, 4> tensors_;
  c10::SmallVector<Number, 8> numbers_;
};

}  // namespace lazy

/// A tensor inside a rule run by the reference driver (see the top of the file).
class LazyTensor {
 public:
  LazyTensor() = default;
  /// A parameter or state tensor: the rule's assignments to it write it in place.
  /// Values computed from it take their temporaries from `scratch`, if given.
  static LazyTensor target(const at::Tensor& t, lazy::Scratch* scratch = nullptr) {
    return LazyTensor(t, Role::kTarget, scratch);
  }
  /// A tensor the rule reads but must not write (the gradient).
  static LazyTensor read_only(const at::Tensor& t, lazy::Scratch* scratch = nullptr) {
    return LazyTensor(t, Role::kReadOnly, scratch);
  }
  /// A value already computed, which nothing else holds: later ops may write it in place.
  static LazyTensor computed(at::Tensor t) { return LazyTensor(std::move(t), Role::kOwned, nullptr); }

  /// A copy shares the tensor, so neither may write it afterwards.
  LazyTensor(const LazyTensor& other)
      : value_(other.tensor()), role_(Role::kReadOnly), origin_(other.origin()), scratch_(other.scratch_) {
    if (other.role_ == Role::kOwned) other.role_ = Role::kReadOnly;
  }
  LazyTensor(LazyTensor&& other) noexcept { take(std::move(other)); }
  LazyTensor& operator=(const LazyTensor& value) { return assign(LazyTensor(value)); }
  LazyTensor& operator=(LazyTensor&& value) { return assign(std::move(value)); }

  /// The value (a pending value is computed now, once).
  const at::Tensor& tensor() const {
    if (role_ == Role::kPending) materialize();
    return value_;
  }

  /// x ∘ (a, b, c) for a named x: pending.
  friend LazyTensor apply(const LazyTensor& x, lazy::Op::Code code, double a = 0, const LazyTensor* b = nullptr,
                          const LazyTensor* c = nullptr) {
    LazyTensor r;
    r.value_ = x.tensor();
    r.role_ = Role::kPending;
    r.base_ = &x;
    r.origin_ = x.origin();  // what it is, should its ops all be the identity
    r.scratch_ = x.scratch_;
    if (x.role_ == Role::kTarget || x.role_ == Role::kOwned) {
      r.reads_.push_back({&x, x.version_});
    } else if (x.origin_ != nullptr) {
      r.reads_.push_back({x.origin_, x.origin_->version_});
    }
    r.push(code, a, b, c);
    return r;
  }
  /// x ∘ (a, b, c) for a temporary x: appended if pending, in place if owned.
  friend LazyTensor apply(LazyTensor&& x, lazy::Op::Code code, double a = 0, const LazyTensor* b = nullptr,
                          const LazyTensor* c = nullptr) {
    if (x.role_ == Role::kPending) {
      x.push(code, a, b, c);
      return std::move(x);
    }
    if (x.role_ == Role::kOwned) {  // a result of this step that nothing else holds: written now
      x.push(code, a, b, c);
      x.ops_.back().in_place(x.value_);
      x.ops_.clear();
      x.reads_.clear();
      return std::move(x);
    }
    return apply(static_cast<const LazyTensor&>(x), code, a, b, c).materialized();
  }

 private:
  enum class Role { kEmpty, kTarget, kReadOnly, kOwned, kPending };
  struct Read {
    const LazyTensor* target;  ///< a parameter, state or owned tensor
    uint64_t version;          ///< its version when read
  };

  LazyTensor(const at::Tensor& t, Role role, lazy::Scratch* scratch) : value_(t), role_(role), scratch_(scratch) {}

  // The parameter or state tensor whose storage this one shares, if any.
  const LazyTensor* origin() const { return role_ == Role::kTarget ? this : origin_; }
  // Appends an op; its tensor operands are shared from now on: an owned one
  // becomes read-only, a target's version is recorded.
  void push(lazy::Op::Code code, double a, const LazyTensor* b, const LazyTensor* c) {
    lazy::Op op{code, a};
    if (b != nullptr) op.b = share(*b);
    if (c != nullptr) op.c = share(*c);
    if (code == lazy::Op::kMulScalar || code == lazy::Op::kAddScalar || code == lazy::Op::kDivScalar) {
      op.b = scratch_ != nullptr ? scratch_->number(value_, a) : lazy::number_operand(value_, a);
    }
    ops_.push_back(std::move(op));
  }
  at::Tensor share(const LazyTensor& x) {
    at::Tensor t = x.tensor();
    if (x.role_ == Role::kOwned) x.role_ = Role::kReadOnly;
    if (const LazyTensor* o = x.origin()) reads_.push_back({o, o->version_});
    return t;
  }
  void check_reads() const {
    for (const Read& r : reads_) {
      TORCH_INTERNAL_ASSERT(r.target->version_ == r.version,
                            "a rule read a tensor, then wrote it in place before using what it read");
    }
  }
  void take(LazyTensor&& other) {
    value_ = std::move(other.value_);
    role_ = other.role_;
    base_ = other.base_;
    origin_ = other.origin_;
    ops_ = std::move(other.ops_);
    reads_ = std::move(other.reads_);
    scratch_ = other.scratch_;
    other.role_ = Role::kEmpty;
    other.ops_.clear();
    other.reads_.clear();
  }
  // Runs the pending ops on a new tensor (from the scratch, where it can): the
  // first out of place, the rest in place on its result (an op may be the
  // identity and return its input).
  void materialize() const {
    check_reads();
    bool owned = false;
    for (const lazy::Op& op : ops_) {
      if (owned) {
        op.in_place(value_);
        continue;
      }
      at::Tensor r = scratch_ != nullptr && op.has_out_form(value_) ? scratch_->like(value_) : at::Tensor();
      if (r.defined()) {
        op.into(value_, r);
      } else {
        r = op.fresh(value_);
      }
      owned = !r.is_same(value_);
      value_ = std::move(r);
    }
    role_ = owned ? Role::kOwned : Role::kReadOnly;
    if (owned) origin_ = nullptr;
    ops_.clear();
    reads_.clear();
  }
  LazyTensor materialized() && {
    materialize();
    return std::move(*this);
  }
  bool writable() const { return role_ == Role::kTarget || role_ == Role::kOwned; }
  LazyTensor& assign(LazyTensor&& v) {
    if (v.role_ == Role::kPending && v.base_ == this && writable()) {  // x = f(x, …): in place
      v.check_reads();
      for (const lazy::Op& op : v.ops_) op.in_place(value_);
    } else if (role_ == Role::kTarget) {  // a parameter or state tensor keeps its storage
      const at::Tensor& r = v.tensor();
      if (!r.is_same(value_)) value_.copy_(r);
    } else {  // a local takes the value
      v.tensor();
      take(std::move(v));
    }
    ++version_;
    return *this;
  }

  mutable at::Tensor value_;
  mutable Role role_ = Role::kEmpty;
  uint64_t version_ = 0;                          ///< bumped by each assignment
  const LazyTensor* base_ = nullptr;              ///< pending: the value its ops apply to
  mutable const LazyTensor* origin_ = nullptr;    ///< read-only: the target it aliases, if any
  mutable c10::SmallVector<lazy::Op, 2> ops_;     ///< pending: the ops
  mutable c10::SmallVector<Read, 2> reads_;       ///< pending: what it read, at which versions
  lazy::Scratch* scratch_ = nullptr;              ///< where its temporaries come from (null: allocated)
};

// The element-wise vocabulary (elementwise.h) on lazy tensors, each for a
// named first operand (pending) and a temporary one (appended, or in place).
#define ADAPTIVE_LAZY_PARAMS(...) __VA_ARGS__
#define ADAPTIVE_LAZY_OP(name, params, ...)                                                   \
  inline LazyTensor name(const LazyTensor& x ADAPTIVE_LAZY_PARAMS params) {                   \
    return apply(x, __VA_ARGS__);                                                             \
  }                                                                                           \
  inline LazyTensor name(LazyTensor&& x ADAPTIVE_LAZY_PARAMS params) { return apply(std::move(x), __VA_ARGS__); }

using Code = lazy::Op::Code;
ADAPTIVE_LAZY_OP(axpy, (, double alpha, const LazyTensor& b), Code::kAxpy, alpha, &b)
ADAPTIVE_LAZY_OP(addcmul, (, double value, const LazyTensor& b, const LazyTensor& c), Code::kAddcmul, value, &b, &c)
ADAPTIVE_LAZY_OP(addcdiv, (, double value, const LazyTensor& b, const LazyTensor& c), Code::kAddcdiv, value, &b, &c)
ADAPTIVE_LAZY_OP(div, (, const Divisor<double>& d), Code::kDivScalar, d.value)
ADAPTIVE_LAZY_OP(lerp, (, const LazyTensor& b, double weight), Code::kLerp, weight, &b)
ADAPTIVE_LAZY_OP(reciprocal, (), Code::kReciprocal)
ADAPTIVE_LAZY_OP(sqrt, (), Code::kSqrt)
ADAPTIVE_LAZY_OP(abs, (), Code::kAbs)
ADAPTIVE_LAZY_OP(maximum, (, const LazyTensor& b), Code::kMaximum, 0, &b)
ADAPTIVE_LAZY_OP(clamp_abs, (, double limit), Code::kClampAbs, limit)
ADAPTIVE_LAZY_OP(operator*, (, double b), Code::kMulScalar, b)
ADAPTIVE_LAZY_OP(operator+, (, double b), Code::kAddScalar, b)
ADAPTIVE_LAZY_OP(operator*, (, const LazyTensor& b), Code::kMul, 0, &b)
ADAPTIVE_LAZY_OP(operator/, (, const LazyTensor& b), Code::kDiv, 0, &b)
#undef ADAPTIVE_LAZY_OP
#undef ADAPTIVE_LAZY_PARAMS

// Ops with more than one number, which lazy::Op does not hold: computed at
// once (their operands are read now, so no later write can make them stale),
// with elementwise.h's tensor functions, the same ATen ops.
inline LazyTensor sign(const LazyTensor& x) { return LazyTensor::computed(ew::sign(x.tensor())); }
inline LazyTensor clamp(const LazyTensor& x, double lo, double hi) {
  return LazyTensor::computed(ew::clamp(x.tensor(), lo, hi));
}
inline LazyTensor select_by_sign(const LazyTensor& x, double pos, double zero, double neg) {
  return LazyTensor::computed(ew::select_by_sign(x.tensor(), pos, zero, neg));
}
inline LazyTensor zero_where_equal(const LazyTensor& x, const LazyTensor& key, double value) {
  return LazyTensor::computed(ew::zero_where_equal(x.tensor(), key.tensor(), value));
}

}  // namespace ew
}  // namespace adaptive
