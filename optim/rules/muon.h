#pragma once
// Muon's update (Jordan et al., 2024), as torch.optim.Muon (PyTorch 2.9 on)
// computes it, op for op: momentum, then the update orthogonalized by
// Newton–Schulz iterations in bfloat16, scaled by the matrix's shape. Matrix
// products are not elementwise, so it is written once here on whole tensors
// and every device runs it as these tensor ops (hooks::kTensorStep).
//
// Step of a matrix θ (A x B) with gradient g (clipped and signed by the shell):
//   B ← lerp(B, g, 1 − μ)                       momentum buffer
//   M = lerp(g, B, μ) if nesterov, else B
//   O = NS(M): X = bfloat16(M), transposed if A > B (so X is wide);
//       X ← X / max(‖X‖_F, ε);
//       k times: G = X·Xᵀ;  X ← a·X + (b·G + c·G·G)·X
//       (transposed back)
//   θ ← θ · (1 − lr·λ)                          decoupled weight decay
//   θ ← θ − lr'·O    lr' = lr·√max(1, A/B)      ("original", the default)
//                    lr' = lr·0.2·√max(A, B)    ("match_rms_adamw")

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <tuple>

namespace adaptive {

/// Muon's constants (MuonOptions' values).
struct MuonScalars {
  double lr = 1e-3;                                                            ///< learning rate (before adjust_lr_fn)
  double weight_decay = 0.1;                                                   ///< λ (decoupled)
  double momentum = 0.95;                                                      ///< μ
  bool nesterov = true;                                                        ///< orthogonalize lerp(g, B, μ), not B
  std::tuple<double, double, double> ns_coefficients{3.4445, -4.7750, 2.0315};  ///< (a, b, c)
  double eps = 1e-7;                                                           ///< floor of the norm divided by
  int64_t ns_steps = 5;                                                        ///< Newton–Schulz iterations
  c10::optional<std::string> adjust_lr_fn;                                     ///< none: "original"
};

/// The orthogonalized `matrix` (2-D): `steps` quintic Newton–Schulz
/// iterations with coefficients (a, b, c), in bfloat16; `matrix` is read,
/// never written. A bfloat16 matrix is copied first (torch.optim divides its
/// own momentum buffer in place then, where nesterov is off).
inline at::Tensor newton_schulz(const at::Tensor& matrix, const std::tuple<double, double, double>& coefficients,
                                int64_t steps, double eps) {
  const auto [a, b, c] = coefficients;
  at::Tensor x = matrix.to(at::kBFloat16, /*non_blocking=*/false, /*copy=*/true);
  const bool tall = matrix.size(0) > matrix.size(1);
  if (tall) x = x.t();  // iterate on the wide side: X·Xᵀ is the smaller Gram matrix
  x.div_(at::linalg_vector_norm(x, 2).clamp(eps));
  for (int64_t i = 0; i < steps; ++i) {
    const at::Tensor gram = at::matmul(x, x.t());
    const at::Tensor polynomial = at::addmm(gram, gram, gram, /*beta=*/b, /*alpha=*/c);
    x = at::addmm(x, polynomial, x, /*beta=*/a);
  }
  return tall ? x.t() : x;
}

/// The learning rate Muon applies to a matrix of `rows` x `cols`.
inline double muon_adjusted_lr(double lr, const c10::optional<std::string>& adjust_lr_fn, int64_t rows, int64_t cols) {
  const double a = static_cast<double>(rows), b = static_cast<double>(cols);
  if (!adjust_lr_fn || *adjust_lr_fn == "original") return lr * std::sqrt(std::max(1.0, a / b));
  return lr * (0.2 * std::sqrt(std::max(a, b)));  // "match_rms_adamw" (the options allow no other)
}

/// One Muon step of the matrix `param` with `momentum_buffer`; `grad` is read, never written.
inline void muon_update(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& momentum_buffer,
                        const MuonScalars& s) {
  momentum_buffer.lerp_(grad, 1 - s.momentum);
  const at::Tensor direction = s.nesterov ? grad.lerp(momentum_buffer, s.momentum) : momentum_buffer;
  const at::Tensor orthogonal = newton_schulz(direction, s.ns_coefficients, s.ns_steps, s.eps);
  const double lr = muon_adjusted_lr(s.lr, s.adjust_lr_fn, param.size(0), param.size(1));
  param.mul_(1 - s.lr * s.weight_decay);
  param.add_(orthogonal, -lr);
}

}  // namespace adaptive
