//===- OptimOps.cpp - Operations of the optim dialect ---------------------===//
//
// This file implements the optim operations: type inference with scalar broadcast, the verifiers
// (the rule-level checks live in RuleOp::verifyRegions), folders and canonicalization patterns.
//
//===----------------------------------------------------------------------===//

#include "dialect/OptimOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::optim;

//===----------------------------------------------------------------------===//
// Custom assembly: `optim.update %w, "name" = %v, ...`
//===----------------------------------------------------------------------===//

static ParseResult parseStateUpdates(OpAsmParser &parser, OpAsmParser::UnresolvedOperand &param,
                                     SmallVectorImpl<OpAsmParser::UnresolvedOperand> &states,
                                     ArrayAttr &names) {
  if (parser.parseOperand(param))
    return failure();
  SmallVector<Attribute> nameAttrs;
  while (succeeded(parser.parseOptionalComma())) {
    std::string name;
    OpAsmParser::UnresolvedOperand value;
    if (parser.parseString(&name) || parser.parseEqual() || parser.parseOperand(value))
      return failure();
    nameAttrs.push_back(parser.getBuilder().getStringAttr(name));
    states.push_back(value);
  }
  names = parser.getBuilder().getArrayAttr(nameAttrs);
  return success();
}

static void printStateUpdates(OpAsmPrinter &printer, Operation *, Value param,
                              OperandRange states, ArrayAttr names) {
  printer << param;
  for (auto [value, name] : llvm::zip(states, names)) {
    printer << ", ";
    printer.printString(llvm::cast<StringAttr>(name).getValue());
    printer << " = " << value;
  }
}

#define GET_OP_CLASSES
#include "dialect/OptimOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Type inference: a result is a layer when any value operand is one
//===----------------------------------------------------------------------===//

static LogicalResult inferBroadcastType(MLIRContext *context, ValueRange operands,
                                        SmallVectorImpl<Type> &inferred) {
  bool anyLayer = llvm::any_of(operands, [](Value v) { return v && isLayer(v.getType()); });
  inferred.push_back(anyLayer ? Type(LayerType::get(context)) : Type(Float32Type::get(context)));
  return success();
}

#define OPTIM_INFER_BROADCAST(OP, OPERANDS)                                                        \
  LogicalResult OP::inferReturnTypes(MLIRContext *context, std::optional<Location>,              \
                                     ValueRange operands, DictionaryAttr, OpaqueProperties,      \
                                     RegionRange, SmallVectorImpl<Type> &inferred) {             \
    return inferBroadcastType(context, OPERANDS, inferred);                                      \
  }
OPTIM_INFER_BROADCAST(AddOp, operands)
OPTIM_INFER_BROADCAST(SubOp, operands)
OPTIM_INFER_BROADCAST(MulOp, operands)
OPTIM_INFER_BROADCAST(DivOp, operands)
OPTIM_INFER_BROADCAST(MaxOp, operands)
OPTIM_INFER_BROADCAST(MinOp, operands)
OPTIM_INFER_BROADCAST(PowOp, operands)
OPTIM_INFER_BROADCAST(SelectOp, operands.drop_front())
OPTIM_INFER_BROADCAST(ClampOp, operands.take_front())
#undef OPTIM_INFER_BROADCAST

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

static LogicalResult verifyInterfaceName(Operation *op, StringRef what, StringRef name) {
  if (isValidInterfaceName(name))
    return success();
  return op->emitOpError() << what << " name '" << name
                           << "' is not an identifier: use letters, digits and '_', starting "
                              "with a letter or '_' (the runtime exposes it by this name)";
}

void HyperOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResult(), getName());
}
void FlagOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResult(), getName());
}
void StateOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameFn(getResult(), getName());
}
void StepOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) { setNameFn(getResult(), "t"); }
void ParamOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) { setNameFn(getResult(), "w"); }
void GradOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) { setNameFn(getResult(), "g"); }

