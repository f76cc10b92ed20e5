//===- Model.h - The network fashion-mnist-train trains -----------*- C++ -*-===//
//
// A small convolutional network, sized so that an epoch at batch 8192 takes seconds on two CPU
// cores (LibTorch's convolutions run on oneDNN; its matrix products on the system BLAS, which is
// the slow reference BLAS on a stock Debian, so the network avoids large fully connected layers):
//
//   input 1x28x28
//   conv 5x5, stride 2, 1 -> 16 channels, BatchNorm, ReLU     16x14x14
//   conv 3x3, stride 2, 16 -> 32 channels, BatchNorm, ReLU    32x7x7
//   conv 3x3, stride 2, 32 -> 64 channels, BatchNorm, ReLU    64x4x4
//   flatten, linear 1024 -> 10
//
// The convolutions have no bias (BatchNorm follows them); the 1-D tensors are the BatchNorm weights
// and biases and the last layer's bias, which is what --exclude-1d excludes.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_EXAMPLES_FASHION_MNIST_MODEL_H
#define OPTFUSE_EXAMPLES_FASHION_MNIST_MODEL_H

#include <torch/torch.h>

namespace fmnist {

class NetImpl : public torch::nn::Module {
public:
  NetImpl();
  /// Logits [N, 10] for images [N, 1, 28, 28].
  torch::Tensor forward(torch::Tensor x);

private:
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Net);

} // namespace fmnist

#endif // OPTFUSE_EXAMPLES_FASHION_MNIST_MODEL_H
