//===- optfuse-opt.cpp - The optfuse optimizer driver ---------------------===//
//
// This file implements optfuse-opt: mlir-opt with the optim dialect, its passes and the upstream
// dialects and passes registered, following mlir-opt's conventions. On top of mlir-opt it rejects
// empty input and unreadable bytecode with a located diagnostic and exit code 1, so every kind of
// bad input gives `file:line:col: error: ...`.
//
//===----------------------------------------------------------------------===//

#include "dialect/OptimOps.h"
#include "codegen/Passes.h"
#include "passes/Passes.h"
#include "tools/common/InputCheck.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

int main(int argc, char **argv) {
  registerAllPasses();
  optim::registerOptimPasses();
  optim::registerOptimCodegenPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<optim::OptimDialect>();
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);

  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv,
      "optfuse-opt: verify and transform layer-wise optimizer rules in the optim dialect\n",
      registry);
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();

  std::string errorMessage;
  std::unique_ptr<llvm::MemoryBuffer> input = openInputFile(inputFilename, &errorMessage);
  if (!input) {
    llvm::WithColor::error(llvm::errs(), "optfuse-opt") << errorMessage << "\n";
    return 1;
  }
  std::string problem = optfuse::checkInput(*input, registry);
  if (!problem.empty()) {
    optfuse::reportInputError(inputFilename, problem);
    return 1;
  }

  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(outputFilename, &errorMessage);
  if (!output) {
    llvm::WithColor::error(llvm::errs(), "optfuse-opt") << errorMessage << "\n";
    return 1;
  }
  if (failed(MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1; // The output file is deleted: nothing half-written is left behind.
  output->keep();
  return 0;
}
