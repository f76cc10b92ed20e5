//===- LowerToGpu.cpp - Planned rules to one multi-tensor GPU kernel ------===//
//
// This file lowers a planned rule to a gpu.module holding
//   optfuse_step(args, t)      one persistent kernel that runs every sweep over ALL layers,
//                              with a grid-wide barrier between sweeps (cooperative launch);
//   optfuse_sweep_K(args, t)   one kernel per sweep, the fallback without cooperative launch.
// `args` is an OptfuseGpuArgs (runtime/Abi.h) in device memory: the layer table with 64-bit
// element counts and no limit on the number of layers.
//
// Blocks take chunks (layer, element range) in a grid-stride loop. A chunk is processed with
// 16-byte vector accesses when all its buffers are 16-byte aligned, with scalar accesses
// otherwise, and each thread keeps its own partial sums. The block combines them with warp
// shuffles and shared memory in a fixed order and writes one partial per chunk and reduction.
// The block that finishes a layer's last chunk (an integer counter per layer) adds the layer's
// partials in a fixed order in double, stores the totals and computes, once per layer, the
// scalars the next sweep needs (trust ratio, phi(t), ...). No float atomics touch a result: every
// result is identical run to run.
//
//===----------------------------------------------------------------------===//

#include "codegen/Passes.h"
#include "codegen/SweepEmitter.h"
#include "passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

namespace mlir::optim {
#define GEN_PASS_DEF_LOWERTOGPU
#include "codegen/Passes.h.inc"
} // namespace mlir::optim

using namespace mlir;
using namespace mlir::optim;

namespace {

constexpr unsigned kWarp = 32;
constexpr unsigned kLanes = 4; // f32 per 16-byte access

/// Creates an scf.if whose regions the caller fills; both regions end with a yield of `types`.
scf::IfOp createIf(OpBuilder &b, Location loc, TypeRange types, Value condition, bool withElse) {
  auto op = scf::IfOp::create(b, loc, types, condition, withElse);
  for (Region *region : {&op.getThenRegion(), &op.getElseRegion()})
    if (!region->empty() && !region->front().empty() && !types.empty())
      region->front().back().erase();
  return op;
}

class GpuLowering : public SweepEmitter {
public:
  GpuLowering(RuleOp rule, OpBuilder &b, unsigned blockSize)
      : SweepEmitter(rule, b, /*addressSpace=*/1, /*gpuArgs=*/true), blockSize(blockSize),
        sweeps(getSweeps(rule)) {
    for (SweepOp sweep : sweeps) {
      maxReductions = std::max(maxReductions, sweep.getNumReductions());
      numLayerScalars = std::max<unsigned>(numLayerScalars, getOuterScalars(sweep).size());
    }
  }

  /// Emits the shared-memory globals and both kernel variants into the gpu.module at `b`.
  void emitKernels();

  unsigned numLayerScalars = 0, maxReductions = 0;

private:
  Type ptrShared() { return LLVM::LLVMPointerType::get(b.getContext(), 3); }
  Value toI64(Value index) { return arith::IndexCastOp::create(b, loc, i64(), index); }
  Value shared(StringRef name) { return LLVM::AddressOfOp::create(b, loc, ptrShared(), name); }
  Value addressOfShared(Value base, Value index, Type elementType) {
    return LLVM::GEPOp::create(b, loc, ptrShared(), elementType, base, ValueRange{index});
  }
  Value eq(Value a, Value c) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, a, c);
  }
  void fence() { LLVM::FenceOp::create(b, loc, LLVM::AtomicOrdering::acq_rel, "device"); }

  /// Opens a kernel `name(args, t)` and returns its entry block.
  Block *openKernel(StringRef name);
  void emitSweep(unsigned k, Value args, Value step);
  /// All threads of the grid wait here until every block has arrived (cooperative launch only).
  void emitGridBarrier(Value args);
  /// Sum of `value` over the block's threads, in thread 0 (warp shuffles, then warps in order).
  void emitBlockSumF32(ArrayRef<Value> values, Value tid, Value partialsRow, Value partials);
  /// After the layer's last chunk of sweep k: totals in double, then the next sweep's scalars.
  void emitLayerFinalize(unsigned k, Value args, Value step, Value layer, Value tid);

  unsigned blockSize;
  SmallVector<SweepOp> sweeps;
  Value tid, ntid, bid, nbid; // i64
};

} // namespace

