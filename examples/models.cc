#include "examples/models.h"

#include <stdexcept>

namespace examples {

MlpImpl::MlpImpl() {
  fc1 = register_module("fc1", torch::nn::Linear(784, 256));
  fc2 = register_module("fc2", torch::nn::Linear(256, 128));
  fc3 = register_module("fc3", torch::nn::Linear(128, 10));
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  x = torch::relu(fc1(x.flatten(1)));
  x = torch::relu(fc2(x));
  return torch::log_softmax(fc3(x), 1);
}

CnnImpl::CnnImpl() {
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)));
  fc1 = register_module("fc1", torch::nn::Linear(64 * 7 * 7, 128));
  fc2 = register_module("fc2", torch::nn::Linear(128, 10));
  drop1 = register_module("drop1", torch::nn::Dropout(0.25));
  drop2 = register_module("drop2", torch::nn::Dropout(0.5));
}

torch::Tensor CnnImpl::forward(torch::Tensor x) {
  x = torch::max_pool2d(torch::relu(conv1(x)), 2);
  x = torch::max_pool2d(torch::relu(conv2(x)), 2);
  x = drop1(x).flatten(1);
  x = drop2(torch::relu(fc1(x)));
  return torch::log_softmax(fc2(x), 1);
}

torch::nn::AnyModule make_model(const std::string& name) {
  if (name == "mlp") return torch::nn::AnyModule(Mlp());
  if (name == "cnn") return torch::nn::AnyModule(Cnn());
  throw std::invalid_argument("unknown model '" + name + "' (mlp | cnn)");
}

}  // namespace examples
