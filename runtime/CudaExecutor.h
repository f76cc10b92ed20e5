//===- CudaExecutor.h - Running a bundle's GPU kernels -----------*- C++ -*-===//
//
// The CUDA executor runs a bundle's kernels through the CUDA driver API, loaded at run time
// (libcuda.so.1): the runtime builds and links on machines without a GPU or CUDA, and says so
// clearly when asked to run there. It loads the cubin for the device's architecture (the PTX
// otherwise, JIT-compiled by the driver), keeps the layer table in device memory (rebuilt only
// when the layers change) and steps every layer with ONE cooperative launch sized from the
// kernel's occupancy, or one launch per sweep where cooperative launch is unavailable.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_RUNTIME_CUDAEXECUTOR_H
#define OPTFUSE_RUNTIME_CUDAEXECUTOR_H

#include "runtime/Bundle.h"
#include "runtime/Executor.h"

#include <memory>

namespace optfuse {

/// How steps are launched: `Auto` takes the single cooperative launch when the device supports
/// it. The environment variable OPTFUSE_CUDA_LAUNCH=single|per-sweep overrides Auto.
enum class CudaLaunch { Auto, Single, PerSweep };

/// Creates an executor for CUDA device `device` that launches on `stream` (a CUstream; null is
/// the default stream). Throws std::runtime_error when the driver, the device or a suitable
/// image is missing.
std::unique_ptr<Executor> createCudaExecutor(std::shared_ptr<const Bundle> bundle, int device,
                                             void *stream, CudaLaunch launch = CudaLaunch::Auto);

/// Sets the stream of an executor made by createCudaExecutor.
void setCudaStream(Executor &executor, void *stream);

/// "single" or "per-sweep": how the executor's last step was launched.
std::string cudaLaunchKind(const Executor &executor);

} // namespace optfuse

#endif // OPTFUSE_RUNTIME_CUDAEXECUTOR_H
