#pragma once
// The two MNIST classifiers of the examples.

#include <torch/torch.h>

#include <string>

namespace examples {

// 784 → 256 → 128 → 10, ReLU.
struct MlpImpl : torch::nn::Module {
  MlpImpl();
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
};
TORCH_MODULE(Mlp);

// conv(1→32, 3×3) → ReLU → max-pool → conv(32→64, 3×3) → ReLU → max-pool →
// dropout 0.25 → fc(3136→128) → ReLU → dropout 0.5 → fc(128→10).
struct CnnImpl : torch::nn::Module {
  CnnImpl();
  torch::Tensor forward(torch::Tensor x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop1{nullptr}, drop2{nullptr};
};
TORCH_MODULE(Cnn);

// Either model behind one interface: forward gives log-probabilities.
torch::nn::AnyModule make_model(const std::string& name);

}  // namespace examples
