#pragma once
// An MNIST-format (IDX) data set of any size. LibTorch 1.13's
// torch::data::datasets::MNIST insists on exactly 60,000 / 10,000 images;
// this reads whatever the four standard files hold, and says clearly what is
// wrong when a file is missing or truncated.

#include <torch/torch.h>

#include <string>

namespace examples {

class IdxDataset : public torch::data::datasets::Dataset<IdxDataset> {
 public:
  enum class Split { kTrain, kTest };

  // Reads <dir>/train-* or <dir>/t10k-* (images-idx3-ubyte, labels-idx1-ubyte).
  // Throws std::runtime_error naming the file and how to get the data.
  IdxDataset(const std::string& dir, Split split);

  torch::data::Example<> get(size_t index) override;
  torch::optional<size_t> size() const override;

  // All images as a float tensor [N, 1, 28, 28], normalized with MNIST's mean
  // and standard deviation, and labels [N] (int64).
  const torch::Tensor& images() const { return images_; }
  const torch::Tensor& labels() const { return labels_; }

 private:
  torch::Tensor images_, labels_;
};

// Raw IDX helpers, exposed for the data tool's tests.
torch::Tensor read_idx_images(const std::string& path);  // uint8 [N, rows, cols]
torch::Tensor read_idx_labels(const std::string& path);  // uint8 [N]
void write_idx_images(const std::string& path, const torch::Tensor& images);
void write_idx_labels(const std::string& path, const torch::Tensor& labels);

}  // namespace examples
