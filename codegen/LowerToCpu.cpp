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

#include "codegen/Passes.h"
#include "codegen/SweepEmitter.h"
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

/// Builds the sweep functions of one planned rule.
class CpuLowering : public SweepEmitter {
public:
  CpuLowering(RuleOp rule, OpBuilder &b, unsigned width, unsigned unroll)
      : SweepEmitter(rule, b, /*addressSpace=*/0, /*gpuArgs=*/false), width(width),
        unroll(unroll) {}

  void lowerSweep(unsigned k, SweepOp sweep);

private:
  unsigned width, unroll;
};

} // namespace

void CpuLowering::lowerSweep(unsigned k, SweepOp sweep) {
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
  emitScalars(k, args, layer, field(args, kStep), outer, /*volatileSums=*/false);

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
      storeAt(value, base, offset, f32());
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
      storeAt(sum, partials, arith::AddIOp::create(b, loc, row, constI64(j)), f32());
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
    FailureOr<RuleOp> planned = getPlannedRule(module);
    if (failed(planned))
      return signalPassFailure();
    RuleOp rule = *planned;
    SmallVector<SweepOp> sweeps = getSweeps(rule);
    if (vectorWidth < 1 || unroll < 1) {
      rule.emitError() << "vector-width and unroll must be at least 1";
      return signalPassFailure();
    }
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    CpuLowering lowering(rule, b, vectorWidth, unroll);
    for (auto [k, sweep] : llvm::enumerate(sweeps))
      lowering.lowerSweep(k, sweep);
    rule.erase();
  }
};
} // namespace
