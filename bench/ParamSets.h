//===- ParamSets.h - Parameter sets shaped like real models -----*- C++ -*-===//
//
// This file declares the parameter sets optfuse-bench steps: the parameter tensors of real models
// (torchvision's ResNet-18 and ResNet-50, Hugging Face's BERT-large encoder with its pooler), with
// their names, shapes and order, and synthetic sets of equal tensors. It also fills a set with
// random values the way the models are initialised, so that norms and trust ratios are realistic.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_BENCH_PARAMSETS_H
#define OPTFUSE_BENCH_PARAMSETS_H

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace optfuse {
namespace bench {

/// How a parameter tensor is initialised.
enum class Init {
  FanIn, ///< normal with standard deviation 1/sqrt(fan-in) (weights, embeddings)
  Ones,  ///< 1 (BatchNorm and LayerNorm weights)
  Zeros, ///< 0 (biases; their norm is 0, so the trust ratios fall back to 1)
};

/// One parameter tensor of a set.
struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  Init init = Init::FanIn;

  int64_t numel() const;
};

/// A named list of parameter tensors.
struct ParamSet {
  std::string name;
  std::vector<ParamSpec> params;

  int64_t numel() const;
};

/// The names modelParamSet accepts.
std::vector<std::string> modelNames();

/// The parameter set of a model by name (resnet18, resnet50, bert-large). Throws
/// std::invalid_argument naming the known models for any other name.
ParamSet modelParamSet(const std::string &name);

/// `tensors` 1-D tensors of `numel` elements each, named "synthetic-TENSORSxNUMEL".
ParamSet syntheticParamSet(int64_t tensors, int64_t numel);

/// Parameters and gradients of a set, float32 and contiguous on `device`, drawn from the global
/// generator after seeding it with `seed`: parameters by their Init, gradients normal with
/// standard deviation 1e-3.
struct ParamData {
  std::vector<torch::Tensor> params, grads;
};
ParamData makeParamData(const ParamSet &set, uint64_t seed, torch::Device device);

} // namespace bench
} // namespace optfuse

#endif // OPTFUSE_BENCH_PARAMSETS_H
