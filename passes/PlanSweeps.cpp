//===- PlanSweeps.cpp - Split rules into sweeps over memory ---------------===//
//
// This file implements sweep planning. Every scalar of a rule gets a level: declarations are at
// level 0, a reduction is one above the highest level among the scalars its operand depends on,
// and other ops take the highest level of their operands. Reductions at level k+1 run together in
// sweep k; the update runs in the sweep after the last scalar it uses is known. Scalar math of
// level k is emitted between sweep k-1 and sweep k.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::optim {
#define GEN_PASS_DEF_PLANSWEEPS
#include "passes/Passes.h.inc"
} // namespace mlir::optim

using namespace mlir;
using namespace mlir::optim;

//===----------------------------------------------------------------------===//
// Plan queries
//===----------------------------------------------------------------------===//

static bool isReduction(Operation *op) { return isa<NormOp, SumOp, DotOp>(op); }
static bool isDeclaration(Operation *op) {
  return isa<HyperOp, StepOp, FlagOp, ParamOp, GradOp, StateOp>(op);
}

bool mlir::optim::isPlanned(RuleOp rule) {
  for (Operation &op : rule.getBody().front())
    if (isa<OptimDialect>(op.getDialect()) && !isDeclaration(&op) && !isa<SweepOp, UpdateOp>(op))
      return false;
  return true;
}

int mlir::optim::getBufferIndex(Value layer) {
  Operation *def = layer.getDefiningOp();
  if (!def)
    return -1;
  if (isa<ParamOp>(def))
    return 0;
  if (isa<GradOp>(def))
    return 1;
  auto state = dyn_cast<StateOp>(def);
  if (!state)
    return -1;
  int index = 2;
  for (Operation *op = def->getPrevNode(); op; op = op->getPrevNode())
    index += isa<StateOp>(op);
  return index;
}

SmallVector<std::string> mlir::optim::getBufferNames(RuleOp rule) {
  SmallVector<std::string> names = {"param", "grad"};
  for (auto state : rule.getBody().front().getOps<StateOp>())
    names.push_back(state.getName().str());
  return names;
}

SmallVector<int> mlir::optim::getWrittenBuffers(RuleOp rule) {
  SmallVector<SweepOp> sweeps = getSweeps(rule);
  SmallVector<int> written;
  if (sweeps.empty())
    return written;
  SweepOp last = sweeps.back();
  UpdateOp update = rule.getUpdate();
  SmallVector<Value> targets = {update.getParam()};
  llvm::append_range(targets, update.getStates());
  for (OpResult result : last.getResults().drop_front(last.getNumReductions())) {
    // The parameter comes first in the update, then the states by name.
    for (auto [index, value] : llvm::enumerate(targets)) {
      if (value != result)
        continue;
      if (index == 0) {
        written.push_back(0);
        break;
      }
      StringRef name = cast<StringAttr>(update.getStateNames()[index - 1]).getValue();
      SmallVector<std::string> names = getBufferNames(rule);
      written.push_back(llvm::find(names, name) - names.begin());
      break;
    }
  }
  return written;
}

std::string mlir::optim::describePlan(RuleOp rule) {
  SmallVector<std::string> names = getBufferNames(rule);
  SmallVector<SweepOp> sweeps = getSweeps(rule);
  unsigned total = 0;
  for (SweepOp sweep : sweeps)
    total += sweep.getBytesPerElement();
  std::string text = llvm::formatv("@{0}: {1} sweep{2}, {3} bytes per element", rule.getSymName(),
                                   sweeps.size(), sweeps.size() == 1 ? "" : "s", total);
  SmallVector<int> written = getWrittenBuffers(rule);
  for (auto [k, sweep] : llvm::enumerate(sweeps)) {
    SmallVector<std::string> reads;
    for (Value input : sweep.getInputs())
      reads.push_back(names[getBufferIndex(input)]);
    text += llvm::formatv("\n  sweep {0}: reads {1}", k, llvm::join(reads, ", "));
    if (sweep.getNumReductions())
      text += llvm::formatv("; {0} reduction{1}", sweep.getNumReductions(),
                            sweep.getNumReductions() == 1 ? "" : "s");
    if (k + 1 == sweeps.size() && !written.empty()) {
      SmallVector<std::string> writes;
      for (int index : written)
        writes.push_back(names[index]);
      text += "; writes " + llvm::join(writes, ", ");
    }
    text += llvm::formatv("; {0} bytes per element", sweep.getBytesPerElement());
  }
  return text;
}

