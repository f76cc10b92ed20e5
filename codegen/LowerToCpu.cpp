//===- LowerToCpu.cpp - Planned rules to vectorized CPU loops -------------===//
//
// This file lowers each sweep of a planned rule to a function
//   void optfuse_sweep_K(const OptfuseSweepArgs *args, int64_t chunk_begin, int64_t chunk_end)
// (runtime/Abi.h) made of scf loops over vector arith/math, with LLVM-dialect pointer accesses.
// Per chunk it loads the layer's hyperparameters, flags and earlier sums, recomputes the rule's
// per-layer scalar math (a few flops per chunk), then runs the sweep body over the chunk's elements:
// an unrolled vector loop with one accumulator per unrolled copy and reduction, a single-vector
// loop, and a scalar tail. It also emits the rule's ABI text as the global `optfuse_abi`.
//
//===----------------------------------------------------------------------===//

#include "codegen/Abi.h"
#include "codegen/Passes.h"
#include "passes/Passes.h"
#include "runtime/Abi.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::optim {
#define GEN_PASS_DEF_LOWERTOCPU
#include "codegen/Passes.h.inc"
} // namespace mlir::optim

using namespace mlir;
using namespace mlir::optim;

namespace {

/// scf.for builds its terminator itself when it has no loop-carried values; the loops below
/// always emit their own.
static void dropImplicitYield(scf::ForOp loop) {
  Block *body = loop.getBody();
  if (!body->empty() && isa<scf::YieldOp>(body->back()))
    body->back().erase();
}

/// Field indices of OptfuseSweepArgs.
enum ArgsField {
  kChunkLayer,
  kChunkBegin,
  kChunkEnd,
  kBuffers,
  kHypers,
  kFlags,
  kSums,
  kPartials,
  kStep
};

/// Builds the sweep functions of one planned rule.
class CpuLowering {
public:
  CpuLowering(RuleOp rule, OpBuilder &b, unsigned width, unsigned unroll)
      : rule(rule), b(b), loc(rule.getLoc()), width(width), unroll(unroll) {}

  void lowerSweep(unsigned k, SweepOp sweep, unsigned totalSums);

private:
  Type f32() { return b.getF32Type(); }
  Type f64() { return b.getF64Type(); }
  Type i64() { return b.getI64Type(); }
  Type ptr() { return LLVM::LLVMPointerType::get(b.getContext()); }
  Value constI64(int64_t value) {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(value));
  }
  /// Loads `type` from `base[index]`, where elements of `base` have type `elementType`.
  Value loadAt(Value base, Value index, Type elementType, Type type) {
    Value address = LLVM::GEPOp::create(b, loc, ptr(), elementType, base, ValueRange{index});
    unsigned alignment = isa<LLVM::LLVMPointerType>(elementType) || elementType.isInteger(64) ? 8 : 4;
    return LLVM::LoadOp::create(b, loc, type, address, alignment);
  }
  Value field(Value args, ArgsField which) {
    Value address = LLVM::GEPOp::create(b, loc, ptr(), argsType, args,
                                        ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(which)});
    Type type = which == kStep ? f64() : ptr();
    return LLVM::LoadOp::create(b, loc, type, address, /*alignment=*/8);
  }

  /// Recomputes the rule's scalars that sweep `k` uses, for layer `layer`.
  void emitScalars(unsigned k, Value args, Value layer, unsigned totalSums, IRMapping &outer);
  /// Emits `op`, a scalar arith/math op of the rule, computing in double instead of float.
  void emitInDouble(Operation &op, IRMapping &outer);
  /// Emits one copy of the sweep body on `elements` (vectors of `lanes`, or scalars when 1).
  SmallVector<Value> emitBody(SweepOp sweep, ValueRange elements, unsigned lanes,
                              IRMapping &outer, DenseMap<Value, Value> &splats);

  RuleOp rule;
  OpBuilder &b;
  Location loc;
  unsigned width, unroll;
  Type argsType;
};

} // namespace

