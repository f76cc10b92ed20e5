//===- SweepEmitter.h - Code shared by the CPU and GPU lowerings -*- C++ -*-===//
//
// This file declares the pieces both lowerings of a planned rule use: access to the runtime's
// argument struct (runtime/Abi.h) through LLVM-dialect pointers, the per-layer scalar math in
// double precision, and the elementwise sweep body on scalars or vectors.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_CODEGEN_SWEEPEMITTER_H
#define OPTFUSE_CODEGEN_SWEEPEMITTER_H

#include "dialect/OptimOps.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::optim {

/// Field indices of OptfuseSweepArgs, then the fields OptfuseGpuArgs adds.
enum ArgsField {
  kChunkLayer,
  kChunkBegin,
  kChunkEnd,
  kBuffers,
  kHypers,
  kFlags,
  kSums,
  kPartials,
  kStep,
  kNumChunks,
  kLayerFirstChunk,
  kLayerScalars,
  kLayerDone,
  kBarrier
};

/// The module's one planned rule, or an error on the module (none or several rules) or on the
/// rule (not planned yet).
FailureOr<RuleOp> getPlannedRule(ModuleOp module);

/// scf.for builds its own terminator when it has no loop-carried values; the lowerings always
/// emit theirs, so they drop it.
void dropImplicitYield(scf::ForOp loop);

class SweepEmitter {
public:
  /// `addressSpace` is that of every pointer (0 on the CPU, 1 = global on NVVM); `gpuArgs`
  /// selects the OptfuseGpuArgs layout.
  SweepEmitter(RuleOp rule, OpBuilder &b, unsigned addressSpace, bool gpuArgs);

  Type f32() { return b.getF32Type(); }
  Type f64() { return b.getF64Type(); }
  Type i32() { return b.getI32Type(); }
  Type i64() { return b.getI64Type(); }
  Type ptr() { return LLVM::LLVMPointerType::get(b.getContext(), addressSpace); }
  Value constI64(int64_t value);
  Value constI32(int32_t value);
  Value constF32(float value);

  /// `&base[index]` with elements of `elementType`.
  Value addressOf(Value base, Value index, Type elementType);
  /// Loads `type` from `base[index]`; `isVolatile` for data other threads wrote in this launch.
  Value loadAt(Value base, Value index, Type elementType, Type type, bool isVolatile = false);
  void storeAt(Value value, Value base, Value index, Type elementType);
  /// Loads a field of the argument struct.
  Value field(Value args, ArgsField which);

  /// Maps every scalar of the rule that sweep `k` may use, for `layer`: hyperparameters, the
  /// step counter `step`, flags, the totals of sweeps before k, and the scalar math, computed in
  /// double (the rule's f32 scalars become f64). `volatileSums` on the GPU.
  void emitScalars(unsigned k, Value args, Value layer, Value step, IRMapping &outer,
                   bool volatileSums);

  /// Emits one copy of the sweep body on `elements` (vectors of `lanes`, or scalars when 1) and
  /// returns the yielded values. Scalars from outside the body are rounded to f32 and broadcast
  /// once, right after their definition (cached in `cache`).
  SmallVector<Value> emitBody(SweepOp sweep, ValueRange elements, unsigned lanes,
                              IRMapping &outer, DenseMap<Value, Value> &cache);

  /// The values defined outside `sweep` that its body uses, in order of first use.
  static SmallVector<Value> getOuterScalars(SweepOp sweep);

  RuleOp rule;
  OpBuilder &b;
  Location loc;
  unsigned addressSpace;
  Type argsType;
  unsigned numHypers, numBuffers, totalSums;

private:
  void emitInDouble(Operation &op, IRMapping &outer);
};

} // namespace mlir::optim

#endif // OPTFUSE_CODEGEN_SWEEPEMITTER_H
