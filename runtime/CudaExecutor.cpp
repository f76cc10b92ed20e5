//===- CudaExecutor.cpp - Running a bundle's GPU kernels ------------------===//

#include "runtime/CudaExecutor.h"
#include "runtime/LayerTable.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

using namespace optfuse;

namespace {

// The few driver API types and constants used here (see the CUDA driver API reference).
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
constexpr int kAttrMultiprocessorCount = 16;
constexpr int kAttrComputeCapabilityMajor = 75;
constexpr int kAttrComputeCapabilityMinor = 76;
constexpr int kAttrCooperativeLaunch = 95;

/// The driver entry points, resolved once from libcuda.so.1.
struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuOccupancyMaxActiveBlocksPerMultiprocessor)(int *, CUfunction, int, size_t);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, CUstream, void **, void **);
  CUresult (*cuLaunchCooperativeKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                                        unsigned, unsigned, unsigned, CUstream, void **);
  CUresult (*cuGetErrorString)(CUresult, const char **);

  static const Driver &get() {
    static Driver driver = load();
    return driver;
  }

private:
  static Driver load() {
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      throw std::runtime_error(
          "optfuse: the CUDA driver (libcuda.so.1) cannot be loaded on this machine: " +
          std::string(dlerror()));
    Driver d;
    auto bind = [&](auto &function, const char *name) {
      function = reinterpret_cast<std::decay_t<decltype(function)>>(dlsym(lib, name));
      if (!function)
        throw std::runtime_error(std::string("optfuse: the CUDA driver lacks ") + name);
    };
    bind(d.cuInit, "cuInit");
    bind(d.cuDeviceGet, "cuDeviceGet");
    bind(d.cuDeviceGetAttribute, "cuDeviceGetAttribute");
    bind(d.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    bind(d.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    bind(d.cuCtxSetCurrent, "cuCtxSetCurrent");
    bind(d.cuModuleLoadData, "cuModuleLoadData");
    bind(d.cuModuleUnload, "cuModuleUnload");
    bind(d.cuModuleGetFunction, "cuModuleGetFunction");
    bind(d.cuMemAlloc, "cuMemAlloc_v2");
    bind(d.cuMemFree, "cuMemFree_v2");
    bind(d.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
    bind(d.cuMemsetD32Async, "cuMemsetD32Async");
    bind(d.cuStreamSynchronize, "cuStreamSynchronize");
    bind(d.cuOccupancyMaxActiveBlocksPerMultiprocessor,
         "cuOccupancyMaxActiveBlocksPerMultiprocessor");
    bind(d.cuLaunchKernel, "cuLaunchKernel");
    bind(d.cuLaunchCooperativeKernel, "cuLaunchCooperativeKernel");
    bind(d.cuGetErrorString, "cuGetErrorString");
    return d;
  }
};

void check(CUresult result, const char *what) {
  if (result == 0)
    return;
  const char *message = nullptr;
  Driver::get().cuGetErrorString(result, &message);
  throw std::runtime_error(std::string("optfuse: CUDA ") + what + " failed: " +
                           (message ? message : "error " + std::to_string(result)));
}

/// A device allocation that grows to the largest size asked for.
struct DeviceBuffer {
  CUdeviceptr ptr = 0;
  size_t capacity = 0;
  void reserve(size_t bytes) {
    if (bytes <= capacity)
      return;
    release();
    check(Driver::get().cuMemAlloc(&ptr, std::max<size_t>(bytes, 16)), "cuMemAlloc");
    capacity = bytes;
  }
  void release() {
    if (ptr)
      Driver::get().cuMemFree(ptr);
    ptr = 0;
    capacity = 0;
  }
};

class CudaExecutor : public Executor {
public:
  CudaExecutor(std::shared_ptr<const Bundle> bundle, int device, void *stream, CudaLaunch launch);
  ~CudaExecutor() override;

  std::string name() const override { return "cuda"; }
  void setLayers(const std::vector<int64_t> &numels) override;
  int64_t numLayers() const override { return table_.numLayers(); }
  void setBuffer(int64_t layer, int index, float *data) override {
    table_.buffers[layer * table_.numBuffers + index] = data;
    tableDirty_ = true;
  }
  double *hypers(int64_t layer) override { return table_.hypers.data() + layer * table_.numHypers; }
  void setFlags(int64_t layer, int32_t bits) override { table_.flags[layer] = bits; }
  void step(double t) override;

  void setStream(void *stream) { stream_ = static_cast<CUstream>(stream); }
  std::string launchKind() const { return lastSingle_ ? "single" : "per-sweep"; }

private:
  void makeCurrent() const { check(Driver::get().cuCtxSetCurrent(context_), "cuCtxSetCurrent"); }
  template <typename T> void upload(DeviceBuffer &buffer, const std::vector<T> &host) {
    buffer.reserve(host.size() * sizeof(T));
    if (!host.empty())
      check(Driver::get().cuMemcpyHtoDAsync(buffer.ptr, host.data(), host.size() * sizeof(T),
                                            stream_),
            "cuMemcpyHtoDAsync");
  }

  std::shared_ptr<const Bundle> bundle_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUmodule module_ = nullptr;
  CUfunction single_ = nullptr;
  std::vector<CUfunction> perSweep_;
  CUstream stream_ = nullptr;
  bool cooperative_ = false, lastSingle_ = false;
  int singleGrid_ = 0, sweepGrid_ = 0, blockSize_;
  int totalReductions_, maxReductions_ = 1, layerScalars_;

  LayerTable table_;
  std::vector<double> uploadedHypers_;
  std::vector<int32_t> uploadedFlags_;
  bool tableDirty_ = true;
  DeviceBuffer dChunkLayer_, dChunkBegin_, dChunkEnd_, dLayerFirstChunk_, dBuffers_, dHypers_,
      dFlags_, dSums_, dPartials_, dLayerScalars_, dLayerDone_, dBarrier_, dArgs_;
};

CudaExecutor::CudaExecutor(std::shared_ptr<const Bundle> bundle, int device, void *stream,
                           CudaLaunch launch)
    : bundle_(std::move(bundle)), stream_(static_cast<CUstream>(stream)),
      blockSize_(bundle_->gpuBlockSize()), totalReductions_(bundle_->totalReductions()), layerScalars_(bundle_->gpuLayerScalars()) {
  if (!bundle_->hasGpuCode())
    throw std::runtime_error("optfuse: bundle '" + bundle_->path() +
                             "' has no GPU code; recompile it with optfuse-compile --gpu-arch");
  for (const SweepInfo &sweep : bundle_->sweeps())
    maxReductions_ = std::max(maxReductions_, sweep.reductions);
  const Driver &cu = Driver::get();
  check(cu.cuInit(0), "cuInit");
  check(cu.cuDeviceGet(&device_, device), "cuDeviceGet");
  check(cu.cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain");
  makeCurrent();

  // The cubin for this architecture, else the newest PTX the device can JIT.
  int major = 0, minor = 0, sms = 0, coop = 0;
  check(cu.cuDeviceGetAttribute(&major, kAttrComputeCapabilityMajor, device_), "cuDeviceGetAttribute");
  check(cu.cuDeviceGetAttribute(&minor, kAttrComputeCapabilityMinor, device_), "cuDeviceGetAttribute");
  check(cu.cuDeviceGetAttribute(&sms, kAttrMultiprocessorCount, device_), "cuDeviceGetAttribute");
  check(cu.cuDeviceGetAttribute(&coop, kAttrCooperativeLaunch, device_), "cuDeviceGetAttribute");
  int capability = major * 10 + minor;
  auto archOf = [](const std::string &arch) { return std::atoi(arch.c_str() + 3); };
  const GpuImageInfo *image = nullptr;
  for (const GpuImageInfo &candidate : bundle_->gpuImages())
    if (candidate.isCubin && archOf(candidate.arch) == capability)
      image = &candidate;
  for (const GpuImageInfo &candidate : bundle_->gpuImages())
    if (!image && !candidate.isCubin && archOf(candidate.arch) <= capability)
      image = &candidate;
  if (!image) {
    std::string archs;
    for (const GpuImageInfo &candidate : bundle_->gpuImages())
      archs += " " + candidate.arch;
    throw std::runtime_error("optfuse: bundle '" + bundle_->path() + "' has no GPU code for sm_" +
                             std::to_string(capability) + " (it has" + archs +
                             "); recompile it with --gpu-arch=sm_" + std::to_string(capability));
  }
  check(cu.cuModuleLoadData(&module_, image->data), "cuModuleLoadData");
  check(cu.cuModuleGetFunction(&single_, module_, "optfuse_step"), "cuModuleGetFunction");
  for (size_t k = 0; k < bundle_->sweeps().size(); ++k) {
    CUfunction function;
    check(cu.cuModuleGetFunction(&function, module_, ("optfuse_sweep_" + std::to_string(k)).c_str()),
          "cuModuleGetFunction");
    perSweep_.push_back(function);
  }

  // Grids: every block resident for the single launch; the per-sweep kernels use the same size.
  int perSm = 0;
  check(cu.cuOccupancyMaxActiveBlocksPerMultiprocessor(&perSm, single_, blockSize_, 0),
        "cuOccupancyMaxActiveBlocksPerMultiprocessor");
  singleGrid_ = std::max(1, perSm) * sms;
  sweepGrid_ = singleGrid_;
  cooperative_ = coop != 0 && perSm > 0;
  if (const char *env = std::getenv("OPTFUSE_CUDA_LAUNCH")) {
    if (std::strcmp(env, "single") == 0)
      launch = CudaLaunch::Single;
    else if (std::strcmp(env, "per-sweep") == 0)
      launch = CudaLaunch::PerSweep;
  }
  if (launch == CudaLaunch::Single && !cooperative_)
    throw std::runtime_error("optfuse: this device cannot launch the single-launch kernel "
                             "cooperatively; use the per-sweep launches");
  if (launch == CudaLaunch::PerSweep)
    cooperative_ = false;

  dBarrier_.reserve(2 * sizeof(uint32_t));
  check(cu.cuMemsetD32Async(dBarrier_.ptr, 0, 2, stream_), "cuMemsetD32Async");
}

CudaExecutor::~CudaExecutor() {
  const Driver &cu = Driver::get();
  cu.cuCtxSetCurrent(context_);
  cu.cuStreamSynchronize(stream_);
  for (DeviceBuffer *buffer :
       {&dChunkLayer_, &dChunkBegin_, &dChunkEnd_, &dLayerFirstChunk_, &dBuffers_, &dHypers_,
        &dFlags_, &dSums_, &dPartials_, &dLayerScalars_, &dLayerDone_, &dBarrier_, &dArgs_})
    buffer->release();
  if (module_)
    cu.cuModuleUnload(module_);
  cu.cuDevicePrimaryCtxRelease(device_);
}

void CudaExecutor::setLayers(const std::vector<int64_t> &numels) {
  table_.build(*bundle_, numels);
  uploadedHypers_.clear();
  uploadedFlags_.clear();
  tableDirty_ = true;
}

void CudaExecutor::step(double t) {
  const Driver &cu = Driver::get();
  makeCurrent();
  int64_t chunks = table_.numChunks();
  if (tableDirty_) {
    int64_t layers = numLayers();
    upload(dChunkLayer_, table_.chunkLayer);
    upload(dChunkBegin_, table_.chunkBegin);
    upload(dChunkEnd_, table_.chunkEnd);
    upload(dLayerFirstChunk_, table_.layerFirstChunk);
    upload(dBuffers_, table_.buffers);
    dSums_.reserve(std::max<int64_t>(1, layers * totalReductions_) * sizeof(double));
    dPartials_.reserve(std::max<int64_t>(1, chunks * maxReductions_) * sizeof(float));
    dLayerScalars_.reserve(std::max<int64_t>(1, layers * layerScalars_) * sizeof(float));
    dLayerDone_.reserve(std::max<int64_t>(1, layers) * sizeof(uint32_t));
    check(cu.cuMemsetD32Async(dLayerDone_.ptr, 0, std::max<int64_t>(1, layers), stream_),
          "cuMemsetD32Async");
    dHypers_.reserve(std::max<size_t>(1, table_.hypers.size()) * sizeof(double));
    dFlags_.reserve(std::max<size_t>(1, table_.flags.size()) * sizeof(int32_t));

    OptfuseGpuArgs args = {};
    args.table.chunk_layer = reinterpret_cast<const int64_t *>(dChunkLayer_.ptr);
    args.table.chunk_begin = reinterpret_cast<const int64_t *>(dChunkBegin_.ptr);
    args.table.chunk_end = reinterpret_cast<const int64_t *>(dChunkEnd_.ptr);
    args.table.buffers = reinterpret_cast<float *const *>(dBuffers_.ptr);
    args.table.hypers = reinterpret_cast<const double *>(dHypers_.ptr);
    args.table.flags = reinterpret_cast<const int32_t *>(dFlags_.ptr);
    args.table.sums = reinterpret_cast<const double *>(dSums_.ptr);
    args.table.partials = reinterpret_cast<float *>(dPartials_.ptr);
    args.num_chunks = chunks;
    args.layer_first_chunk = reinterpret_cast<const int64_t *>(dLayerFirstChunk_.ptr);
    args.layer_scalars = reinterpret_cast<float *>(dLayerScalars_.ptr);
    args.layer_done = reinterpret_cast<uint32_t *>(dLayerDone_.ptr);
    args.barrier = reinterpret_cast<uint32_t *>(dBarrier_.ptr);
    dArgs_.reserve(sizeof(args));
    check(cu.cuMemcpyHtoDAsync(dArgs_.ptr, &args, sizeof(args), stream_), "cuMemcpyHtoDAsync");
    // The host copy of `args` goes out of scope: make sure the copy has been taken.
    check(cu.cuStreamSynchronize(stream_), "cuStreamSynchronize");
    tableDirty_ = false;
  }
  // Hyperparameters and flags change rarely (an lr schedule): upload only what changed.
  if (table_.hypers != uploadedHypers_) {
    upload(dHypers_, table_.hypers);
    uploadedHypers_ = table_.hypers;
  }
  if (table_.flags != uploadedFlags_) {
    upload(dFlags_, table_.flags);
    uploadedFlags_ = table_.flags;
  }
  if (chunks == 0)
    return;

  CUdeviceptr argsPtr = dArgs_.ptr;
  void *params[] = {&argsPtr, &t};
  unsigned block = static_cast<unsigned>(blockSize_);
  if (cooperative_) {
    unsigned grid = static_cast<unsigned>(std::min<int64_t>(singleGrid_, chunks));
    check(cu.cuLaunchCooperativeKernel(single_, grid, 1, 1, block, 1, 1, 0, stream_, params),
          "cuLaunchCooperativeKernel");
    lastSingle_ = true;
  } else {
    unsigned grid = static_cast<unsigned>(std::min<int64_t>(sweepGrid_, chunks));
    for (CUfunction function : perSweep_)
      check(cu.cuLaunchKernel(function, grid, 1, 1, block, 1, 1, 0, stream_, params, nullptr),
            "cuLaunchKernel");
    lastSingle_ = false;
  }
}

} // namespace

std::unique_ptr<Executor> optfuse::createCudaExecutor(std::shared_ptr<const Bundle> bundle,
                                                      int device, void *stream,
                                                      CudaLaunch launch) {
  return std::make_unique<CudaExecutor>(std::move(bundle), device, stream, launch);
}

void optfuse::setCudaStream(Executor &executor, void *stream) {
  static_cast<CudaExecutor &>(executor).setStream(stream);
}

std::string optfuse::cudaLaunchKind(const Executor &executor) {
  return static_cast<const CudaExecutor &>(executor).launchKind();
}
