//===- optfuse-opt.cpp - The optfuse optimizer driver ---------------------===//
//
// This file implements optfuse-opt: mlir-opt with the optim dialect, its passes and the upstream
// dialects and passes registered, following mlir-opt's conventions.
//
//===----------------------------------------------------------------------===//

#include "dialect/OptimOps.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::optim::OptimDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "optfuse-opt: verify and transform optimizer rules in the optim dialect\n",
      registry));
}