void CpuLowering::emitScalars(unsigned k, Value args, Value layer, unsigned totalSums,
                              IRMapping &outer) {
  Block &body = rule.getBody().front();
  unsigned numHypers = llvm::range_size(body.getOps<HyperOp>());
  Value hypers = field(args, kHypers);
  Value hyperRow = arith::MulIOp::create(b, loc, layer, constI64(numHypers));
  Value sumRow = arith::MulIOp::create(b, loc, layer, constI64(totalSums));
  Value flags;
  unsigned hyperIndex = 0, flagIndex = 0, sumIndex = 0, sweepIndex = 0;
  for (Operation &op : body.without_terminator()) {
    if (auto sweep = dyn_cast<SweepOp>(op)) {
      if (sweepIndex++ == k)
        return;
      Value sums = field(args, kSums);
      for (unsigned j = 0; j < sweep.getNumReductions(); ++j) {
        Value index = arith::AddIOp::create(b, loc, sumRow, constI64(sumIndex++));
        outer.map(sweep.getResult(j), loadAt(sums, index, f64(), f64()));
      }
    } else if (auto hyper = dyn_cast<HyperOp>(op)) {
      Value index = arith::AddIOp::create(b, loc, hyperRow, constI64(hyperIndex++));
      Value value = loadAt(hypers, index, f64(), f64());
      if (hyper.getType().isInteger(1)) {
        Value zero = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
        value = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value, zero);
      }
      outer.map(hyper.getResult(), value);
    } else if (isa<StepOp>(op)) {
      outer.map(op.getResult(0), field(args, kStep));
    } else if (isa<FlagOp>(op)) {
      if (!flags)
        flags = loadAt(field(args, kFlags), layer, b.getI32Type(), b.getI32Type());
      Value shifted = arith::ShRUIOp::create(
          b, loc, flags, arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(flagIndex++)));
      outer.map(op.getResult(0), arith::TruncIOp::create(b, loc, b.getI1Type(), shifted));
    } else if (!isa<ParamOp, GradOp, StateOp>(op)) {
      emitInDouble(op, outer);
    }
  }
}

void CpuLowering::emitInDouble(Operation &op, IRMapping &outer) {
  auto widen = [&](Type type) { return type.isF32() ? f64() : type; };
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (auto value = dyn_cast<FloatAttr>(constant.getValue())) {
      // The constant as written in the spec (0.1, not the f32 nearest to it), held in double.
      double asWritten = std::stod(formatShortest(value.getValue().convertToFloat()));
      outer.map(op.getResult(0),
                arith::ConstantOp::create(b, loc, b.getF64FloatAttr(asWritten)));
      return;
    }
  }
  SmallVector<Value> operands;
  for (Value operand : op.getOperands())
    operands.push_back(outer.lookup(operand));
  SmallVector<Type> types;
  for (Type type : op.getResultTypes())
    types.push_back(widen(type));
  OperationState state(op.getLoc(), op.getName(), operands, types, op.getAttrs());
  outer.map(op.getResults(), b.create(state)->getResults());
}

SmallVector<Value> CpuLowering::emitBody(SweepOp sweep, ValueRange elements, unsigned lanes,
                                         IRMapping &outer, DenseMap<Value, Value> &splats) {
  Block &body = sweep.getBody().front();
  IRMapping local;
  for (auto [arg, element] : llvm::zip(body.getArguments(), elements))
    local.map(arg, element);
  auto vectorOf = [&](Type type) -> Type {
    return lanes == 1 ? type : VectorType::get({lanes}, type);
  };
  // A scalar defined outside the body: rounded to float (the per-layer math runs in double)
  // and, for vectors, broadcast; both once per chunk.
  auto operandFor = [&](Value value) -> Value {
    if (Value mapped = local.lookupOrNull(value))
      return mapped;
    Value scalar = outer.lookup(value);
    if (scalar.getType().isF64()) {
      Value &rounded = splats[scalar];
      if (!rounded) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointAfterValue(scalar);
        rounded = arith::TruncFOp::create(b, loc, f32(), scalar);
      }
      scalar = rounded;
    }
    if (lanes == 1)
      return scalar;
    Value &splat = splats[scalar];
    if (!splat) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointAfterValue(scalar);
      splat = vector::BroadcastOp::create(b, loc, vectorOf(scalar.getType()), scalar);
    }
    return splat;
  };
  for (Operation &op : body.without_terminator()) {
    SmallVector<Value> operands;
    for (auto [index, operand] : llvm::enumerate(op.getOperands())) {
      // A select keeps a per-layer i1 condition scalar: it picks whole vectors.
      bool scalarCondition = isa<arith::SelectOp>(op) && index == 0 &&
                             !local.contains(operand) && operand.getType().isInteger(1);
      operands.push_back(scalarCondition ? outer.lookup(operand) : operandFor(operand));
    }
    SmallVector<Type> types;
    for (Type type : op.getResultTypes())
      types.push_back(vectorOf(type));
    OperationState state(op.getLoc(), op.getName(), operands, types, op.getAttrs());
    Operation *created = b.create(state);
    local.map(op.getResults(), created->getResults());
  }
  SmallVector<Value> yields;
  for (Value value : cast<YieldOp>(body.getTerminator()).getValues())
    yields.push_back(operandFor(value));
  return yields;
}