LogicalResult HyperOp::verify() {
  if (failed(verifyInterfaceName(*this, "hyperparameter", getName())))
    return failure();
  if (auto value = llvm::dyn_cast<FloatAttr>(getDefaultValue())) {
    if (value.getValue().isNaN())
      return emitOpError() << "hyperparameter '" << getName()
                           << "' has a NaN default; give a number (infinity is allowed)";
    return success();
  }
  if (llvm::isa<BoolAttr>(getDefaultValue()))
    return success();
  return emitOpError() << "hyperparameter '" << getName()
                       << "' needs an f32 default (e.g. `= 1.0 : f32`) or a boolean one "
                          "(`= true` / `= false`)";
}

LogicalResult FlagOp::verify() { return verifyInterfaceName(*this, "flag", getName()); }

LogicalResult StateOp::verify() {
  if (failed(verifyInterfaceName(*this, "state buffer", getName())))
    return failure();
  if (!getInit().isFinite())
    return emitOpError() << "state buffer '" << getName()
                         << "' needs a finite initial value, got " << getInit().convertToFloat();
  return success();
}

//===----------------------------------------------------------------------===//
// Folders and canonicalization of elementwise ops
//===----------------------------------------------------------------------===//

/// Returns the f32 value of a constant operand, if it is one.
static std::optional<float> constantValue(Attribute attr) {
  if (auto f = llvm::dyn_cast_or_null<FloatAttr>(attr); f && f.getType().isF32())
    return f.getValue().convertToFloat();
  return std::nullopt;
}

/// Folds `op(x, c)` to `x` when `c` is the identity `identity` of the op (bitwise, so that
/// `x + (-0.0)` folds but `x + 0.0` does not: the latter turns -0 into +0).
static OpFoldResult foldRightIdentity(Operation *op, Value lhs, Attribute rhs, float identity) {
  std::optional<float> c = constantValue(rhs);
  if (c && std::signbit(*c) == std::signbit(identity) && *c == identity &&
      lhs.getType() == op->getResult(0).getType())
    return lhs;
  return {};
}

/// Folds a binary op of two scalar constants.
template <typename Fn>
static OpFoldResult foldConstants(Operation *op, Attribute lhs, Attribute rhs, Fn fn) {
  std::optional<float> a = constantValue(lhs), b = constantValue(rhs);
  if (!a || !b)
    return {};
  return FloatAttr::get(op->getResult(0).getType(), fn(*a, *b));
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(),
                                     [](float a, float b) { return a + b; }))
    return r;
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), -0.0f);
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(),
                                     [](float a, float b) { return a - b; }))
    return r;
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 0.0f);
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(),
                                     [](float a, float b) { return a * b; }))
    return r;
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 1.0f);
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(),
                                     [](float a, float b) { return a / b; }))
    return r;
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 1.0f);
}

static float nanMax(float a, float b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::fmax(a, b);
}
static float nanMin(float a, float b) {
  return std::isnan(a) || std::isnan(b) ? NAN : std::fmin(a, b);
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs())
    return getLhs();
  return foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(), nanMax);
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs())
    return getLhs();
  return foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(), nanMin);
}

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  if (OpFoldResult r = foldConstants(*this, adaptor.getLhs(), adaptor.getRhs(),
                                     [](float a, float b) { return std::pow(a, b); }))
    return r;
  return foldRightIdentity(*this, getLhs(), adaptor.getRhs(), 1.0f);
}

namespace {
/// Rewrites an optim elementwise op whose operands are all scalars into the equivalent arith or
/// math op, so that scalar math has one canonical form.
template <typename OptimOp, typename ScalarOp>
struct ScalarToStandard : OpRewritePattern<OptimOp> {
  using OpRewritePattern<OptimOp>::OpRewritePattern;
  LogicalResult matchAndRewrite(OptimOp op, PatternRewriter &rewriter) const override {
    if (isLayer(op.getType()))
      return failure();
    rewriter.replaceOpWithNewOp<ScalarOp>(op, op->getOperands());
    return success();
  }
};
} // namespace

void AddOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<AddOp, arith::AddFOp>>(context);
}
void SubOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<SubOp, arith::SubFOp>>(context);
}
void MulOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<MulOp, arith::MulFOp>>(context);
}
void DivOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<DivOp, arith::DivFOp>>(context);
}
void MaxOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<MaxOp, arith::MaximumFOp>>(context);
}
void MinOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<MinOp, arith::MinimumFOp>>(context);
}
void PowOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<PowOp, math::PowFOp>>(context);
}
void NegOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<NegOp, arith::NegFOp>>(context);
}
void AbsOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<AbsOp, math::AbsFOp>>(context);
}
void SqrtOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<SqrtOp, math::SqrtOp>>(context);
}
void RsqrtOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<RsqrtOp, math::RsqrtOp>>(context);
}
void ExpOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<ExpOp, math::ExpOp>>(context);
}
void LogOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<LogOp, math::LogOp>>(context);
}

OpFoldResult SelectOp::fold(FoldAdaptor adaptor) {
  Value chosen;
  if (getTrueValue() == getFalseValue())
    chosen = getTrueValue();
  else if (auto cond = llvm::dyn_cast_or_null<BoolAttr>(adaptor.getCondition()))
    chosen = cond.getValue() ? getTrueValue() : getFalseValue();
  else if (auto cond = llvm::dyn_cast_or_null<IntegerAttr>(adaptor.getCondition()))
    chosen = cond.getValue().isOne() ? getTrueValue() : getFalseValue();
  // A scalar branch of a layer-typed select is a broadcast: it cannot stand in for the result.
  if (chosen && chosen.getType() == getType())
    return chosen;
  return {};
}

void SelectOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarToStandard<SelectOp, arith::SelectOp>>(context);
}

OpFoldResult ClampOp::fold(FoldAdaptor adaptor) {
  std::optional<float> lo = constantValue(adaptor.getLo()), hi = constantValue(adaptor.getHi());
  if (lo && hi && std::isinf(*lo) && *lo < 0 && std::isinf(*hi) && *hi > 0)
    return getInput();
  if (std::optional<float> x = constantValue(adaptor.getInput()); x && lo && hi)
    return FloatAttr::get(getType(), nanMin(nanMax(*x, *lo), *hi));
  return {};
}

namespace {
/// Expands a scalar clamp into `minimumf(maximumf(x, lo), hi)`.
struct ScalarClampToArith : OpRewritePattern<ClampOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ClampOp op, PatternRewriter &rewriter) const override {
    if (isLayer(op.getType()))
      return failure();
    Value low = arith::MaximumFOp::create(rewriter, op.getLoc(), op.getInput(), op.getLo());
    rewriter.replaceOpWithNewOp<arith::MinimumFOp>(op, low, op.getHi());
    return success();
  }
};
} // namespace

void ClampOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ScalarClampToArith>(context);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {
/// `optim.sum(optim.mul %a, %b)` of two layers is `optim.dot %a, %b`.
struct SumOfProductToDot : OpRewritePattern<SumOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SumOp op, PatternRewriter &rewriter) const override {
    auto mul = op.getInput().getDefiningOp<MulOp>();
    if (!mul || !isLayer(mul.getLhs().getType()) || !isLayer(mul.getRhs().getType()))
      return failure();
    rewriter.replaceOpWithNewOp<DotOp>(op, mul.getLhs(), mul.getRhs());
    return success();
  }
};

/// `sqrt(optim.dot %x, %x)` is `optim.norm %x`.
struct SqrtOfSelfDotToNorm : OpRewritePattern<math::SqrtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::SqrtOp op, PatternRewriter &rewriter) const override {
    auto dot = op.getOperand().getDefiningOp<DotOp>();
    if (!dot || dot.getLhs() != dot.getRhs())
      return failure();
    rewriter.replaceOpWithNewOp<NormOp>(op, dot.getLhs());
    return success();
  }
};
} // namespace

void SumOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<SumOfProductToDot, SqrtOfSelfDotToNorm>(context);
}

//===----------------------------------------------------------------------===//
// Domain ops
//===----------------------------------------------------------------------===//

