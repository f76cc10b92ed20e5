//===- Bundle.h - Loading compiled rules -------------------------*- C++ -*-===//
//
// A bundle is a compiled rule: a shared object with the rule's CPU code and its ABI text
// (runtime/Abi.h). Bundle::load finds it (a shipped rule by name, or a path), checks the format
// version and the exported code, and exposes the rule's interface.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_RUNTIME_BUNDLE_H
#define OPTFUSE_RUNTIME_BUNDLE_H

#include "runtime/Abi.h"

#include <memory>
#include <string>
#include <vector>

namespace optfuse {

struct HyperInfo {
  std::string name;
  bool isBool = false;
  double defaultValue = 0;
};

struct BufferInfo {
  std::string name; // "param", "grad", then the state buffers
  double init = 0;
};

struct SweepInfo {
  int reductions = 0;
  std::vector<int> reads, writes; // buffer indices
  int bytesPerElement = 0;
};

/// A GPU image in a bundle: a cubin for one architecture, or PTX text to JIT.
struct GpuImageInfo {
  std::string arch; // "sm_90"
  bool isCubin = false;
  const char *data = nullptr;
  size_t size = 0;
};

class Bundle {
public:
  /// Loads a bundle: `rule` is a shipped rule's name (tvlars, lars, lamb, sgd, adamw), found in
  /// $OPTFUSE_BUNDLE_PATH, the build tree or the install tree, or a path to a `.so` file. Throws
  /// std::runtime_error saying what is wrong (unknown name with the known ones, unreadable or
  /// corrupt file, wrong format version).
  static std::shared_ptr<const Bundle> load(const std::string &rule);

  /// The directories searched for rules given by name, in order.
  static std::vector<std::string> searchPath();

  ~Bundle();
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  const std::string &ruleName() const { return ruleName_; }
  const std::string &path() const { return path_; }
  const std::vector<HyperInfo> &hypers() const { return hypers_; }
  const std::vector<std::string> &flags() const { return flags_; }
  const std::vector<BufferInfo> &buffers() const { return buffers_; }
  const std::vector<SweepInfo> &sweeps() const { return sweeps_; }
  /// The human-readable sweep plan, one sweep per line.
  const std::string &plan() const { return plan_; }
  /// Reductions over all sweeps (the row length of OptfuseSweepArgs::sums).
  int totalReductions() const;
  /// Index of a hyperparameter or flag by name, -1 when absent.
  int hyperIndex(const std::string &name) const;
  int flagIndex(const std::string &name) const;
  /// The state buffers (buffers after param and grad).
  int numStates() const { return static_cast<int>(buffers_.size()) - 2; }
  OptfuseSweepFn sweepFunction(int k) const { return functions_[k]; }

  /// Whether the bundle has GPU kernels, their block size and per-layer scalar count.
  bool hasGpuCode() const { return !gpuImages_.empty(); }
  int gpuBlockSize() const { return gpuBlockSize_; }
  int gpuLayerScalars() const { return gpuLayerScalars_; }
  const std::vector<GpuImageInfo> &gpuImages() const { return gpuImages_; }

private:
  Bundle() = default;
  void parseAbi(const std::string &text);

  void *handle_ = nullptr;
  std::string path_, ruleName_, plan_;
  std::vector<HyperInfo> hypers_;
  std::vector<std::string> flags_;
  std::vector<BufferInfo> buffers_;
  std::vector<SweepInfo> sweeps_;
  std::vector<OptfuseSweepFn> functions_;
  int gpuBlockSize_ = 0, gpuLayerScalars_ = 0;
  std::vector<GpuImageInfo> gpuImages_;
  std::vector<std::string> gpuSymbols_; // parallel to gpuImages_, resolved after parsing
};

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_BUNDLE_H
