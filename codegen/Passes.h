//===- Passes.h - Code generation passes ------------------------*- C++ -*-===//
//
// This file declares the passes that lower planned rules out of the optim dialect.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_CODEGEN_PASSES_H
#define OPTFUSE_CODEGEN_PASSES_H

#include "dialect/OptimOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::optim {

#define GEN_PASS_DECL
#include "codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "codegen/Passes.h.inc"

} // namespace mlir::optim

#endif // OPTFUSE_CODEGEN_PASSES_H