Block *GpuLowering::openKernel(StringRef name) {
  auto type = b.getFunctionType({ptr(), f64()}, {});
  auto func = gpu::GPUFuncOp::create(b, loc, name, type);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({static_cast<int32_t>(blockSize), 1, 1}));
  Block *entry = &func.getBody().front();
  b.setInsertionPointToStart(entry);
  tid = toI64(gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
  ntid = constI64(blockSize);
  bid = toI64(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  nbid = toI64(gpu::GridDimOp::create(b, loc, gpu::Dimension::x));
  return entry;
}

void GpuLowering::emitKernels() {
  // Shared memory: per-warp partials, the double tree of the layer totals, the last-block flag.
  OpBuilder::InsertPoint moduleStart = b.saveInsertionPoint();
  LLVM::GlobalOp::create(b, loc,
                         LLVM::LLVMArrayType::get(f32(), (blockSize / kWarp) *
                                                             std::max(maxReductions, 1u)),
                         false, LLVM::Linkage::Internal, "optfuse_warp_sums", Attribute(), 16, 3);
  LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(f64(), blockSize), false,
                         LLVM::Linkage::Internal, "optfuse_layer_tree", Attribute(), 16, 3);
  LLVM::GlobalOp::create(b, loc, i32(), false, LLVM::Linkage::Internal, "optfuse_last_block",
                         Attribute(), 4, 3);

  // The single launch: every sweep, a grid barrier between them.
  Block *entry = openKernel("optfuse_step");
  for (unsigned k = 0; k < sweeps.size(); ++k) {
    if (k > 0)
      emitGridBarrier(entry->getArgument(0));
    emitSweep(k, entry->getArgument(0), entry->getArgument(1));
  }
  gpu::ReturnOp::create(b, loc);
  b.restoreInsertionPoint(moduleStart);
  b.setInsertionPointToEnd(b.getInsertionBlock());

  // The fallback: one launch per sweep.
  for (unsigned k = 0; k < sweeps.size(); ++k) {
    OpBuilder::InsertPoint at = b.saveInsertionPoint();
    Block *sweepEntry = openKernel(("optfuse_sweep_" + Twine(k)).str());
    emitSweep(k, sweepEntry->getArgument(0), sweepEntry->getArgument(1));
    gpu::ReturnOp::create(b, loc);
    b.restoreInsertionPoint(at);
  }
}

void GpuLowering::emitGridBarrier(Value args) {
  gpu::BarrierOp::create(b, loc);
  Value counters = field(args, kBarrier); // [0] arrivals, [1] generation
  auto ifFirst = createIf(b, loc, {}, eq(tid, constI64(0)), false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
    Value generationPtr = addressOf(counters, constI64(1), i32());
    Value generation = loadAt(counters, constI64(1), i32(), i32(), /*isVolatile=*/true);
    fence();
    Value arrived = LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add, counters,
                                              constI32(1), LLVM::AtomicOrdering::acq_rel, "device");
    Value blocks = arith::TruncIOp::create(b, loc, i32(), nbid);
    Value last = eq(arrived, arith::SubIOp::create(b, loc, blocks, constI32(1)));
    auto ifLast = createIf(b, loc, {}, last, true);
    {
      // The last block to arrive resets the count and releases everyone.
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifLast.getThenRegion().front());
      LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::xchg, counters, constI32(0),
                                LLVM::AtomicOrdering::acq_rel, "device");
      LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add, generationPtr, constI32(1),
                                LLVM::AtomicOrdering::acq_rel, "device");
      b.setInsertionPointToStart(&ifLast.getElseRegion().front());
      // The others spin on the generation with acquire loads (never a hoistable plain load).
      auto wait = scf::WhileOp::create(b, loc, TypeRange{}, ValueRange{});
      Block *before = b.createBlock(&wait.getBefore());
      Value now = LLVM::LoadOp::create(b, loc, i32(), generationPtr, 4, false, false, false,
                                       false, LLVM::AtomicOrdering::acquire, "device");
      scf::ConditionOp::create(b, loc, eq(now, generation), ValueRange{});
      Block *after = b.createBlock(&wait.getAfter());
      b.setInsertionPointToStart(after);
      scf::YieldOp::create(b, loc);
    }
    fence();
  }
  gpu::BarrierOp::create(b, loc);
}