void CpuLowering::lowerSweep(unsigned k, SweepOp sweep, unsigned totalSums) {
  MLIRContext *ctx = b.getContext();
  argsType = LLVM::LLVMStructType::getLiteral(
      ctx, {ptr(), ptr(), ptr(), ptr(), ptr(), ptr(), ptr(), ptr(), f64()});
  unsigned numBuffers = getBufferNames(rule).size();
  unsigned numReductions = sweep.getNumReductions();
  SmallVector<int> written = k + 1 == getSweeps(rule).size() ? getWrittenBuffers(rule)
                                                             : SmallVector<int>();

  auto func = func::FuncOp::create(b, loc, ("optfuse_sweep_" + Twine(k)).str(),
                                   b.getFunctionType({ptr(), i64(), i64()}, {}));
  Block *entry = func.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  Value args = entry->getArgument(0);
  Value one = constI64(1);
  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));

  auto chunkLoop = scf::ForOp::create(b, loc, entry->getArgument(1), entry->getArgument(2), one);
  b.setInsertionPointToStart(chunkLoop.getBody());
  Value chunk = chunkLoop.getInductionVar();
  Value layer = loadAt(field(args, kChunkLayer), chunk, i64(), i64());
  Value begin = loadAt(field(args, kChunkBegin), chunk, i64(), i64());
  Value end = loadAt(field(args, kChunkEnd), chunk, i64(), i64());
  Value count = arith::SubIOp::create(b, loc, end, begin);

  IRMapping outer;
  emitScalars(k, args, layer, totalSums, outer);

  // The chunk's start in each buffer the sweep touches.
  Value buffers = field(args, kBuffers);
  Value bufferRow = arith::MulIOp::create(b, loc, layer, constI64(numBuffers));
  DenseMap<int, Value> bases;
  auto baseOf = [&](int buffer) {
    Value &base = bases[buffer];
    if (!base) {
      Value index = arith::AddIOp::create(b, loc, bufferRow, constI64(buffer));
      Value start = loadAt(buffers, index, ptr(), ptr());
      base = LLVM::GEPOp::create(b, loc, ptr(), f32(), start, ValueRange{begin});
    }
    return base;
  };
  SmallVector<Value> inputBases, outputBases;
  for (Value input : sweep.getInputs())
    inputBases.push_back(baseOf(getBufferIndex(input)));
  for (int buffer : written)
    outputBases.push_back(baseOf(buffer));

  // One step of `lanes` elements at `offset`, accumulating into `accs`: returns the new sums.
  DenseMap<Value, Value> splats;
  auto step = [&](Value offset, unsigned lanes, ValueRange accs) {
    Type type = lanes == 1 ? f32() : VectorType::get({lanes}, f32());
    SmallVector<Value> elements;
    for (Value base : inputBases)
      elements.push_back(loadAt(base, offset, f32(), type));
    SmallVector<Value> yields = emitBody(sweep, elements, lanes, outer, splats);
    SmallVector<Value> sums;
    for (unsigned j = 0; j < numReductions; ++j)
      sums.push_back(arith::AddFOp::create(b, loc, accs[j], yields[j]));
    for (auto [base, value] : llvm::zip(outputBases, ArrayRef(yields).drop_front(numReductions))) {
      Value address = LLVM::GEPOp::create(b, loc, ptr(), f32(), base, ValueRange{offset});
      LLVM::StoreOp::create(b, loc, value, address, /*alignment=*/4);
    }
    return sums;
  };

  // Unrolled vector loop: `unroll` copies, each with its own accumulators.
  VectorType vecType = VectorType::get({width}, f32());
  Value zeroVec = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(vecType, 0.0f));
  unsigned block = width * unroll;
  Value mainEnd = arith::SubIOp::create(
      b, loc, count, arith::RemSIOp::create(b, loc, count, constI64(block)));
  SmallVector<Value> init(numReductions * unroll, zeroVec);
  auto mainLoop = scf::ForOp::create(b, loc, constI64(0), mainEnd, constI64(block), init);
  dropImplicitYield(mainLoop);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(mainLoop.getBody());
    SmallVector<Value> next;
    for (unsigned u = 0; u < unroll; ++u) {
      Value offset =
          arith::AddIOp::create(b, loc, mainLoop.getInductionVar(), constI64(u * width));
      llvm::append_range(next, step(offset, width, mainLoop.getRegionIterArgs().slice(
                                                       u * numReductions, numReductions)));
    }
    scf::YieldOp::create(b, loc, next);
  }
  // Single-vector loop, then the scalar tail.
  Value vecEnd = arith::SubIOp::create(
      b, loc, count, arith::RemSIOp::create(b, loc, count, constI64(width)));
  auto vecLoop = scf::ForOp::create(b, loc, mainEnd, vecEnd, constI64(width),
                                    mainLoop.getResults().take_front(numReductions));
  dropImplicitYield(vecLoop);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(vecLoop.getBody());
    scf::YieldOp::create(b, loc,
                         step(vecLoop.getInductionVar(), width, vecLoop.getRegionIterArgs()));
  }
  SmallVector<Value> tailInit(numReductions, zeroF);
  auto tailLoop = scf::ForOp::create(b, loc, vecEnd, count, one, tailInit);
  dropImplicitYield(tailLoop);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(tailLoop.getBody());
    scf::YieldOp::create(b, loc, step(tailLoop.getInductionVar(), 1, tailLoop.getRegionIterArgs()));
  }

  // Partials: (acc0 + acc1 + ... ) reduced across lanes, plus the tail.
  if (numReductions) {
    Value partials = field(args, kPartials);
    Value row = arith::MulIOp::create(b, loc, chunk, constI64(numReductions));
    for (unsigned j = 0; j < numReductions; ++j) {
      Value acc = vecLoop.getResult(j);
      for (unsigned u = 1; u < unroll; ++u)
        acc = arith::AddFOp::create(b, loc, acc, mainLoop.getResult(u * numReductions + j));
      Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc);
      sum = arith::AddFOp::create(b, loc, sum, tailLoop.getResult(j));
      Value index = arith::AddIOp::create(b, loc, row, constI64(j));
      Value address = LLVM::GEPOp::create(b, loc, ptr(), f32(), partials, ValueRange{index});
      LLVM::StoreOp::create(b, loc, sum, address, /*alignment=*/4);
    }
  }
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
}

namespace {
struct LowerToCpuPass : public mlir::optim::impl::LowerToCpuBase<LowerToCpuPass> {
  using LowerToCpuBase::LowerToCpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<RuleOp> rules(module.getOps<RuleOp>());
    if (rules.size() != 1) {
      module.emitError() << "expected exactly one optim.rule to lower, found " << rules.size();
      return signalPassFailure();
    }
    RuleOp rule = rules.front();
    SmallVector<SweepOp> sweeps = getSweeps(rule);
    if (!isPlanned(rule)) {
      rule.emitError() << "@" << rule.getSymName()
                       << " is not planned: run -optim-plan-sweeps first";
      return signalPassFailure();
    }
    if (vectorWidth < 1 || unroll < 1) {
      rule.emitError() << "vector-width and unroll must be at least 1";
      return signalPassFailure();
    }
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    unsigned totalSums = 0;
    for (SweepOp sweep : sweeps)
      totalSums += sweep.getNumReductions();
    CpuLowering lowering(rule, b, vectorWidth, unroll);
    for (auto [k, sweep] : llvm::enumerate(sweeps))
      lowering.lowerSweep(k, sweep, totalSums);
    emitAbiGlobal(b, rule);
    rule.erase();
  }
};
} // namespace
