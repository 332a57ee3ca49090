#pragma once
// SparseAdam (torch.optim.SparseAdam, PyTorch 1.x and 2.x): Adam for sparse
// gradients (torch::nn::Embedding with sparse(true)). Only the entries a
// gradient holds move: their parameter values and their moments; the others
// keep both, so a row's moments decay only on the steps that touch it.
// For the entries of a sparse gradient g at step t (t counts every step of
// the parameter, touched or not):
//
//   g  ← prepare_gradient(g)                   clip, maximize (gradient.h)
//   m  ← m + (g − m)·(1 − β1)                  as torch.optim: old + update
//   v  ← v + (g·g − v)·(1 − β2)
//   θ  ← θ + (m / (√v + ε)) · (−lr·√(1 − β2ᵗ)/(1 − β1ᵗ))
//
// Written as torch.optim computes it on the gradient's values (a quotient,
// then a product with the negated step size), not as Adam's addcdiv: that
// order is what makes the two agree bit for bit. The shell gathers the
// entries and writes them back (optim/core/sparse_entries.h), so this rule
// is elementwise and runs on every driver.

#include "optim/rules/gradient.h"

namespace adaptive {

/// SparseAdam's per-step constants of one tensor (computed in double, stored as S).
template <class S>
struct SparseAdamScalars {
  GradientScalars<S> grad;  ///< clipping and sign (SparseAdam has no weight decay)
  S one_minus_beta1;        ///< 1 − β1
  S one_minus_beta2;        ///< 1 − β2
  S eps;                    ///< ε
  S step;                   ///< −lr·√(1 − β2ᵗ)/(1 − β1ᵗ)
};

/// SparseAdam's update (the algorithm box above), on tensors or single elements.
struct SparseAdamRule {
  /// Its per-step constants in element type S.
  template <class S>
  using Scalars = SparseAdamScalars<S>;
  /// How many state tensors apply() takes after the gradient.
  static constexpr size_t kStates = 2;
  /// apply() takes square roots (ew::sqrt).
  static constexpr bool kTakesRoots = true;

  /// One step of the gathered entries: updates `param`, m and v in place.
  ADAPTIVE_HOST_DEVICE_TEMPLATE
  template <class T, class S>
  C10_HOST_DEVICE static void apply(const SparseAdamScalars<S>& s, T& param, const T& grad, T& exp_avg,
                                    T& exp_avg_sq) {
    // a + b and a − b as ew::axpy with α = ±1: one rounding, so the same
    // bits as torch.optim's sub and its sparse add.
    const T g = prepare_gradient(grad, param, s.grad);
    exp_avg = ew::axpy(exp_avg, S(1), ew::axpy(g, S(-1), exp_avg) * s.one_minus_beta1);
    exp_avg_sq = ew::axpy(exp_avg_sq, S(1), ew::axpy(g * g, S(-1), exp_avg_sq) * s.one_minus_beta2);
    param = ew::axpy(param, S(1), (exp_avg / (ew::sqrt(exp_avg_sq) + s.eps)) * s.step);
  }
};

}  // namespace adaptive
