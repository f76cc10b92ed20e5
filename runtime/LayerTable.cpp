//===- LayerTable.cpp - The host side of a layer set ----------------------===//

#include "runtime/LayerTable.h"

#include <algorithm>

using namespace optfuse;

void LayerTable::build(const Bundle &bundle, const std::vector<int64_t> &sizes) {
  numBuffers = static_cast<int>(bundle.buffers().size());
  numHypers = static_cast<int>(bundle.hypers().size());
  numels = sizes;
  int64_t layers = numLayers();
  chunkLayer.clear();
  chunkBegin.clear();
  chunkEnd.clear();
  layerFirstChunk.assign(layers + 1, 0);
  for (int64_t layer = 0; layer < layers; ++layer) {
    layerFirstChunk[layer] = numChunks();
    for (int64_t begin = 0; begin < numels[layer]; begin += kChunkElements) {
      chunkLayer.push_back(layer);
      chunkBegin.push_back(begin);
      chunkEnd.push_back(std::min(begin + kChunkElements, numels[layer]));
    }
  }
  layerFirstChunk[layers] = numChunks();
  buffers.assign(layers * numBuffers, nullptr);
  hypers.assign(layers * numHypers, 0.0);
  for (int64_t layer = 0; layer < layers; ++layer)
    for (int i = 0; i < numHypers; ++i)
      hypers[layer * numHypers + i] = bundle.hypers()[i].defaultValue;
  flags.assign(layers, 0);
}
