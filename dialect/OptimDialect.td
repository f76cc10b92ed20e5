//===- OptimDialect.td - The optim dialect ------------------*- tablegen -*-===//
//
// This file declares the optim dialect: layer-wise optimizer update rules.
//
//===----------------------------------------------------------------------===//

#ifndef OPTFUSE_DIALECT_OPTIMDIALECT_TD
#define OPTFUSE_DIALECT_OPTIMDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Optim_Dialect : Dialect {
  let name = "optim";
  let cppNamespace = "::mlir::optim";
  let summary = "Layer-wise optimizer update rules";
  let description = [{
    An `optim.rule` states, for ONE layer (one parameter tensor), what an optimizer step reads and
    writes: hyperparameters, the step counter, per-layer flags, the parameter, its gradient and the
    state buffers, elementwise math on whole-layer values, reductions over the layer (norms, sums,
    dot products) and the update. The compiler plans the rule into sweeps over memory and fuses the
    step of every layer of a model into one kernel launch.

    Whole-layer values have type `!optim.layer` (fp32 elements); per-layer scalars are `f32` (or
    `i1` for flags and boolean hyperparameters). Elementwise optim ops broadcast scalar operands.
  }];
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

class Optim_Op<string mnemonic, list<Trait> traits = []>
    : Op<Optim_Dialect, mnemonic, traits>;

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

def Optim_LayerType : TypeDef<Optim_Dialect, "Layer"> {
  let mnemonic = "layer";
  let summary = "the fp32 elements of one layer";
  let description = [{
    A value defined for every element of one layer (one parameter tensor, flattened): the
    parameter, its gradient, a state buffer, or an elementwise expression of those. All layer
    values of a rule have the same number of elements; it is only known at run time.
  }];
}

def Optim_ScalarOrLayer : AnyTypeOf<[F32, Optim_LayerType], "f32 scalar or !optim.layer">;

#endif // OPTFUSE_DIALECT_OPTIMDIALECT_TD
