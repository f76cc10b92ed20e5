//===- Model.h - The network fashion-mnist-train trains -----------*- C++ -*-===//
//
// A small convolutional network (11k parameters), sized so that an epoch at batch 8192 takes a
// few seconds on one CPU core. LibTorch runs convolutions on oneDNN but matrix products on the
// system BLAS, the slow reference BLAS on a stock Debian, so the network has no large fully
// connected layer; strided convolutions keep the activations of a large batch small.
//
//   input 1x28x28
//   conv 5x5, stride 2, 1 -> 8 channels, BatchNorm, ReLU      8x14x14
//   conv 3x3, stride 2, 8 -> 16 channels, BatchNorm, ReLU     16x7x7
//   conv 3x3, stride 2, 16 -> 32 channels, BatchNorm, ReLU    32x4x4
//   flatten, linear 512 -> 10
//
// The convolutions have no bias (BatchNorm follows them). The 1-D tensors, which --exclude-1d
// excludes from weight decay and adaptation, are the BatchNorm weights and biases and the last
// layer's bias.
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
