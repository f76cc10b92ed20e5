//===- CpuExecutor.h - Running a bundle's CPU code ---------------*- C++ -*-===//
//
// The CPU executor steps a set of layers with a bundle's CPU code. Layers are cut into chunks of
// a fixed size and chunks are spread over threads; each chunk's reduction partials are added in
// chunk order, so results are identical run to run and for any number of threads. Layers are
// processed in cache-sized groups with all sweeps of a group back to back, so the later sweeps
// read the group's data from cache.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_RUNTIME_CPUEXECUTOR_H
#define OPTFUSE_RUNTIME_CPUEXECUTOR_H

#include "runtime/Bundle.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace optfuse {

class CpuExecutor {
public:
  /// Elements per chunk (the unit of work of a thread).
  static constexpr int64_t kChunkElements = 16384;
  /// Layers are grouped until a group holds at least this many elements.
  static constexpr int64_t kGroupElements = 131072;

  explicit CpuExecutor(std::shared_ptr<const Bundle> bundle);

  /// Sets the layers by element count and builds the chunk table. Buffer pointers, hypers and
  /// flags are then set per layer.
  void setLayers(const std::vector<int64_t> &numels);
  int64_t numLayers() const { return static_cast<int64_t>(numels_.size()); }
  const std::vector<int64_t> &numels() const { return numels_; }

  /// The base pointer of buffer `index` (Bundle::buffers order) of `layer`.
  void setBuffer(int64_t layer, int index, float *data) { buffers_[layer * numBuffers_ + index] = data; }
  /// The layer's hyperparameters, in Bundle::hypers order.
  double *hypers(int64_t layer) { return hypers_.data() + layer * numHypers_; }
  /// The layer's flag bits (bit i = Bundle::flags()[i]).
  void setFlags(int64_t layer, int32_t bits) { flags_[layer] = bits; }

  /// Runs one step with step counter `t` (0 on the first step) on at::get_num_threads() threads.
  void step(double t);

  /// The reduction totals of the last step, [layer][Bundle::totalReductions()].
  const std::vector<double> &sums() const { return sums_; }

private:
  struct Group {
    int64_t firstLayer, endLayer, firstChunk, endChunk;
  };

  std::shared_ptr<const Bundle> bundle_;
  int numBuffers_, numHypers_, totalReductions_, maxReductions_ = 0;
  std::vector<int64_t> numels_;
  std::vector<int64_t> chunkLayer_, chunkBegin_, chunkEnd_, layerFirstChunk_;
  std::vector<Group> groups_;
  std::vector<float *> buffers_;
  std::vector<double> hypers_;
  std::vector<int32_t> flags_;
  std::vector<float> partials_;
  std::vector<double> sums_;
};

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_CPUEXECUTOR_H
