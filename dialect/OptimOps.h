//===- OptimOps.h - The optim dialect ---------------------------*- C++ -*-===//
//
// This file declares the optim dialect, its `!optim.layer` type and its operations.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_DIALECT_OPTIMOPS_H
#define OPTFUSE_DIALECT_OPTIMOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialect/OptimDialect.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/OptimTypes.h.inc"

namespace mlir::optim {
class SweepOp;
class UpdateOp;
} // namespace mlir::optim

#define GET_OP_CLASSES
#include "dialect/OptimOps.h.inc"

namespace mlir::optim {

/// Returns true when `type` is `!optim.layer`.
inline bool isLayer(Type type) { return llvm::isa<LayerType>(type); }

/// Returns true when `name` can name a hyperparameter, flag or state buffer: a C identifier, since
/// the runtime exposes these names as option and state keys.
bool isValidInterfaceName(StringRef name);

/// The sweeps of a planned rule, in execution order (empty before sweep planning).
SmallVector<SweepOp> getSweeps(RuleOp rule);

} // namespace mlir::optim

#endif // OPTFUSE_DIALECT_OPTIMOPS_H
