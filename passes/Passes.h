//===- Passes.h - optim to optim transformations ----------------*- C++ -*-===//
//
// This file declares the optim-dialect passes and the plan queries that later stages share.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_PASSES_PASSES_H
#define OPTFUSE_PASSES_PASSES_H

#include "dialect/OptimOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

#include <string>

namespace mlir::optim {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Returns true when `rule` is in planned form: declarations, scalar arith/math, sweeps, update.
bool isPlanned(RuleOp rule);

/// The buffer a layer value of a rule names: 0 for the parameter, 1 for the gradient, 2 + i for
/// the i-th declared state buffer. Returns -1 for values that are not a layer declaration.
int getBufferIndex(Value layer);

/// The buffers of a rule in index order: "param", "grad", then the state buffer names.
SmallVector<std::string> getBufferNames(RuleOp rule);

/// For each layer result of the last sweep of a planned rule, the buffer it is written to.
SmallVector<int> getWrittenBuffers(RuleOp rule);

/// Describes the sweeps of a planned rule: what each reads, reduces and writes, and the bytes it
/// moves per fp32 element. One line per sweep after a summary line.
std::string describePlan(RuleOp rule);

} // namespace mlir::optim

#endif // OPTFUSE_PASSES_PASSES_H