OpFoldResult TrustRatioOp::fold(FoldAdaptor adaptor) {
  std::optional<float> num = constantValue(adaptor.getNum()), den = constantValue(adaptor.getDen());
  if (!num || !den)
    return {};
  float scale = 1.0f, eps = 0.0f;
  if (getScale()) {
    std::optional<float> s = constantValue(adaptor.getScale());
    if (!s)
      return {};
    scale = *s;
  }
  if (getEps()) {
    std::optional<float> e = constantValue(adaptor.getEps());
    if (!e)
      return {};
    eps = *e;
  }
  float ratio = (*num > 0 && *den > 0) ? scale * *num / (*den + eps) : 1.0f;
  return FloatAttr::get(getType(), ratio);
}

namespace {
/// Drops a `scale` of constant 1 and an `eps` of constant 0: they do not change the ratio.
struct DropNeutralTrustOperands : OpRewritePattern<TrustRatioOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TrustRatioOp op, PatternRewriter &rewriter) const override {
    auto isConstant = [](Value v, float expected) {
      FloatAttr attr;
      return v && matchPattern(v, m_Constant(&attr)) &&
             attr.getValue().convertToFloat() == expected;
    };
    bool dropScale = isConstant(op.getScale(), 1.0f);
    bool dropEps = isConstant(op.getEps(), 0.0f);
    if (!dropScale && !dropEps)
      return failure();
    rewriter.replaceOpWithNewOp<TrustRatioOp>(op, op.getNum(), op.getDen(),
                                              dropScale ? Value() : op.getScale(),
                                              dropEps ? Value() : op.getEps());
    return success();
  }
};
} // namespace

void TrustRatioOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<DropNeutralTrustOperands>(context);
}

OpFoldResult TvCoeffOp::fold(FoldAdaptor adaptor) {
  std::optional<float> t = constantValue(adaptor.getStep()), alpha = constantValue(adaptor.getAlpha()),
                       lambda = constantValue(adaptor.getLambda()),
                       delay = constantValue(adaptor.getDelay()),
                       floor = constantValue(adaptor.getFloor());
  if (!t || !alpha || !lambda || !delay || !floor)
    return {};
  float phi = 1.0f / (*alpha + std::exp(*lambda * (*t - *delay))) + *floor;
  return FloatAttr::get(getType(), phi);
}

//===----------------------------------------------------------------------===//
// Update and sweeps
//===----------------------------------------------------------------------===//

LogicalResult UpdateOp::verify() {
  if (getStates().size() != getStateNames().size())
    return emitOpError() << "has " << getStates().size() << " state values but "
                         << getStateNames().size() << " state names";
  return success();
}

unsigned SweepOp::getNumReductions() {
  return llvm::count_if(getResultTypes(), [](Type t) { return !isLayer(t); });
}

