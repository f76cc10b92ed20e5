//===- Dataset.h - Fashion-MNIST from gzipped IDX files ------------*- C++ -*-===//
//
// Reads the Fashion-MNIST training and test sets from the four IDX files that Debian's
// dataset-fashion-mnist package installs under /usr/share/datasets/fashion-mnist. The files are
// read with zlib (gzip, or plain IDX when the .gz file is absent), checked against the IDX format
// and returned as float tensors normalized with the training set's mean and standard deviation.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_EXAMPLES_FASHION_MNIST_DATASET_H
#define OPTFUSE_EXAMPLES_FASHION_MNIST_DATASET_H

#include <torch/torch.h>

#include <string>

namespace fmnist {

/// Where Debian's dataset-fashion-mnist package puts the data.
constexpr const char *kDefaultDataDir = "/usr/share/datasets/fashion-mnist";

/// One split: `images` is [N, 1, 28, 28] float32 (normalized), `labels` is [N] int64 in 0..9.
struct Split {
  torch::Tensor images;
  torch::Tensor labels;
};

struct Dataset {
  Split train; // 60000 examples
  Split test;  // 10000 examples
};

/// Loads both splits from `dir`. Throws std::runtime_error naming the file and the problem; a
/// missing file gives a message that says how to install the data.
Dataset loadDataset(const std::string &dir);

} // namespace fmnist

#endif // OPTFUSE_EXAMPLES_FASHION_MNIST_DATASET_H
