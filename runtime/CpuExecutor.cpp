//===- CpuExecutor.cpp - Running a bundle's CPU code ----------------------===//

#include "runtime/CpuExecutor.h"

#include <ATen/Parallel.h>

#include <algorithm>

using namespace optfuse;

CpuExecutor::CpuExecutor(std::shared_ptr<const Bundle> bundle)
    : bundle_(std::move(bundle)), numBuffers_(static_cast<int>(bundle_->buffers().size())),
      numHypers_(static_cast<int>(bundle_->hypers().size())),
      totalReductions_(bundle_->totalReductions()) {
  for (const SweepInfo &sweep : bundle_->sweeps())
    maxReductions_ = std::max(maxReductions_, sweep.reductions);
}

void CpuExecutor::setLayers(const std::vector<int64_t> &numels) {
  numels_ = numels;
  int64_t layers = numLayers();
  chunkLayer_.clear();
  chunkBegin_.clear();
  chunkEnd_.clear();
  layerFirstChunk_.assign(layers + 1, 0);
  groups_.clear();
  Group group{0, 0, 0, 0};
  int64_t groupElements = 0;
  for (int64_t layer = 0; layer < layers; ++layer) {
    layerFirstChunk_[layer] = static_cast<int64_t>(chunkLayer_.size());
    for (int64_t begin = 0; begin < numels[layer]; begin += kChunkElements) {
      chunkLayer_.push_back(layer);
      chunkBegin_.push_back(begin);
      chunkEnd_.push_back(std::min(begin + kChunkElements, numels[layer]));
    }
    groupElements += numels[layer];
    if (groupElements >= kGroupElements || layer + 1 == layers) {
      group.endLayer = layer + 1;
      group.endChunk = static_cast<int64_t>(chunkLayer_.size());
      groups_.push_back(group);
      group = Group{layer + 1, layer + 1, group.endChunk, group.endChunk};
      groupElements = 0;
    }
  }
  layerFirstChunk_[layers] = static_cast<int64_t>(chunkLayer_.size());
  buffers_.assign(layers * numBuffers_, nullptr);
  hypers_.assign(layers * numHypers_, 0.0);
  for (int64_t layer = 0; layer < layers; ++layer)
    for (int i = 0; i < numHypers_; ++i)
      hypers_[layer * numHypers_ + i] = bundle_->hypers()[i].defaultValue;
  flags_.assign(layers, 0);
  partials_.assign(chunkLayer_.size() * std::max(maxReductions_, 1), 0.0f);
  sums_.assign(layers * std::max(totalReductions_, 1), 0.0);
}

void CpuExecutor::step(double t) {
  OptfuseSweepArgs args;
  args.chunk_layer = chunkLayer_.data();
  args.chunk_begin = chunkBegin_.data();
  args.chunk_end = chunkEnd_.data();
  args.buffers = buffers_.data();
  args.hypers = hypers_.data();
  args.flags = flags_.data();
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
          for (int64_t c = layerFirstChunk_[layer]; c < layerFirstChunk_[layer + 1]; ++c)
            total += partials_[c * reductions + j];
          sums_[layer * totalReductions_ + sumBase + j] = total;
        }
      }
      sumBase += reductions;
    }
  }
}