LogicalResult SweepOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError() << "body takes " << body.getNumArguments() << " element arguments but "
                         << getInputs().size() << " layers are swept";
  for (BlockArgument arg : body.getArguments())
    if (!arg.getType().isF32())
      return emitOpError() << "body argument #" << arg.getArgNumber()
                           << " must be the f32 element of its input layer, got " << arg.getType();
  auto yield = llvm::cast<YieldOp>(body.getTerminator());
  if (yield.getValues().size() != getNumResults())
    return emitOpError() << "yields " << yield.getValues().size() << " values for "
                         << getNumResults() << " results";
  bool seenLayer = false;
  for (Type type : getResultTypes()) {
    if (!isLayer(type) && seenLayer)
      return emitOpError() << "reduction results must come before layer results";
    seenLayer |= isLayer(type);
  }
  for (Operation &op : body.without_terminator()) {
    if (op.getNumRegions() != 0 || !isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return op.emitOpError() << "is not allowed in a sweep body: a sweep computes each element "
                                 "with arith and math operations on scalars";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// RuleOp: the rule-level checks
//===----------------------------------------------------------------------===//

UpdateOp RuleOp::getUpdate() {
  if (getBody().empty())
    return {};
  return llvm::dyn_cast<UpdateOp>(getBody().front().back());
}

SmallVector<SweepOp> mlir::optim::getSweeps(RuleOp rule) {
  SmallVector<SweepOp> sweeps;
  if (!rule.getBody().empty())
    for (auto sweep : rule.getBody().front().getOps<SweepOp>())
      sweeps.push_back(sweep);
  return sweeps;
}

/// Returns true when `op` may appear directly in a rule body.
static bool isAllowedInRule(Operation &op) {
  Dialect *dialect = op.getDialect();
  if (isa_and_nonnull<OptimDialect>(dialect))
    return true;
  return isa_and_nonnull<arith::ArithDialect, math::MathDialect>(dialect) &&
         op.getNumRegions() == 0;
}

LogicalResult RuleOp::verifyRegions() {
  if (getBody().empty() || getBody().front().empty() || !getUpdate())
    return emitOpError() << "@" << getSymName()
                         << " has no 'optim.update': a rule must end with 'optim.update' "
                            "writing the parameter's new value and every state buffer";
  if (!getBody().hasOneBlock())
    return emitOpError() << "body must be a single block (no control flow: use optim.select)";

  // Each declaration kind: unique names; singletons declared once.
  llvm::StringMap<Operation *> hypers, flags, states;
  Operation *param = nullptr, *grad = nullptr, *step = nullptr;
  auto declareOnce = [](Operation *&slot, Operation *op) -> LogicalResult {
    if (slot) {
      InFlightDiagnostic diag = op->emitOpError()
                                << "is declared twice in the rule; declare it once and reuse "
                                   "its value";
      diag.attachNote(slot->getLoc()) << "first declared here";
      return diag;
    }
    slot = op;
    return success();
  };
  auto declareName = [](llvm::StringMap<Operation *> &map, StringRef what, StringRef name,
                        Operation *op) -> LogicalResult {
    auto [it, inserted] = map.try_emplace(name, op);
    if (inserted)
      return success();
    InFlightDiagnostic diag = op->emitOpError()
                              << "declares " << what << " '" << name
                              << "' twice; each name must be unique";
    diag.attachNote(it->second->getLoc()) << "first declared here";
    return diag;
  };

  for (Operation &op : getBody().front()) {
    if (!isAllowedInRule(op))
      return op.emitOpError() << "is not allowed in an optim.rule: a rule body holds optim "
                                 "operations and arith/math operations on scalars";
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(&op)
            .Case([&](HyperOp o) { return declareName(hypers, "hyperparameter", o.getName(), o); })
            .Case([&](FlagOp o) { return declareName(flags, "flag", o.getName(), o); })
            .Case([&](StateOp o) { return declareName(states, "state buffer", o.getName(), o); })
            .Case([&](ParamOp o) { return declareOnce(param, o); })
            .Case([&](GradOp o) { return declareOnce(grad, o); })
            .Case([&](StepOp o) { return declareOnce(step, o); })
            .Default([](Operation *) { return success(); });
    if (failed(result))
      return failure();
  }

  // The update writes every state buffer exactly once, and nothing else.
  UpdateOp update = getUpdate();
  llvm::StringMap<unsigned> written;
  for (auto [index, nameAttr] : llvm::enumerate(update.getStateNames())) {
    StringRef name = llvm::cast<StringAttr>(nameAttr).getValue();
    if (!states.count(name)) {
      InFlightDiagnostic diag = update.emitOpError() << "writes unknown state buffer '" << name << "'";
      if (states.empty())
        diag << "; the rule declares no state buffers";
      else {
        diag << "; declared state buffers:";
        for (auto &entry : states)
          diag << " '" << entry.getKey() << "'";
      }
      return diag;
    }
    if (!written.try_emplace(name, index).second)
      return update.emitOpError() << "writes state buffer '" << name
                                  << "' twice; each state buffer is written exactly once";
  }
  for (auto &entry : states)
    if (!written.count(entry.getKey())) {
      InFlightDiagnostic diag = update.emitOpError()
                                << "never writes state buffer '" << entry.getKey()
                                << "'; add `, \"" << entry.getKey()
                                << "\" = %new_value` (or write back its old value)";
      diag.attachNote(entry.getValue()->getLoc()) << "declared here";
      return diag;
    }
  return success();
}
