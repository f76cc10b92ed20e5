// The shipped adamw spec parses, verifies, prints, and re-parses to the same IR.
// RUN: optfuse-opt %specs/adamw.mlir | optfuse-opt | FileCheck %s
// RUN: optfuse-opt %specs/adamw.mlir --mlir-print-op-generic | optfuse-opt | FileCheck %s

// CHECK-LABEL: optim.rule @adamw {
// CHECK: %lr = optim.hyper "lr"
// CHECK: %w = optim.param
// CHECK: %g = optim.grad
// CHECK: optim.update
