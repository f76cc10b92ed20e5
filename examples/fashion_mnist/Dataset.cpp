//===- Dataset.cpp - Fashion-MNIST from gzipped IDX files -----------------===//
//
// IDX files start with a big-endian magic number (0x00000803 for images: unsigned bytes, three
// dimensions; 0x00000801 for labels: unsigned bytes, one dimension), then one big-endian 32-bit
// size per dimension, then the data.
//
//===----------------------------------------------------------------------===//

#include "examples/fashion_mnist/Dataset.h"

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <sys/stat.h>
#include <vector>

using namespace fmnist;

namespace {

constexpr int64_t kRows = 28, kCols = 28;
// Mean and standard deviation of the training images' pixels (scaled to [0, 1]).
constexpr double kMean = 0.2860, kStd = 0.3530;

bool isFile(const std::string &path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

/// `dir/name.gz`, or `dir/name` when only the uncompressed file exists.
std::string findFile(const std::string &dir, const std::string &name) {
  std::string gz = dir + "/" + name + ".gz";
  if (isFile(gz))
    return gz;
  if (isFile(dir + "/" + name))
    return dir + "/" + name;
  throw std::runtime_error(
      "cannot find the Fashion-MNIST data: " + gz +
      " does not exist.\n"
      "Install Debian's dataset-fashion-mnist package (scripts/setup.sh installs it, or run\n"
      "`sudo apt-get install dataset-fashion-mnist`), or pass --data-dir DIR naming a directory\n"
      "with train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz\n"
      "and t10k-labels-idx1-ubyte.gz.");
}

/// The whole (decompressed) content of a file.
std::vector<uint8_t> readAll(const std::string &path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file)
    throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  int n;
  while ((n = gzread(file, buffer, sizeof(buffer))) > 0)
    bytes.insert(bytes.end(), buffer, buffer + n);
  int error = Z_OK;
  std::string message = n < 0 ? gzerror(file, &error) : "";
  gzclose(file);
  if (n < 0)
    throw std::runtime_error("cannot read " + path + ": " + message);
  return bytes;
}

uint32_t bigEndian32(const std::vector<uint8_t> &bytes, size_t offset) {
  return uint32_t(bytes[offset]) << 24 | uint32_t(bytes[offset + 1]) << 16 |
         uint32_t(bytes[offset + 2]) << 8 | uint32_t(bytes[offset + 3]);
}

/// Reads an IDX file of unsigned bytes, checks that its dimensions are `dims` and returns its data
/// bytes.
std::vector<uint8_t> readIdx(const std::string &path, const std::vector<int64_t> &dims) {
  std::vector<uint8_t> bytes = readAll(path);
  size_t header = 4 + 4 * dims.size();
  uint32_t magic = 0x00000800u | static_cast<uint32_t>(dims.size());
  if (bytes.size() < header || bigEndian32(bytes, 0) != magic)
    throw std::runtime_error(path + " is not an IDX file of unsigned bytes with " +
                             std::to_string(dims.size()) + " dimension(s)");
  size_t elements = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    uint32_t size = bigEndian32(bytes, 4 + 4 * i);
    if (size != dims[i])
      throw std::runtime_error(path + ": dimension " + std::to_string(i) + " is " +
                               std::to_string(size) + ", expected " + std::to_string(dims[i]));
    elements *= size;
  }
  if (bytes.size() != header + elements)
    throw std::runtime_error(path + " holds " + std::to_string(bytes.size() - header) +
                             " data bytes, expected " + std::to_string(elements));
  return std::vector<uint8_t>(bytes.begin() + header, bytes.end());
}

Split loadSplit(const std::string &dir, const std::string &prefix, int64_t count) {
  std::string imagePath = findFile(dir, prefix + "-images-idx3-ubyte");
  std::string labelPath = findFile(dir, prefix + "-labels-idx1-ubyte");
  std::vector<uint8_t> pixels = readIdx(imagePath, {count, kRows, kCols});
  std::vector<uint8_t> labels = readIdx(labelPath, {count});
  for (uint8_t label : labels)
    if (label > 9)
      throw std::runtime_error(labelPath + " holds the label " + std::to_string(label) +
                               ", expected 0..9");

  auto byteOptions = torch::TensorOptions().dtype(torch::kUInt8);
  Split split;
  split.images = torch::from_blob(pixels.data(), {count, 1, kRows, kCols}, byteOptions)
                     .to(torch::kFloat32)
                     .div_(255.0)
                     .sub_(kMean)
                     .div_(kStd);
  split.labels = torch::from_blob(labels.data(), {count}, byteOptions).to(torch::kInt64);
  return split;
}

} // namespace

Dataset fmnist::loadDataset(const std::string &dir) {
  Dataset data;
  data.train = loadSplit(dir, "train", 60000);
  data.test = loadSplit(dir, "t10k", 10000);
  return data;
}
