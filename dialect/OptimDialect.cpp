//===- OptimDialect.cpp - The optim dialect -------------------------------===//
//
// This file registers the optim dialect, its type and its operations, and materializes the
// constants its folders produce.
//
//===----------------------------------------------------------------------===//

#include "dialect/OptimOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::optim;

#include "dialect/OptimDialect.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialect/OptimTypes.cpp.inc"

void OptimDialect::initialize() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialect/OptimTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialect/OptimOps.cpp.inc"
      >();
}

Operation *OptimDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                             Location loc) {
  if (auto typed = llvm::dyn_cast<TypedAttr>(value); typed && typed.getType() == type &&
                                                     (type.isF32() || type.isInteger(1)))
    return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}

bool mlir::optim::isValidInterfaceName(StringRef name) {
  if (name.empty() || !(llvm::isAlpha(name.front()) || name.front() == '_'))
    return false;
  return llvm::all_of(name, [](char c) { return llvm::isAlnum(c) || c == '_'; });
}
