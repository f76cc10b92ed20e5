// Sweep planning of rules written in unusual but valid ways.
// RUN: optfuse-opt %s -split-input-file -optim-plan-sweeps | FileCheck %s
// RUN: optfuse-opt %s -split-input-file -optim-plan-sweeps=print-plan -o /dev/null 2>&1 | FileCheck %s --check-prefix=PLAN

// A reduction of an intermediate: ||g * w|| is computed in the sweep from the elements, and the
// product is recomputed in the update sweep, never stored. The unused hyperparameter stays (it is
// part of the rule's interface) and the dead reduction disappears.
// CHECK-LABEL: optim.rule @intermediate
// CHECK: %unused = optim.hyper "unused"
// CHECK: %[[S:.*]] = optim.sweep ins(%g, %w) -> f32 {
// CHECK-NEXT: ^bb0(%[[GE:.*]]: f32, %[[WE:.*]]: f32):
// CHECK-NEXT:   %[[P:.*]] = arith.mulf %[[GE]], %[[WE]] : f32
// CHECK-NEXT:   %[[SQ:.*]] = arith.mulf %[[P]], %[[P]] : f32
// CHECK-NEXT:   optim.yield %[[SQ]] : f32
// CHECK: %[[N:.*]] = math.sqrt %[[S]] : f32
// CHECK: %[[U:.*]] = optim.sweep ins(%w, %g) -> !optim.layer {
// CHECK: arith.mulf %[[N]]
// CHECK: optim.update %[[U]]{{$}}
// PLAN: remark: @intermediate: 2 sweeps, 20 bytes per element
// PLAN-NEXT: sweep 0: reads grad, param; 1 reduction; 8 bytes per element
// PLAN-NEXT: sweep 1: reads param, grad; writes param; 12 bytes per element
optim.rule @intermediate {
  %unused = optim.hyper "unused" = 3.0 : f32
  %w = optim.param
  %g = optim.grad
  %gw = optim.mul %g, %w : !optim.layer, !optim.layer
  %n = optim.norm %gw
  %dead = optim.sum %g
  %step = optim.mul %n, %gw : f32, !optim.layer
  %w_new = optim.sub %w, %step : !optim.layer, !optim.layer
  optim.update %w_new
}

// -----

// A reduction that depends on another reduction gets its own sweep: ||w - mean(w)|| needs the
// sum of w first. Three sweeps.
// CHECK-LABEL: optim.rule @chained
// CHECK: %[[SUM:.*]] = optim.sweep ins(%w) -> f32
// CHECK: %[[MEAN:.*]] = arith.mulf %[[SUM]], %inv_n : f32
// CHECK: %[[VAR:.*]] = optim.sweep ins(%w) -> f32 {
// CHECK: arith.subf %{{.*}}, %[[MEAN]] : f32
// CHECK: %[[STD:.*]] = math.sqrt %[[VAR]] : f32
// CHECK: %[[NEW:.*]] = optim.sweep ins(%w) -> !optim.layer {
// CHECK: arith.divf %{{.*}}, %[[STD]] : f32
// CHECK: optim.update %[[NEW]]{{$}}
// PLAN: remark: @chained: 3 sweeps, 16 bytes per element
// PLAN-NEXT: sweep 0: reads param; 1 reduction; 4 bytes per element
// PLAN-NEXT: sweep 1: reads param; 1 reduction; 4 bytes per element
// PLAN-NEXT: sweep 2: reads param; writes param; 8 bytes per element
optim.rule @chained {
  %inv_n = optim.hyper "inv_n" = 1.0 : f32
  %w = optim.param
  %g = optim.grad
  %sum = optim.sum %w
  %mean = arith.mulf %sum, %inv_n : f32
  %centered = optim.sub %w, %mean : !optim.layer, f32
  %std = optim.norm %centered
  %w_new = optim.div %centered, %std : !optim.layer, f32
  optim.update %w_new
}

// -----

// Flags inside selects, on layers and on scalars; a state written back unchanged is not written,
// and a state copied from the gradient is.
// CHECK-LABEL: optim.rule @flags
// CHECK: %[[R:.*]] = optim.sweep ins(%w, %g) -> f32 {
// CHECK: arith.select %frozen, %{{.*}}, %{{.*}} : f32
// CHECK: %[[U:.*]]:2 = optim.sweep ins(%w, %g) -> !optim.layer, !optim.layer {
// CHECK: optim.update %[[U]]#0, "last_grad" = %[[U]]#1, "keep" = %keep
// PLAN: remark: @flags: 2 sweeps, 24 bytes per element
// PLAN: sweep 1: reads param, grad; writes param, last_grad; 16 bytes per element
optim.rule @flags {
  %lr = optim.hyper "lr" = 0.1 : f32
  %frozen = optim.flag "frozen"
  %w = optim.param
  %g = optim.grad
  %last = optim.state "last_grad" = 0.0
  %keep = optim.state "keep" = 1.0
  %zero = arith.constant 0.0 : f32
  %d = optim.select %frozen, %w, %g : !optim.layer, !optim.layer
  %n = optim.dot %d, %d
  %scale = arith.select %frozen, %zero, %lr : f32
  %s = arith.mulf %scale, %n : f32
  %step = optim.mul %s, %g : f32, !optim.layer
  %w_new = optim.sub %w, %step : !optim.layer, !optim.layer
  optim.update %w_new, "last_grad" = %g, "keep" = %keep
}

// -----

// A rule that writes nothing plans to no sweep at all.
// CHECK-LABEL: optim.rule @identity
// CHECK-NOT: optim.sweep
// CHECK: optim.update %w{{$}}
// PLAN: remark: @identity: 0 sweeps, 0 bytes per element
optim.rule @identity {
  %w = optim.param
  %g = optim.grad
  %n = optim.norm %g
  optim.update %w
}
