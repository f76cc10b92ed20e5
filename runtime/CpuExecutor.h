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
#include "runtime/Executor.h"
#include "runtime/LayerTable.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace optfuse {

class CpuExecutor : public Executor {
public:
  /// Layers are grouped until a group holds at least this many elements.
  static constexpr int64_t kGroupElements = 131072;

  explicit CpuExecutor(std::shared_ptr<const Bundle> bundle);

  std::string name() const override { return "cpu"; }
  void setLayers(const std::vector<int64_t> &numels) override;
  int64_t numLayers() const override { return table_.numLayers(); }
  void setBuffer(int64_t layer, int index, float *data) override {
    table_.buffers[layer * table_.numBuffers + index] = data;
  }
  double *hypers(int64_t layer) override { return table_.hypers.data() + layer * table_.numHypers; }
  void setFlags(int64_t layer, int32_t bits) override { table_.flags[layer] = bits; }
  /// Runs on at::get_num_threads() threads.
  void step(double t) override;

  /// The reduction totals of the last step, [layer][Bundle::totalReductions()].
  const std::vector<double> &sums() const { return sums_; }

private:
  struct Group {
    int64_t firstLayer, endLayer, firstChunk, endChunk;
  };

  std::shared_ptr<const Bundle> bundle_;
  int totalReductions_, maxReductions_ = 0;
  LayerTable table_;
  std::vector<Group> groups_;
  std::vector<float> partials_;
  std::vector<double> sums_;
};

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_CPUEXECUTOR_H
