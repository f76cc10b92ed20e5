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
    vector arith/math and LLVM-dialect pointer accesses, plus the global `optfuse_abi` holding
    the rule's interface. Each chunk runs an unrolled vector loop with `unroll` accumulators per
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

#endif // OPTFUSE_CODEGEN_PASSES_TD
