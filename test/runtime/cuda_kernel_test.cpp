//===- cuda_kernel_test.cpp - The GPU kernels against the CPU path of the same bundle -===//
//
// For every shipped rule and both launch variants (the single cooperative launch and the
// per-sweep launches): random layer sets with empty, 1-D, zero-norm, large and many (10,000)
// tensors are stepped on the GPU and on the CPU by the same bundle, and must agree to 1e-5
// relative per tensor. Each case is timed. With $OUT set, a summary goes to $OUT/cuda_kernels.md.
// Without a CUDA device every test skips, saying so.
//
//===----------------------------------------------------------------------===//

#include "runtime/CpuExecutor.h"
#include "runtime/CudaExecutor.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>

namespace {

using namespace optfuse;

struct LayerSet {
  std::string name;
  std::vector<int64_t> numels;
};

std::vector<LayerSet> layerSets() {
  std::vector<LayerSet> sets = {
      {"edge cases", {0, 1, 3, 64, 0, 1000, 16384, 16385, 50001}},
      {"large", {(int64_t(1) << 25) + 3, 4096}},
  };
  LayerSet many{"10,000 tensors", {}};
  std::mt19937 rng(7);
  for (int i = 0; i < 10000; ++i)
    many.numels.push_back(1 + rng() % 2000);
  sets.push_back(many);
  if (std::getenv("OPTFUSE_TEST_HUGE")) // a layer of more than 2^31 elements: ~26 GB on each side
    sets.push_back({"2^31 + 5 elements", {(int64_t(1) << 31) + 5}});
  return sets;
}

std::ofstream &summary() {
  static std::ofstream out;
  static bool opened = false;
  if (!opened) {
    opened = true;
    if (const char *dir = std::getenv("OUT")) {
      out.open(std::string(dir) + "/cuda_kernels.md");
      out << "| rule | layer set | launch | max rel. error vs CPU | ms per step (GPU) |\n"
          << "| --- | --- | --- | --- | --- |\n";
    }
  }
  return out;
}

/// Buffers of a layer set on one device: per layer param, grad, states (float32).
std::vector<std::vector<torch::Tensor>> makeBuffers(const Bundle &bundle, const LayerSet &set,
                                                    torch::Device device) {
  torch::manual_seed(11);
  std::vector<std::vector<torch::Tensor>> layers;
  for (size_t i = 0; i < set.numels.size(); ++i) {
    int64_t n = set.numels[i];
    std::vector<torch::Tensor> buffers;
    buffers.push_back(i % 5 == 2 ? torch::zeros({n}) : torch::randn({n})); // some zero norms
    buffers.push_back(torch::randn({n}));
    for (int s = 0; s < bundle.numStates(); ++s)
      buffers.push_back(torch::randn({n}).abs_()); // second moments must be >= 0
    for (auto &b : buffers)
      b = b.to(device);
    layers.push_back(buffers);
  }
  return layers;
}

void attach(Executor &executor, const Bundle &bundle,
          std::vector<std::vector<torch::Tensor>> &layers) {
  std::vector<int64_t> numels;
  for (auto &layer : layers)
    numels.push_back(layer[0].numel());
  executor.setLayers(numels);
  for (size_t l = 0; l < layers.size(); ++l) {
    for (size_t b = 0; b < layers[l].size(); ++b)
      executor.setBuffer(l, b, layers[l][b].data_ptr<float>());
    int32_t bits = 0;
    if (layers[l][0].numel() % 7 == 1 && !bundle.flags().empty())
      bits = 1; // exclude some layers from weight decay
    executor.setFlags(l, bits);
  }
}

void runCase(const std::string &rule, CudaLaunch launch) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device (or LibTorch without CUDA): run scripts/gpu-check.sh on a "
                    "GPU machine";
  auto bundle = Bundle::load(rule);
  const char *launchName = launch == CudaLaunch::Single ? "single" : "per-sweep";
  for (const LayerSet &set : layerSets()) {
    SCOPED_TRACE(rule + " / " + set.name + " / " + launchName);
    auto gpu = makeBuffers(*bundle, set, torch::kCUDA);
    auto cpu = makeBuffers(*bundle, set, torch::kCPU);
    auto gpuExecutor = createCudaExecutor(bundle, 0, nullptr, launch);
    CpuExecutor cpuExecutor(bundle);
    attach(*gpuExecutor, *bundle, gpu);
    attach(cpuExecutor, *bundle, cpu);
    for (int t = 0; t < 3; ++t) {
      gpuExecutor->step(t);
      cpuExecutor.step(t);
    }
    torch::cuda::synchronize();
    EXPECT_EQ(cudaLaunchKind(*gpuExecutor), launchName);
    double worst = 0;
    for (size_t l = 0; l < gpu.size(); ++l) {
      for (size_t b = 0; b < gpu[l].size(); ++b) {
        if (b == 1 || gpu[l][b].numel() == 0)
          continue;
        torch::Tensor expected = cpu[l][b].to(torch::kFloat64);
        torch::Tensor actual = gpu[l][b].cpu().to(torch::kFloat64);
        double scale = std::max(expected.abs().max().item<double>(), 1e-30);
        double error = (actual - expected).abs().max().item<double>() / scale;
        worst = std::max(worst, error);
        EXPECT_LE(error, 1e-5) << "layer " << l << " (" << gpu[l][b].numel() << " elements), "
                               << bundle->buffers()[b].name;
      }
    }
    // Timing: steps back to back, synchronised once.
    int reps = set.numels.size() == 1 && set.numels[0] > (int64_t(1) << 30) ? 2 : 20;
    torch::cuda::synchronize();
    auto start = std::chrono::steady_clock::now();
    for (int t = 3; t < 3 + reps; ++t)
      gpuExecutor->step(t);
    torch::cuda::synchronize();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count() / reps;
    if (summary().is_open())
      summary() << "| " << rule << " | " << set.name << " | " << launchName << " | " << worst
                << " | " << ms << " |\n"
                << std::flush;
  }
}

class CudaKernels : public testing::TestWithParam<std::string> {};

TEST_P(CudaKernels, SingleLaunchMatchesCpu) { runCase(GetParam(), CudaLaunch::Single); }
TEST_P(CudaKernels, PerSweepLaunchesMatchCpu) { runCase(GetParam(), CudaLaunch::PerSweep); }

INSTANTIATE_TEST_SUITE_P(Rules, CudaKernels,
                         testing::Values("tvlars", "lars", "lamb", "sgd", "adamw"));

} // namespace
