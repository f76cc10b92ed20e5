// The shipped TVLARS spec parses, verifies, prints, and re-parses to the same IR, with the
// reference defaults.
// RUN: optfuse-opt %specs/tvlars.mlir | optfuse-opt | FileCheck %s
// RUN: optfuse-opt %specs/tvlars.mlir --mlir-print-op-generic | optfuse-opt | FileCheck %s

// CHECK-LABEL: optim.rule @tvlars {
// CHECK-DAG: %lr = optim.hyper "lr" = 1.000000e+00 : f32
// CHECK-DAG: %momentum = optim.hyper "momentum" = 0.899999976 : f32
// CHECK-DAG: %weight_decay = optim.hyper "weight_decay" = 5.000000e-04 : f32
// CHECK-DAG: %eta = optim.hyper "eta" = 1.000000e-03 : f32
// CHECK-DAG: %alpha = optim.hyper "alpha" = 1.000000e-01 : f32
// CHECK-DAG: %lambda = optim.hyper "lambda" = 1.000000e-03 : f32
// CHECK-DAG: %delay = optim.hyper "delay" = -1.000000e+00 : f32
// CHECK-DAG: %gamma_min = optim.hyper "gamma_min" = 0.000000e+00 : f32
// CHECK-DAG: %norm_clamp = optim.hyper "norm_clamp" = 1.000000e+01 : f32
// CHECK-DAG: %t = optim.step
// CHECK-DAG: %exclude_decay = optim.flag "exclude_decay"
// CHECK-DAG: %exclude_adapt = optim.flag "exclude_adapt"
// CHECK-DAG: %momentum_buffer = optim.state "momentum_buffer" = 0.000000e+00
// CHECK: %[[WN:.*]] = optim.norm %w
// CHECK: %[[DN:.*]] = optim.norm %[[D:.*]]
// CHECK: optim.tv_coeff %t alpha %alpha lambda %lambda delay %delay floor %gamma_min
// CHECK: optim.trust_ratio
// CHECK: optim.update %{{.*}}, "momentum_buffer" = %
