// Lowering a planned rule to the GPU kernels: one persistent kernel with every sweep and a grid
// barrier between them, plus one kernel per sweep.
// RUN: optfuse-opt %s -optim-lower-to-gpu | FileCheck %s
// RUN: optfuse-opt %s -optim-lower-to-gpu | optfuse-opt -pass-pipeline='builtin.module(gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm{index-bitwidth=64},reconcile-unrealized-casts))' | FileCheck %s --check-prefix=NVVM

// CHECK: module attributes {gpu.container_module}
// CHECK: gpu.module @optfuse_gpu attributes {optfuse.block_size = 256 : i64, optfuse.layer_scalars = 3 : i64}
// CHECK: llvm.mlir.global internal @optfuse_warp_sums() {addr_space = 3 : i32
// CHECK-LABEL: gpu.func @optfuse_step(%{{.*}}: !llvm.ptr<1>, %{{.*}}: f64) kernel attributes {known_block_size = array<i32: 256, 1, 1>}
// Sweep 0: chunks strided over the grid; 16-byte loads where aligned, scalar loads otherwise.
// CHECK: %[[BID:.*]] = gpu.block_id x
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} : i64 {
// CHECK: llvm.ptrtoint
// CHECK: scf.if %{{.*}} -> (f32, f32) {
// CHECK: llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK: vector.reduction <add>
// CHECK: } else {
// CHECK: llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> f32
// The block's sum: warp shuffles, then the warps in order; the layer's last block finalizes.
// CHECK: gpu.shuffle xor
// CHECK: llvm.fence syncscope("device") acq_rel
// CHECK: llvm.atomicrmw add {{.*}} syncscope("device") acq_rel
// CHECK: llvm.load volatile {{.*}} -> f32
// CHECK: arith.extf {{.*}} : f32 to f64
// CHECK: math.sqrt {{.*}} : f64
// The grid barrier, then sweep 1 reading the per-layer scalars, storing 16 bytes at a time.
// CHECK: scf.while
// CHECK: llvm.load {{.*}} atomic syncscope("device") acquire
// CHECK: gpu.barrier
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
// CHECK: gpu.return
// CHECK-LABEL: gpu.func @optfuse_sweep_0
// CHECK-NOT: scf.while
// CHECK-LABEL: gpu.func @optfuse_sweep_1
// CHECK-NOT: scf.while
// CHECK: gpu.return

// NVVM: llvm.func @optfuse_step(%{{.*}}: !llvm.ptr<1>, %{{.*}}: f64) attributes {gpu.kernel
// NVVM: nvvm.read.ptx.sreg.tid.x
// NVVM: nvvm.shfl.sync bfly
// NVVM: nvvm.barrier

optim.rule @r {
  %lr = optim.hyper "lr" = 0.5 : f32
  %w = optim.param
  %g = optim.grad
  %m = optim.state "m" = 0.0
  %0:2 = optim.sweep ins(%w, %g) -> f32, f32 {
  ^bb0(%we: f32, %ge: f32):
    %ww = arith.mulf %we, %we : f32
    %gg = arith.mulf %ge, %ge : f32
    optim.yield %ww, %gg : f32, f32
  }
  %wn = math.sqrt %0#0 : f32
  %gn = math.sqrt %0#1 : f32
  %ratio = arith.divf %wn, %gn : f32
  %scale = arith.mulf %ratio, %lr : f32
  %1:2 = optim.sweep ins(%w, %g) -> !optim.layer, !optim.layer {
  ^bb0(%we: f32, %ge: f32):
    %s = arith.mulf %scale, %ge : f32
    %n = arith.subf %we, %s : f32
    %h = arith.mulf %ratio, %ge : f32
    %mm = arith.addf %h, %wn : f32
    optim.yield %n, %mm : f32, f32
  }
  optim.update %1#0, "m" = %1#1
}