void GpuLowering::emitBlockSumF32(ArrayRef<Value> values, Value tid, Value partialsRow,
                                  Value partials) {
  Value warpSums = shared("optfuse_warp_sums");
  Value lane = arith::RemUIOp::create(b, loc, tid, constI64(kWarp));
  Value warp = arith::DivUIOp::create(b, loc, tid, constI64(kWarp));
  unsigned numReductions = values.size();
  SmallVector<Value> sums(values);
  for (unsigned offset = kWarp / 2; offset > 0; offset /= 2)
    for (Value &sum : sums) {
      auto shuffle = gpu::ShuffleOp::create(b, loc, sum, constI32(offset), constI32(kWarp),
                                            gpu::ShuffleMode::XOR);
      sum = arith::AddFOp::create(b, loc, sum, shuffle.getShuffleResult());
    }
  auto ifLane0 = createIf(b, loc, {}, eq(lane, constI64(0)), false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifLane0.getThenRegion().front());
    Value row = arith::MulIOp::create(b, loc, warp, constI64(numReductions));
    for (unsigned j = 0; j < numReductions; ++j) {
      Value index = arith::AddIOp::create(b, loc, row, constI64(j));
      LLVM::StoreOp::create(b, loc, sums[j], addressOfShared(warpSums, index, f32()), 4);
    }
  }
  gpu::BarrierOp::create(b, loc);
  auto ifThread0 = createIf(b, loc, {}, eq(tid, constI64(0)), false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifThread0.getThenRegion().front());
    for (unsigned j = 0; j < numReductions; ++j) {
      Value total;
      for (unsigned w = 0; w < blockSize / kWarp; ++w) {
        Value value = LLVM::LoadOp::create(
            b, loc, f32(), addressOfShared(warpSums, constI64(w * numReductions + j), f32()), 4);
        total = total ? arith::AddFOp::create(b, loc, total, value).getResult() : value;
      }
      storeAt(total, partials, arith::AddIOp::create(b, loc, partialsRow, constI64(j)), f32());
    }
  }
}

