//===- optfuse-opt.cpp - The optfuse optimizer driver ---------------------===//
//
// This file implements optfuse-opt: mlir-opt with the optim dialect, its passes and the upstream
// dialects and passes registered, following mlir-opt's conventions. On top of mlir-opt it rejects
// empty input and unreadable bytecode with a located diagnostic and exit code 1, so every kind of
// bad input gives `file:line:col: error: ...`.
//
//===----------------------------------------------------------------------===//

#include "dialect/OptimOps.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;

/// Returns true when `text` holds nothing but whitespace and `//` comments.
static bool isBlank(llvm::StringRef text) {
  while (true) {
    text = text.ltrim();
    if (!text.consume_front("//"))
      return text.empty();
    text = text.drop_until([](char c) { return c == '\n'; });
  }
}

/// Checks the whole input before MlirOptMain sees it. Returns an error message (reported at 1:1)
/// for input that MlirOptMain would accept silently or report without a location.
static std::string checkInput(const llvm::MemoryBuffer &buffer, DialectRegistry &registry) {
  if (isBlank(buffer.getBuffer()))
    return "input is empty: expected an `optim.rule` or other MLIR operations";
  if (!isBytecode(buffer.getMemBufferRef()))
    return {};
  MLIRContext context(registry);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (message.empty())
      message = diag.str();
    return success();
  });
  Block block;
  if (succeeded(readBytecodeFile(buffer.getMemBufferRef(), &block, ParserConfig(&context))))
    return {};
  return "input starts like MLIR bytecode but cannot be read: " + message;
}

int main(int argc, char **argv) {
  registerAllPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<optim::OptimDialect>();

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
  std::string problem = checkInput(*input, registry);
  if (!problem.empty()) {
    llvm::errs() << (inputFilename == "-" ? "<stdin>" : inputFilename) << ":1:1: error: " << problem
                 << "\n";
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
