//===- Pipeline.h - From a spec to LLVM IR and bundles ----------*- C++ -*-===//
//
// This file declares the compilation stages that optfuse-compile strings together: planning,
// lowering to loops, lowering to LLVM, translation and optimization, and bundle writing.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_CODEGEN_PIPELINE_H
#define OPTFUSE_CODEGEN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <memory>
#include <string>

namespace mlir::optim {

/// Registers every dialect, interface and translation the pipeline needs.
void registerPipelineDialects(DialectRegistry &registry);

/// Verifies, canonicalizes and plans the rules of `module` (optim → planned optim).
LogicalResult planRules(ModuleOp module);

/// Lowers a planned module to loops (optim-lower-to-cpu) with `vectorWidth` f32 lanes.
LogicalResult lowerToLoops(ModuleOp module, unsigned vectorWidth);

/// Lowers loops to the LLVM dialect.
LogicalResult lowerLoopsToLLVM(ModuleOp module);

/// The CPU that bundles are compiled for.
struct CpuTarget {
  std::unique_ptr<llvm::TargetMachine> machine;
  /// f32 lanes of the widest vector registers the CPU has.
  unsigned vectorWidth = 4;
};

/// Creates the target machine for `cpu` ("native" for the host) on the host's architecture.
/// Returns null and sets `error` when the CPU is unknown.
std::unique_ptr<CpuTarget> createCpuTarget(llvm::StringRef cpu, std::string &error);

/// Translates an LLVM-dialect module to LLVM IR for `target` and optimizes it at -O3.
std::unique_ptr<llvm::Module> translateAndOptimize(ModuleOp module, llvm::LLVMContext &context,
                                                   CpuTarget &target);

/// One GPU architecture's code: the PTX, and (unless only PTX was asked for) the cubin ptxas made
/// of it with ptxas's resource report.
struct GpuImage {
  std::string arch; // "sm_90"
  std::string ptx, cubin, ptxasReport;
};

/// The GPU code of a rule.
struct GpuCode {
  std::vector<GpuImage> images;
  unsigned blockSize = 0, layerScalars = 0;
};

/// Lowers a planned module's rule to the single-launch and per-sweep kernels (on a copy; `module`
/// is unchanged) and compiles them for each of `archs` through NVVM to PTX, then with ptxas to
/// cubins unless `ptxOnly`. `cudaHome` is the CUDA toolkit (libdevice, ptxas). On failure sets
/// `error`, naming what is missing and how to point at it.
LogicalResult compileGpu(ModuleOp module, llvm::ArrayRef<std::string> archs,
                         llvm::StringRef cudaHome, bool ptxOnly, GpuCode &code,
                         std::string &error);

/// The ABI records of the GPU code (runtime/Abi.h), to append to the rule's ABI text.
std::string getGpuAbiText(const GpuCode &code);

/// Adds the bundle's data to the CPU module: the ABI text as `optfuse_abi` and each GPU image.
void addBundleData(llvm::Module &llvmModule, llvm::StringRef abiText, const GpuCode &code);

/// Compiles `llvmModule` to an object and links it into the shared object `outputPath`. Writes a
/// temporary file next to it and renames it at the end: nothing half-written is left on failure.
LogicalResult writeBundle(llvm::Module &llvmModule, CpuTarget &target, llvm::StringRef outputPath,
                          std::string &error);

} // namespace mlir::optim

#endif // OPTFUSE_CODEGEN_PIPELINE_H
