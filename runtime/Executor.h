//===- Executor.h - Where a bundle's code runs -------------------*- C++ -*-===//
//
// The interface the optimizer uses to run a bundle on a set of layers: the CPU executor and the
// CUDA executor implement it. The layer set is given once (element counts), then per layer the
// buffer pointers, hyperparameters and flags; step() runs every sweep of the rule.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_RUNTIME_EXECUTOR_H
#define OPTFUSE_RUNTIME_EXECUTOR_H

#include <cstdint>
#include <string>
#include <vector>

namespace optfuse {

class Executor {
public:
  virtual ~Executor() = default;

  /// "cpu" or "cuda".
  virtual std::string name() const = 0;

  /// Sets the layers by element count and builds the layer table; buffer pointers, hypers and
  /// flags are set afterwards. Hypers start at the rule's defaults, flags at 0.
  virtual void setLayers(const std::vector<int64_t> &numels) = 0;
  virtual int64_t numLayers() const = 0;

  /// The base pointer of buffer `index` (Bundle::buffers order) of `layer`.
  virtual void setBuffer(int64_t layer, int index, float *data) = 0;
  /// The layer's hyperparameters, in Bundle::hypers order.
  virtual double *hypers(int64_t layer) = 0;
  /// The layer's flag bits (bit i = Bundle::flags()[i]).
  virtual void setFlags(int64_t layer, int32_t bits) = 0;

  /// Runs one step with step counter `t` (0 on the first step).
  virtual void step(double t) = 0;
};

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_EXECUTOR_H
