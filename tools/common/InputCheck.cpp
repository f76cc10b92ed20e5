//===- InputCheck.cpp - Whole-input checks shared by the tools ------------===//

#include "tools/common/InputCheck.h"

#include "mlir/Bytecode/BytecodeReader.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/raw_ostream.h"

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

std::string optfuse::checkInput(const llvm::MemoryBuffer &buffer, DialectRegistry &registry) {
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

void optfuse::reportInputError(llvm::StringRef filename, llvm::StringRef message) {
  llvm::errs() << (filename == "-" ? "<stdin>" : filename) << ":1:1: error: " << message << "\n";
}
