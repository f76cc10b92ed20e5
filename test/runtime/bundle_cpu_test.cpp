//===- bundle_cpu_test.cpp - A compiled bundle's CPU code against the formulas ------===//
//
// Loads each shipped bundle, runs its CPU code through the CPU executor on small layer sets
// (empty, single-element, odd sizes that exercise the vector tails, multi-chunk layers, zero
// layers) and compares every buffer with the float64 reference after each step.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuExecutor.h"
#include "test/runtime/Reference.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cstring>

namespace {

using optfuse::Bundle;
using optfuse::CpuExecutor;

struct Case {
  std::vector<int64_t> numels;
  std::vector<reference::Layer> ref;   // float64
  std::vector<std::vector<torch::Tensor>> buffers; // float32, Bundle::buffers order
};

Case makeCase(const Bundle &bundle, const std::vector<int64_t> &numels, uint64_t seed) {
  torch::manual_seed(seed);
  Case c;
  c.numels = numels;
  for (size_t i = 0; i < numels.size(); ++i) {
    reference::Layer layer;
    // Layer 2 starts at zero: its norm is 0 and the trust ratio must fall back to 1.
    layer.w = i == 2 ? torch::zeros({numels[i]}, torch::kFloat64)
                     : torch::randn({numels[i]}, torch::kFloat64);
    std::vector<torch::Tensor> buffers = {layer.w.to(torch::kFloat32), torch::Tensor()};
    for (int s = 0; s < bundle.numStates(); ++s) {
      const optfuse::BufferInfo &info = bundle.buffers()[2 + s];
      layer.state[info.name] = torch::full({numels[i]}, info.init, torch::kFloat64);
      buffers.push_back(layer.state[info.name].to(torch::kFloat32));
    }
    layer.excludeDecay = i % 3 == 1;
    layer.excludeAdapt = i % 4 == 1;
    c.ref.push_back(layer);
    c.buffers.push_back(buffers);
  }
  return c;
}

/// Runs `steps` steps of `rule` and checks every buffer against the reference after each.
void checkRule(const std::string &rule, const reference::Hypers &overrides) {
  auto bundle = Bundle::load(rule);
  Case c = makeCase(*bundle, {0, 1, 37, 1000, 16384 * 3 + 5, 129, 7}, 42);
  reference::Hypers hypers = reference::defaults(rule);
  for (const auto &[name, value] : overrides)
    hypers[name] = value;

  CpuExecutor executor(bundle);
  executor.setLayers(c.numels);
  for (size_t i = 0; i < c.numels.size(); ++i) {
    for (size_t b = 0; b < c.buffers[i].size(); ++b)
      if (b != 1)
        executor.setBuffer(i, b, c.buffers[i][b].data_ptr<float>());
    for (size_t h = 0; h < bundle->hypers().size(); ++h)
      executor.hypers(i)[h] = hypers.at(bundle->hypers()[h].name);
    int32_t bits = 0;
    if (c.ref[i].excludeDecay && bundle->flagIndex("exclude_decay") >= 0)
      bits |= 1 << bundle->flagIndex("exclude_decay");
    if (c.ref[i].excludeAdapt && bundle->flagIndex("exclude_adapt") >= 0)
      bits |= 1 << bundle->flagIndex("exclude_adapt");
    executor.setFlags(i, bits);
    if (bundle->flagIndex("exclude_adapt") < 0)
      c.ref[i].excludeAdapt = false;
  }

  for (int64_t t = 0; t < 5; ++t) {
    for (size_t i = 0; i < c.numels.size(); ++i) {
      c.ref[i].g = torch::randn({c.numels[i]}, torch::kFloat64);
      c.buffers[i][1] = c.ref[i].g.to(torch::kFloat32);
      executor.setBuffer(i, 1, c.buffers[i][1].data_ptr<float>());
    }
    executor.step(static_cast<double>(t));
    for (size_t i = 0; i < c.numels.size(); ++i) {
      reference::step(rule, hypers, c.ref[i], t);
      EXPECT_LE(reference::relativeError(c.buffers[i][0], c.ref[i].w), 1e-5)
          << rule << " param of layer " << i << " (" << c.numels[i] << " elements), step " << t;
      for (int s = 0; s < bundle->numStates(); ++s) {
        const std::string &name = bundle->buffers()[2 + s].name;
        EXPECT_LE(reference::relativeError(c.buffers[i][2 + s], c.ref[i].state.at(name)), 1e-5)
            << rule << " " << name << " of layer " << i << ", step " << t;
      }
    }
  }
}

TEST(BundleCpu, Tvlars) { checkRule("tvlars", {}); }
TEST(BundleCpu, TvlarsPaperForm) {
  checkRule("tvlars", {{"alpha", 0.5}, {"lambda", 0.3}, {"delay", 2.0}, {"gamma_min", 0.05},
                       {"norm_clamp", INFINITY}, {"lr", 0.5}});
}
TEST(BundleCpu, Lars) { checkRule("lars", {{"weight_decay", 1e-4}, {"eps", 1e-8}}); }
TEST(BundleCpu, LarsTrustClip) { checkRule("lars", {{"trust_clip", 1.0}, {"lr", 0.01}}); }
TEST(BundleCpu, Lamb) { checkRule("lamb", {}); }
TEST(BundleCpu, LambNoBiasCorrection) { checkRule("lamb", {{"bias_correction", 0.0}}); }
TEST(BundleCpu, Sgd) { checkRule("sgd", {{"weight_decay", 1e-4}, {"dampening", 0.1}}); }
TEST(BundleCpu, SgdNesterov) { checkRule("sgd", {{"nesterov", 1.0}}); }
TEST(BundleCpu, SgdNoMomentum) { checkRule("sgd", {{"momentum", 0.0}}); }
TEST(BundleCpu, Adamw) { checkRule("adamw", {}); }

TEST(BundleCpu, AbiDescribesTheRule) {
  auto bundle = Bundle::load("tvlars");
  EXPECT_EQ(bundle->ruleName(), "tvlars");
  ASSERT_EQ(bundle->hypers().size(), 9u);
  EXPECT_EQ(bundle->hypers()[0].name, "lr");
  EXPECT_FLOAT_EQ(bundle->hypers()[bundle->hyperIndex("alpha")].defaultValue, 0.1f);
  EXPECT_FLOAT_EQ(bundle->hypers()[bundle->hyperIndex("delay")].defaultValue, -1.0f);
  EXPECT_EQ(bundle->flags(), (std::vector<std::string>{"exclude_decay", "exclude_adapt"}));
  ASSERT_EQ(bundle->buffers().size(), 3u);
  EXPECT_EQ(bundle->buffers()[2].name, "momentum_buffer");
  ASSERT_EQ(bundle->sweeps().size(), 2u);
  EXPECT_EQ(bundle->sweeps()[0].reductions, 2);
  EXPECT_EQ(bundle->sweeps()[0].bytesPerElement + bundle->sweeps()[1].bytesPerElement, 28);
  EXPECT_EQ(bundle->sweeps()[1].writes, (std::vector<int>{0, 2}));
}

/// The same step on 1 and 2 threads gives bit-identical results.
TEST(BundleCpu, ThreadCountDoesNotChangeResults) {
  auto bundle = Bundle::load("lamb");
  std::vector<int64_t> numels = {16384 * 5 + 3, 100, 16384 * 2};
  std::vector<torch::Tensor> results[2];
  for (int threads = 1; threads <= 2; ++threads) {
    at::set_num_threads(threads);
    Case c = makeCase(*bundle, numels, 7);
    CpuExecutor executor(bundle);
    executor.setLayers(numels);
    for (size_t i = 0; i < numels.size(); ++i) {
      c.buffers[i][1] = torch::randn({numels[i]});
      for (size_t b = 0; b < c.buffers[i].size(); ++b)
        executor.setBuffer(i, b, c.buffers[i][b].data_ptr<float>());
    }
    for (int t = 0; t < 3; ++t)
      executor.step(t);
    for (auto &layer : c.buffers)
      results[threads - 1].push_back(layer[0]);
  }
  for (size_t i = 0; i < numels.size(); ++i)
    EXPECT_TRUE(torch::equal(results[0][i], results[1][i])) << "layer " << i;
}

} // namespace
