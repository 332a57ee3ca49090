#pragma once
// The step of an optimizer that takes only sparse gradients (hooks::kSparseOnly,
// SparseAdam): its elementwise Rule runs on the entries a gradient holds and
// on nothing else. Those entries of the parameter and of each state tensor
// are gathered into compact tensors, stepped by any driver (kernels/dispatch.h:
// fused CPU, fused CUDA or the reference), and written back. Untouched
// entries keep their values and their state exactly, as in torch.optim,
// which updates them through sparse_mask and sparse adds.

#include "optim/kernels/dispatch.h"

#include <ATen/ATen.h>
#include <c10/util/irange.h>

#include <tuple>
#include <utility>

namespace adaptive {
namespace detail {

/// The indices of the entries a coalesced sparse gradient holds, one index
/// tensor per sparse dimension (empty with none: then the one entry is the
/// whole tensor).
inline c10::List<c10::optional<at::Tensor>> entry_indices(const at::Tensor& grad) {
  c10::List<c10::optional<at::Tensor>> index;
  const at::Tensor indices = grad._indices();
  for (const auto d : c10::irange(grad.sparse_dim())) index.push_back(indices[d]);
  return index;
}

/// A compact copy of `t`'s entries at `index` ([nnz, dense dims...], the
/// layout of the gradient's values), or a view of all of `t` as one entry.
/// Rows (one sparse dimension, an Embedding's gradient) with index_select,
/// which took a third of at::index's time on 1% of a 16,384 x 64 table
/// (2.5 vs 7.6 µs, LibTorch 2.13 on this project's 2-core VM).
inline at::Tensor gather_entries(const at::Tensor& t, const c10::List<c10::optional<at::Tensor>>& index) {
  if (index.empty()) return t.unsqueeze(0);
  if (index.size() == 1) return t.index_select(0, *index.get(0));
  return at::index(t, index);
}

/// Writes `entries` (from gather_entries) back into `t`; a view needs nothing.
/// (index_copy_ was no faster than index_put_ for rows: 6.4 vs 6.0 µs.)
inline void scatter_entries(const at::Tensor& t, const c10::List<c10::optional<at::Tensor>>& index,
                            const at::Tensor& entries) {
  if (!index.empty()) t.index_put_(index, entries);
}

/// One step of `Rule` on the entries that coalesced sparse gradient `grad`
/// holds: `make_scalars`, `key` and `coefficient` as kernels::run_step's;
/// `state`: the state tensors, dense, of the parameter's shape. A gradient
/// without entries changes nothing.
template <class Rule, class MakeScalars, class... State>
void step_sparse_entries(bool fused, const at::Tensor& param, const at::Tensor& grad,
                         std::pair<const void*, int64_t> key, const at::Tensor& coefficient,
                         const MakeScalars& make_scalars, const State&... state) {
  if (grad._nnz() == 0) return;
  const auto index = entry_indices(grad);
  const at::Tensor param_entries = gather_entries(param, index);
  std::tuple<std::decay_t<decltype(state)>...> state_entries{gather_entries(state, index)...};
  kernels::StepBatch<Rule> batch;
  std::apply(
      [&](const auto&... entries) {
        kernels::run_step<Rule>(fused, param_entries, grad._values(), batch, key, coefficient, make_scalars,
                                entries...);
      },
      state_entries);
  batch.run();
  // Every entry computed before any is written back: a failure above leaves
  // the parameter and its state as they were (but for a gradient without
  // sparse dimensions, whose one entry is stepped in place, as any dense step).
  scatter_entries(param, index, param_entries);
  std::apply([&](const auto&... entries) { (scatter_entries(state, index, entries), ...); }, state_entries);
}

}  // namespace detail
}  // namespace adaptive