//===----------------------------------------------------------------------===//
// Expansion of optim ops into arith/math on f32
//===----------------------------------------------------------------------===//

/// Emits the arith/math equivalent of `op` applied to `operands` (f32 scalars or layer elements,
/// both f32). Reductions are handled by the planner, not here.
static Value expandOp(OpBuilder &b, Location loc, Operation *op, ArrayRef<Value> operands) {
  auto f32 = [&](double value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value)).getResult();
  };
  return llvm::TypeSwitch<Operation *, Value>(op)
      .Case([&](AddOp) { return arith::AddFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](SubOp) { return arith::SubFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](MulOp) { return arith::MulFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](DivOp) { return arith::DivFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](MaxOp) { return arith::MaximumFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](MinOp) { return arith::MinimumFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](PowOp) { return math::PowFOp::create(b, loc, operands[0], operands[1]); })
      .Case([&](NegOp) { return arith::NegFOp::create(b, loc, operands[0]); })
      .Case([&](AbsOp) { return math::AbsFOp::create(b, loc, operands[0]); })
      .Case([&](SqrtOp) { return math::SqrtOp::create(b, loc, operands[0]); })
      .Case([&](RsqrtOp) { return math::RsqrtOp::create(b, loc, operands[0]); })
      .Case([&](ExpOp) { return math::ExpOp::create(b, loc, operands[0]); })
      .Case([&](LogOp) { return math::LogOp::create(b, loc, operands[0]); })
      .Case([&](SelectOp) {
        return arith::SelectOp::create(b, loc, operands[0], operands[1], operands[2]);
      })
      .Case([&](ClampOp) {
        Value lower = arith::MaximumFOp::create(b, loc, operands[0], operands[1]);
        return arith::MinimumFOp::create(b, loc, lower, operands[2]);
      })
      .Case([&](TrustRatioOp ratio) {
        // (num > 0 && den > 0) ? scale * num / (den + eps) : 1
        Value num = operands[0], den = operands[1];
        unsigned next = 2;
        Value scale = ratio.getScale() ? operands[next++] : Value();
        Value eps = ratio.getEps() ? operands[next++] : Value();
        Value zero = f32(0.0);
        Value numPositive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, num, zero);
        Value denPositive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, den, zero);
        Value both = arith::AndIOp::create(b, loc, numPositive, denPositive);
        Value value = scale ? arith::MulFOp::create(b, loc, scale, num).getResult() : num;
        Value divisor = eps ? arith::AddFOp::create(b, loc, den, eps).getResult() : den;
        value = arith::DivFOp::create(b, loc, value, divisor);
        return arith::SelectOp::create(b, loc, both, value, f32(1.0)).getResult();
      })
      .Case([&](TvCoeffOp) {
        // 1 / (alpha + exp(lambda * (t - delay))) + floor
        Value shifted = arith::SubFOp::create(b, loc, operands[0], operands[3]);
        Value scaled = arith::MulFOp::create(b, loc, operands[2], shifted);
        Value denominator =
            arith::AddFOp::create(b, loc, operands[1], math::ExpOp::create(b, loc, scaled));
        Value coeff = arith::DivFOp::create(b, loc, f32(1.0), denominator);
        return arith::AddFOp::create(b, loc, coeff, operands[4]).getResult();
      })
      .Default([&](Operation *other) {
        // arith and math ops (and constants) are already in their final form.
        OperationState state(loc, other->getName(), operands, other->getResultTypes(),
                             other->getAttrs());
        return b.create(state)->getResult(0);
      });
}

