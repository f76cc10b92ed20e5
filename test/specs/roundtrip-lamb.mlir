// The shipped lamb spec parses, verifies, prints, and re-parses to the same IR.
// RUN: optfuse-opt %specs/lamb.mlir | optfuse-opt | FileCheck %s
// RUN: optfuse-opt %specs/lamb.mlir --mlir-print-op-generic | optfuse-opt | FileCheck %s

// CHECK-LABEL: optim.rule @lamb {
// CHECK: %lr = optim.hyper "lr"
// CHECK: %w = optim.param
// CHECK: %g = optim.grad
// CHECK: optim.update
