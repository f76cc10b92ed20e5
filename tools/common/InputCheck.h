//===- InputCheck.h - Whole-input checks shared by the tools ----*- C++ -*-===//
//
// This file declares the check the tools run on their input before parsing it, so that empty
// input and unreadable bytecode get a located diagnostic like every other bad input.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_TOOLS_COMMON_INPUTCHECK_H
#define OPTFUSE_TOOLS_COMMON_INPUTCHECK_H

#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/MemoryBuffer.h"

#include <string>

namespace optfuse {

/// Returns an error message (to report at 1:1) for input that is empty, holds only comments, or
/// starts like MLIR bytecode but cannot be read; an empty string otherwise.
std::string checkInput(const llvm::MemoryBuffer &buffer, mlir::DialectRegistry &registry);

/// Prints `file:1:1: error: message` for `filename` ("-" is standard input).
void reportInputError(llvm::StringRef filename, llvm::StringRef message);

} // namespace optfuse

#endif // OPTFUSE_TOOLS_COMMON_INPUTCHECK_H
