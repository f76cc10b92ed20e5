//===- SweepEmitter.cpp - Code shared by the CPU and GPU lowerings --------===//

#include "codegen/SweepEmitter.h"
#include "codegen/Abi.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::optim;

FailureOr<RuleOp> mlir::optim::getPlannedRule(ModuleOp module) {
  SmallVector<RuleOp> rules(module.getOps<RuleOp>());
  if (rules.size() != 1)
    return module.emitError() << "expected exactly one optim.rule to lower, found "
                              << rules.size();
  if (!isPlanned(rules.front()))
    return rules.front().emitError() << "@" << rules.front().getSymName()
                                     << " is not planned: run -optim-plan-sweeps first";
  return rules.front();
}

void mlir::optim::dropImplicitYield(scf::ForOp loop) {
  Block *body = loop.getBody();
  if (!body->empty() && isa<scf::YieldOp>(body->back()))
    body->back().erase();
}

SweepEmitter::SweepEmitter(RuleOp rule, OpBuilder &b, unsigned addressSpace, bool gpuArgs)
    : rule(rule), b(b), loc(rule.getLoc()), addressSpace(addressSpace) {
  SmallVector<Type> fields(8, ptr());
  fields.push_back(f64());
  if (gpuArgs) {
    fields.push_back(i64());
    fields.append(4, ptr());
  }
  argsType = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
  Block &body = rule.getBody().front();
  numHypers = llvm::range_size(body.getOps<HyperOp>());
  numBuffers = getBufferNames(rule).size();
  totalSums = 0;
  for (SweepOp sweep : getSweeps(rule))
    totalSums += sweep.getNumReductions();
}

Value SweepEmitter::constI64(int64_t value) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(value));
}

Value SweepEmitter::constI32(int32_t value) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(value));
}

Value SweepEmitter::constF32(float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value SweepEmitter::addressOf(Value base, Value index, Type elementType) {
  return LLVM::GEPOp::create(b, loc, ptr(), elementType, base, ValueRange{index});
}

static unsigned alignmentOf(Type elementType) {
  return isa<LLVM::LLVMPointerType>(elementType) || elementType.isInteger(64) ||
                 elementType.isF64()
             ? 8
             : 4;
}

Value SweepEmitter::loadAt(Value base, Value index, Type elementType, Type type,
                           bool isVolatile) {
  return LLVM::LoadOp::create(b, loc, type, addressOf(base, index, elementType),
                              alignmentOf(elementType), isVolatile);
}

void SweepEmitter::storeAt(Value value, Value base, Value index, Type elementType) {
  LLVM::StoreOp::create(b, loc, value, addressOf(base, index, elementType),
                        alignmentOf(elementType));
}

Value SweepEmitter::field(Value args, ArgsField which) {
  Value address = LLVM::GEPOp::create(b, loc, ptr(), argsType, args,
                                      ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(which)});
  Type type = which == kStep ? f64() : which == kNumChunks ? i64() : ptr();
  return LLVM::LoadOp::create(b, loc, type, address, /*alignment=*/8);
}

void SweepEmitter::emitScalars(unsigned k, Value args, Value layer, Value step,
                               IRMapping &outer, bool volatileSums) {
  Block &body = rule.getBody().front();
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
        outer.map(sweep.getResult(j), loadAt(sums, index, f64(), f64(), volatileSums));
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
      outer.map(op.getResult(0), step);
    } else if (isa<FlagOp>(op)) {
      if (!flags)
        flags = loadAt(field(args, kFlags), layer, i32(), i32());
      Value shifted = arith::ShRUIOp::create(b, loc, flags, constI32(flagIndex++));
      outer.map(op.getResult(0), arith::TruncIOp::create(b, loc, b.getI1Type(), shifted));
    } else if (!isa<ParamOp, GradOp, StateOp>(op)) {
      emitInDouble(op, outer);
    }
  }
}

void SweepEmitter::emitInDouble(Operation &op, IRMapping &outer) {
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    if (auto value = dyn_cast<FloatAttr>(constant.getValue())) {
      // The constant as written in the spec (0.1, not the f32 nearest to it), held in double.
      double asWritten = std::stod(formatShortest(value.getValue().convertToFloat()));
      outer.map(op.getResult(0), arith::ConstantOp::create(b, loc, b.getF64FloatAttr(asWritten)));
      return;
    }
  }
  SmallVector<Value> operands;
  for (Value operand : op.getOperands())
    operands.push_back(outer.lookup(operand));
  SmallVector<Type> types;
  for (Type type : op.getResultTypes())
    types.push_back(type.isF32() ? f64() : type);
  OperationState state(op.getLoc(), op.getName(), operands, types, op.getAttrs());
  outer.map(op.getResults(), b.create(state)->getResults());
}

SmallVector<Value> SweepEmitter::emitBody(SweepOp sweep, ValueRange elements, unsigned lanes,
                                          IRMapping &outer, DenseMap<Value, Value> &cache) {
  Block &body = sweep.getBody().front();
  IRMapping local;
  for (auto [arg, element] : llvm::zip(body.getArguments(), elements))
    local.map(arg, element);
  auto vectorOf = [&](Type type) -> Type {
    return lanes == 1 ? type : VectorType::get({lanes}, type);
  };
  // A scalar defined outside the body: rounded to float (the per-layer math runs in double)
  // and, for vectors, broadcast; both once, right after its definition.
  auto operandFor = [&](Value value) -> Value {
    if (Value mapped = local.lookupOrNull(value))
      return mapped;
    Value scalar = outer.lookup(value);
    if (scalar.getType().isF64()) {
      Value &rounded = cache[scalar];
      if (!rounded) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointAfterValue(scalar);
        rounded = arith::TruncFOp::create(b, loc, f32(), scalar);
      }
      scalar = rounded;
    }
    if (lanes == 1)
      return scalar;
    Value &splat = cache[scalar];
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
    local.map(op.getResults(), b.create(state)->getResults());
  }
  SmallVector<Value> yields;
  for (Value value : cast<YieldOp>(body.getTerminator()).getValues())
    yields.push_back(operandFor(value));
  return yields;
}

SmallVector<Value> SweepEmitter::getOuterScalars(SweepOp sweep) {
  llvm::SetVector<Value> used;
  Block &body = sweep.getBody().front();
  body.walk([&](Operation *op) {
    for (Value operand : op->getOperands())
      if (operand.getParentBlock() != &body)
        used.insert(operand);
  });
  return used.takeVector();
}
