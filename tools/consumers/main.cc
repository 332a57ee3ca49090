// A consumer of adaptive: one Adam step on θ = (1, 2) with g = (0.5, −1), lr 0.1.
// The first Adam step moves each coordinate by lr·g/(|g| + ε): θ = (0.9, 2.1).
#include "optim/optim.h"
#include "optim/version.h"

#include <cmath>
#include <cstdio>

int main() {
  auto theta = torch::tensor({1.0, 2.0}, torch::kFloat64).requires_grad_(true);
  adaptive::Adam optimizer({theta}, adaptive::AdamOptions(0.1));
  theta.mutable_grad() = torch::tensor({0.5, -1.0}, torch::kFloat64);
  optimizer.step();
  const double a = theta[0].item<double>(), b = theta[1].item<double>();
  std::printf("adaptive %s: theta after one step: %.9f %.9f\n", ADAPTIVE_VERSION, a, b);
  return std::abs(a - 0.9) < 1e-6 && std::abs(b - 2.1) < 1e-6 ? 0 : 1;
}
