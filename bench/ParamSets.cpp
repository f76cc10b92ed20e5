//===- ParamSets.cpp - Parameter sets shaped like real models -------------===//
//
// The shapes follow the models' own definitions, in the order their named_parameters() lists
// them: torchvision.models.resnet18/resnet50 (BasicBlock [2, 2, 2, 2] and Bottleneck [3, 4, 6, 3],
// a 1x1 convolution + BatchNorm downsample where a stage changes shape, fc to 1000 classes) and
// transformers' BertModel for bert-large-uncased (vocabulary 30522, hidden 1024, 24 layers,
// intermediate 4096, 512 positions, 2 token types, with the pooler).
//
//===----------------------------------------------------------------------===//

#include "bench/ParamSets.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

using namespace optfuse::bench;

int64_t ParamSpec::numel() const {
  int64_t n = 1;
  for (int64_t size : shape)
    n *= size;
  return n;
}

int64_t ParamSet::numel() const {
  int64_t n = 0;
  for (const ParamSpec &param : params)
    n += param.numel();
  return n;
}

namespace {

void addConv(ParamSet &set, const std::string &name, int64_t out, int64_t in, int64_t kernel) {
  set.params.push_back({name + ".weight", {out, in, kernel, kernel}, Init::FanIn});
}

/// A BatchNorm or LayerNorm: weight (ones) and bias (zeros).
void addNorm(ParamSet &set, const std::string &name, int64_t channels) {
  set.params.push_back({name + ".weight", {channels}, Init::Ones});
  set.params.push_back({name + ".bias", {channels}, Init::Zeros});
}

/// A linear layer: weight [out, in] and bias (zeros).
void addLinear(ParamSet &set, const std::string &name, int64_t out, int64_t in) {
  set.params.push_back({name + ".weight", {out, in}, Init::FanIn});
  set.params.push_back({name + ".bias", {out}, Init::Zeros});
}

ParamSet resnet(const std::string &name, bool bottleneck, const std::vector<int> &blocks) {
  ParamSet set{name, {}};
  const int64_t expansion = bottleneck ? 4 : 1;
  addConv(set, "conv1", 64, 3, 7);
  addNorm(set, "bn1", 64);
  int64_t inplanes = 64;
  for (size_t stage = 0; stage < blocks.size(); ++stage) {
    int64_t planes = int64_t(64) << stage;
    int64_t outplanes = planes * expansion;
    for (int block = 0; block < blocks[stage]; ++block) {
      std::string prefix = "layer" + std::to_string(stage + 1) + "." + std::to_string(block) + ".";
      if (bottleneck) {
        addConv(set, prefix + "conv1", planes, inplanes, 1);
        addNorm(set, prefix + "bn1", planes);
        addConv(set, prefix + "conv2", planes, planes, 3);
        addNorm(set, prefix + "bn2", planes);
        addConv(set, prefix + "conv3", outplanes, planes, 1);
        addNorm(set, prefix + "bn3", outplanes);
      } else {
        addConv(set, prefix + "conv1", planes, inplanes, 3);
        addNorm(set, prefix + "bn1", planes);
        addConv(set, prefix + "conv2", planes, planes, 3);
        addNorm(set, prefix + "bn2", planes);
      }
      // The first block of every stage but the first strides by 2, and the first block of the
      // first bottleneck stage widens 64 to 256: both need the projection shortcut.
      bool strided = block == 0 && stage > 0;
      if (block == 0 && (strided || inplanes != outplanes)) {
        addConv(set, prefix + "downsample.0", outplanes, inplanes, 1);
        addNorm(set, prefix + "downsample.1", outplanes);
      }
      inplanes = outplanes;
    }
  }
  addLinear(set, "fc", 1000, inplanes);
  return set;
}

ParamSet bertLarge() {
  const int64_t vocab = 30522, hidden = 1024, layers = 24, intermediate = 4096, positions = 512,
                types = 2;
  ParamSet set{"bert-large", {}};
  set.params.push_back({"embeddings.word_embeddings.weight", {vocab, hidden}, Init::FanIn});
  set.params.push_back({"embeddings.position_embeddings.weight", {positions, hidden}, Init::FanIn});
  set.params.push_back({"embeddings.token_type_embeddings.weight", {types, hidden}, Init::FanIn});
  addNorm(set, "embeddings.LayerNorm", hidden);
  for (int64_t layer = 0; layer < layers; ++layer) {
    std::string prefix = "encoder.layer." + std::to_string(layer) + ".";
    addLinear(set, prefix + "attention.self.query", hidden, hidden);
    addLinear(set, prefix + "attention.self.key", hidden, hidden);
    addLinear(set, prefix + "attention.self.value", hidden, hidden);
    addLinear(set, prefix + "attention.output.dense", hidden, hidden);
    addNorm(set, prefix + "attention.output.LayerNorm", hidden);
    addLinear(set, prefix + "intermediate.dense", intermediate, hidden);
    addLinear(set, prefix + "output.dense", hidden, intermediate);
    addNorm(set, prefix + "output.LayerNorm", hidden);
  }
  addLinear(set, "pooler.dense", hidden, hidden);
  return set;
}

} // namespace

std::vector<std::string> optfuse::bench::modelNames() {
  return {"resnet18", "resnet50", "bert-large"};
}

ParamSet optfuse::bench::modelParamSet(const std::string &name) {
  if (name == "resnet18")
    return resnet(name, /*bottleneck=*/false, {2, 2, 2, 2});
  if (name == "resnet50")
    return resnet(name, /*bottleneck=*/true, {3, 4, 6, 3});
  if (name == "bert-large")
    return bertLarge();
  std::string known;
  for (const std::string &model : modelNames())
    known += (known.empty() ? "" : ", ") + model;
  throw std::invalid_argument("unknown model '" + name + "' (known: " + known + ")");
}

ParamSet optfuse::bench::syntheticParamSet(int64_t tensors, int64_t numel) {
  ParamSet set{"synthetic-" + std::to_string(tensors) + "x" + std::to_string(numel), {}};
  set.params.reserve(tensors);
  for (int64_t i = 0; i < tensors; ++i)
    set.params.push_back({"tensor." + std::to_string(i), {numel}, Init::FanIn});
  return set;
}

ParamData optfuse::bench::makeParamData(const ParamSet &set, uint64_t seed, torch::Device device) {
  torch::NoGradGuard noGrad;
  torch::manual_seed(seed);
  ParamData data;
  data.params.reserve(set.params.size());
  data.grads.reserve(set.params.size());
  auto cpu = torch::TensorOptions().dtype(torch::kFloat32);
  for (const ParamSpec &spec : set.params) {
    torch::Tensor param;
    switch (spec.init) {
    case Init::FanIn: {
      int64_t fanIn = spec.shape.size() > 1 ? spec.numel() / spec.shape[0] : spec.numel();
      param =
          torch::randn(spec.shape, cpu).mul_(1.0 / std::sqrt(double(std::max<int64_t>(fanIn, 1))));
      break;
    }
    case Init::Ones:
      param = torch::ones(spec.shape, cpu);
      break;
    case Init::Zeros:
      param = torch::zeros(spec.shape, cpu);
      break;
    }
    data.params.push_back(param.to(device));
    data.grads.push_back(torch::randn(spec.shape, cpu).mul_(1e-3).to(device));
  }
  return data;
}