//===----------------------------------------------------------------------===//
// The planner
//===----------------------------------------------------------------------===//

namespace {

class Planner {
public:
  explicit Planner(RuleOp rule) : rule(rule), oldBody(rule.getBody().front()) {}

  void run();

private:
  /// Marks the ops the update depends on.
  void findLiveOps();
  /// Assigns levels (see the file comment) to every live value.
  void assignLevels();
  /// Emits sweep `k` into the new body: reductions of level k+1 and, for the last sweep, writes.
  void emitSweep(unsigned k, ArrayRef<Value> writeSources);
  /// The element value of `layer` inside the sweep being built.
  Value getElement(Value layer);

  RuleOp rule;
  Block &oldBody;
  llvm::DenseSet<Operation *> live;
  DenseMap<Value, unsigned> level;

  // State while emitting.
  IRMapping scalars;  // old scalar values (and layer declarations) → new values
  OpBuilder builder{rule.getContext()};
  Block *sweepBody = nullptr;
  SmallVector<Value> sweepInputs;
  DenseMap<Value, Value> elements; // old layer value → f32 element inside sweepBody
  DenseMap<Value, Value> writes;   // old layer value written by the update → new sweep result
};

} // namespace

void Planner::findLiveOps() {
  SmallVector<Operation *> worklist = {rule.getUpdate()};
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (live.insert(def).second)
          worklist.push_back(def);
  }
}

void Planner::assignLevels() {
  for (Operation &op : oldBody.without_terminator()) {
    if (!live.contains(&op))
      continue;
    unsigned opLevel = 0;
    for (Value operand : op.getOperands())
      opLevel = std::max(opLevel, level.lookup(operand));
    if (isReduction(&op))
      ++opLevel;
    for (Value result : op.getResults())
      level[result] = opLevel;
  }
}

Value Planner::getElement(Value layer) {
  if (Value element = elements.lookup(layer))
    return element;
  Operation *def = layer.getDefiningOp();
  Value element;
  if (isa<ParamOp, GradOp, StateOp>(def)) {
    element = sweepBody->addArgument(builder.getF32Type(), layer.getLoc());
    sweepInputs.push_back(scalars.lookup(layer));
  } else {
    SmallVector<Value> operands;
    for (Value operand : def->getOperands())
      operands.push_back(isLayer(operand.getType()) ? getElement(operand)
                                                     : scalars.lookup(operand));
    element = expandOp(builder, def->getLoc(), def, operands);
  }
  elements[layer] = element;
  return element;
}

void Planner::emitSweep(unsigned k, ArrayRef<Value> writeSources) {
  SmallVector<Operation *> reductions;
  for (Operation &op : oldBody.without_terminator())
    if (live.contains(&op) && isReduction(&op) && level.lookup(op.getResult(0)) == k + 1)
      reductions.push_back(&op);

  Location loc = rule.getLoc();
  OpBuilder::InsertPoint outer = builder.saveInsertionPoint();
  sweepBody = new Block();
  sweepInputs.clear();
  elements.clear();
  builder.setInsertionPointToStart(sweepBody);

  SmallVector<Value> yields;
  for (Operation *reduction : reductions) {
    Location rloc = reduction->getLoc();
    Value element = llvm::TypeSwitch<Operation *, Value>(reduction)
                        .Case([&](NormOp norm) {
                          Value x = getElement(norm.getInput());
                          return arith::MulFOp::create(builder, rloc, x, x);
                        })
                        .Case([&](SumOp sum) { return getElement(sum.getInput()); })
                        .Case([&](DotOp dot) {
                          return arith::MulFOp::create(builder, rloc, getElement(dot.getLhs()),
                                                               getElement(dot.getRhs()));
                        });
    yields.push_back(element);
  }
  for (Value source : writeSources)
    yields.push_back(getElement(source));
  YieldOp::create(builder, loc, yields);

  builder.restoreInsertionPoint(outer);
  SmallVector<Type> resultTypes(reductions.size(), builder.getF32Type());
  resultTypes.append(writeSources.size(), LayerType::get(rule.getContext()));
  auto sweep = SweepOp::create(builder, loc, resultTypes, sweepInputs);
  sweep.getBody().push_back(sweepBody);

  for (auto [reduction, sum] : llvm::zip(reductions, sweep.getResults())) {
    Value value = sum;
    if (isa<NormOp>(reduction))
      value = math::SqrtOp::create(builder, reduction->getLoc(), sum);
    scalars.map(reduction->getResult(0), value);
  }
  for (auto [source, result] :
       llvm::zip(writeSources, sweep.getResults().drop_front(reductions.size())))
    writes[source] = result;
}

