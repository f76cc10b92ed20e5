//===- Model.cpp - The network fashion-mnist-train trains -----------------===//

#include "examples/fashion_mnist/Model.h"

using namespace fmnist;
namespace nn = torch::nn;

namespace {

/// Appends conv (no bias), BatchNorm and ReLU to `layers`.
void addConvBlock(nn::Sequential &layers, int64_t in, int64_t out, int64_t kernel) {
  layers->push_back(
      nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(2).padding(kernel / 2).bias(false)));
  layers->push_back(nn::BatchNorm2d(out));
  layers->push_back(nn::ReLU());
}

} // namespace

NetImpl::NetImpl() {
  nn::Sequential layers;
  addConvBlock(layers, 1, 8, 5);
  addConvBlock(layers, 8, 16, 3);
  addConvBlock(layers, 16, 32, 3);
  layers->push_back(nn::Flatten());
  features_ = register_module("features", layers);
  classifier_ = register_module("classifier", nn::Linear(32 * 4 * 4, 10));
}

torch::Tensor NetImpl::forward(torch::Tensor x) { return classifier_(features_->forward(x)); }
