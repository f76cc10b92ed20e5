// Lowering a planned rule to CPU loops: one function per sweep, an unrolled vector loop with its
// own accumulators per copy, a single-vector loop and a scalar tail; per-layer scalars in double.
// RUN: optfuse-opt %s -optim-lower-to-cpu="vector-width=4 unroll=2" | FileCheck %s

// CHECK: func.func @optfuse_sweep_0(%{{.*}}: !llvm.ptr, %[[B:.*]]: i64, %[[E:.*]]: i64)
// CHECK: scf.for %[[C:.*]] = %[[B]] to %[[E]]
// The hyperparameter is read per layer as a double and rounded once for the elementwise math.
// CHECK: %[[HP:.*]] = llvm.getelementptr {{.*}} -> !llvm.ptr, f64
// CHECK-NEXT: %[[H:.*]] = llvm.load %[[HP]] {{.*}} : !llvm.ptr -> f64
// CHECK: %[[HF:.*]] = arith.truncf %[[H]] : f64 to f32
// CHECK: %[[HV:.*]] = vector.broadcast %[[HF]] : f32 to vector<4xf32>
// Main loop: 2 copies, 2 reductions each → 4 accumulators.
// CHECK: scf.for {{.*}} iter_args({{.*}}, {{.*}}, {{.*}}, {{.*}}) -> (vector<4xf32>, vector<4xf32>, vector<4xf32>, vector<4xf32>)
// CHECK-COUNT-4: llvm.load {{.*}} -> vector<4xf32>
// CHECK: scf.yield
// Single-vector loop, then the scalar tail.
// CHECK: scf.for {{.*}} -> (vector<4xf32>, vector<4xf32>)
// CHECK: scf.for {{.*}} -> (f32, f32)
// CHECK: llvm.load {{.*}} -> f32
// Partials of the chunk: the accumulators added, then across lanes, then the tail.
// CHECK: vector.reduction <add>
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr
// CHECK: vector.reduction <add>
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr

// The update sweep reads the totals of sweep 0 (as doubles) and recomputes the ratio in double.
// CHECK-LABEL: func.func @optfuse_sweep_1
// CHECK: llvm.load {{.*}} -> f64
// CHECK: math.sqrt {{.*}} : f64
// CHECK: arith.divf {{.*}} : f64
// CHECK: scf.for
// CHECK: llvm.store {{.*}} : vector<4xf32>, !llvm.ptr

optim.rule @r {
  %wd = optim.hyper "wd" = 0.5 : f32
  %w = optim.param
  %g = optim.grad
  %0:2 = optim.sweep ins(%w, %g) -> f32, f32 {
  ^bb0(%we: f32, %ge: f32):
    %ww = arith.mulf %we, %we : f32
    %d = arith.mulf %wd, %ge : f32
    %dd = arith.mulf %d, %d : f32
    optim.yield %ww, %dd : f32, f32
  }
  %wn = math.sqrt %0#0 : f32
  %dn = math.sqrt %0#1 : f32
  %ratio = arith.divf %wn, %dn : f32
  %1 = optim.sweep ins(%w, %g) -> !optim.layer {
  ^bb0(%we: f32, %ge: f32):
    %s = arith.mulf %ratio, %ge : f32
    %n = arith.subf %we, %s : f32
    optim.yield %n : f32
  }
  optim.update %1
}
