//===- CpuExecutor.cpp - Running a bundle's CPU code ----------------------===//

#include "runtime/CpuExecutor.h"

#include <ATen/Parallel.h>

#include <algorithm>

using namespace optfuse;

CpuExecutor::CpuExecutor(std::shared_ptr<const Bundle> bundle)
    : bundle_(std::move(bundle)), totalReductions_(bundle_->totalReductions()) {
  for (const SweepInfo &sweep : bundle_->sweeps())
    maxReductions_ = std::max(maxReductions_, sweep.reductions);
}

void CpuExecutor::setLayers(const std::vector<int64_t> &numels) {
  table_.build(*bundle_, numels);
  int64_t layers = table_.numLayers();
  groups_.clear();
  Group group{0, 0, 0, 0};
  int64_t groupElements = 0;
  for (int64_t layer = 0; layer < layers; ++layer) {
    groupElements += numels[layer];
    if (groupElements >= kGroupElements || layer + 1 == layers) {
      group.endLayer = layer + 1;
      group.endChunk = table_.layerFirstChunk[layer + 1];
      groups_.push_back(group);
      group = Group{layer + 1, layer + 1, group.endChunk, group.endChunk};
      groupElements = 0;
    }
  }
  partials_.assign(table_.numChunks() * std::max(maxReductions_, 1), 0.0f);
  sums_.assign(layers * std::max(totalReductions_, 1), 0.0);
}

void CpuExecutor::step(double t) {
  OptfuseSweepArgs args;
  args.chunk_layer = table_.chunkLayer.data();
  args.chunk_begin = table_.chunkBegin.data();
  args.chunk_end = table_.chunkEnd.data();
  args.buffers = table_.buffers.data();
  args.hypers = table_.hypers.data();
  args.flags = table_.flags.data();
  args.sums = sums_.data();
  args.partials = partials_.data();
  args.step = t;

  const std::vector<SweepInfo> &sweeps = bundle_->sweeps();
  for (const Group &group : groups_) {
    int sumBase = 0;
    for (size_t k = 0; k < sweeps.size(); ++k) {
      OptfuseSweepFn function = bundle_->sweepFunction(static_cast<int>(k));
      if (group.endChunk > group.firstChunk)
        at::parallel_for(group.firstChunk, group.endChunk, 1,
                         [&](int64_t begin, int64_t end) { function(&args, begin, end); });
      // Each layer's totals: its chunks' partials added in chunk order, in double.
      int reductions = sweeps[k].reductions;
      for (int64_t layer = group.firstLayer; layer < group.endLayer; ++layer) {
        for (int j = 0; j < reductions; ++j) {
          double total = 0;
          for (int64_t c = table_.layerFirstChunk[layer]; c < table_.layerFirstChunk[layer + 1]; ++c)
            total += partials_[c * reductions + j];
          sums_[layer * totalReductions_ + sumBase + j] = total;
        }
      }
      sumBase += reductions;
    }
  }
}
