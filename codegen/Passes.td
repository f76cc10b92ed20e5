//===- Passes.td - Code generation passes ------------------*- tablegen -*-===//
//
// The passes that take planned rules out of the optim dialect.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_CODEGEN_PASSES_TD
#define OPTFUSE_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerToCpu : Pass<"optim-lower-to-cpu", "mlir::ModuleOp"> {
  let summary = "Lower a planned rule to vectorized CPU loops, one function per sweep";
  let description = [{
    Replaces the module's planned `optim.rule` with one function per sweep,
    `optfuse_sweep_K(args, chunk_begin, chunk_end)` (see runtime/Abi.h), written with scf loops,
    vector arith/math and LLVM-dialect pointer accesses. Each chunk runs an unrolled vector loop with `unroll` accumulators per
    reduction, a single-vector loop and a scalar tail, so reductions never serialize on one
    register and every element count works.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"vectorWidth", "vector-width", "unsigned", /*default=*/"8",
           "f32 lanes per vector (16 for AVX-512, 8 for AVX2, 4 for SSE/NEON)">,
    Option<"unroll", "unroll", "unsigned", /*default=*/"4",
           "vectors per iteration of the main loop, each with its own accumulators">
  ];
}

def LowerToGpu : Pass<"optim-lower-to-gpu", "mlir::ModuleOp"> {
  let summary = "Lower a planned rule to one multi-tensor GPU kernel (and a per-sweep fallback)";
  let description = [{
    Adds a `gpu.module @optfuse_gpu` with `optfuse_step(args, t)`, a persistent kernel that runs
    every sweep of the rule over all layers with a grid-wide barrier between sweeps (it needs a
    cooperative launch), and `optfuse_sweep_K(args, t)`, one kernel per sweep for launches
    without cooperative groups. `args` is an OptfuseGpuArgs (runtime/Abi.h). Chunks are
    distributed over the grid; 16-byte vector accesses where a chunk's buffers are aligned;
    per-chunk partials combined in a fixed order by the block that completes a layer, which also
    computes the layer's scalars for the next sweep. The planned rule stays in the module.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::gpu::GPUDialect", "mlir::LLVM::LLVMDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect", "mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"blockSize", "block-size", "unsigned", /*default=*/"256",
           "Threads per block (a power of two, at least 32); the runtime launches with it">
  ];
}

#endif // OPTFUSE_CODEGEN_PASSES_TD