void GpuLowering::emitSweep(unsigned k, Value args, Value step) {
  SweepOp sweep = sweeps[k];
  unsigned numReductions = sweep.getNumReductions();
  SmallVector<int> written = k + 1 == sweeps.size() ? getWrittenBuffers(rule) : SmallVector<int>();
  SmallVector<Value> outerScalars = getOuterScalars(sweep);

  Value numChunks = field(args, kNumChunks);
  auto chunkLoop = scf::ForOp::create(b, loc, bid, numChunks, nbid);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(chunkLoop.getBody());
  Value chunk = chunkLoop.getInductionVar();
  Value layer = loadAt(field(args, kChunkLayer), chunk, i64(), i64());
  Value begin = loadAt(field(args, kChunkBegin), chunk, i64(), i64());
  Value end = loadAt(field(args, kChunkEnd), chunk, i64(), i64());
  Value count = arith::SubIOp::create(b, loc, end, begin);

  // The scalars of the body: computed here for the first sweep (they need no reduction), read
  // from the per-layer scalars the previous sweep's last block computed otherwise.
  IRMapping outer;
  if (k == 0) {
    emitScalars(0, args, layer, step, outer, /*volatileSums=*/true);
  } else {
    Value scalars = field(args, kLayerScalars);
    Value row = arith::MulIOp::create(b, loc, layer, constI64(numLayerScalars));
    for (auto [j, value] : llvm::enumerate(outerScalars)) {
      Value loaded = loadAt(scalars, arith::AddIOp::create(b, loc, row, constI64(j)), f32(),
                            f32(), /*isVolatile=*/true);
      if (value.getType().isInteger(1))
        loaded = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, loaded, constF32(0));
      outer.map(value, loaded);
    }
  }

  // The chunk's start in each buffer it touches; 16-byte accesses when all are aligned.
  Value buffers = field(args, kBuffers);
  Value bufferRow = arith::MulIOp::create(b, loc, layer, constI64(numBuffers));
  DenseMap<int, Value> bases;
  Value misaligned = constI64(0);
  auto baseOf = [&](int buffer) {
    Value &base = bases[buffer];
    if (!base) {
      Value start = loadAt(buffers, arith::AddIOp::create(b, loc, bufferRow, constI64(buffer)),
                           ptr(), ptr());
      base = addressOf(start, begin, f32());
      Value address = LLVM::PtrToIntOp::create(b, loc, i64(), base);
      misaligned = arith::OrIOp::create(b, loc, misaligned, address);
    }
    return base;
  };
  SmallVector<Value> inputBases, outputBases;
  for (Value input : sweep.getInputs())
    inputBases.push_back(baseOf(getBufferIndex(input)));
  for (int buffer : written)
    outputBases.push_back(baseOf(buffer));
  Value aligned = eq(arith::AndIOp::create(b, loc, misaligned, constI64(15)), constI64(0));

  DenseMap<Value, Value> cache;
  auto stepAt = [&](Value offset, unsigned lanes, ValueRange accs) {
    Type type = lanes == 1 ? f32() : VectorType::get({lanes}, f32());
    SmallVector<Value> elements;
    for (Value base : inputBases)
      elements.push_back(LLVM::LoadOp::create(b, loc, type, addressOf(base, offset, f32()),
                                              lanes * 4));
    SmallVector<Value> yields = emitBody(sweep, elements, lanes, outer, cache);
    SmallVector<Value> sums;
    for (unsigned j = 0; j < numReductions; ++j)
      sums.push_back(arith::AddFOp::create(b, loc, accs[j], yields[j]));
    for (auto [base, value] : llvm::zip(outputBases, ArrayRef(yields).drop_front(numReductions)))
      LLVM::StoreOp::create(b, loc, value, addressOf(base, offset, f32()), lanes * 4);
    return sums;
  };
  // Element loop over [first, last) with stride ntid, `lanes` elements per step.
  auto elementLoop = [&](Value first, Value last, unsigned lanes, ValueRange init) {
    Value stride = constI64(blockSize * lanes);
    auto loop = scf::ForOp::create(b, loc, first, last, stride, init);
    dropImplicitYield(loop);
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(loop.getBody());
    scf::YieldOp::create(b, loc, stepAt(loop.getInductionVar(), lanes, loop.getRegionIterArgs()));
    return loop;
  };

  SmallVector<Type> accTypes(numReductions, f32());
  SmallVector<Value> zeros(numReductions, constF32(0));
  auto ifAligned = createIf(b, loc, accTypes, aligned, true);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(&ifAligned.getThenRegion().front());
    Value vectorEnd = arith::SubIOp::create(
        b, loc, count, arith::RemUIOp::create(b, loc, count, constI64(kLanes)));
    Value vecZero = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(VectorType::get({kLanes}, f32()), 0.0f));
    SmallVector<Value> vecInit(numReductions, vecZero);
    auto vecLoop = elementLoop(arith::MulIOp::create(b, loc, tid, constI64(kLanes)), vectorEnd,
                               kLanes, vecInit);
    SmallVector<Value> laneSums;
    for (Value acc : vecLoop.getResults())
      laneSums.push_back(vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, acc));
    auto tail = elementLoop(arith::AddIOp::create(b, loc, vectorEnd, tid), count, 1, laneSums);
    if (numReductions)
      scf::YieldOp::create(b, loc, tail.getResults());
    b.setInsertionPointToStart(&ifAligned.getElseRegion().front());
    auto scalarLoop = elementLoop(tid, count, 1, zeros);
    if (numReductions)
      scf::YieldOp::create(b, loc, scalarLoop.getResults());
  }

  if (numReductions) {
    Value partials = field(args, kPartials);
    Value row = arith::MulIOp::create(b, loc, chunk, constI64(numReductions));
    SmallVector<Value> accs(ifAligned.getResults());
    emitBlockSumF32(accs, tid, row, partials);

    // Thread 0 publishes the chunk; the block that completes the layer finalizes it.
    Value flag = shared("optfuse_last_block");
    auto ifThread0 = createIf(b, loc, {}, eq(tid, constI64(0)), false);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifThread0.getThenRegion().front());
      fence();
      Value firstChunks = field(args, kLayerFirstChunk);
      Value first = loadAt(firstChunks, layer, i64(), i64());
      Value next = loadAt(firstChunks, arith::AddIOp::create(b, loc, layer, constI64(1)), i64(),
                          i64());
      Value layerChunks = arith::TruncIOp::create(b, loc, i32(),
                                                  arith::SubIOp::create(b, loc, next, first));
      Value done = addressOf(field(args, kLayerDone), layer, i32());
      Value before = LLVM::AtomicRMWOp::create(b, loc, LLVM::AtomicBinOp::add, done, constI32(1),
                                               LLVM::AtomicOrdering::acq_rel, "device");
      Value last = eq(arith::AddIOp::create(b, loc, before, constI32(1)), layerChunks);
      LLVM::StoreOp::create(b, loc, arith::ExtUIOp::create(b, loc, i32(), last), flag, 4);
    }
    gpu::BarrierOp::create(b, loc);
    Value isLast = eq(LLVM::LoadOp::create(b, loc, i32(), flag, 4), constI32(1));
    auto ifLast = createIf(b, loc, {}, isLast, false);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifLast.getThenRegion().front());
      fence();
      emitLayerFinalize(k, args, step, layer, tid);
    }
  }
  // The next chunk reuses the shared memory.
  gpu::BarrierOp::create(b, loc);
}

