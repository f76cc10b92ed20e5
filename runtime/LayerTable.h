//===- LayerTable.h - The host side of a layer set ---------------*- C++ -*-===//
//
// What both executors keep for a set of layers: the chunks (layer, element range) in layer order,
// each layer's chunk range, buffer pointers, hyperparameters and flags, laid out as
// OptfuseSweepArgs expects them.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_RUNTIME_LAYERTABLE_H
#define OPTFUSE_RUNTIME_LAYERTABLE_H

#include "runtime/Bundle.h"

#include <cstdint>
#include <vector>

namespace optfuse {

struct LayerTable {
  /// Elements per chunk: the unit of work of a CPU thread or a GPU block.
  static constexpr int64_t kChunkElements = 16384;

  /// Cuts layers of `numels` elements into chunks; hypers start at the rule's defaults, flags at
  /// 0, buffer pointers at null.
  void build(const Bundle &bundle, const std::vector<int64_t> &numels);

  int64_t numLayers() const { return static_cast<int64_t>(numels.size()); }
  int64_t numChunks() const { return static_cast<int64_t>(chunkLayer.size()); }

  int numBuffers = 0, numHypers = 0;
  std::vector<int64_t> numels;
  std::vector<int64_t> chunkLayer, chunkBegin, chunkEnd;
  std::vector<int64_t> layerFirstChunk; // [layers + 1]
  std::vector<float *> buffers;         // [layers][buffers]
  std::vector<double> hypers;           // [layers][hypers]
  std::vector<int32_t> flags;           // [layers]
};

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_LAYERTABLE_H
