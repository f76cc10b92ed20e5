//===- Abi.h - The rule interface recorded in a bundle ----------*- C++ -*-===//
//
// This file declares the writer of a planned rule's ABI text (format: runtime/Abi.h).
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_CODEGEN_ABI_H
#define OPTFUSE_CODEGEN_ABI_H

#include "dialect/OptimOps.h"

#include "mlir/IR/Builders.h"

#include <string>

namespace mlir::optim {

/// The shortest decimal that reads back as `value`: 0.999f prints as 0.999, so values keep the
/// decimal the spec wrote when read as double.
std::string formatShortest(float value);

/// The ABI text of a planned rule (see runtime/Abi.h for the format).
std::string getAbiText(RuleOp rule);

} // namespace mlir::optim

#endif // OPTFUSE_CODEGEN_ABI_H
