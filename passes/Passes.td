//===- Passes.td - optim to optim transformations ----------*- tablegen -*-===//
//
// The passes that transform rules within the optim dialect.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_PASSES_PASSES_TD
#define OPTFUSE_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def PlanSweeps : Pass<"optim-plan-sweeps", "mlir::ModuleOp"> {
  let summary = "Split each rule into sweeps over memory and per-layer scalar math";
  let description = [{
    Rewrites every `optim.rule` into its planned form: a sequence of `optim.sweep` ops, each one
    pass over the elements of a layer, separated by per-layer scalar math in arith/math.

    Every reduction that needs only the rule's inputs (and scalars computed from inputs) is
    computed in the first sweep, all in the same pass over memory; a reduction whose operand
    depends on another reduction goes to a later sweep. The last sweep writes the new parameter
    and state values. Elementwise intermediates are recomputed inside each sweep that needs them,
    never stored. A state written back with its own old value is not written at all. Ops that do
    not contribute to the update are dropped; declarations always stay, since they are the rule's
    interface.

    With `print-plan`, a remark on each rule lists its sweeps, what each reads, reduces and writes,
    and the bytes it moves per fp32 element.

    Example: LARS plans to a reduce sweep (||w||^2 and ||d||^2, 8 bytes/element), the trust ratio
    as scalar math, and an update sweep (reads w, g, buf; writes w, buf: 20 bytes/element).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::math::MathDialect"];
  let options = [
    Option<"printPlan", "print-plan", "bool", /*default=*/"false",
           "Emit a remark per rule describing its sweeps and bytes moved per element">
  ];
}

#endif // OPTFUSE_PASSES_PASSES_TD
