// Folding and canonicalization of optim ops.
// RUN: optfuse-opt %s -canonicalize -split-input-file | FileCheck %s

// Identities on layers disappear: x + (-0), x - 0, x * 1, x / 1. (x + 0 stays: it turns -0 into +0.)
// CHECK-LABEL: optim.rule @identities
// CHECK-NEXT: %w = optim.param
// CHECK-NEXT: optim.update %w{{$}}
// CHECK-LABEL: optim.rule @plus_zero_stays
// CHECK: optim.add %w, %{{.*}} : !optim.layer, f32
optim.rule @identities {
  %nzero = arith.constant -0.0 : f32
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %w = optim.param
  %a = optim.add %w, %nzero : !optim.layer, f32
  %b = optim.sub %a, %zero : !optim.layer, f32
  %c = optim.mul %one, %b : f32, !optim.layer
  %d = optim.div %c, %one : !optim.layer, f32
  optim.update %d
}
optim.rule @plus_zero_stays {
  %zero = arith.constant 0.0 : f32
  %w = optim.param
  %a = optim.add %w, %zero : !optim.layer, f32
  optim.update %a
}

// -----

// Scalar-only optim ops become arith/math, and constants fold.
// CHECK-LABEL: optim.rule @scalar_math
// CHECK-DAG: %[[LR:.*]] = optim.hyper "lr"
// CHECK-DAG: %[[C:.*]] = arith.constant 6.000000e+00 : f32
// CHECK: %[[S:.*]] = math.sqrt %[[LR]] : f32
// CHECK: %[[M:.*]] = arith.mulf %[[S]], %[[C]] : f32
// CHECK: optim.mul %[[M]], %g : f32, !optim.layer
optim.rule @scalar_math {
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  %lr = optim.hyper "lr" = 0.1 : f32
  %w = optim.param
  %g = optim.grad
  %six = optim.mul %two, %three : f32, f32
  %s = optim.sqrt %lr : f32
  %m = optim.mul %s, %six : f32, f32
  %step = optim.mul %m, %g : f32, !optim.layer
  %w_new = optim.sub %w, %step : !optim.layer, !optim.layer
  optim.update %w_new
}

// -----

// sum(a*b) is a dot product; sqrt(dot(x, x)) is the norm.
// CHECK-LABEL: optim.rule @reductions
// CHECK-DAG: %[[DOT:.*]] = optim.dot %w, %g
// CHECK-DAG: %[[NORM:.*]] = optim.norm %g
// CHECK-NOT: optim.sum
// CHECK: arith.addf %[[DOT]], %[[NORM]]
optim.rule @reductions {
  %w = optim.param
  %g = optim.grad
  %wg = optim.mul %w, %g : !optim.layer, !optim.layer
  %s = optim.sum %wg
  %gg = optim.dot %g, %g
  %n = optim.sqrt %gg : f32
  %k = arith.addf %s, %n : f32
  %step = optim.mul %k, %g : f32, !optim.layer
  %w_new = optim.sub %w, %step : !optim.layer, !optim.layer
  optim.update %w_new
}

// -----

// The trust ratio folds on constants, with the zero-norm fallback to 1, and drops a scale of 1
// and an eps of 0.
// CHECK-LABEL: optim.rule @trust_ratio
// CHECK: %[[SUM:.*]] = arith.constant 1.500000e+00 : f32
// CHECK: %[[R:.*]] = optim.trust_ratio %[[N:.*]], %[[N]]{{$}}
// CHECK: arith.addf %[[R]], %[[SUM]]
optim.rule @trust_ratio {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %two = arith.constant 2.0 : f32
  %w = optim.param
  %n = optim.norm %w
  %folded = optim.trust_ratio %one, %two
  %fallback = optim.trust_ratio %zero, %two scale %two
  %r = optim.trust_ratio %n, %n scale %one eps %zero
  %a = arith.addf %folded, %fallback : f32
  %b = arith.addf %a, %r : f32
  %w_new = optim.mul %b, %w : f32, !optim.layer
  optim.update %w_new
}

// -----

// phi(t) folds when every operand is constant: 1/(0.1 + exp(0)) + 0.5.
// CHECK-LABEL: optim.rule @tv_coeff
// CHECK: %[[PHI:.*]] = arith.constant 1.40909{{[0-9]*}} : f32
// CHECK: optim.mul %w, %[[PHI]]
optim.rule @tv_coeff {
  %t = arith.constant 3.0 : f32
  %alpha = arith.constant 0.1 : f32
  %lambda = arith.constant 0.0 : f32
  %delay = arith.constant -1.0 : f32
  %floor = arith.constant 0.5 : f32
  %w = optim.param
  %phi = optim.tv_coeff %t alpha %alpha lambda %lambda delay %delay floor %floor
  %w_new = optim.mul %phi, %w : f32, !optim.layer
  optim.update %w_new
}

// -----

// Clamp and select fold on constants; unused declarations stay (they are part of the rule's ABI).
// CHECK-LABEL: optim.rule @clamp_select
// CHECK: %[[TEN:.*]] = arith.constant 1.000000e+01 : f32
// CHECK: %unused = optim.hyper "unused"
// CHECK-NOT: optim.clamp
// CHECK-NOT: optim.select
// CHECK: %[[M:.*]] = optim.mul %w, %[[TEN]] : !optim.layer, f32
// CHECK: optim.update %[[M]]{{$}}
optim.rule @clamp_select {
  %true = arith.constant true
  %lo = arith.constant 0.0 : f32
  %hi = arith.constant 10.0 : f32
  %big = arith.constant 20.0 : f32
  %unused = optim.hyper "unused" = 1.0 : f32
  %w = optim.param
  %g = optim.grad
  %c = optim.clamp %big, %lo, %hi : f32
  %x = optim.select %true, %w, %g : !optim.layer, !optim.layer
  %scaled = optim.mul %c, %x : f32, !optim.layer
  optim.update %scaled
}