void GpuLowering::emitLayerFinalize(unsigned k, Value args, Value step, Value layer,
                                    Value tid) {
  SweepOp sweep = sweeps[k];
  unsigned numReductions = sweep.getNumReductions();
  unsigned sumBase = 0;
  for (unsigned j = 0; j < k; ++j)
    sumBase += sweeps[j].getNumReductions();
  Value partials = field(args, kPartials);
  Value sums = field(args, kSums);
  Value firstChunks = field(args, kLayerFirstChunk);
  Value first = loadAt(firstChunks, layer, i64(), i64());
  Value next = loadAt(firstChunks, arith::AddIOp::create(b, loc, layer, constI64(1)), i64(), i64());
  Value tree = shared("optfuse_layer_tree");
  Value slot = addressOfShared(tree, tid, f64());
  Value isThread0 = eq(tid, constI64(0));

  for (unsigned j = 0; j < numReductions; ++j) {
    // Each thread adds every ntid-th chunk partial in double, then a fixed-shape tree.
    Value zero = arith::ConstantOp::create(b, loc, b.getF64FloatAttr(0.0));
    auto loop = scf::ForOp::create(b, loc, arith::AddIOp::create(b, loc, first, tid), next, ntid,
                                   ValueRange{zero});
    dropImplicitYield(loop);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(loop.getBody());
      Value index = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, loop.getInductionVar(), constI64(numReductions)),
          constI64(j));
      Value partial = loadAt(partials, index, f32(), f32(), /*isVolatile=*/true);
      Value widened = arith::ExtFOp::create(b, loc, f64(), partial);
      scf::YieldOp::create(b, loc, ValueRange{arith::AddFOp::create(b, loc, loop.getRegionIterArgs()[0], widened)});
    }
    LLVM::StoreOp::create(b, loc, loop.getResult(0), slot, 8);
    gpu::BarrierOp::create(b, loc);
    for (unsigned half = blockSize / 2; half > 0; half /= 2) {
      auto ifActive = createIf(
          b, loc, {}, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tid, constI64(half)),
          false);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(&ifActive.getThenRegion().front());
        Value other = addressOfShared(tree, arith::AddIOp::create(b, loc, tid, constI64(half)), f64());
        Value mine = LLVM::LoadOp::create(b, loc, f64(), slot, 8);
        Value theirs = LLVM::LoadOp::create(b, loc, f64(), other, 8);
        LLVM::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, mine, theirs), slot, 8);
      }
      gpu::BarrierOp::create(b, loc);
    }
    auto ifStore = createIf(b, loc, {}, isThread0, false);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(&ifStore.getThenRegion().front());
      Value total = LLVM::LoadOp::create(b, loc, f64(), slot, 8);
      Value index = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, layer, constI64(totalSums)), constI64(sumBase + j));
      storeAt(total, sums, index, f64());
    }
    gpu::BarrierOp::create(b, loc);
  }

  // Thread 0: reset the layer's counter for the next sweep and compute the scalars it needs.
  auto ifThread0 = createIf(b, loc, {}, isThread0, false);
  OpBuilder::InsertionGuard inner(b);
  b.setInsertionPointToStart(&ifThread0.getThenRegion().front());
  storeAt(constI32(0), field(args, kLayerDone), layer, i32());
  if (k + 1 < sweeps.size()) {
    IRMapping outer;
    emitScalars(k + 1, args, layer, step, outer, /*volatileSums=*/true);
    Value scalars = field(args, kLayerScalars);
    Value row = arith::MulIOp::create(b, loc, layer, constI64(numLayerScalars));
    for (auto [j, value] : llvm::enumerate(getOuterScalars(sweeps[k + 1]))) {
      Value scalar = outer.lookup(value);
      if (scalar.getType().isF64())
        scalar = arith::TruncFOp::create(b, loc, f32(), scalar);
      else if (scalar.getType().isInteger(1))
        scalar = arith::UIToFPOp::create(b, loc, f32(), scalar);
      storeAt(scalar, scalars, arith::AddIOp::create(b, loc, row, constI64(j)), f32());
    }
  }
  fence();
}

namespace {
struct LowerToGpuPass : public mlir::optim::impl::LowerToGpuBase<LowerToGpuPass> {
  using LowerToGpuBase::LowerToGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<RuleOp> planned = getPlannedRule(module);
    if (failed(planned))
      return signalPassFailure();
    RuleOp rule = *planned;
    if (blockSize < kWarp || blockSize % kWarp || (blockSize & (blockSize - 1))) {
      rule.emitError() << "block-size must be a power of two of at least " << kWarp;
      return signalPassFailure();
    }
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(), UnitAttr::get(&getContext()));
    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, rule.getLoc(), "optfuse_gpu");
    b.setInsertionPointToStart(gpuModule.getBody());
    GpuLowering lowering(rule, b, blockSize);
    lowering.emitKernels();
    // What the runtime needs to launch the kernels, next to them.
    gpuModule->setAttr("optfuse.block_size", b.getI64IntegerAttr(blockSize));
    gpuModule->setAttr("optfuse.layer_scalars", b.getI64IntegerAttr(lowering.numLayerScalars));
  }
};
} // namespace