void Planner::run() {
  UpdateOp update = rule.getUpdate();
  findLiveOps();
  assignLevels();

  // What the update writes: every operand that is not its own buffer's old value.
  SmallVector<Value> targets = {update.getParam()};
  llvm::append_range(targets, update.getStates());
  SmallVector<Value> writeSources;
  unsigned updateLevel = 0;
  for (auto [index, value] : llvm::enumerate(targets)) {
    Operation *def = value.getDefiningOp();
    bool unchanged =
        index == 0 ? isa<ParamOp>(def)
                   : isa<StateOp>(def) &&
                         cast<StateOp>(def).getName() ==
                             cast<StringAttr>(update.getStateNames()[index - 1]).getValue();
    if (unchanged || llvm::is_contained(writeSources, value))
      continue;
    writeSources.push_back(value);
    updateLevel = std::max(updateLevel, level.lookup(value));
  }
  unsigned numSweeps = writeSources.empty() ? 0 : updateLevel + 1;

  Block *newBody = new Block();
  builder.setInsertionPointToStart(newBody);
  // Declarations stay, used or not: they are the rule's interface.
  for (Operation &op : oldBody.without_terminator())
    if (isDeclaration(&op))
      builder.clone(op, scalars);
  for (unsigned k = 0; k < numSweeps; ++k) {
    for (Operation &op : oldBody.without_terminator()) {
      if (!live.contains(&op) || isDeclaration(&op) || isReduction(&op) ||
          isLayer(op.getResult(0).getType()) || level.lookup(op.getResult(0)) != k)
        continue;
      SmallVector<Value> operands;
      for (Value operand : op.getOperands())
        operands.push_back(scalars.lookup(operand));
      scalars.map(op.getResult(0), expandOp(builder, op.getLoc(), &op, operands));
    }
    emitSweep(k, k + 1 == numSweeps ? ArrayRef<Value>(writeSources) : ArrayRef<Value>());
  }
  auto newTarget = [&](Value old) {
    Value written = writes.lookup(old);
    return written ? written : scalars.lookup(old);
  };
  SmallVector<Value> newStates;
  for (Value state : update.getStates())
    newStates.push_back(newTarget(state));
  UpdateOp::create(builder, update.getLoc(), newTarget(update.getParam()), newStates,
                           update.getStateNames());

  oldBody.dropAllDefinedValueUses();
  oldBody.erase();
  rule.getBody().push_back(newBody);
}

namespace {
struct PlanSweepsPass : public mlir::optim::impl::PlanSweepsBase<PlanSweepsPass> {
  using PlanSweepsBase::PlanSweepsBase;

  void runOnOperation() override {
    getOperation().walk([&](RuleOp rule) {
      if (!getSweeps(rule).empty()) {
        rule.emitError() << "@" << rule.getSymName() << " is already planned";
        return signalPassFailure();
      }
      Planner(rule).run();
      if (printPlan)
        rule.emitRemark() << describePlan(rule);
    });
  }
};
} // namespace
